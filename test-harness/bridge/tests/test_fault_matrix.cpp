// The fault matrix: what a USB-serial adapter or its bus can do wrong, thrown
// at the real driver on both of its classes, through the whole stack (the dext
// on hostkit, a simulated chip behind a loopback plug, a pty client).
//
// Each case streams a pattern through the port, injects a fault mid-stream
// (the simulator's hooks strike at a given packet, so a halt cuts a transfer
// in two wherever the timing of the run puts it), and asserts
//   - the bytes lost: none, or exactly those the simulator says the fault
//     destroyed, missing in one piece where the fault struck;
//   - the counters: the driver's own registry Statistics where its class can
//     see the fault (the IOUserSerial class runs its pipes; the IOUserUSBSerial
//     class sees only the packets Apple's framework hands it, so its pipe
//     faults are counted by hostkit's framework, as on a Mac by Apple's);
//   - the recovery: the stream goes on, and the port works afterwards.
// The simulator is unpaced (lossless), so any byte missing is the fault's.
#include <asm/termbits.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <DriverKit/DriverKit.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "bridge/bridge.hpp"
#include "bridge/raw_tty.hpp"

namespace {

using namespace std::chrono_literals;
using transport::DriverClass;

constexpr size_t kStreamBytes = 1024 * 1024;
constexpr size_t kFaultAt = kStreamBytes / 4;  // received bytes when a fault is injected

std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> bytes(n);
  uint32_t x = 0x2545F491u;
  for (auto& byte : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = static_cast<uint8_t>(x >> 11);
  }
  return bytes;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The endpoints of a configuration descriptor (USB 2.0 §9.6.6), by transfer type.
struct Endpoints {
  uint8_t bulk_in = 0, bulk_out = 0, interrupt_in = 0;
};
Endpoints endpoints_of(const std::vector<uint8_t>& config) {
  Endpoints found;
  for (size_t i = 0; i + 1 < config.size() && config[i] >= 2; i += config[i]) {
    if (config[i + 1] != 0x05 || i + 3 >= config.size()) {
      continue;
    }
    const uint8_t address = config[i + 2];
    const uint8_t type = config[i + 3] & 0x03;
    const bool in = (address & 0x80) != 0;
    uint8_t& slot = type == 0x03 ? found.interrupt_in : in ? found.bulk_in : found.bulk_out;
    if (slot == 0 && (type == 0x02 || (type == 0x03 && in))) {
      slot = address;
    }
  }
  return found;
}

// Writes `sent` through the port while a second thread reads what comes back.
class Stream {
 public:
  Stream(int fd, std::vector<uint8_t> sent) : fd_(fd), sent_(std::move(sent)) {
    reader_ = std::thread([this] { read_loop(); });
    writer_ = std::thread([this] { write_loop(); });
  }
  ~Stream() { finish(); }

  size_t received() const {
    std::lock_guard lock(mutex_);
    return received_.size();
  }
  // Waits until `bytes` came back, or nothing came for `quiet`.
  bool wait_for(size_t bytes, std::chrono::milliseconds quiet = 3s) {
    size_t last = received();
    auto last_change = std::chrono::steady_clock::now();
    while (received() < bytes) {
      std::this_thread::sleep_for(2ms);
      const size_t now = received();
      if (now != last) {
        last = now;
        last_change = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last_change > quiet) {
        return false;
      }
    }
    return true;
  }
  // The reader stops reading (the RX path fills up, the device is held off and
  // the writer blocks) until resumed.
  void pause_reading() { reading_paused_ = true; }
  void resume_reading() { reading_paused_ = false; }
  // Stops both threads; returns everything read.
  std::vector<uint8_t> finish() {
    stop_ = true;
    if (writer_.joinable()) {
      writer_.join();
    }
    if (reader_.joinable()) {
      reader_.join();
    }
    std::lock_guard lock(mutex_);
    return received_;
  }
  const std::vector<uint8_t>& sent() const { return sent_; }

 private:
  void write_loop() {
    size_t done = 0;
    while (done < sent_.size() && !stop_) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, 20) != 1) {
        continue;
      }
      const ssize_t n =
          ::write(fd_, sent_.data() + done, std::min<size_t>(4096, sent_.size() - done));
      if (n < 0 && errno == EAGAIN) {
        continue;
      }
      if (n <= 0) {
        return;  // the port is gone
      }
      done += static_cast<size_t>(n);
    }
  }
  void read_loop() {
    std::vector<uint8_t> chunk(65536);
    while (!stop_) {
      if (reading_paused_) {
        std::this_thread::sleep_for(2ms);
        continue;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) {
        continue;
      }
      const ssize_t n = ::read(fd_, chunk.data(), chunk.size());
      if (n < 0 && errno == EAGAIN) {
        continue;
      }
      if (n <= 0) {
        return;  // hung up
      }
      std::lock_guard lock(mutex_);
      received_.insert(received_.end(), chunk.begin(), chunk.begin() + n);
    }
  }

  int fd_;
  std::vector<uint8_t> sent_;
  mutable std::mutex mutex_;
  std::vector<uint8_t> received_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reading_paused_{false};
  std::thread reader_;
  std::thread writer_;
};

struct Param {
  DriverClass driver_class;
  const char* chip;
  bool discard_failed_rx = false;  // hostkit's other candidate for Apple's framework
  bool deep_framework_rx = false;  // and its other candidate for the framework's reads
};

void PrintTo(const Param& param, std::ostream* os) {
  *os << param.chip << " on the " << transport::to_string(param.driver_class) << " class"
      << (param.discard_failed_rx ? ", failed transfers' bytes dropped" : "");
}

std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  std::string name = std::string(transport::to_string(info.param.driver_class)) + "_" +
                     info.param.chip + (info.param.discard_failed_rx ? "_dropping" : "");
  for (char& c : name) {
    if (c == '-') {
      c = '_';
    }
  }
  return name;
}

class FaultMatrix : public ::testing::TestWithParam<Param> {
 protected:
  void SetUp() override {
    hostkit::set_log_sink([this](int, const std::string& line) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(line);
    });
    char dir[] = "/tmp/usbserial-faults.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    run_dir_ = dir;
    bridge::BridgeOptions options;
    options.chips = {GetParam().chip};
    options.run_dir = run_dir_;
    options.driver_class = GetParam().driver_class;
    options.tuning.discard_failed_rx = GetParam().discard_failed_rx;
    options.tuning.apple_rx = !GetParam().deep_framework_rx;
    stack_ = std::make_unique<bridge::Bridge>(options);
    endpoints_ = endpoints_of(device().configuration_descriptor());
    open_port();
  }

  void TearDown() override {
    stream_.reset();
    if (fd_ >= 0) {
      ::close(fd_);
    }
    stack_.reset();
    std::filesystem::remove_all(run_dir_);
    if (HasFailure()) {
      std::lock_guard lock(log_mutex_);
      for (const std::string& line : log_) {
        std::fprintf(stderr, "log: %s\n", line.c_str());
      }
    }
    hostkit::set_log_sink(nullptr);
  }

  bool serial_class() const { return GetParam().driver_class == DriverClass::serial; }
  sim::SimDevice& device() { return stack_->device(0); }
  sim::PortCounters chip_counters() { return device().port(0).snapshot().counters; }

  void open_port() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = ::open(stack_->callout_paths().at(0).c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK);
    ASSERT_GE(fd_, 0);
    ASSERT_TRUE(bridge::make_raw(fd_, 115200));
  }

  // Starts the stream and waits until it is well under way.
  void start_stream() {
    stream_ = std::make_unique<Stream>(fd_, pattern(kStreamBytes));
    ASSERT_TRUE(stream_->wait_for(kFaultAt)) << "the stream did not start";
  }
  // Waits for the rest of it; returns what came back.
  std::vector<uint8_t> end_stream(size_t expected = kStreamBytes,
                                  std::chrono::milliseconds quiet = 3s) {
    stream_->wait_for(expected, quiet);
    std::vector<uint8_t> received = stream_->finish();
    stream_.reset();
    return received;
  }

  // The port works afterwards: a short exchange comes back whole.
  void expect_port_works() {
    Stream after(fd_, pattern(4096));
    EXPECT_TRUE(after.wait_for(4096)) << "the port does not work after the fault";
    EXPECT_EQ(after.finish(), after.sent());
  }

  tty::PortInfo port_info() { return stack_->ports().at(0); }

  // A number from the driver's registry Statistics (wherever SetProperties put
  // them), or from hostkit's IOUserUSBSerial data path; nullopt when absent.
  static std::optional<uint64_t> number(const OSDictionary* dictionary, const char* key) {
    auto* value =
        dictionary != nullptr
            ? OSDynamicCast(OSNumber, const_cast<OSDictionary*>(dictionary)->getObject(key))
            : nullptr;
    return value != nullptr ? std::optional<uint64_t>(value->unsigned64BitValue()) : std::nullopt;
  }
  static const OSDictionary* statistics_of(const tty::PortInfo& port) {
    return port.driver_properties
               ? OSDynamicCast(OSDictionary, port.driver_properties->getObject("Statistics"))
               : nullptr;
  }
  std::optional<uint64_t> stat(const char* key) { return number(statistics_of(port_info()), key); }
  std::string stat_string(const char* key) {
    const tty::PortInfo port = port_info();
    const OSDictionary* statistics = statistics_of(port);
    auto* value =
        statistics != nullptr
            ? OSDynamicCast(OSString, const_cast<OSDictionary*>(statistics)->getObject(key))
            : nullptr;
    return value != nullptr ? value->getCStringNoCopy() : "";
  }
  std::optional<uint64_t> framework(const char* key) {
    return number(port_info().data_path.get(), key);
  }
  // The counter of a pipe fault: in the driver's Statistics on the IOUserSerial
  // class, in Apple's framework (hostkit's here) on the IOUserUSBSerial class.
  std::optional<uint64_t> pipe_counter(const char* key) {
    return serial_class() ? stat(key) : framework(key);
  }
  // Waits until the pipe counter reaches `at_least` (statistics are published
  // within 50 ms of a fault).
  bool pipe_counter_reaches(const char* key, uint64_t at_least) {
    return wait_until([&] { return pipe_counter(key).value_or(0) >= at_least; });
  }

  // What the IOUserUSBSerial class cannot see on a Mac, it does not claim to
  // count: no pipe counter of its own in its Statistics.
  void expect_no_pipe_counters_in_the_usb_serial_class() {
    if (!serial_class()) {
      for (const char* key : {"RxStalls", "TxStalls", "RxBabbles", "InterruptStalls"}) {
        EXPECT_FALSE(stat(key).has_value()) << key;
      }
    }
  }

  std::unique_ptr<bridge::Bridge> stack_;
  std::filesystem::path run_dir_;
  Endpoints endpoints_;
  int fd_ = -1;
  std::unique_ptr<Stream> stream_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

// ------------------------------------------------------------ bulk pipes

class BulkFaults : public FaultMatrix {};

// A halted bulk IN fails every transfer queued on it; the bytes the transfer
// in progress had received are the device's data and reach the client.
TEST_P(BulkFaults, AStalledBulkInLosesNothing) {
  device().stall_after(endpoints_.bulk_in, 100, 3);  // three halts, 100 packets apart
  start_stream();
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes) << "bytes lost";
  EXPECT_TRUE(received == pattern(kStreamBytes)) << "bytes wrong";
  EXPECT_TRUE(pipe_counter_reaches("RxStalls", 3));
  EXPECT_EQ(pipe_counter("RxStalls"), 3u) << "one halt, one stall";
  EXPECT_TRUE(pipe_counter_reaches("RxRecoveries", 3));
  EXPECT_EQ(pipe_counter("RxDiscardedBytes"), 0u);
  if (serial_class()) {
    EXPECT_EQ(stat_string("LastError"), "stall");
    EXPECT_EQ(stat_string("LastErrorSite"), "bulk-in");
  }
  expect_no_pipe_counters_in_the_usb_serial_class();
  expect_port_works();
}

// A halted bulk OUT: the transfer it cut is sent again from where it stopped.
TEST_P(BulkFaults, AStalledBulkOutLosesNothing) {
  device().stall_after(endpoints_.bulk_out, 100, 3);
  start_stream();
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes) << "bytes lost";
  EXPECT_TRUE(received == pattern(kStreamBytes)) << "bytes wrong";
  EXPECT_TRUE(pipe_counter_reaches("TxStalls", 3));
  EXPECT_EQ(pipe_counter("TxStalls"), 3u);
  EXPECT_TRUE(pipe_counter_reaches("TxRecoveries", 3));
  EXPECT_EQ(pipe_counter("TxDiscardedBytes"), 0u);
  if (serial_class()) {
    EXPECT_EQ(stat_string("LastErrorSite"), "bulk-out");
  }
  expect_port_works();
}

// A babbling device: the packet that overflowed is gone (nothing on the host
// can know its size; the simulator can), every other byte arrives, in order.
TEST_P(BulkFaults, ABabbleLosesExactlyThePacketThatBabbled) {
  device().inject_babbling_packet(endpoints_.bulk_in, 200);
  start_stream();
  ASSERT_TRUE(pipe_counter_reaches("RxBabbles", 1));
  const uint64_t lost = chip_counters().usb_in_lost_bytes;
  const std::vector<uint8_t> received = end_stream(kStreamBytes - lost);
  const std::vector<uint8_t> sent = pattern(kStreamBytes);
  EXPECT_GT(lost, 0u) << "the babble struck a packet with data";
  ASSERT_EQ(received.size() + lost, kStreamBytes) << "lost other than the babbled packet";
  // One gap of `lost` bytes, where the packet was.
  size_t gap = 0;
  while (gap < received.size() && received[gap] == sent[gap]) {
    ++gap;
  }
  EXPECT_TRUE(std::equal(received.begin() + static_cast<std::ptrdiff_t>(gap), received.end(),
                         sent.begin() + static_cast<std::ptrdiff_t>(gap + lost)))
      << "the bytes after the babble are not the stream from after the packet";
  EXPECT_EQ(pipe_counter("RxBabbles"), 1u);
  EXPECT_EQ(pipe_counter("RxErrors"), 1u);
  EXPECT_TRUE(pipe_counter_reaches("RxRecoveries", 1));
  if (serial_class()) {
    EXPECT_EQ(stat_string("LastError"), "overflow");
    EXPECT_EQ(stat_string("LastErrorSite"), "bulk-in");
  }
  expect_no_pipe_counters_in_the_usb_serial_class();
  expect_port_works();
}

// A zero-length packet ends a transfer with what it holds, and is no fault.
TEST_P(BulkFaults, AZeroLengthPacketLosesNothing) {
  start_stream();
  const uint64_t malformed = stat("MalformedPackets").value_or(0);
  ASSERT_TRUE(device().inject_in_packet(endpoints_.bulk_in, {}));
  ASSERT_TRUE(device().inject_in_packet(endpoints_.bulk_in, {}));
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes);
  EXPECT_TRUE(received == pattern(kStreamBytes));
  EXPECT_EQ(stat("MalformedPackets").value_or(0), malformed);
  expect_port_works();
}

// A control request the chip refuses (STALL) mid-stream: the change fails,
// loudly, the line keeps its rate, and the data path never notices.
TEST_P(BulkFaults, AFailedControlRequestLosesNothing) {
  start_stream();
  const uint64_t failures = stat("ControlFailures").value_or(0);
  device().stall(0);
  ASSERT_TRUE(bridge::make_raw(fd_, 57600));  // HwProgramUART: its first request STALLs
  ASSERT_TRUE(wait_until([&] { return port_info().counters.refused_changes == 1; }));
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes);
  EXPECT_TRUE(received == pattern(kStreamBytes));
  EXPECT_TRUE(wait_until([&] { return stat("ControlFailures").value_or(0) == failures + 1; }));
  EXPECT_EQ(stat_string("LastError"), "stall");
  EXPECT_EQ(stat_string("LastErrorSite"), "control");
  EXPECT_EQ(port_info().line.baud, 115200u) << "the refused rate is not in force";
  // The next change goes through.
  ASSERT_TRUE(bridge::make_raw(fd_, 57600));
  EXPECT_TRUE(wait_until([&] { return stat("RequestedBaud") == 57600u; }));
  EXPECT_EQ(port_info().counters.refused_changes, 1u);
  expect_port_works();
}

// Unplugged with the whole path full (the client stopped reading, so the RX
// ring, the read slots and the chip's FIFOs hold data and the writer is held
// off): what the client got is the stream's beginning, with nothing missing or
// wrong inside it (the rest went with the adapter); the driver stops, and the
// adapter plugged in again works.
TEST_P(BulkFaults, AnUnplugMidTransferLosesOnlyWhatTheAdapterHeld) {
  start_stream();
  stream_->pause_reading();
  size_t before = 0;
  ASSERT_TRUE(wait_until([&] {
    const size_t now = stream_->received();
    const bool still = now == before;
    before = now;
    std::this_thread::sleep_for(50ms);
    return still;
  }));
  stack_->unplug(0);
  stream_->resume_reading();
  ASSERT_TRUE(wait_until([&] { return stack_->ports().empty(); })) << "the port stayed";
  const std::vector<uint8_t> received = end_stream(kStreamBytes, 200ms);
  const std::vector<uint8_t> sent = pattern(kStreamBytes);
  EXPECT_GE(received.size(), kFaultAt);
  EXPECT_LT(received.size(), kStreamBytes);
  EXPECT_TRUE(std::equal(received.begin(), received.end(), sent.begin()))
      << "what arrived before the unplug is not the stream's beginning";
  stack_->replug(0);
  ASSERT_EQ(stack_->ports().size(), 1u);
  open_port();
  expect_port_works();
}

INSTANTIATE_TEST_SUITE_P(Faults, BulkFaults,
                         ::testing::Values(Param{DriverClass::usb_serial, "ft232r"},
                                           Param{DriverClass::serial, "ft232r"},
                                           Param{DriverClass::usb_serial, "pl2303-hx"},
                                           Param{DriverClass::serial, "pl2303-hx"}),
                         param_name);

// hostkit's other candidate for what Apple's framework does with the bytes of a
// failed transfer drops them, as Linux's drivers do: then they are lost, and
// the framework counts exactly what it dropped (raw bytes: each dropped FTDI
// packet is a full one, 62 bytes of data behind its 2 status bytes).
class DroppedBytes : public FaultMatrix {};

TEST_P(DroppedBytes, BytesAFrameworkDropsAreCountedExactly) {
  device().stall_after(endpoints_.bulk_in, 100, 3);
  start_stream();
  const std::vector<uint8_t> received = end_stream(kStreamBytes, 500ms);
  ASSERT_TRUE(pipe_counter_reaches("RxStalls", 3));
  const uint64_t dropped = framework("RxDiscardedBytes").value_or(0);
  EXPECT_GT(dropped, 0u) << "no halt cut a transfer";
  EXPECT_EQ(dropped % 64, 0u);
  EXPECT_EQ(framework("RxFaultBytes"), dropped);
  EXPECT_EQ(received.size(), kStreamBytes - dropped / 64 * 62);
  expect_port_works();
}

INSTANTIATE_TEST_SUITE_P(Faults, DroppedBytes,
                         ::testing::Values(Param{DriverClass::usb_serial, "ft232r", true, true}),
                         param_name);

// ------------------------------------------------------------ FTDI framing

class FtdiFaults : public FaultMatrix {};

// A packet shorter than FTDI's two status bytes is malformed: counted (by the
// driver's decoder, so on both classes), and no byte around it is lost.
TEST_P(FtdiFaults, APacketShorterThanTheStatusBytesIsCountedAndLosesNothing) {
  start_stream();
  const uint64_t malformed = stat("MalformedPackets").value_or(0);
  ASSERT_TRUE(device().inject_in_packet(endpoints_.bulk_in, {0x01}));
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes);
  EXPECT_TRUE(received == pattern(kStreamBytes));
  EXPECT_TRUE(wait_until([&] { return stat("MalformedPackets") == malformed + 1; }));
  expect_port_works();
}

INSTANTIATE_TEST_SUITE_P(Faults, FtdiFaults,
                         ::testing::Values(Param{DriverClass::usb_serial, "ft232r"},
                                           Param{DriverClass::serial, "ft232r"}),
                         param_name);

// ------------------------------------------------------------ input flush

class InputFlush : public FaultMatrix {};

// Bytes the chip already sent into a read that has not completed yet were
// received before a tcflush(TCIFLUSH): they must not reach the client after
// it. The chip's latency timer, set to 255 ms behind the driver's back, keeps
// five full FT232R packets (310 bytes) in a 16-packet read until the flush.
TEST_P(InputFlush, BytesInAReadStillInFlightAreDropped) {
  ASSERT_TRUE(wait_until([&] { return port_info().active; }));
  std::this_thread::sleep_for(50ms);  // the driver's own latency setting at open is done
  uint16_t actual = 0;
  // FTDI SIO_SET_LATENCY_TIMER (docs/usb-serial-reference.md §2.2): 255 ms; an
  // FT232R takes wIndex 0.
  ASSERT_EQ(device().control(hostkit::UsbSetup{0x40, 0x09, 255, 0, 0}, {}, actual), 0);
  const std::vector<uint8_t> before(5 * 62, 0xAA);
  ASSERT_EQ(::write(fd_, before.data(), before.size()), static_cast<ssize_t>(before.size()));
  ASSERT_TRUE(wait_until([&] { return chip_counters().usb_in_bytes >= before.size(); }));
  const uint64_t flushes = port_info().counters.flushes;
  ASSERT_EQ(::ioctl(fd_, TCFLSH, TCIFLUSH), 0);
  ASSERT_TRUE(wait_until([&] { return port_info().counters.flushes > flushes; }));
  const std::vector<uint8_t> fresh = {'f', 'r', 'e', 's', 'h'};
  ASSERT_EQ(::write(fd_, fresh.data(), fresh.size()), 5);
  std::vector<uint8_t> received;
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (received.size() < fresh.size() && std::chrono::steady_clock::now() < deadline) {
    uint8_t chunk[1024];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n > 0) {
      received.insert(received.end(), chunk, chunk + n);
    } else {
      std::this_thread::sleep_for(5ms);
    }
  }
  std::this_thread::sleep_for(300ms);  // a late stale completion would come by now
  uint8_t late[1024];
  const ssize_t n = ::read(fd_, late, sizeof late);
  if (n > 0) {
    received.insert(received.end(), late, late + n);
  }
  EXPECT_EQ(received, fresh);
}

INSTANTIATE_TEST_SUITE_P(Faults, InputFlush,
                         ::testing::Values(Param{DriverClass::usb_serial, "ft232r"},
                                           Param{DriverClass::serial, "ft232r"}),
                         param_name);

// ------------------------------------------------------------ notifications

// Notifications written from each protocol's layout.
struct Notifications {
  std::vector<uint8_t> garbage;    // cannot be a notification
  std::vector<uint8_t> truncated;  // a notification's start, ended by a short packet
};
Notifications bad_notifications(const std::string& chip) {
  if (chip == "ch340") {
    return {{0x08}, {0x08, 0x00, 0xFF}};  // a status packet is 4 bytes
  }
  return {{0x00, 0x13, 0x37}, {0xA1, 0x20, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00}};
}
// A valid notification: DCD as given, the other modem inputs off, no line error.
std::vector<uint8_t> dcd_notification(const std::string& chip, bool dcd) {
  if (chip == "ch340") {
    // CH34x status: 4 bytes; byte 0 the event type (0x08: a modem input
    // changed), byte 2 the modem inputs inverted (CTS 0x01, DSR 0x02, RI 0x04,
    // DCD 0x08).
    return {0x08, 0x00, static_cast<uint8_t>(dcd ? 0xF7 : 0xFF), 0x00};
  }
  // CDC SERIAL_STATE and the PL2303's copy of it: bmRequestType 0xA1,
  // bNotification 0x20, wValue 0, wIndex (interface 0), wLength 2, then the
  // UART state bitmap (bit 0: DCD).
  return {0xA1, 0x20, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, static_cast<uint8_t>(dcd ? 1 : 0), 0x00};
}

class NotificationFaults : public FaultMatrix {
 protected:
  uint64_t modem_changes() { return stat("ModemChanges").value_or(0); }
  uint64_t line_errors() {
    const tty::PortCounters c = port_info().counters;
    return c.overruns + c.breaks + c.framing_errors + c.parity_errors;
  }
  // What the chip reported when the port opened has been published: what
  // comes after is news.
  void settle() {
    uint64_t before = UINT64_MAX;
    ASSERT_TRUE(wait_until([&] {
      std::this_thread::sleep_for(60ms);  // statistics are published within 50 ms
      const uint64_t now = modem_changes();
      const bool still = now == before;
      before = now;
      return still;
    }));
  }
  // Injects a valid notification that turns DCD over, and waits until the
  // client's side shows it.
  bool dcd_change_arrives() {
    const bool dcd = !port_info().dcd;
    device().inject_interrupt(dcd_notification(GetParam().chip, dcd));
    return wait_until([&] { return port_info().dcd == dcd; });
  }
};

// Garbage and a notification the device cut short are counted, decode nothing
// (no false modem change or line error), and the next notification is decoded.
TEST_P(NotificationFaults, GarbageAndTruncatedNotificationsAreCountedAndLoseNothing) {
  start_stream();
  settle();
  const Notifications n = bad_notifications(GetParam().chip);
  const uint64_t malformed = stat("MalformedNotifications").value_or(0);
  const uint64_t changes = modem_changes();
  const uint64_t errors = line_errors();
  const bool dcd = port_info().dcd;
  device().inject_interrupt(n.garbage);
  device().inject_interrupt(n.truncated);
  ASSERT_TRUE(wait_until([&] { return stat("MalformedNotifications") == malformed + 2; }));
  EXPECT_EQ(modem_changes(), changes);
  EXPECT_EQ(port_info().dcd, dcd);
  EXPECT_EQ(line_errors(), errors);
  EXPECT_TRUE(dcd_change_arrives()) << "the notification after the bad ones was not decoded";
  EXPECT_TRUE(wait_until([&] { return modem_changes() == changes + 1; }));
  EXPECT_EQ(line_errors(), errors);
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes);
  EXPECT_TRUE(received == pattern(kStreamBytes));
  expect_port_works();
}

// A halted interrupt pipe is cleared and carries notifications again.
TEST_P(NotificationFaults, AStalledInterruptPipeRecovers) {
  start_stream();
  settle();
  device().stall(endpoints_.interrupt_in);
  ASSERT_TRUE(pipe_counter_reaches("InterruptStalls", 1));
  EXPECT_TRUE(dcd_change_arrives()) << "no notification after the stall";
  EXPECT_TRUE(pipe_counter_reaches("InterruptRecoveries", 1));
  EXPECT_EQ(pipe_counter("InterruptStalls"), 1u);
  if (serial_class()) {
    EXPECT_EQ(stat_string("LastErrorSite"), "interrupt-in");
  }
  const std::vector<uint8_t> received = end_stream();
  EXPECT_EQ(received.size(), kStreamBytes);
  EXPECT_TRUE(received == pattern(kStreamBytes));
  expect_no_pipe_counters_in_the_usb_serial_class();
  expect_port_works();
}

// CDC-ACM runs on the IOUserSerial class only (its bulk pair is in a second
// interface, which an IOUserUSBSerial driver cannot reach).
INSTANTIATE_TEST_SUITE_P(Faults, NotificationFaults,
                         ::testing::Values(Param{DriverClass::usb_serial, "pl2303-hx"},
                                           Param{DriverClass::serial, "pl2303-hx"},
                                           Param{DriverClass::usb_serial, "ch340"},
                                           Param{DriverClass::serial, "ch340"},
                                           Param{DriverClass::serial, "cdc-acm"}),
                         param_name);

}  // namespace
