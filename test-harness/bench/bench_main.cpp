// usbserial-bench: figures, not tests. In one run it measures
//   1. the harness: for every simulated chip, bytes/s through the driver's tty
//      (unpaced, loopback plug, 16 MiB each way), alternated with the same
//      client on a raw pty pair whose master echoes everything back (the same
//      two pty crossings with no driver and no simulator: the floor of our
//      path); each next to that baseline: the throughput ratio, heap
//      allocations per USB transfer, context switches per MiB (the whole
//      process, both runs counted the same way), USB transfers per MiB, and how
//      busy the driver queue's thread was next to the echo thread (the one thread
//      that runs the tty side, the driver and the simulator is the path's
//      bottleneck where it nears 100 %), as medians of several such runs
//      (--runs N, default 5: a shared machine's load moves one run by a third);
//      plus a per-layer latency
//      breakdown of 1-byte round trips in percentiles (client -> OUT packet at
//      the device, the device's own time, IN packet at the device -> client);
//   2. CDC-ACM, FTDI, CH34x, CP210x and PL2303 decode_rx bytes/s versus memcpy of the same
//      buffer;
//   3. paced runs: a high-speed FTDI (FT232H) at 12 MBd through a loopback plug on
//      Apple's one-read path (--apple-rx), on our IOUserUSBSerial path and on the
//      IOUserSerial class (bytes lost, MB/s), and a full-speed CDC-ACM at 5.5 MBd (below
//      the bus limit) and at 20 MBd (above it), each as a fraction of the line's limit
//      and of the bus's bulk limit;
//   4. bulk halts during a stream (unpaced, loopback plug): 20 bulk-IN halts on an FT232R,
//      10 IN and 10 OUT halts on an FT2232H, each cutting a transfer in two; bytes lost and
//      what was counted, with the bytes of a failed transfer dropped (--discard-failed-rx,
//      as the pipeline did before, and as Linux's drivers do) and delivered, on both
//      classes, in the same run.
// --json FILE writes the figures for tools; --paced-bytes N and --fault-bytes N set the
// size of each paced and fault run (default 8 MiB and 16 MiB; 0 skips them); --quick
// runs everything small (CI smoke); --only LABEL runs the harness line of that chip alone.
#include <asm/termbits.h>
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>

#include <DriverKit/DriverKit.h>

#include <algorithm>
#include <atomic>
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
#include "bridge/raw_tty.hpp"
#include "common/json_writer.hpp"
#include "hostkit/runtime.hpp"
#include "transport/chips/cdc_acm.hpp"
#include "transport/chips/ch34x.hpp"
#include "transport/chips/cp210x.hpp"
#include "transport/chips/ftdi.hpp"
#include "transport/chips/pl2303.hpp"

// Heap allocations of the whole process, where the build counts them
// (bridge/allocation_counter.hpp; not with the sanitizers).
#ifndef USBSERIAL_BENCH_COUNTS_ALLOCATIONS
#define USBSERIAL_BENCH_COUNTS_ALLOCATIONS 0
#endif
#if USBSERIAL_BENCH_COUNTS_ALLOCATIONS
#include "bridge/allocation_counter.hpp"
#endif

namespace {
uint64_t heap_allocations() {
#if USBSERIAL_BENCH_COUNTS_ALLOCATIONS
  return bridge::heap_allocations();
#else
  return 0;
#endif
}

size_t g_stream_bytes = 16u << 20;

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

// CPU time one thread of this process has had so far, in nanoseconds (its
// CPU-time clock counts a thread that is running now up to this moment).
uint64_t thread_cpu_ns(pthread_t thread) {
  clockid_t clock{};
  timespec t{};
  if (::pthread_getcpuclockid(thread, &clock) != 0 || ::clock_gettime(clock, &t) != 0) {
    return 0;
  }
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}

// The process's heap allocations and context switches (all threads) at one moment.
struct Usage {
  uint64_t allocations = 0;
  uint64_t context_switches = 0;
  double cpu_seconds = 0;  // user + system, all threads
  std::chrono::steady_clock::time_point at;
  static Usage now() {
    rusage r{};
    ::getrusage(RUSAGE_SELF, &r);
    const double cpu = static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
                       static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
    return {heap_allocations(), static_cast<uint64_t>(r.ru_nvcsw + r.ru_nivcsw), cpu,
            std::chrono::steady_clock::now()};
  }
};

// One stream of `bytes` out and back, with what it cost.
struct StreamFigures {
  bool ok = false;
  size_t bytes = 0;
  double seconds = 0;
  uint64_t allocations = 0;
  uint64_t context_switches = 0;
  uint64_t transfers = 0;  // USB transfers the simulated device completed (0: none, a pty)
  double cpu_seconds = 0;
  // The share of the stream's time one thread was on a CPU: the driver queue's
  // (which runs the tty side, the driver and the simulator), or the raw echo's.
  double busy = 0;
  double cpu_ms_per_mib() const {
    return bytes > 0 ? cpu_seconds * 1e3 * (1 << 20) / static_cast<double>(bytes) : 0;
  }
  double mb_per_s() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0; }
  double switches_per_mib() const {
    return bytes > 0
               ? static_cast<double>(context_switches) * (1 << 20) / static_cast<double>(bytes)
               : 0;
  }
  double allocations_per_transfer() const {
    return transfers > 0 ? static_cast<double>(allocations) / static_cast<double>(transfers) : 0;
  }
  double transfers_per_mib() const {
    return bytes > 0 ? static_cast<double>(transfers) * (1 << 20) / static_cast<double>(bytes) : 0;
  }
};

// `watched` is the thread whose busy share is taken.
StreamFigures measured_stream(int fd, size_t bytes, const std::function<uint64_t()>& transfers,
                              pthread_t watched) {
  StreamFigures f;
  f.bytes = bytes;
  const uint64_t transfers_before = transfers();
  const uint64_t busy_before = thread_cpu_ns(watched);
  const Usage before = Usage::now();
  f.ok = stream_through(fd, bytes) == bytes;
  const Usage after = Usage::now();
  f.seconds = std::chrono::duration<double>(after.at - before.at).count();
  f.busy = f.seconds > 0
               ? static_cast<double>(thread_cpu_ns(watched) - busy_before) * 1e-9 / f.seconds
               : 0;
  f.allocations = after.allocations - before.allocations;
  f.context_switches = after.context_switches - before.context_switches;
  f.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
  f.transfers = transfers() - transfers_before;
  return f;
}

// The baseline: a pty pair and a thread that echoes the master (a software loopback plug).
StreamFigures raw_pty_stream(size_t bytes) {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ::grantpt(master);
  ::unlockpt(master);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  bridge::make_raw(slave, 3'000'000);
  std::thread echo([&] {
    std::vector<uint8_t> buffer(65536);
    for (;;) {
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
  StreamFigures f = measured_stream(
      slave, bytes, [] { return uint64_t{0}; }, echo.native_handle());
  ::close(slave);  // the echo thread's read ends with EIO
  echo.join();
  ::close(master);
  return f;
}

struct Chip {
  const char* label;
  const char* chip;
  uint32_t baud;
  std::optional<transport::DriverClass> driver_class = std::nullopt;
};

// A bridge on one simulated chip with a loopback plug, its port open and raw.
struct BridgeRun {
  std::string dir;
  std::unique_ptr<bridge::Bridge> stack;
  int fd = -1;
  explicit BridgeRun(const Chip& chip, bool paced = false, bool apple_rx = false) {
    hostkit::set_log_sink([](int, const std::string&) {});
    char path[] = "/tmp/usbserial-bench.XXXXXX";
    dir = ::mkdtemp(path);
    bridge::BridgeOptions options;
    options.chips = {chip.chip};
    options.run_dir = dir;
    options.sim.paced = paced;
    options.tuning.apple_rx = apple_rx;
    options.driver_class = chip.driver_class;
    stack = std::make_unique<bridge::Bridge>(options);
    fd = ::open(stack->callout_paths().at(0).c_str(), O_RDWR | O_NOCTTY);
    bridge::make_raw(fd, chip.baud);
    // The chip must be at its rate before the first byte (the tty side applies
    // termios shortly after tcsetattr returns).
    for (int i = 0; i < 200 && stack->device(0).port(0).snapshot().line.baud != chip.baud; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~BridgeRun() {
    ::close(fd);
    stack.reset();
    std::filesystem::remove_all(dir);
  }
  uint64_t transfers() { return stack->device(0).transfers_completed(); }
  pthread_t queue_thread() {
    pthread_t thread{};
    stack->runtime().queue().sync([&] { thread = ::pthread_self(); });
    return thread;
  }
};

StreamFigures bridge_stream(const Chip& chip, size_t bytes) {
  BridgeRun run(chip);
  // A first stream brings every queue and cache to its working size.
  stream_through(run.fd, std::min<size_t>(bytes, 1u << 20));
  return measured_stream(
      run.fd, bytes, [&] { return run.transfers(); }, run.queue_thread());
}

// The harness line of one chip over several runs, each with its raw baseline
// (the mean of the raw runs just before and just after it).
struct HarnessRuns {
  std::vector<double> mb_per_s, raw_mb_per_s, ratio;
  std::vector<double> switches_per_mib, raw_switches_per_mib;
  std::vector<double> cpu_ms_per_mib, raw_cpu_ms_per_mib;
  std::vector<double> busy, raw_busy, transfers_per_mib;
  std::vector<double> allocations_per_transfer;
  uint64_t transfers = 0;
  uint64_t allocations = 0;
  bool ok = true;
  void add(const StreamFigures& ours, const StreamFigures& before, const StreamFigures& after) {
    StreamFigures raw = before;
    raw.seconds = (before.seconds + after.seconds) / 2;
    raw.context_switches = (before.context_switches + after.context_switches) / 2;
    raw.cpu_seconds = (before.cpu_seconds + after.cpu_seconds) / 2;
    raw.busy = (before.busy + after.busy) / 2;
    mb_per_s.push_back(ours.mb_per_s());
    raw_mb_per_s.push_back(raw.mb_per_s());
    ratio.push_back(raw.mb_per_s() > 0 ? ours.mb_per_s() / raw.mb_per_s() : 0);
    switches_per_mib.push_back(ours.switches_per_mib());
    raw_switches_per_mib.push_back(raw.switches_per_mib());
    cpu_ms_per_mib.push_back(ours.cpu_ms_per_mib());
    raw_cpu_ms_per_mib.push_back(raw.cpu_ms_per_mib());
    busy.push_back(ours.busy);
    raw_busy.push_back(raw.busy);
    transfers_per_mib.push_back(ours.transfers_per_mib());
    allocations_per_transfer.push_back(ours.allocations_per_transfer());
    transfers += ours.transfers;
    allocations += ours.allocations;
    ok = ok && ours.ok;
  }
};

double min_of(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}
double max_of(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

// 1-byte round trips, cut where the simulated device sees the packets.
struct LatencyFigures {
  std::vector<double> to_device_us;    // client write -> OUT packet at the device
  std::vector<double> device_us;       // OUT packet -> IN packet carrying the byte
  std::vector<double> from_device_us;  // IN packet at the device -> client read returns
  std::vector<double> total_us;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

LatencyFigures latency_run(const Chip& chip, int rounds) {
  BridgeRun run(chip);
  using clock = std::chrono::steady_clock;
  std::atomic<int64_t> out_at{0};
  std::atomic<int64_t> in_at{0};
  // FTDI IN packets start with two status bytes; other chips' IN packets are data.
  const size_t status_bytes = std::string(chip.chip).rfind("ft", 0) == 0 ? 2 : 0;
  run.stack->device(0).set_packet_observer([&](uint8_t endpoint, size_t bytes, sim::SimTime) {
    const int64_t now = clock::now().time_since_epoch().count();
    int64_t zero = 0;
    if ((endpoint & 0x80) == 0 && bytes > 0) {
      out_at.compare_exchange_strong(zero, now);
    } else if ((endpoint & 0x80) != 0 && bytes > status_bytes) {
      in_at.compare_exchange_strong(zero, now);
    }
  });
  LatencyFigures f;
  uint8_t byte = 0x5A;
  for (int i = 0; i < rounds; ++i) {
    out_at = 0;
    in_at = 0;
    const int64_t t0 = clock::now().time_since_epoch().count();
    if (::write(run.fd, &byte, 1) != 1 || ::read(run.fd, &byte, 1) != 1) {
      break;
    }
    const int64_t t1 = clock::now().time_since_epoch().count();
    const int64_t o = out_at.load();
    const int64_t n = in_at.load();
    if (o == 0 || n == 0) {
      continue;
    }
    f.to_device_us.push_back(static_cast<double>(o - t0) / 1e3);
    f.device_us.push_back(static_cast<double>(n - o) / 1e3);
    f.from_device_us.push_back(static_cast<double>(t1 - n) / 1e3);
    f.total_us.push_back(static_cast<double>(t1 - t0) / 1e3);
  }
  run.stack->device(0).set_packet_observer(nullptr);
  return f;
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

// decode_rx of a chip whose bulk IN is raw data (PL2303, CDC-ACM: line errors come on the
// interrupt endpoint), so it only checks and counts. The same copy first, so the figure
// compares with BM_MemcpyOnly/64 like the FTDI one, over 16 64-byte packets.
template <class Chip>
void raw_decode_rx(benchmark::State& state, transport::ChipVariant variant,
                   uint16_t interrupt_max_packet) {
  Chip chip;
  transport::PortConfig config;
  config.variant = variant;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = interrupt_max_packet;
  if (chip.configure(config) != transport::Status::ok) {
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
    benchmark::DoNotOptimize(chip.decode_rx(transfer, report));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * pristine.size()));
}

void BM_Pl2303DecodeRx(benchmark::State& state) {
  raw_decode_rx<transport::chips::Pl2303>(state, transport::ChipVariant::pl2303_hx, 10);
}

void BM_CdcAcmDecodeRx(benchmark::State& state) {
  raw_decode_rx<transport::chips::CdcAcm>(state, transport::ChipVariant::cdc_acm, 16);
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

BENCHMARK(BM_FtdiDecodeRx)->Arg(64)->Arg(512);
BENCHMARK(BM_Cp210xDecodeRx)->Arg(64);
BENCHMARK(BM_Ch34xDecodeRx);
BENCHMARK(BM_MemcpyOnly)->Arg(32)->Arg(64)->Arg(512);
BENCHMARK(BM_Pl2303DecodeRx);
BENCHMARK(BM_CdcAcmDecodeRx);

// One paced run: `bytes` out through a simulated chip with a loopback plug, read
// back until everything came or nothing arrived for 2 s.
struct PacedRun {
  std::string path;  // which chip and data path
  uint32_t baud = 0;
  size_t sent = 0;
  size_t received = 0;
  size_t lost() const { return sent > received ? sent - received : 0; }
  double seconds = 0;
  // The longest time the client did not read: a client (or driver) starved of
  // the CPU that long can lose bytes at the chip, whatever the data path.
  double longest_gap_ms = 0;
  double line_limit = 0;  // bytes/s each way: baud / 10 (8N1)
  double bus_limit = 0;   // bulk bytes/s of the device's bus, both directions together
  const char* bus_name = "";
  double mb_per_s() const {
    return seconds > 0 ? static_cast<double>(received) / seconds / 1e6 : 0;
  }
};

PacedRun paced_run(const std::string& path, const Chip& chip, bool apple_rx, size_t bytes) {
  PacedRun run{path, chip.baud};
  run.line_limit = chip.baud / 10.0;
  {
    BridgeRun bridge(chip, true, apple_rx);
    const sim::BusTiming& timing = bridge.stack->device(0).timing();
    run.bus_limit = timing.bulk_bytes_per_second();
    run.bus_name =
        bridge.stack->device(0).speed() == hostkit::UsbSpeed::high ? "high-speed" : "full-speed";
    const int fd = bridge.fd;
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
    // A writer still blocked on a full tty: closing the bridge's side ends it.
    bridge.stack.reset();
    writer.join();
  }
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
  // The framework's deep candidate: there a halt cuts transfers of several packets.
  options.tuning.apple_rx = false;
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
    bridge::make_raw(fd, 3'000'000);
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
  int latency_rounds = 1000;
  // Harness runs per chip, each between two raw ones; the figures are their
  // medians. The load of a shared machine moves a single run by a third.
  int harness_runs = 5;
  std::string only_chip;  // --only CHIP: the harness line of that chip alone, nothing else
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
      json_path = argv[++i];
    } else if (std::strcmp(argv[i], "--paced-bytes") == 0 && i + 1 < argc) {
      paced_bytes = std::strtoull(argv[++i], nullptr, 0);
    } else if (std::strcmp(argv[i], "--fault-bytes") == 0 && i + 1 < argc) {
      fault_bytes = std::strtoull(argv[++i], nullptr, 0);
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      harness_runs = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only_chip = argv[++i];
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      g_stream_bytes = 1u << 20;
      paced_bytes = 256u << 10;
      fault_bytes = 1u << 20;
      latency_rounds = 50;
      harness_runs = 1;
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
  hostutil::JsonWriter json;
  json.begin_object();
  // Closes the report and writes it where --json asked; the end of main.
  auto finish_report = [&] {
    json.end_object();
    if (!json_path.empty()) {
      std::ofstream(json_path) << json.str() << "\n";
    }
    return 0;
  };

  // 1. The harness, chip by chip, each alternated with a raw pty run.
  const Chip chips[] = {
      {"cdc-acm", "cdc-acm", 3'000'000},
      {"ft232r", "ft232r", 3'000'000},
      {"ft232h", "ft232h", 12'000'000},
      {"ft2232h", "ft2232h", 12'000'000},
      {"cp2102n", "cp2102n", 3'000'000},
      {"ch340", "ch340", 2'000'000},
      {"pl2303-hx", "pl2303-hx", 3'000'000},
      {"ft232r, IOUserSerial class", "ft232r", 3'000'000, transport::DriverClass::serial},
  };
  std::printf(
      "\nThe harness, unpaced, loopback plug, %zu bytes each way; each chip next to a raw pty "
      "pair\n"
      "with an echo thread, run just before and just after it (their mean; MB/s = 10^6 bytes/s,\n"
      "counted once). Medians of %d such runs; the ratio's range in brackets. busy: the share\n"
      "of the stream's time the driver queue's thread (tty side, driver and simulator) was on a\n"
      "CPU, next to the raw echo thread's.\n",
      g_stream_bytes, harness_runs);
  std::printf("  %-28s %8s %8s %6s %13s | %11s | %11s %6s | %10s %6s | %9s | %5s %5s\n", "chip",
              "MB/s", "raw MB/s", "ratio", "(range)", "allocs/xfer", "cswitch/MiB", "raw",
              "CPU ms/MiB", "raw", "xfers/MiB", "busy", "raw");
  json.key("harness").begin_array();
  for (const Chip& chip : chips) {
    if (!only_chip.empty() && only_chip != chip.label) {
      continue;
    }
    HarnessRuns runs;
    for (int r = 0; r < harness_runs; ++r) {
      // The baseline before and after, so that a load that comes or goes during
      // the run weighs on both sides alike.
      const StreamFigures raw_before = raw_pty_stream(g_stream_bytes);
      const StreamFigures ours = bridge_stream(chip, g_stream_bytes);
      const StreamFigures raw_after = raw_pty_stream(g_stream_bytes);
      runs.add(ours, raw_before, raw_after);
    }
    auto median = [](const std::vector<double>& v) { return percentile(v, 50); };
    const double ratio = median(runs.ratio);
    const double mb_per_s = median(runs.mb_per_s), raw_mb_per_s = median(runs.raw_mb_per_s);
    const double switches = median(runs.switches_per_mib);
    const double raw_switches = median(runs.raw_switches_per_mib);
    const double cpu_ms = median(runs.cpu_ms_per_mib), raw_cpu_ms = median(runs.raw_cpu_ms_per_mib);
    const double transfers_per_mib = median(runs.transfers_per_mib);
    const double busy = median(runs.busy), raw_busy = median(runs.raw_busy);
    char allocs[32] = "n/a";
    if (USBSERIAL_BENCH_COUNTS_ALLOCATIONS) {
      std::snprintf(allocs, sizeof allocs, "%.3f", max_of(runs.allocations_per_transfer));
    }
    char range[32];
    std::snprintf(range, sizeof range, "(%.3f-%.3f)", min_of(runs.ratio), max_of(runs.ratio));
    std::printf(
        "  %-28s %8.1f %8.1f %6.3f %13s | %11s | %11.0f %6.0f | %10.1f %6.1f | %9.0f | %4.0f%% "
        "%4.0f%%%s\n",
        chip.label, mb_per_s, raw_mb_per_s, ratio, range, allocs, switches, raw_switches, cpu_ms,
        raw_cpu_ms, transfers_per_mib, busy * 100, raw_busy * 100, runs.ok ? "" : "  BYTES LOST");
    json.begin_object();
    json.field("chip", std::string(chip.label));
    json.field("runs", static_cast<uint64_t>(harness_runs));
    json.field("ok", runs.ok);
    json.field("bytes_per_second", mb_per_s * 1e6);
    json.field("raw_pty_bytes_per_second", raw_mb_per_s * 1e6);
    json.field("ratio_to_raw_pty", ratio);
    json.field("ratio_to_raw_pty_min", min_of(runs.ratio));
    json.field("ratio_to_raw_pty_max", max_of(runs.ratio));
    json.field("transfers", runs.transfers);
    json.field("allocations", runs.allocations);
    json.field("allocations_per_transfer", max_of(runs.allocations_per_transfer));
    json.field("context_switches_per_mib", switches);
    json.field("raw_pty_context_switches_per_mib", raw_switches);
    json.field("cpu_ms_per_mib", cpu_ms);
    json.field("raw_pty_cpu_ms_per_mib", raw_cpu_ms);
    json.field("transfers_per_mib", transfers_per_mib);
    json.field("queue_thread_busy", busy);
    json.field("raw_pty_echo_thread_busy", raw_busy);
    json.end_object();
  }
  json.end_array();
  if (!USBSERIAL_BENCH_COUNTS_ALLOCATIONS) {
    std::printf("  (allocations are not counted under the sanitizers)\n");
  }
  if (!only_chip.empty()) {
    return finish_report();
  }

  // The 1-byte round trip, layer by layer.
  std::printf(
      "\n1-byte round trips (%d each), microseconds p50 / p90 / p99:\n"
      "  %-12s %-22s %-22s %-22s %-22s\n",
      latency_rounds, "chip", "client -> OUT packet", "device (OUT -> IN)", "IN packet -> client",
      "round trip");
  json.key("latency_us").begin_array();
  for (const Chip& chip : {chips[0], chips[1], chips[2], chips[5]}) {
    const LatencyFigures f = latency_run(chip, latency_rounds);
    auto cell = [](const std::vector<double>& v) {
      char text[64];
      std::snprintf(text, sizeof text, "%6.0f %6.0f %6.0f", percentile(v, 50), percentile(v, 90),
                    percentile(v, 99));
      return std::string(text);
    };
    std::printf("  %-12s %-22s %-22s %-22s %-22s\n", chip.label, cell(f.to_device_us).c_str(),
                cell(f.device_us).c_str(), cell(f.from_device_us).c_str(),
                cell(f.total_us).c_str());
    json.begin_object();
    json.field("chip", std::string(chip.label));
    json.field("samples", static_cast<uint64_t>(f.total_us.size()));
    for (const auto& [name, v] :
         {std::pair{"client_to_out_packet", &f.to_device_us}, std::pair{"device", &f.device_us},
          std::pair{"in_packet_to_client", &f.from_device_us},
          std::pair{"round_trip", &f.total_us}}) {
      json.field(std::string(name) + "_p50", percentile(*v, 50));
      json.field(std::string(name) + "_p90", percentile(*v, 90));
      json.field(std::string(name) + "_p99", percentile(*v, 99));
    }
    json.end_object();
  }
  json.end_array();

  // 2. Decoders against memcpy.
  std::printf("\nDecoders (MB/s, each including its copy, against memcpy of the same buffer)\n");
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
  const double pl2303_decode = rate("BM_Pl2303DecodeRx");
  const double copy64 = rate("BM_MemcpyOnly/64");
  std::printf(
      "  PL2303 decode_rx (64-byte packets, incl. its copy): %8.1f MB/s vs memcpy %8.1f "
      "MB/s (ratio %.3f)\n",
      pl2303_decode / 1e6, copy64 / 1e6, copy64 > 0 ? pl2303_decode / copy64 : 0.0);
  json.field("pl2303_decode_rx_64_bytes_per_second", pl2303_decode);
  const double cdc_acm_decode = rate("BM_CdcAcmDecodeRx");
  std::printf(
      "  CDC-ACM decode_rx (64-byte packets, incl. its copy): %8.1f MB/s vs memcpy %8.1f "
      "MB/s (ratio %.3f)\n",
      cdc_acm_decode / 1e6, copy64 / 1e6, copy64 > 0 ? cdc_acm_decode / copy64 : 0.0);
  json.field("cdc_acm_decode_rx_64_bytes_per_second", cdc_acm_decode);

  // 3. Paced: line and bus limits.
  std::printf(
      "\nPaced runs, loopback plug, %zu bytes each way (a fraction of the line's limit\n"
      "each way, and of the bus's bulk limit for both ways together):\n",
      paced_bytes);
  const Chip ft232h{"ft232h", "ft232h", 12'000'000};
  const Chip ft232h_serial{"ft232h", "ft232h", 12'000'000, transport::DriverClass::serial};
  const Chip cdc{"cdc-acm", "cdc-acm", 20'000'000};
  // 0.55 MB/s each way: 8.6 one-packet reads per frame, 90 % of the bus both ways.
  const Chip cdc_below_bus{"cdc-acm", "cdc-acm", 5'500'000};
  std::vector<PacedRun> runs;
  if (paced_bytes > 0) {
    runs = {
        paced_run("FT232H 12 MBd, Apple one-read path (--apple-rx)", ft232h, true, paced_bytes),
        paced_run("FT232H 12 MBd, IOUserUSBSerial, hostkit's deep path", ft232h, false,
                  paced_bytes),
        paced_run("FT232H 12 MBd, IOUserSerial class (the dext's own)", ft232h_serial, false,
                  paced_bytes),
        paced_run("CDC-ACM 5.5 MBd (full speed, one-packet reads)", cdc_below_bus, false,
                  paced_bytes),
        paced_run("CDC-ACM 20 MBd (full speed)", cdc, false, paced_bytes),
    };
  }
  json.key("paced").begin_array();
  for (const PacedRun& r : runs) {
    const double each_way = r.mb_per_s() * 1e6;
    std::printf(
        "  %-52s: %9zu bytes lost, %6.3f MB/s each way = %5.1f %% of the line limit %.3f MB/s;\n"
        "  %-52s  on the bus %6.3f MB/s = %5.1f %% of the %s bulk limit %.3f MB/s; "
        "longest read gap %.1f ms\n",
        r.path.c_str(), r.lost(), r.mb_per_s(), 100 * each_way / r.line_limit, r.line_limit / 1e6,
        "", 2 * r.mb_per_s(), 100 * 2 * each_way / r.bus_limit, r.bus_name, r.bus_limit / 1e6,
        r.longest_gap_ms);
    json.begin_object();
    json.field("path", r.path);
    json.field("baud", static_cast<uint64_t>(r.baud));
    json.field("bytes_sent", static_cast<uint64_t>(r.sent));
    json.field("bytes_received", static_cast<uint64_t>(r.received));
    json.field("bytes_lost", static_cast<uint64_t>(r.lost()));
    json.field("mb_per_s", r.mb_per_s());
    json.field("fraction_of_line_limit", each_way / r.line_limit);
    json.field("fraction_of_bus_limit", 2 * each_way / r.bus_limit);
    json.field("bus_limit_bytes_per_second", r.bus_limit);
    json.field("longest_read_gap_ms", r.longest_gap_ms);
    json.end_object();
  }
  json.end_array();

  // 4. Bulk halts mid-stream: the same stream and the same halts on each data path.
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
  return finish_report();
}
