// The bus in paced mode: frames of 1 ms (full speed) or 125 us (high speed)
// with room for 19 x 64-byte or 13 x 512-byte bulk packets, NAK when the device
// has nothing, completions reported at the end of the frame. All times are
// simulated (manual clock); every bound is asserted on bus time.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

// Every data packet the device moves, per (micro)frame. (A zero-length packet
// carries nothing and takes only the transaction's overhead: it may share a
// frame with 19 or 13 full ones.)
struct FrameLog {
  std::map<int64_t, size_t> packets;
  std::map<int64_t, size_t> bytes;
  size_t total_bytes = 0;
  size_t max_packets() const {
    size_t m = 0;
    for (const auto& [frame, n] : packets) {
      m = std::max(m, n);
    }
    return m;
  }
  size_t max_bytes() const {
    size_t m = 0;
    for (const auto& [frame, n] : bytes) {
      m = std::max(m, n);
    }
    return m;
  }
};

void observe(sim::SimDevice& dev, FrameLog& log) {
  const int64_t frame = dev.timing().frame.count();
  dev.set_packet_observer([&log, frame](uint8_t, size_t bytes, sim::SimTime at) {
    if (bytes > 0) {
      ++log.packets[at.count() / frame];
      log.bytes[at.count() / frame] += bytes;
      log.total_bytes += bytes;
    }
  });
}

// A host that keeps `depth` transfers in flight on one endpoint: IN transfers
// of `size` bytes, or OUT transfers of `size` bytes of a pattern.
struct Streamer {
  Streamer(sim::SimDevice& d, uint8_t e, size_t s) : dev(d), ep(e), size(s) {}
  sim::SimDevice& dev;
  uint8_t ep;
  size_t size;
  size_t completed = 0;  // bus thread
  size_t bytes = 0;      // bus thread
  std::vector<std::shared_ptr<std::vector<uint8_t>>> buffers;

  void start(int depth) {
    for (int i = 0; i < depth; ++i) {
      buffers.push_back(std::make_shared<std::vector<uint8_t>>(pattern(size, 7 + i)));
      submit(buffers.back());
    }
  }
  void submit(const std::shared_ptr<std::vector<uint8_t>>& buffer) {
    dev.submit(ep, *buffer, [this, buffer](hostkit::IOReturnValue status, uint32_t actual) {
      if (status != kIOReturnSuccess) {
        return;
      }
      ++completed;
      bytes += actual;
      submit(buffer);
    });
  }
};

// A paced full-speed CDC-ACM function at 20 MBd (2 MB/s of line each way, above
// what the bus carries), its TX wired to its RX.
std::unique_ptr<sim::SimDevice> cdc_acm_at_20_mbd_on_a_loopback_plug(sim::Bus& bus) {
  auto dev = sim::make_device("cdc-acm", bus, paced());
  sim::connect_loopback(dev->port(0));
  // SET_LINE_CODING 20,000,000 Bd 8N1.
  EXPECT_EQ(control_out(*dev, 0x21, 0x20, 0, 0, {0x00, 0x2D, 0x31, 0x01, 0, 0, 8}),
            kIOReturnSuccess);
  return dev;
}

TEST(BusModel, TimingTablesGiveTheUsbLimits) {
  EXPECT_EQ(sim::kFullSpeedTiming.bulk_bytes_per_frame(), 19u * 64);
  EXPECT_EQ(sim::kHighSpeedTiming.bulk_bytes_per_frame(), 13u * 512);
  EXPECT_DOUBLE_EQ(sim::kFullSpeedTiming.bulk_bytes_per_second(), 1'216'000.0);
  EXPECT_DOUBLE_EQ(sim::kHighSpeedTiming.bulk_bytes_per_second(), 53'248'000.0);
}

// A full-speed CDC-ACM device at 20 MBd (2 MB/s of line each way) on a loopback
// plug: the bus, not the line, is the limit, for both directions together.
TEST(BusModel, FullSpeedDeviceAboveTheBusLimitCarriesTheBusLimit) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = cdc_acm_at_20_mbd_on_a_loopback_plug(bus);
  FrameLog log;
  observe(*dev, log);
  Streamer in(*dev, 0x81, 4096);
  Streamer out(*dev, 0x02, 4096);
  bus.call([&] {
    in.start(4);
    out.start(4);
  });
  // 30 frames; the observer's last frame starts at 30 ms exactly.
  bus.advance(30ms - 1ns);
  const double seconds = 0.03;
  const double limit = sim::kFullSpeedTiming.bulk_bytes_per_second() * seconds;
  const auto [in_bytes, out_bytes] = bus.call([&] { return std::make_pair(in.bytes, out.bytes); });
  EXPECT_LE(log.max_packets(), 19u);
  EXPECT_LE(log.max_bytes(), 19u * 64);
  EXPECT_LE(static_cast<double>(log.total_bytes), limit);
  // The host's view agrees (completions lag by at most a frame).
  EXPECT_LE(static_cast<double>(in_bytes + out_bytes), limit);
  // And the bus is kept busy: nothing else holds the stream back.
  EXPECT_GE(static_cast<double>(log.total_bytes), 0.95 * limit);
  EXPECT_GT(in_bytes, 0u);
  EXPECT_GT(out_bytes, 0u);
}

// High speed: a vendor-bulk device whose far side is never paced, so only the
// bus limits it: at most 13 x 512 bytes per 125 us microframe.
TEST(BusModel, HighSpeedDeviceCarriesAtMostThirteenPacketsPerMicroframe) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("tetra-pei", bus, paced());
  ASSERT_EQ(dev->speed(), hostkit::UsbSpeed::high);
  sim::connect_loopback(dev->port(0));
  FrameLog log;
  observe(*dev, log);
  Streamer in(*dev, 0x81, 16384);
  Streamer out(*dev, 0x01, 16384);
  bus.call([&] {
    in.start(8);
    out.start(8);
  });
  bus.advance(20ms - 1ns);  // 160 microframes
  const double limit = sim::kHighSpeedTiming.bulk_bytes_per_second() * 0.02;
  EXPECT_LE(log.max_packets(), 13u);
  EXPECT_LE(log.max_bytes(), 13u * 512);
  EXPECT_LE(static_cast<double>(log.total_bytes), limit);
  EXPECT_GE(static_cast<double>(log.total_bytes), 0.95 * limit);
}

// The device has nothing: the IN transfer stays pending (NAK), nothing
// completes, and nothing is scheduled to poll it.
TEST(BusModel, InTransferWithNoDataStaysPendingWithoutPolling) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus, paced());
  sim::connect_loopback(dev->port(0));
  Pipe in(*dev, 0x81);
  for (int i = 0; i < 3; ++i) {
    in.submit_in(64);
  }
  bus.advance(100ms);
  EXPECT_EQ(in.count(), 0u);
  EXPECT_EQ(bus.next_timer(), std::nullopt);
  // Data arrives (at 9600 Bd a character takes about a frame): the pending
  // transfers get it.
  Pipe out(*dev, 0x02);
  out.submit_out({1, 2, 3});
  bus.advance(10ms);
  std::vector<uint8_t> got;
  for (const Done& d : in.take()) {
    EXPECT_EQ(d.status, kIOReturnSuccess);
    got.insert(got.end(), d.data.begin(), d.data.end());
  }
  EXPECT_EQ(got, (std::vector<uint8_t>{1, 2, 3}));
}

// A transfer that ends mid-frame is reported at the end of that frame.
TEST(BusModel, CompletionIsReportedAtTheEndOfTheFrame) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus, paced());
  bus.advance(300us);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(64));
  bus.advance(690us);  // 0.99 ms: the packet moved at 0.3 ms, the frame is not over
  EXPECT_EQ(dev->port(0).snapshot().counters.usb_out_bytes, 64u);
  EXPECT_EQ(out.count(), 0u);
  bus.advance(10us);  // 1.0 ms
  const auto done = out.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnSuccess);
  EXPECT_EQ(done[0].actual, 64u);
}

// An error is not held back to the frame's end: an abort completes at once.
TEST(BusModel, AbortIsReportedAtOnce) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus, paced());
  Pipe in(*dev, 0x81);
  in.submit_in(64);
  bus.run_until_idle();
  dev->abort(0x81);
  bus.run_until_idle();
  const auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnAborted);
}

// Unpaced mode has no frames: completions arrive without bus time passing.
TEST(BusModel, UnpacedCompletesWithoutFrames) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(64));
  bus.run_until_idle();
  EXPECT_EQ(out.count(), 1u);
  EXPECT_EQ(bus.now(), sim::SimTime(0));
}

// A paced FTDI at 12 MBd (1.2 MB/s each way): the UART, not the bus, is the limit.
TEST(BusModel, HighSpeedFtdiAtTwelveMegabaudIsLimitedByTheLine) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232h", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x40, 0x03, 0x0000, 0x0200);  // 12 MBd
  control_out(*dev, 0x40, 0x09, 1, 0);            // 1 ms latency
  Streamer in(*dev, 0x81, 16384);
  Streamer out(*dev, 0x02, 16384);
  bus.call([&] {
    in.start(4);
    out.start(4);
  });
  bus.advance(20ms);
  const double line = 12e6 / 10 * 0.02;
  const auto out_bytes = bus.call([&] { return out.bytes; });
  const auto s = dev->port(0).snapshot();
  EXPECT_LE(static_cast<double>(s.counters.tx_line_bytes), line + 1);
  EXPECT_GE(static_cast<double>(s.counters.tx_line_bytes), 0.98 * line);
  // The host keeps the TX FIFO (1 KiB) full, no further ahead.
  EXPECT_LE(static_cast<double>(out_bytes), line + 1024 + 16384);
  EXPECT_EQ(s.counters.overruns, 0u);
}

}  // namespace

// On a saturated bus IN and OUT share each frame, as a host controller serves its
// queue heads in turn: a full-speed CDC-ACM at 20 MBd on a loopback plug, the
// host with 24 one-packet reads and 4 writes of 16 packets in flight (the
// IOUserSerial class's pipeline). Before the sharing, OUT took the 16 packets its
// FIFO had room for at the start of every frame and IN got the 3 left.
TEST(BusModel, SaturatedBusIsSharedBetweenInAndOut) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = cdc_acm_at_20_mbd_on_a_loopback_plug(bus);
  std::map<int64_t, std::pair<size_t, size_t>> packets;  // frame -> (IN, OUT)
  const int64_t frame = dev->timing().frame.count();
  dev->set_packet_observer([&packets, frame](uint8_t ep, size_t bytes, sim::SimTime at) {
    if (bytes > 0) {
      auto& [in, out] = packets[at.count() / frame];
      ++((ep & 0x80) != 0 ? in : out);
    }
  });
  Streamer in(*dev, 0x81, 64);
  Streamer out(*dev, 0x02, 1024);
  bus.call([&] {
    in.start(24);
    out.start(4);
  });
  bus.advance(30ms - 1ns);
  size_t frames = 0;
  for (const auto& [index, counts] : packets) {
    if (index < 2) {
      continue;  // the first frames: nothing has been refused yet, nothing is shared
    }
    ++frames;
    const auto [in_packets, out_packets] = counts;
    EXPECT_EQ(in_packets + out_packets, 19u) << "frame " << index;
    EXPECT_LE(in_packets > out_packets ? in_packets - out_packets : out_packets - in_packets, 1u)
        << "frame " << index << ": IN " << in_packets << ", OUT " << out_packets;
  }
  EXPECT_EQ(frames, 28u);
}
