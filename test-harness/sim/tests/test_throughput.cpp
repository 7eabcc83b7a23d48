// An unpaced FT232R loopback driven through the backend API moves 64 MiB
// without a mismatch. The MB/s figure is printed, not asserted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr size_t kTotal = size_t{64} << 20;
constexpr size_t kChunk = 4096;

uint8_t byte_at(size_t i) {
  return static_cast<uint8_t>((i * 131u) ^ (i >> 11));
}

struct Stream {
  sim::SimDevice& dev;
  // Bus-thread state (touched only from completions).
  size_t written = 0;
  size_t read = 0;
  size_t mismatches = 0;
  size_t in_flight_in = 0;
  bool failed = false;

  void write_next() {
    if (written >= kTotal) {
      return;
    }
    const size_t n = std::min(kChunk, kTotal - written);
    auto buf = std::make_shared<std::vector<uint8_t>>(n);
    for (size_t i = 0; i < n; ++i) {
      (*buf)[i] = byte_at(written + i);
    }
    written += n;
    dev.submit(0x02, *buf, [this, buf](hostkit::IOReturnValue status, uint32_t actual) {
      if (status != kIOReturnSuccess || actual != buf->size()) {
        failed = true;
        return;
      }
      write_next();
    });
  }

  void read_next() {
    auto buf = std::make_shared<std::vector<uint8_t>>(kChunk);
    ++in_flight_in;
    dev.submit(0x81, *buf, [this, buf](hostkit::IOReturnValue status, uint32_t actual) {
      --in_flight_in;
      if (status != kIOReturnSuccess) {
        failed = true;
        return;
      }
      for (size_t off = 0; off < actual; off += 64) {
        const size_t end = std::min<size_t>(actual, off + 64);
        for (size_t i = off + 2; i < end; ++i) {
          if ((*buf)[i] != byte_at(read)) {
            ++mismatches;
          }
          ++read;
        }
      }
      if (read < kTotal) {
        read_next();
      }
    });
  }
};

TEST(Throughput, UnpacedFt232rLoopback64MiB) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  sim::connect_loopback(dev->port(0));
  Stream s{*dev};
  const auto t0 = std::chrono::steady_clock::now();
  bus.call([&] {
    for (int i = 0; i < 4; ++i) {
      s.write_next();
    }
    for (int i = 0; i < 8; ++i) {
      s.read_next();
    }
  });
  // Full packets flow without time passing; only the tail waits for the latency timer.
  for (int i = 0; i < 100; ++i) {
    bus.run_until_idle();
    if (bus.call([&] { return s.read >= kTotal || s.failed; })) {
      break;
    }
    bus.advance(16ms);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto result = bus.call([&] { return std::make_tuple(s.read, s.mismatches, s.failed); });
  EXPECT_FALSE(std::get<2>(result));
  EXPECT_EQ(std::get<0>(result), kTotal);
  EXPECT_EQ(std::get<1>(result), 0u);
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.overruns, 0u);
  EXPECT_EQ(c.tx_line_bytes, kTotal);
  std::printf("[ throughput ] unpaced ft232r loopback: %zu MiB in %.2f s = %.1f MB/s\n",
              kTotal >> 20, seconds, static_cast<double>(kTotal) / seconds / 1e6);
}

}  // namespace
