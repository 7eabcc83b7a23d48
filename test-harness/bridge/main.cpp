// usbserial-bridge: runs the driver on simulated adapters and publishes their
// ports until SIGINT/SIGTERM.
//
// stdout contract (the loopback harness and the tests parse it): informational
// lines, then `port <absolute path>` per port, then `ready`. While running, a
// control socket <run-dir>/bridge.sock answers one line per connection:
//   status               the whole state as JSON
//   unplug [DEVICE]      unplug a simulated adapter (default 0)
//   stall DEVICE EP      halt an endpoint (hex or decimal address)
#include <signal.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "bridge.hpp"
#include "tty/port_registry.hpp"

#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif

namespace po = boost::program_options;
using boost::asio::local::stream_protocol;

namespace {

std::string handle_command(bridge::Bridge& bridge, const std::string& line) {
  std::istringstream words(line);
  std::string command;
  words >> command;
  try {
    if (command == "status") {
      return bridge.status_json();
    }
    if (command == "unplug") {
      size_t device = 0;
      words >> device;
      bridge.unplug(device);
      return "ok";
    }
    if (command == "stall") {
      size_t device = 0;
      std::string endpoint;
      words >> device >> endpoint;
      bridge.stall(device, static_cast<uint8_t>(std::stoul(endpoint, nullptr, 0)));
      return "ok";
    }
  } catch (const std::exception& error) {
    return std::string("error: ") + error.what();
  }
  return "error: unknown command '" + command + "' (status, unplug [DEVICE], stall DEVICE EP)";
}

void accept_next(stream_protocol::acceptor& acceptor, bridge::Bridge& bridge) {
  acceptor.async_accept(
      [&acceptor, &bridge](boost::system::error_code ec, stream_protocol::socket socket) {
        if (ec) {
          return;
        }
        boost::asio::streambuf request;
        boost::system::error_code read_error;
        boost::asio::read_until(socket, request, '\n', read_error);
        std::istream input(&request);
        std::string line;
        std::getline(input, line);
        const std::string reply = handle_command(bridge, line) + "\n";
        boost::system::error_code write_error;
        boost::asio::write(socket, boost::asio::buffer(reply), write_error);
        accept_next(acceptor, bridge);
      });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> chips;
  std::vector<std::string> serials;
  std::string run_dir;
  bridge::BridgeOptions options;
  unsigned rx_depth = options.tuning.rx_depth;
  unsigned rx_packets = options.tuning.rx_packets_per_transfer;
  unsigned interrupt_mps = options.sim.cdc_interrupt_max_packet;
  double closing_wait = 30;

  po::options_description described(
      "usbserial-bridge: the USBSerialBridge driver on simulated USB-serial adapters, published "
      "as ttys\n\nUsage: usbserial-bridge --sim CHIP [--sim CHIP] [options]\n\nOptions");
  described.add_options()("help,h", "show this help")("version", "print the version")(
      "sim", po::value(&chips)->composing(),
      "simulated adapter: cdc-acm ft232bm ft232r ft-x ft2232c ft232h ft2232h ft4232h; twice for "
      "a null-modem cable between two adapters")(
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
      "rx-depth", po::value(&rx_depth), "bulk-IN reads kept in flight (1..32, default 8)")(
      "rx-packets", po::value(&rx_packets), "wMaxPacketSize units per read (default 16)")(
      "apple-rx", "one wMaxPacketSize read in flight, as Apple's IOUserUSBSerial does");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, described), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    std::fprintf(stderr, "usbserial-bridge: %s (try --help)\n", error.what());
    return 2;
  }
  if (vm.count("help") != 0) {
    std::cout << described << "\n";
    return 0;
  }
  if (vm.count("version") != 0) {
    std::printf("usbserial-bridge %s\n", USBSERIAL_VERSION);
    return 0;
  }
  if (chips.empty()) {
    std::fprintf(stderr, "usbserial-bridge: give --sim CHIP (try --help)\n");
    return 2;
  }
  if (rx_depth < 1 || rx_depth > 32 || rx_packets < 1 || rx_packets > 256 || interrupt_mps < 8 ||
      interrupt_mps > 64) {
    std::fprintf(stderr,
                 "usbserial-bridge: --rx-depth 1..32, --rx-packets 1..256, "
                 "--cdc-interrupt-mps 8..64\n");
    return 2;
  }
  if (run_dir.empty()) {
    run_dir = tty::registry::default_run_dir().string();
  }
  if (vm.count("dev-names") != 0 && ::geteuid() != 0) {
    std::fprintf(stderr, "usbserial-bridge: --dev-names needs root (it writes to /dev)\n");
    return 2;
  }
  if (!(closing_wait >= 0 && closing_wait <= 3600)) {
    std::fprintf(stderr, "usbserial-bridge: --closing-wait takes 0..3600 seconds\n");
    return 2;
  }
  options.ports.dev_names = vm.count("dev-names") != 0;
  options.ports.closing_wait = std::chrono::milliseconds(static_cast<int64_t>(closing_wait * 1000));
  options.chips = chips;
  options.serials = serials;
  options.run_dir = std::filesystem::absolute(run_dir);
  options.wiring = vm.count("no-plug") != 0      ? bridge::Wiring::none
                   : chips.size() == 2           ? bridge::Wiring::null_modem
                   : vm.count("modem-plug") != 0 ? bridge::Wiring::modem_loopback
                                                 : bridge::Wiring::loopback;
  options.sim.paced = vm.count("paced") != 0;
  options.sim.full_speed_port = vm.count("full-speed-port") != 0;
  options.sim.cdc_interrupt_max_packet = static_cast<uint8_t>(interrupt_mps);
  options.tuning.rx_depth = static_cast<uint8_t>(rx_depth);
  options.tuning.rx_packets_per_transfer = static_cast<uint16_t>(rx_packets);
  options.tuning.apple_rx = vm.count("apple-rx") != 0;

  ::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<bridge::Bridge> stack;
  try {
    stack = std::make_unique<bridge::Bridge>(options);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "usbserial-bridge: %s\n", error.what());
    return 1;
  }

  std::string plugs = options.wiring == bridge::Wiring::loopback         ? "loopback plug"
                      : options.wiring == bridge::Wiring::modem_loopback ? "modem loopback plug"
                      : options.wiring == bridge::Wiring::null_modem     ? "null-modem cable"
                                                                         : "nothing";
  std::printf("usbserial-bridge %s: ", USBSERIAL_VERSION);
  for (size_t i = 0; i < chips.size(); ++i) {
    std::printf("%s%s", i ? " + " : "", chips[i].c_str());
  }
  std::printf(" (simulated, %s, %s)\n", plugs.c_str(), options.sim.paced ? "paced" : "unpaced");
  std::printf("ports in %s (usbserial-ports lists them; usbserial-run carries every setting)\n",
              options.run_dir.c_str());
  // The control socket exists before "ready" is printed.
  boost::asio::io_context io;
  const std::filesystem::path socket_path = options.run_dir / "bridge.sock";
  std::filesystem::remove(socket_path);
  stream_protocol::acceptor acceptor(io, stream_protocol::endpoint(socket_path.string()));
  accept_next(acceptor, *stack);
  for (const std::string& path : stack->callout_paths()) {
    std::printf("port %s\n", path.c_str());
  }
  std::printf("control %s\nready\n", socket_path.c_str());
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    acceptor.close();
    io.stop();
  });
  io.run();

  stack.reset();
  std::filesystem::remove(socket_path);
  return 0;
}
