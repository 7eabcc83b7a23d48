// usbserial-bench: figures, not tests. In one run it measures
//   1. bytes/s through the driver's tty on a simulated FT232R (unpaced, loopback plug),
//      on the IOUserUSBSerial class, the same with Apple's one-read-in-flight RX path, and
//      on the IOUserSerial class (its own deep pipeline); and on a simulated CH340
//      (32-byte packets, 2 MBd);
//   2. bytes/s through a raw pty pair whose master echoes everything back (the same two
//      pty crossings with no driver and no simulator: the floor of our path);
//   3. FTDI and CH34x decode_rx bytes/s versus memcpy of the same buffer;
//   4. the same two for a simulated CP2102N (3 MBd) and CP210x decode_rx with event insertion;
//   5. the same tty stream on a simulated PL2303HX, and PL2303 decode_rx versus memcpy;
//   6. a high-speed FTDI (FT232H) paced at 12 MBd through a loopback plug: bytes lost and
//      MB/s on Apple's one-read path (--apple-rx), on our IOUserUSBSerial path and on the
//      IOUserSerial class, one after the other in the same run;
//   7. bulk halts during a stream (unpaced, loopback plug): 20 bulk-IN halts on an FT232R,
//      10 IN and 10 OUT halts on an FT2232H, each cutting a transfer in two; bytes lost and
//      what was counted, with the bytes of a failed transfer dropped (--discard-failed-rx,
//      as the pipeline did before, and as Linux's drivers do) and delivered, on both
//      classes, in the same run;
//   8. the same tty stream on a simulated CDC-ACM function, and CDC-ACM decode_rx versus
//      memcpy; then one table per family (CDC-ACM, FTDI, CP210x, CH34x, PL2303) of decode_rx
//      against memcpy and the tty stream against the raw pty pair.
// and prints the ratios. --json FILE writes the figures for tools; --paced-bytes N and
// --fault-bytes N set the size of each paced and fault run (default 8 MiB and 16 MiB; 0
// skips them).
#include <asm/termbits.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <poll.h>

#include <DriverKit/DriverKit.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "bridge/bridge.hpp"
#include "common/json_writer.hpp"
#include "hostkit/runtime.hpp"
#include "transport/chips/cdc_acm.hpp"
#include "transport/chips/ch34x.hpp"
#include "transport/chips/cp210x.hpp"
#include "transport/chips/ftdi.hpp"
#include "transport/chips/pl2303.hpp"

namespace {

constexpr size_t kStreamBytes = 16u << 20;

bool make_raw(int fd, uint32_t baud) {
  termios2 t{};
  if (::ioctl(fd, TCGETS2, &t) != 0) {
    return false;
  }
  t.c_iflag = 0;
  t.c_oflag = 0;
  t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~(CSIZE | PARENB | CBAUD);
  t.c_cflag |= CS8 | CREAD | CLOCAL | BOTHER;
  t.c_ispeed = t.c_ospeed = baud;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  return ::ioctl(fd, TCSETS2, &t) == 0;
}

// Writes `bytes` on `fd` from a second thread and reads them back on this one.
// Returns the bytes that came back (all of them, or the run is an error).
size_t stream_through(int fd, size_t bytes) {
  std::vector<uint8_t> out(65536);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<uint8_t>(i * 131);
  }
  std::thread writer([&] {
    size_t sent = 0;
    while (sent < bytes) {
      const ssize_t n = ::write(fd, out.data(), std::min(out.size(), bytes - sent));
      if (n <= 0) {
        return;
      }
      sent += static_cast<size_t>(n);
    }
  });
  std::vector<uint8_t> in(65536);
  size_t received = 0;
  while (received < bytes) {
    const ssize_t n = ::read(fd, in.data(), in.size());
    if (n <= 0) {
      break;
    }
    received += static_cast<size_t>(n);
  }
  writer.join();
  return received;
}

void bridge_stream(benchmark::State& state, bool apple_rx, const char* chip = "ft232r",
                   uint32_t baud = 3'000'000,
                   std::optional<transport::DriverClass> driver_class = std::nullopt) {
  hostkit::set_log_sink([](int, const std::string&) {});
  char dir[] = "/tmp/usbserial-bench.XXXXXX";
  ::mkdtemp(dir);
  bridge::BridgeOptions options;
  options.chips = {chip};
  options.run_dir = dir;
  options.tuning.apple_rx = apple_rx;
  options.driver_class = driver_class;
  {
    bridge::Bridge stack(options);
    const int fd = ::open(stack.callout_paths().at(0).c_str(), O_RDWR | O_NOCTTY);
    make_raw(fd, baud);
    for (auto _ : state) {
      if (stream_through(fd, kStreamBytes) != kStreamBytes) {
        state.SkipWithError("bytes lost");
        break;
      }
    }
    ::close(fd);
  }
  std::filesystem::remove_all(dir);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kStreamBytes));
}

void BM_DriverTtyFt232r(benchmark::State& state) {
  bridge_stream(state, false);
}
void BM_DriverTtyFt232rAppleRx(benchmark::State& state) {
  bridge_stream(state, true);
}
void BM_DriverTtyCp2102n(benchmark::State& state) {
  bridge_stream(state, false, "cp2102n", 3'000'000);
}

void BM_DriverTtyCh340(benchmark::State& state) {
  bridge_stream(state, false, "ch340", 2'000'000);  // the data sheet's maximum
}

// 3 MBd is a direct rate of the PL2303HX (and the FT232R's maximum).
void BM_DriverTtyPl2303hx(benchmark::State& state) {
  bridge_stream(state, false, "pl2303-hx");
}

void BM_DriverTtyFt232rSerialClass(benchmark::State& state) {
  bridge_stream(state, false, "ft232r", 3'000'000, transport::DriverClass::serial);
}

// The baseline: a pty pair and a thread that echoes the master (a software loopback plug).
void BM_RawPtyEcho(benchmark::State& state) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ::grantpt(master);
  ::unlockpt(master);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  make_raw(slave, 3'000'000);
  std::atomic<bool> stop{false};
  std::thread echo([&] {
    std::vector<uint8_t> buffer(65536);
    while (!stop) {
      const ssize_t n = ::read(master, buffer.data(), buffer.size());
      if (n <= 0) {
        return;
      }
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = ::write(master, buffer.data() + done, static_cast<size_t>(n - done));
        if (w <= 0) {
          return;
        }
        done += w;
      }
    }
  });
  for (auto _ : state) {
    if (stream_through(slave, kStreamBytes) != kStreamBytes) {
      state.SkipWithError("bytes lost");
      break;
    }
  }
  stop = true;
  ::close(slave);
  ::close(master);
  echo.join();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kStreamBytes));
}

// decode_rx over a transfer of 16 packets, status bytes in every packet, as the chip sends them.
void BM_FtdiDecodeRx(benchmark::State& state) {
  const auto packet = static_cast<uint32_t>(state.range(0));
  transport::chips::Ftdi ftdi;
  transport::PortConfig config;
  config.variant = packet == 512 ? transport::ChipVariant::ft2232h : transport::ChipVariant::ft232r;
  config.bulk_in_max_packet = static_cast<uint16_t>(packet);
  if (ftdi.configure(config) != transport::Status::ok) {
    state.SkipWithError("configure");
    return;
  }
  std::vector<uint8_t> pristine(16 * packet);
  for (size_t i = 0; i < pristine.size(); ++i) {
    pristine[i] = (i % packet == 0) ? 0x01 : (i % packet == 1) ? 0x60 : static_cast<uint8_t>(i);
  }
  std::vector<uint8_t> transfer(pristine.size());
  for (auto _ : state) {
    std::memcpy(transfer.data(), pristine.data(), pristine.size());  // decode works in place
    transport::RxReport report;
    benchmark::DoNotOptimize(ftdi.decode_rx(transfer, report));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}

// CP210x decode_rx with event insertion on, over 16 packets of what the chip sends for random
// line data: every 0xEC byte arrives escaped as EC 00 (about one byte in 256).
void BM_Cp210xDecodeRx(benchmark::State& state) {
  const auto packet = static_cast<size_t>(state.range(0));
  transport::chips::Cp210x cp210x;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::cp2102n;
  config.bulk_in_max_packet = static_cast<uint16_t>(packet);
  // Open against a sink that accepts everything, so that event insertion is on as in use.
  class AcceptAll final : public transport::ControlSink {
   public:
    transport::Status control(const transport::ControlRequest& request, std::span<uint8_t> data,
                              uint16_t& transferred) override {
      std::fill(data.begin(), data.end(), uint8_t{0x20});  // GET_PARTNUM: a CP2102N
      transferred = request.wLength;
      return transport::Status::ok;
    }
  } sink;
  if (cp210x.configure(config) != transport::Status::ok ||
      cp210x.open(sink) != transport::Status::ok || !cp210x.event_mode()) {
    state.SkipWithError("configure/open");
    return;
  }
  std::vector<uint8_t> pristine;
  uint32_t x = 0x12345678u;
  while (pristine.size() < 16 * packet) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    const auto byte = static_cast<uint8_t>(x >> 7);
    pristine.push_back(byte);
    if (byte == transport::chips::cp210x::CP210X_ESCCHAR && pristine.size() < 16 * packet) {
      pristine.push_back(transport::chips::cp210x::kEventEscapedEscape);
    }
  }
  pristine.resize(16 * packet);
  if (pristine.back() == transport::chips::cp210x::CP210X_ESCCHAR) {
    pristine.back() = 0;  // no escape left open at the end: every iteration starts clean
  }
  std::vector<uint8_t> transfer(pristine.size());
  for (auto _ : state) {
    std::memcpy(transfer.data(), pristine.data(), pristine.size());  // decode works in place
    transport::RxReport report;
    benchmark::DoNotOptimize(cp210x.decode_rx(transfer, report));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}

// CH34x decode_rx over a transfer of 16 32-byte packets: bulk IN is raw data, so the decode
// is a check of the length and the figure is the copy's.
void BM_Ch34xDecodeRx(benchmark::State& state) {
  constexpr uint32_t kPacket = 32;
  transport::chips::Ch34x chip;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::ch340;
  config.bulk_in_max_packet = kPacket;
  if (chip.configure(config) != transport::Status::ok) {
    state.SkipWithError("configure");
    return;
  }
  std::vector<uint8_t> pristine(16 * kPacket);
  for (size_t i = 0; i < pristine.size(); ++i) {
    pristine[i] = static_cast<uint8_t>(i);
  }
  std::vector<uint8_t> transfer(pristine.size());
  for (auto _ : state) {
    std::memcpy(transfer.data(), pristine.data(), pristine.size());  // as the FTDI figure
    transport::RxReport report;
    benchmark::DoNotOptimize(chip.decode_rx(transfer, report));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}

// PL2303 bulk IN is raw data: decode_rx only checks and counts. The same copy first, so the
// figure compares with BM_MemcpyOnly/64 like the FTDI one.
void BM_Pl2303DecodeRx(benchmark::State& state) {
  transport::chips::Pl2303 pl2303;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::pl2303_hx;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = 10;
  if (pl2303.configure(config) != transport::Status::ok) {
    state.SkipWithError("configure");
    return;
  }
  std::vector<uint8_t> pristine(16 * 64);
  for (size_t i = 0; i < pristine.size(); ++i) {
    pristine[i] = static_cast<uint8_t>(i);
  }
  std::vector<uint8_t> transfer(pristine.size());
  for (auto _ : state) {
    std::memcpy(transfer.data(), pristine.data(), pristine.size());
    transport::RxReport report;
    benchmark::DoNotOptimize(pl2303.decode_rx(transfer, report));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}

// CDC-ACM bulk IN is raw data (line errors come on the interrupt endpoint): the same copy
// first, as for PL2303, over 16 64-byte packets.
void BM_CdcAcmDecodeRx(benchmark::State& state) {
  transport::chips::CdcAcm cdc;
  transport::PortConfig config;
  config.variant = transport::ChipVariant::cdc_acm;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = 16;
  if (cdc.configure(config) != transport::Status::ok) {
    state.SkipWithError("configure");
    return;
  }
  std::vector<uint8_t> pristine(16 * 64);
  for (size_t i = 0; i < pristine.size(); ++i) {
    pristine[i] = static_cast<uint8_t>(i);
  }
  std::vector<uint8_t> transfer(pristine.size());
  for (auto _ : state) {
    std::memcpy(transfer.data(), pristine.data(), pristine.size());
    transport::RxReport report;
    benchmark::DoNotOptimize(cdc.decode_rx(transfer, report));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}

// A full-speed CDC-ACM function (on the IOUserSerial class, as the device table says).
void BM_DriverTtyCdcAcm(benchmark::State& state) {
  bridge_stream(state, false, "cdc-acm");
}

// The same copy as above without the decode: the cost decode_rx adds is the difference.
void BM_MemcpyOnly(benchmark::State& state) {
  const auto size = static_cast<size_t>(16 * state.range(0));
  std::vector<uint8_t> pristine(size, 0x5A);
  std::vector<uint8_t> transfer(size);
  for (auto _ : state) {
    std::memcpy(transfer.data(), pristine.data(), size);
    benchmark::DoNotOptimize(transfer.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

BENCHMARK(BM_DriverTtyFt232r)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DriverTtyFt232rAppleRx)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DriverTtyCh340)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DriverTtyFt232rSerialClass)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);
BENCHMARK(BM_RawPtyEcho)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_DriverTtyCp2102n)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_FtdiDecodeRx)->Arg(64)->Arg(512);
BENCHMARK(BM_Cp210xDecodeRx)->Arg(64);
BENCHMARK(BM_Ch34xDecodeRx);
BENCHMARK(BM_MemcpyOnly)->Arg(32)->Arg(64)->Arg(512);
BENCHMARK(BM_Pl2303DecodeRx);
BENCHMARK(BM_DriverTtyPl2303hx)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CdcAcmDecodeRx);
BENCHMARK(BM_DriverTtyCdcAcm)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// One paced run: `bytes` out through a simulated FT232H at 12 MBd with a loopback
// plug, read back until everything came or nothing arrived for 2 s.
struct PacedRun {
  const char* path;  // which data path
  size_t sent = 0;
  size_t received = 0;
  size_t lost() const { return sent > received ? sent - received : 0; }
  double seconds = 0;
  // The longest time the client did not read: a client (or driver) starved of
  // the CPU that long can lose bytes at the chip, whatever the data path.
  double longest_gap_ms = 0;
  double mb_per_s() const {
    return seconds > 0 ? static_cast<double>(received) / seconds / 1e6 : 0;
  }
};

PacedRun paced_run(const char* path, bool apple_rx,
                   std::optional<transport::DriverClass> driver_class, size_t bytes) {
  constexpr uint32_t kRate = 12'000'000;
  hostkit::set_log_sink([](int, const std::string&) {});
  char dir[] = "/tmp/usbserial-bench.XXXXXX";
  ::mkdtemp(dir);
  bridge::BridgeOptions options;
  options.chips = {"ft232h"};
  options.run_dir = dir;
  options.sim.paced = true;
  options.tuning.apple_rx = apple_rx;
  options.driver_class = driver_class;
  PacedRun run{path};
  {
    bridge::Bridge stack(options);
    const int fd = ::open(stack.callout_paths().at(0).c_str(), O_RDWR | O_NOCTTY);
    make_raw(fd, kRate);
    // The chip must be at 12 MBd before the first byte (the tty side applies
    // termios shortly after tcsetattr returns).
    for (int i = 0; i < 200 && stack.device(0).port(0).snapshot().line.baud != kRate; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::vector<uint8_t> out(65536);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<uint8_t>(i * 131);
    }
    const auto start = std::chrono::steady_clock::now();
    std::thread writer([&] {
      while (run.sent < bytes) {
        const ssize_t n = ::write(fd, out.data(), std::min(out.size(), bytes - run.sent));
        if (n <= 0) {
          return;
        }
        run.sent += static_cast<size_t>(n);
      }
    });
    std::vector<uint8_t> in(65536);
    auto last = start;
    while (run.received < bytes) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) == 1) {
        const ssize_t n = ::read(fd, in.data(), in.size());
        if (n <= 0) {
          break;
        }
        run.received += static_cast<size_t>(n);
        const auto now = std::chrono::steady_clock::now();
        run.longest_gap_ms = std::max(
            run.longest_gap_ms, std::chrono::duration<double, std::milli>(now - last).count());
        last = now;
      } else if (std::chrono::steady_clock::now() - last > std::chrono::seconds(2)) {
        break;  // what has not come back by now was lost
      }
    }
    run.seconds = std::chrono::duration<double>(last - start).count();
    writer.join();
    ::close(fd);
  }
  std::filesystem::remove_all(dir);
  return run;
}

// One fault run: `bytes` through a simulated chip's tty with a loopback plug while the
// simulator halts bulk IN `in_halts` times and bulk OUT `out_halts` times, evenly spread
// over the stream by packet count; every byte that comes back is checked.
struct FaultRun {
  std::string path;
  size_t sent = 0;
  size_t received = 0;
  size_t lost() const { return sent > received ? sent - received : 0; }
  std::optional<size_t> first_wrong;  // offset of the first byte that differs
  uint32_t in_halts = 0, out_halts = 0;
  // What was counted: by the driver on the IOUserSerial class, by hostkit's
  // framework on the IOUserUSBSerial class.
  uint64_t rx_stalls = 0, tx_stalls = 0, rx_fault_bytes = 0, rx_discarded = 0, tx_resent = 0;
  std::string last_error;  // the driver's own Statistics LastError, on either class
};

uint64_t number_in(const OSDictionary* dictionary, const char* key) {
  auto* value = dictionary != nullptr
                    ? OSDynamicCast(OSNumber, const_cast<OSDictionary*>(dictionary)->getObject(key))
                    : nullptr;
  return value != nullptr ? value->unsigned64BitValue() : 0;
}

// wMaxPacketSize of the first bulk endpoint of `config` in direction `in` (USB 2.0 §9.6.6).
uint16_t bulk_max_packet(const std::vector<uint8_t>& config, bool in, uint8_t& address) {
  for (size_t i = 0; i + 6 < config.size() && config[i] >= 2; i += config[i]) {
    if (config[i + 1] == 0x05 && (config[i + 3] & 0x03) == 0x02 &&
        ((config[i + 2] & 0x80) != 0) == in) {
      address = config[i + 2];
      return static_cast<uint16_t>(config[i + 4] | config[i + 5] << 8);
    }
  }
  return 0;
}

FaultRun fault_run(std::string path, const char* chip, uint32_t in_halts, uint32_t out_halts,
                   bool discard_failed_rx, std::optional<transport::DriverClass> driver_class,
                   size_t bytes) {
  hostkit::set_log_sink([](int, const std::string&) {});
  char dir[] = "/tmp/usbserial-bench.XXXXXX";
  ::mkdtemp(dir);
  bridge::BridgeOptions options;
  options.chips = {chip};
  options.run_dir = dir;
  options.tuning.discard_failed_rx = discard_failed_rx;
  options.driver_class = driver_class;
  FaultRun run;
  run.path = std::move(path);
  run.in_halts = in_halts;
  run.out_halts = out_halts;
  std::vector<uint8_t> sent(bytes);
  uint32_t x = 0x9E3779B9u;
  for (uint8_t& byte : sent) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    byte = static_cast<uint8_t>(x >> 7);
  }
  {
    bridge::Bridge stack(options);
    sim::SimDevice& device = stack.device(0);
    uint8_t in_ep = 0, out_ep = 0;
    const std::vector<uint8_t> config = device.configuration_descriptor();
    const uint16_t in_packet = bulk_max_packet(config, true, in_ep);
    const uint16_t out_packet = bulk_max_packet(config, false, out_ep);
    // FTDI puts two status bytes in every IN packet; whatever the chip, this spreads the
    // halts over the stream closely enough.
    if (in_halts > 0 && in_packet > 2) {
      device.stall_after(in_ep, static_cast<uint32_t>(bytes / (in_packet - 2) / (in_halts + 1)),
                         in_halts);
    }
    if (out_halts > 0 && out_packet > 0) {
      device.stall_after(out_ep, static_cast<uint32_t>(bytes / out_packet / (out_halts + 1)),
                         out_halts);
    }
    const int fd = ::open(stack.callout_paths().at(0).c_str(), O_RDWR | O_NOCTTY);
    make_raw(fd, 3'000'000);
    std::thread writer([&] {
      while (run.sent < bytes) {
        const ssize_t n =
            ::write(fd, sent.data() + run.sent, std::min<size_t>(65536, bytes - run.sent));
        if (n <= 0) {
          return;
        }
        run.sent += static_cast<size_t>(n);
      }
    });
    std::vector<uint8_t> received(bytes);
    auto last = std::chrono::steady_clock::now();
    while (run.received < bytes) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) == 1) {
        const ssize_t n = ::read(fd, received.data() + run.received, bytes - run.received);
        if (n <= 0) {
          break;
        }
        run.received += static_cast<size_t>(n);
        last = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - last > std::chrono::seconds(2)) {
        break;  // what has not come back by now was lost
      }
    }
    writer.join();
    const auto mismatch =
        std::mismatch(received.begin(), received.begin() + run.received, sent.begin());
    if (mismatch.first != received.begin() + run.received) {
      run.first_wrong = static_cast<size_t>(mismatch.first - received.begin());
    }
    // The counters, once published (statistics go out within 50 ms of a fault).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const tty::PortInfo port = stack.ports().at(0);
    const OSDictionary* counters = port.data_path.get();
    const OSDictionary* statistics =
        port.driver_properties
            ? OSDynamicCast(OSDictionary, port.driver_properties->getObject("Statistics"))
            : nullptr;
    if (driver_class == transport::DriverClass::serial) {
      counters = statistics;
    }
    const OSString* last_error =
        statistics != nullptr
            ? OSDynamicCast(OSString, const_cast<OSDictionary*>(statistics)->getObject("LastError"))
            : nullptr;
    run.last_error = last_error != nullptr ? last_error->getCStringNoCopy() : "(none)";
    run.rx_stalls = number_in(counters, "RxStalls");
    run.tx_stalls = number_in(counters, "TxStalls");
    run.rx_fault_bytes = number_in(counters, "RxFaultBytes");
    run.rx_discarded = number_in(counters, "RxDiscardedBytes");
    run.tx_resent = number_in(counters, "TxResentBytes");
    ::close(fd);
  }
  std::filesystem::remove_all(dir);
  return run;
}

// Collects bytes/s per benchmark while printing the usual console table.
class Collector : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end() && !run.error_occurred) {
        rates[run.benchmark_name()] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rates;
};

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  size_t paced_bytes = 8u << 20;
  size_t fault_bytes = 16u << 20;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json_path = argv[++i];
    } else if (std::strcmp(argv[i], "--paced-bytes") == 0 && i + 1 < argc) {
      paced_bytes = std::strtoull(argv[++i], nullptr, 0);
    } else if (std::strcmp(argv[i], "--fault-bytes") == 0 && i + 1 < argc) {
      fault_bytes = std::strtoull(argv[++i], nullptr, 0);
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  Collector collector;
  benchmark::RunSpecifiedBenchmarks(&collector);

  auto rate = [&](const char* name) {
    const auto it = collector.rates.find(name);
    return it == collector.rates.end() ? 0.0 : it->second;
  };
  const double driver = rate("BM_DriverTtyFt232r/min_time:2.000/real_time");
  const double apple = rate("BM_DriverTtyFt232rAppleRx/min_time:2.000/real_time");
  const double serial_class = rate("BM_DriverTtyFt232rSerialClass/min_time:2.000/real_time");
  const double raw = rate("BM_RawPtyEcho/min_time:2.000/real_time");
  const double cp2102n = rate("BM_DriverTtyCp2102n/min_time:2.000/real_time");
  const double ch340 = rate("BM_DriverTtyCh340/min_time:2.000/real_time");
  std::printf("\nSummary (MB/s = 10^6 bytes/s, both directions counted once)\n");
  std::printf("  driver tty, FT232R sim unpaced : %8.1f MB/s\n", driver / 1e6);
  std::printf("  same, Apple one-read RX path   : %8.1f MB/s\n", apple / 1e6);
  std::printf("  driver tty, CH340 sim unpaced  : %8.1f MB/s\n", ch340 / 1e6);
  std::printf("  same, IOUserSerial class       : %8.1f MB/s\n", serial_class / 1e6);
  std::printf("  raw pty pair with echo         : %8.1f MB/s\n", raw / 1e6);
  std::printf("  driver tty, CP2102N sim unpaced: %8.1f MB/s\n", cp2102n / 1e6);
  if (raw > 0) {
    std::printf("  driver / raw pty               : %8.3f\n", driver / raw);
    std::printf("  CP2102N driver / raw pty       : %8.3f\n", cp2102n / raw);
    std::printf("  CH340 driver / raw pty         : %8.3f\n", ch340 / raw);
    std::printf("  IOUserSerial class / raw pty   : %8.3f\n", serial_class / raw);
  }
  hostutil::JsonWriter json;
  json.begin_object();
  json.field("driver_tty_ft232r_bytes_per_second", driver);
  json.field("driver_tty_ft232r_apple_rx_bytes_per_second", apple);
  json.field("driver_tty_ft232r_serial_class_bytes_per_second", serial_class);
  json.field("raw_pty_echo_bytes_per_second", raw);
  json.field("driver_over_raw_pty", raw > 0 ? driver / raw : 0.0);
  json.field("driver_tty_cp2102n_bytes_per_second", cp2102n);
  json.field("cp2102n_driver_over_raw_pty", raw > 0 ? cp2102n / raw : 0.0);
  json.field("driver_tty_ch340_bytes_per_second", ch340);
  json.field("ch340_driver_over_raw_pty", raw > 0 ? ch340 / raw : 0.0);
  for (const char* size : {"64", "512"}) {
    const double decode = rate((std::string("BM_FtdiDecodeRx/") + size).c_str());
    const double copy = rate((std::string("BM_MemcpyOnly/") + size).c_str());
    std::printf(
        "  FTDI decode_rx (%3s-byte packets, incl. its copy): %8.1f MB/s vs memcpy %8.1f "
        "MB/s (ratio %.3f)\n",
        size, decode / 1e6, copy / 1e6, copy > 0 ? decode / copy : 0.0);
    json.field(std::string("ftdi_decode_rx_") + size + "_bytes_per_second", decode);
    json.field(std::string("memcpy_") + size + "_bytes_per_second", copy);
  }
  {
    const double decode = rate("BM_Cp210xDecodeRx/64");
    const double copy = rate("BM_MemcpyOnly/64");
    std::printf(
        "  CP210x decode_rx (events on, 64-byte packets, incl. its copy): %8.1f MB/s vs memcpy "
        "%8.1f MB/s (ratio %.3f)\n",
        decode / 1e6, copy / 1e6, copy > 0 ? decode / copy : 0.0);
    json.field("cp210x_decode_rx_64_bytes_per_second", decode);
  }
  const double ch34x_decode = rate("BM_Ch34xDecodeRx");
  const double copy32 = rate("BM_MemcpyOnly/32");
  std::printf(
      "  CH34x decode_rx ( 32-byte packets, incl. its copy): %8.1f MB/s vs memcpy %8.1f "
      "MB/s (ratio %.3f)\n",
      ch34x_decode / 1e6, copy32 / 1e6, copy32 > 0 ? ch34x_decode / copy32 : 0.0);
  json.field("ch34x_decode_rx_32_bytes_per_second", ch34x_decode);
  json.field("memcpy_32_bytes_per_second", copy32);
  const double pl2303 = rate("BM_DriverTtyPl2303hx/min_time:2.000/real_time");
  const double pl2303_decode = rate("BM_Pl2303DecodeRx");
  const double copy64 = rate("BM_MemcpyOnly/64");
  std::printf("  driver tty, PL2303HX sim unpaced: %7.1f MB/s (driver / raw pty %.3f)\n",
              pl2303 / 1e6, raw > 0 ? pl2303 / raw : 0.0);
  std::printf(
      "  PL2303 decode_rx (64-byte packets, incl. its copy): %8.1f MB/s vs memcpy %8.1f "
      "MB/s (ratio %.3f)\n",
      pl2303_decode / 1e6, copy64 / 1e6, copy64 > 0 ? pl2303_decode / copy64 : 0.0);
  json.field("driver_tty_pl2303hx_bytes_per_second", pl2303);
  json.field("pl2303_decode_rx_64_bytes_per_second", pl2303_decode);

  // Per family: decode_rx against memcpy of the same packets, and the tty stream (unpaced,
  // loopback plug) against the raw pty pair, all measured above in this run.
  struct Family {
    const char* family;
    const char* chip;
    const char* decode;  // benchmark names
    const char* copy;
    const char* tty;
  };
  const Family families[] = {
      {"CDC-ACM", "cdc-acm", "BM_CdcAcmDecodeRx", "BM_MemcpyOnly/64",
       "BM_DriverTtyCdcAcm/min_time:2.000/real_time"},
      {"FTDI", "ft232r", "BM_FtdiDecodeRx/64", "BM_MemcpyOnly/64",
       "BM_DriverTtyFt232r/min_time:2.000/real_time"},
      {"CP210x", "cp2102n", "BM_Cp210xDecodeRx/64", "BM_MemcpyOnly/64",
       "BM_DriverTtyCp2102n/min_time:2.000/real_time"},
      {"CH34x", "ch340", "BM_Ch34xDecodeRx", "BM_MemcpyOnly/32",
       "BM_DriverTtyCh340/min_time:2.000/real_time"},
      {"PL2303", "pl2303-hx", "BM_Pl2303DecodeRx", "BM_MemcpyOnly/64",
       "BM_DriverTtyPl2303hx/min_time:2.000/real_time"},
  };
  std::printf(
      "\nPer family (MB/s; decode_rx includes the copy it is measured against; tty: unpaced "
      "loopback through the driver's tty, against the raw pty pair %.1f MB/s)\n",
      raw / 1e6);
  std::printf("  %-8s %-10s %12s %10s %7s %10s %9s\n", "family", "chip", "decode_rx", "memcpy",
              "ratio", "tty", "tty/raw");
  json.key("families").begin_array();
  for (const Family& f : families) {
    const double decode = rate(f.decode);
    const double copy = rate(f.copy);
    const double tty = rate(f.tty);
    std::printf("  %-8s %-10s %12.1f %10.1f %7.3f %10.1f %9.3f\n", f.family, f.chip, decode / 1e6,
                copy / 1e6, copy > 0 ? decode / copy : 0.0, tty / 1e6, raw > 0 ? tty / raw : 0.0);
    json.begin_object();
    json.field("family", std::string(f.family));
    json.field("chip", std::string(f.chip));
    json.field("decode_rx_bytes_per_second", decode);
    json.field("memcpy_bytes_per_second", copy);
    json.field("decode_over_memcpy", copy > 0 ? decode / copy : 0.0);
    json.field("tty_bytes_per_second", tty);
    json.field("tty_over_raw_pty", raw > 0 ? tty / raw : 0.0);
    json.end_object();
  }
  json.end_array();

  // 6. Paced at 12 MBd on a high-speed FTDI: the same stream on each data path.
  std::vector<PacedRun> runs;
  if (paced_bytes > 0) {
    std::printf("\nFT232H paced at 12 MBd (line limit 1.2 MB/s each way), %zu bytes each way:\n",
                paced_bytes);
    runs = {
        paced_run("Apple one-read path (--apple-rx)", true, std::nullopt, paced_bytes),
        paced_run("IOUserUSBSerial, hostkit's deep path", false, std::nullopt, paced_bytes),
        paced_run("IOUserSerial class (the dext's own)", false, transport::DriverClass::serial,
                  paced_bytes),
    };
  }
  json.key("paced_ft232h_12mbd").begin_array();
  for (const PacedRun& r : runs) {
    std::printf("  %-38s: %10zu bytes lost, %6.3f MB/s, longest read gap %6.1f ms\n", r.path,
                r.lost(), r.mb_per_s(), r.longest_gap_ms);
    json.begin_object();
    json.field("path", std::string(r.path));
    json.field("bytes_sent", static_cast<uint64_t>(r.sent));
    json.field("bytes_received", static_cast<uint64_t>(r.received));
    json.field("bytes_lost", static_cast<uint64_t>(r.lost()));
    json.field("mb_per_s", r.mb_per_s());
    json.field("longest_read_gap_ms", r.longest_gap_ms);
    json.end_object();
  }
  json.end_array();

  // 7. Bulk halts mid-stream: the same stream and the same halts on each data path.
  std::vector<FaultRun> faults;
  if (fault_bytes > 0) {
    std::printf("\nBulk halts during %zu bytes each way (unpaced, loopback plug):\n", fault_bytes);
    using transport::DriverClass;
    for (const auto& [chip, in_halts, out_halts] :
         {std::tuple{"ft232r", 20u, 0u}, std::tuple{"ft2232h", 10u, 10u}}) {
      const std::string what = std::string(chip) + ", " + std::to_string(in_halts) + " IN / " +
                               std::to_string(out_halts) + " OUT halts, ";
      faults.push_back(fault_run(what + "IOUserUSBSerial, failed bytes dropped", chip, in_halts,
                                 out_halts, true, std::nullopt, fault_bytes));
      faults.push_back(fault_run(what + "IOUserUSBSerial, failed bytes delivered", chip, in_halts,
                                 out_halts, false, std::nullopt, fault_bytes));
      faults.push_back(fault_run(what + "IOUserSerial class", chip, in_halts, out_halts, false,
                                 DriverClass::serial, fault_bytes));
    }
  }
  json.key("bulk_halts").begin_array();
  for (const FaultRun& r : faults) {
    std::printf(
        "  %-66s: %6zu bytes lost, first wrong byte %s; counted %llu IN / %llu OUT halts, "
        "%llu bytes in failed IN transfers, %llu of them dropped, %llu resent; the driver's "
        "LastError %s\n",
        r.path.c_str(), r.lost(), r.first_wrong ? std::to_string(*r.first_wrong).c_str() : "none",
        static_cast<unsigned long long>(r.rx_stalls), static_cast<unsigned long long>(r.tx_stalls),
        static_cast<unsigned long long>(r.rx_fault_bytes),
        static_cast<unsigned long long>(r.rx_discarded),
        static_cast<unsigned long long>(r.tx_resent), r.last_error.c_str());
    json.begin_object();
    json.field("path", r.path);
    json.field("in_halts", static_cast<uint64_t>(r.in_halts));
    json.field("out_halts", static_cast<uint64_t>(r.out_halts));
    json.field("bytes_sent", static_cast<uint64_t>(r.sent));
    json.field("bytes_received", static_cast<uint64_t>(r.received));
    json.field("bytes_lost", static_cast<uint64_t>(r.lost()));
    json.key("first_wrong_byte");
    if (r.first_wrong) {
      json.value(static_cast<uint64_t>(*r.first_wrong));
    } else {
      json.null();
    }
    json.field("rx_stalls_counted", r.rx_stalls);
    json.field("tx_stalls_counted", r.tx_stalls);
    json.field("rx_fault_bytes", r.rx_fault_bytes);
    json.field("rx_discarded_bytes", r.rx_discarded);
    json.field("tx_resent_bytes", r.tx_resent);
    json.field("driver_last_error", r.last_error);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  if (!json_path.empty()) {
    std::ofstream(json_path) << json.str() << "\n";
  }
  return 0;
}
