// usbserial-bridge: runs the driver on simulated adapters and publishes their
// ports until SIGINT/SIGTERM.
//
// stdout contract (the loopback harness and the tests parse it): informational
// lines, then `port <absolute path>` per port, `control <socket path>`, then
// `ready`. While running, the control socket takes one command per connection
// (control.hpp: status, unplug, replug, stall, help). It is <run-dir>/bridge.sock,
// or bridge-<pid>.sock when another live bridge already answers there (the
// per-user run directory is shared; port_registry.hpp).
//
// Signals: SIGINT, SIGTERM and SIGHUP are blocked before anything else happens (every
// thread started later inherits the mask), so one that arrives while the bridge starts
// waits and then stops it cleanly; once the control socket exists they are taken by
// the event loop. Either way the bridge removes its ports, its socket and the run
// directory if it made it and it is empty, and exits 0. A failed start removes the same.
//
// Exit status: 0 stopped by a signal; 1 the simulated adapters could not be brought
// up; 2 usage error (bad option, unknown chip).
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "bridge.hpp"
#include "control.hpp"
#include "tty/port_registry.hpp"

#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif

namespace po = boost::program_options;

namespace {

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : kStopSignals) {
    sigaddset(&set, sig);
  }
  return set;
}

// Runs before every other static initializer of this program (after only the dynamic
// loader and the libraries' own), so the window in which a stop signal still has its
// default, killing effect ends before the bridge has created anything.
__attribute__((constructor(101))) void block_stop_signals_at_load() {
  const sigset_t set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

std::string handle_command(bridge::Bridge& bridge, const std::string& line) {
  const bridge::ParsedCommand parsed = bridge::parse_command(line, bridge.device_count());
  if (!parsed.command) {
    return "error: " + parsed.error;
  }
  const bridge::Command& command = *parsed.command;
  try {
    switch (command.kind) {
      case bridge::CommandKind::status:
        return bridge.status_json();
      case bridge::CommandKind::help:
        return bridge::command_help(bridge.device_count());
      case bridge::CommandKind::unplug:
        bridge.unplug(command.device);
        std::fprintf(stderr, "usbserial-bridge: control: device %zu unplugged\n", command.device);
        return "ok";
      case bridge::CommandKind::replug:
        bridge.replug(command.device);
        std::fprintf(stderr, "usbserial-bridge: control: device %zu plugged in again\n",
                     command.device);
        return "ok";
      case bridge::CommandKind::stall:
        bridge.stall(command.device, command.endpoint);
        std::fprintf(stderr, "usbserial-bridge: control: device %zu endpoint 0x%02x stalled\n",
                     command.device, command.endpoint);
        return "ok";
    }
  } catch (const std::exception& error) {
    return std::string("error: ") + error.what();
  }
  return "error: unhandled command";
}

// What a start made, removed again however main() ends.
class RunDirectory {
 public:
  explicit RunDirectory(std::filesystem::path path, bool made)
      : path_(std::move(path)), made_(made) {}
  ~RunDirectory() {
    if (made_) {
      // Only empty: whatever else someone put there is not ours to delete. The
      // records' directory (port_registry.hpp) goes first if it is empty too.
      std::error_code ignored;
      std::filesystem::remove(path_ / ".ports", ignored);
      std::filesystem::remove(path_, ignored);
    }
  }
  RunDirectory(const RunDirectory&) = delete;
  RunDirectory& operator=(const RunDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool made_;
};

// True when a process accepts connections on `path`.
bool someone_listens(const std::filesystem::path& path) {
  sockaddr_un address{};
  const std::string text = path.string();
  if (text.size() >= sizeof address.sun_path) {
    return false;
  }
  address.sun_family = AF_UNIX;
  text.copy(address.sun_path, text.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return false;
  }
  const bool listening =
      ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return listening;
}

// bridge.sock, unless a live bridge holds it; then a name of this process's own.
std::filesystem::path control_socket_path(const std::filesystem::path& run_dir) {
  const std::filesystem::path shared = run_dir / "bridge.sock";
  if (!someone_listens(shared)) {
    return shared;
  }
  return run_dir / ("bridge-" + std::to_string(::getpid()) + ".sock");
}

std::string joined_chip_names() {
  std::string names;
  for (const std::string& name : sim::chip_names()) {
    names += (names.empty() ? "" : " ") + name;
  }
  return names;
}

}  // namespace

int main(int argc, char** argv) {
  // Already blocked at load (above); held until the bridge can stop cleanly.
  const sigset_t stop_signals = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::vector<std::string> chips;
  std::vector<std::string> serials;
  std::string run_dir;
  bridge::BridgeOptions options;
  unsigned rx_depth = options.tuning.rx_depth;
  unsigned rx_packets = options.tuning.rx_packets_per_transfer;
  unsigned interrupt_mps = options.sim.cdc_interrupt_max_packet;
  std::string set_properties = hostkit::to_string(options.set_properties);
  std::string driver_class;
  std::string queue_indexing = transport::to_string(options.queue_indexing);
  double closing_wait = 30;

  // Every chip the simulators know (sim::chip_names), so the help never falls behind.
  const std::string sim_help = "simulated adapter: " + joined_chip_names() +
                               "; twice for a null-modem cable between two adapters";
  po::options_description described(
      "usbserial-bridge: the USBSerialBridge driver on simulated USB-serial adapters, published "
      "as ttys\n\nUsage: usbserial-bridge --sim CHIP [--sim CHIP] [options]\n\nOptions");
  described.add_options()("help,h", "show this help")("version", "print the version")(
      "list-chips", "print the chips --sim takes, one per line")(
      "sim", po::value(&chips)->composing(), sim_help.c_str())(
      "serial", po::value(&serials)->composing(),
      "USB serial string of each adapter, in order (default SIM1, SIM2)")(
      "run-dir", po::value(&run_dir),
      "where the cu.* / tty.* links and bridge.sock go (default: $USBSERIAL_RUN_DIR, else "
      "$XDG_RUNTIME_DIR/usbserial-bridge, else /tmp/usbserial-bridge-<uid>)")(
      "dev-names", "also publish /dev/cu.* and /dev/tty.* names (needs root)")(
      "closing-wait", po::value(&closing_wait),
      "seconds a close waits for written bytes to go out before dropping them (default 30)")(
      "no-plug", "leave the UART lines unconnected (no loopback plug)")(
      "modem-plug", "a loopback plug that also wires DTR to RI (DTR -> DSR, DCD, RI; RTS -> CTS)")(
      "paced", "run the UARTs at the programmed baud rate (default: infinitely fast, lossless)")(
      "full-speed-port", "attach high-speed parts to a full-speed port (64-byte packets)")(
      "cdc-interrupt-mps", po::value(&interrupt_mps),
      "wMaxPacketSize of the CDC notification endpoint (8 splits SERIAL_STATE)")(
      "apple-rx",
      "IOUserUSBSerial class: one wMaxPacketSize read in flight, as Apple's framework "
      "reportedly does (the default)")(
      "deep-framework-rx",
      "IOUserUSBSerial class: the other candidate for Apple's framework, several reads in "
      "flight (--rx-depth, --rx-packets)")(
      "rx-depth", po::value(&rx_depth),
      "with --deep-framework-rx: bulk-IN reads kept in flight (1..32, default 8)")(
      "rx-packets", po::value(&rx_packets),
      "with --deep-framework-rx: wMaxPacketSize units per read (default 16)")(
      "discard-failed-rx",
      "IOUserUSBSerial class: drop the bytes of a bulk-IN transfer that ends with an error (a "
      "stall, a babble) instead of delivering them; one candidate for Apple's framework")(
      "set-properties", po::value(&set_properties),
      "where the driver's SetProperties land, the two candidates for a Mac: xnu (default; "
      "nested under IOUserServiceProperties, so the kernel names the port) or merge (top "
      "level, so the driver names it)")(
      "driver-class", po::value(&driver_class),
      "the dext class of every port instead of the device table's: usb-serial (IOUserUSBSerial, "
      "Apple's data path) or serial (IOUserSerial with the deep bulk pipeline)")(
      "queue-indexing", po::value(&queue_indexing),
      "how both sides of the shared rings count, the two candidates for a Mac: masked (default) "
      "or free-running");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, described), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    std::fprintf(stderr, "usbserial-bridge: %s (try --help)\n", error.what());
    return 2;
  }
  if (vm.count("help") != 0) {
    std::cout << described << "\n"
              << "Control socket <run-dir>/bridge.sock (bridge-<pid>.sock when another bridge "
                 "holds that), one command per connection:\n"
              << bridge::command_help(chips.empty() ? 1 : chips.size()) << "\n";
    return 0;
  }
  if (vm.count("version") != 0) {
    std::printf("usbserial-bridge %s\n", USBSERIAL_VERSION);
    return 0;
  }
  if (vm.count("list-chips") != 0) {
    for (const std::string& name : sim::chip_names()) {
      std::printf("%s\n", name.c_str());
    }
    return 0;
  }
  if (chips.empty()) {
    std::fprintf(stderr, "usbserial-bridge: give --sim CHIP (try --help)\n");
    return 2;
  }
  if (chips.size() > 2) {
    std::fprintf(stderr,
                 "usbserial-bridge: --sim at most twice (one adapter, or two joined "
                 "by a null-modem cable)\n");
    return 2;
  }
  for (const std::string& chip : chips) {
    const std::vector<std::string> known = sim::chip_names();
    if (std::find(known.begin(), known.end(), chip) == known.end()) {
      std::fprintf(stderr, "usbserial-bridge: unknown chip '%s' (known: %s)\n", chip.c_str(),
                   joined_chip_names().c_str());
      return 2;
    }
  }
  if (rx_depth < 1 || rx_depth > 32 || rx_packets < 1 || rx_packets > 256 || interrupt_mps < 8 ||
      interrupt_mps > 64) {
    std::fprintf(stderr,
                 "usbserial-bridge: --rx-depth 1..32, --rx-packets 1..256, "
                 "--cdc-interrupt-mps 8..64\n");
    return 2;
  }
  if (!hostkit::parse_set_properties_model(set_properties, options.set_properties)) {
    std::fprintf(stderr, "usbserial-bridge: --set-properties takes xnu or merge\n");
    return 2;
  }
  if (!driver_class.empty()) {
    transport::DriverClass parsed = transport::DriverClass::usb_serial;
    if (!transport::parse_driver_class(driver_class.c_str(), parsed)) {
      std::fprintf(stderr, "usbserial-bridge: --driver-class takes usb-serial or serial\n");
      return 2;
    }
    options.driver_class = parsed;
  }
  if (!transport::parse_queue_indexing(queue_indexing.c_str(), options.queue_indexing)) {
    std::fprintf(stderr, "usbserial-bridge: --queue-indexing takes masked or free-running\n");
    return 2;
  }
  if (vm.count("dev-names") != 0 && ::geteuid() != 0) {
    std::fprintf(stderr, "usbserial-bridge: --dev-names needs root (it writes to /dev)\n");
    return 2;
  }
  if (!(closing_wait >= 0 && closing_wait <= 3600)) {
    std::fprintf(stderr, "usbserial-bridge: --closing-wait takes 0..3600 seconds\n");
    return 2;
  }
  if (run_dir.empty()) {
    run_dir = tty::registry::default_run_dir().string();
  }
  // The directory is made (mode 0700, owner checked) by the tty side; one made
  // here is removed again at the end if it is empty then.
  std::error_code exists_error;
  const bool made_run_dir = !std::filesystem::exists(run_dir, exists_error);
  const RunDirectory directory(std::filesystem::absolute(run_dir), made_run_dir);
  options.ports.dev_names = vm.count("dev-names") != 0;
  options.ports.closing_wait = std::chrono::milliseconds(static_cast<int64_t>(closing_wait * 1000));
  options.chips = chips;
  options.serials = serials;
  options.run_dir = directory.path();
  options.wiring = vm.count("no-plug") != 0      ? bridge::Wiring::none
                   : chips.size() == 2           ? bridge::Wiring::null_modem
                   : vm.count("modem-plug") != 0 ? bridge::Wiring::modem_loopback
                                                 : bridge::Wiring::loopback;
  options.sim.paced = vm.count("paced") != 0;
  options.sim.full_speed_port = vm.count("full-speed-port") != 0;
  options.sim.cdc_interrupt_max_packet = static_cast<uint8_t>(interrupt_mps);
  options.tuning.rx_depth = static_cast<uint8_t>(rx_depth);
  options.tuning.rx_packets_per_transfer = static_cast<uint16_t>(rx_packets);
  if (vm.count("apple-rx") != 0 && vm.count("deep-framework-rx") != 0) {
    std::fprintf(stderr,
                 "usbserial-bridge: --apple-rx and --deep-framework-rx exclude each other\n");
    return 2;
  }
  options.tuning.apple_rx = vm.count("deep-framework-rx") == 0;
  options.tuning.discard_failed_rx = vm.count("discard-failed-rx") != 0;

  // Declared before the stack, so it is destroyed after it: the event loop's sockets go
  // before the ports.
  boost::asio::io_context io;
  std::unique_ptr<bridge::Bridge> stack;
  std::unique_ptr<bridge::ControlServer> control;
  std::filesystem::path socket_path;
  try {
    stack = std::make_unique<bridge::Bridge>(options);
    socket_path = control_socket_path(options.run_dir);
    control = std::make_unique<bridge::ControlServer>(
        io, socket_path,
        [&stack](const std::string& line) { return handle_command(*stack, line); });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "usbserial-bridge: %s\n", error.what());
    control.reset();
    stack.reset();
    return 1;
  }

  bool stopping = false;
  boost::asio::signal_set signals(io);
  for (const int sig : kStopSignals) {
    // A signal ignored by whoever started us (nohup: SIGHUP) stays ignored.
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) {
      continue;
    }
    signals.add(sig);
  }
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) {
      return;
    }
    std::fprintf(stderr, "usbserial-bridge: %s: stopping\n", ::strsignal(sig));
    stopping = true;
    control->close();
    io.stop();
  });
  // The handler is in place: a signal held since the start is delivered now.
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  io.poll();

  if (!stopping) {
    const std::string plugs = options.wiring == bridge::Wiring::loopback ? "loopback plug"
                              : options.wiring == bridge::Wiring::modem_loopback
                                  ? "modem loopback plug"
                              : options.wiring == bridge::Wiring::null_modem ? "null-modem cable"
                                                                             : "nothing";
    std::printf("usbserial-bridge %s: ", USBSERIAL_VERSION);
    for (size_t i = 0; i < chips.size(); ++i) {
      std::printf("%s%s", i ? " + " : "", chips[i].c_str());
    }
    std::printf(" (simulated, %s, %s)\n", plugs.c_str(), options.sim.paced ? "paced" : "unpaced");
    std::printf("ports in %s (usbserial-ports lists them; usbserial-run carries every setting)\n",
                options.run_dir.c_str());
    for (const std::string& path : stack->callout_paths()) {
      std::printf("port %s\n", path.c_str());
    }
    std::printf("control %s\nready\n", socket_path.c_str());
    std::fflush(stdout);
    io.run();
  }
  // Stopping: a second signal must not cut the clean-up short.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  control.reset();
  stack.reset();
  return 0;
}
