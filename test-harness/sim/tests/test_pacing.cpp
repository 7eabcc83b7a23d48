// Paced mode: frames take bits/baud of simulated time at the transmitter's
// actual rate; FIFOs overflow when the host does not read; RTS/CTS holds the
// transmitter instead. All times are simulated (manual clock).
#include <gtest/gtest.h>

#include <atomic>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

TEST(Pacing, OneFrameTakesTenBitTimes) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x40, 0x03, 0x4138, 0);  // 9600 Bd
  Pipe out(*dev, 0x02);
  out.submit_out({0x55});
  // 10 bits at 9600 Bd = 1.0417 ms; the receiver has it at the stop-bit sample (9.5 bits).
  bus.advance(std::chrono::microseconds(985));
  EXPECT_EQ(dev->port(0).snapshot().counters.rx_line_bytes, 0u);
  bus.advance(std::chrono::microseconds(5));  // 990 us > 9.5 / 9600 s = 989.6 us
  EXPECT_EQ(dev->port(0).snapshot().counters.rx_line_bytes, 1u);
  EXPECT_EQ(dev->port(0).snapshot().counters.tx_line_bytes, 0u);  // stop bit still going
  bus.advance(std::chrono::microseconds(52));                     // 1042 us > 10 / 9600 s
  EXPECT_EQ(dev->port(0).snapshot().counters.tx_line_bytes, 1u);
}

// A host that keeps `depth` IN transfers in flight and counts payload bytes.
struct Reader {
  Reader(sim::SimDevice& d, uint8_t e, size_t s, bool f) : dev(d), ep(e), size(s), ftdi(f) {}
  sim::SimDevice& dev;
  uint8_t ep;
  size_t size;
  bool ftdi;
  std::atomic<size_t> bytes{0};
  std::atomic<bool> stop{false};
  std::vector<uint8_t> received;  // bus thread only

  void start(int depth) {
    for (int i = 0; i < depth; ++i) {
      submit();
    }
  }
  void submit() {
    auto buf = std::make_shared<std::vector<uint8_t>>(size);
    dev.submit(ep, *buf, [this, buf](hostkit::IOReturnValue status, uint32_t actual) {
      if (status != kIOReturnSuccess) {
        return;
      }
      std::vector<uint8_t> d(buf->begin(), buf->begin() + actual);
      const auto p = ftdi ? ftdi_payload(d, 64) : d;
      received.insert(received.end(), p.begin(), p.end());
      bytes += p.size();
      if (!stop) {
        submit();
      }
    });
  }
};

// Ends a test's reading before the device and the reader go: the device's
// shutdown still completes the transfers in flight, on the bus thread, and
// they call back into the reader.
struct StopReading {
  Reader& reader;
  std::unique_ptr<sim::SimDevice>& dev;
  sim::Bus& bus;
  ~StopReading() {
    reader.stop = true;
    dev.reset();
    bus.call([] {});
  }
};

TEST(Pacing, BytesPerSecondIsBaudOverTen) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x40, 0x03, 26, 0);  // 3 MHz / 26 = 115384.6 Bd
  control_out(*dev, 0x40, 0x09, 1, 0);   // 1 ms latency
  Reader reader{*dev, 0x81, 512, true};
  StopReading stop_reading{reader, dev, bus};
  reader.start(4);
  Pipe out(*dev, 0x02);
  const auto data = pattern(30000);
  out.submit_out(data);
  bus.advance(1s);
  const double expected = 3'000'000.0 / 26 / 10;  // 8N1: 10 bits per byte
  EXPECT_NEAR(static_cast<double>(reader.bytes.load()), expected, expected * 0.01);
  bus.advance(2s);
  reader.stop = true;
  bus.advance(20ms);
  const auto got = bus.call([&] { return reader.received; });
  EXPECT_EQ(got, data);
  EXPECT_EQ(dev->port(0).snapshot().counters.overruns, 0u);
}

TEST(Pacing, EightEvenTwoIsTwelveBits) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x21, 0x20, 0, 0, {0x00, 0x96, 0x00, 0x00, 2, 2, 8});  // 38400 8E2
  Reader reader{*dev, 0x81, 512, false};
  StopReading stop_reading{reader, dev, bus};
  reader.start(4);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(10000));
  bus.advance(1s);
  EXPECT_NEAR(static_cast<double>(reader.bytes.load()), 38400.0 / 12, 38400.0 / 12 * 0.01);
}

TEST(Pacing, OverrunWhenTheHostDoesNotRead) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x40, 0x03, 26, 0);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(1000));
  bus.advance(200ms);  // 1000 bytes at 11.5 kB/s take 87 ms
  auto s = dev->port(0).snapshot();
  EXPECT_EQ(s.counters.tx_line_bytes, 1000u);
  EXPECT_EQ(s.counters.rx_line_bytes, 1000u);
  EXPECT_EQ(s.rx_fifo_level, 256u);  // FT232R: 256-byte line -> USB buffer
  EXPECT_EQ(s.counters.overruns, 1000u - 256);
  Pipe in(*dev, 0x81);
  in.submit_in(64);
  bus.advance(1ms);  // the host learns of the packet at the end of its frame
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data[1] & 0x02, 0x02);  // OE
}

TEST(Pacing, RtsCtsHoldsTheTransmitterInsteadOfLosingData) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x40, 0x03, 26, 0);
  control_out(*dev, 0x40, 0x01, 0x0303, 0);
  control_out(*dev, 0x40, 0x02, 0, 0x0100);  // RTS/CTS
  Pipe out(*dev, 0x02);
  const auto data = pattern(1000);
  out.submit_out(data);
  bus.advance(200ms);
  auto s = dev->port(0).snapshot();
  EXPECT_EQ(s.counters.overruns, 0u);
  EXPECT_LT(s.counters.tx_line_bytes, 1000u);
  EXPECT_FALSE(s.rts);  // dropped: the FIFO is nearly full
  EXPECT_FALSE(s.cts);
  Reader reader{*dev, 0x81, 512, true};
  StopReading stop_reading{reader, dev, bus};
  reader.start(4);
  bus.advance(300ms);
  reader.stop = true;
  bus.advance(20ms);
  EXPECT_EQ(bus.call([&] { return reader.received; }), data);
  EXPECT_EQ(dev->port(0).snapshot().counters.overruns, 0u);
}

TEST(Pacing, HighSpeedTwelveMegabaud) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232h", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x40, 0x03, 0x0000, 0x0200);  // bit 17 + divisor 1 = 12 MBd
  EXPECT_DOUBLE_EQ(dev->port(0).snapshot().line.baud, 12e6);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(1000));
  bus.advance(std::chrono::microseconds(500));  // 600 characters' worth at 1.2 MB/s
  const auto s = dev->port(0).snapshot();
  EXPECT_NEAR(static_cast<double>(s.counters.tx_line_bytes), 600.0, 2.0);
}

TEST(Pacing, MismatchedRatesBitByBitInRealTime) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus, paced());
  auto cdc = sim::make_device("cdc-acm", bus, paced());
  sim::connect_null_modem(ftdi->port(0), cdc->port(0));
  control_out(*ftdi, 0x40, 0x03, 12, 0);                                   // 250000 Bd
  control_out(*cdc, 0x21, 0x20, 0, 0, {0x00, 0xC2, 0x01, 0x00, 0, 0, 8});  // 115200 Bd
  Pipe out(*ftdi, 0x02);
  out.submit_out(pattern(500));
  bus.advance(19ms);  // 500 characters at 250000 Bd take 20 ms
  EXPECT_LT(ftdi->port(0).snapshot().counters.tx_line_bytes, 500u);
  bus.advance(30ms);
  const auto s = cdc->port(0).snapshot();
  EXPECT_EQ(ftdi->port(0).snapshot().counters.tx_line_bytes, 500u);
  EXPECT_GT(s.counters.framing_errors, 0u);
  EXPECT_GT(s.counters.rx_line_bytes, 0u);
  EXPECT_LT(s.counters.rx_line_bytes, 500u);  // a slower receiver sees fewer "characters"
}

TEST(Pacing, TimedBreakReachesTheFarEnd) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus, paced());
  auto cdc = sim::make_device("cdc-acm", bus, paced());
  sim::connect_null_modem(ftdi->port(0), cdc->port(0));
  Pipe notify(*cdc, 0x83);
  notify.submit_in(16);
  // CDC SEND_BREAK 5 ms towards the FTDI; FTDI SET_DATA break for 3 ms towards the CDC.
  control_out(*cdc, 0x21, 0x23, 5, 0);
  control_out(*ftdi, 0x40, 0x04, 8 | 0x4000, 0);
  // 9600 8N1: the receiver decides at the stop-bit sample, 9.5 / 9600 s = 0.99 ms.
  bus.advance(std::chrono::microseconds(980));
  EXPECT_EQ(cdc->port(0).snapshot().counters.breaks, 0u);
  bus.advance(std::chrono::microseconds(10));
  EXPECT_EQ(cdc->port(0).snapshot().counters.breaks, 1u);
  bus.advance(2ms);
  control_out(*ftdi, 0x40, 0x04, 8, 0);
  bus.advance(5ms);
  EXPECT_EQ(cdc->port(0).snapshot().counters.breaks, 1u);
  EXPECT_EQ(ftdi->port(0).snapshot().counters.breaks, 1u);
  EXPECT_FALSE(cdc->port(0).snapshot().break_on);
  auto done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data.at(8) & 0x04, 0x04);  // SERIAL_STATE bBreak
}

TEST(Pacing, CdcOverrunIsReportedInSerialState) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus, paced());
  sim::connect_loopback(dev->port(0));
  control_out(*dev, 0x21, 0x20, 0, 0, {0x00, 0xC2, 0x01, 0x00, 0, 0, 8});  // 115200
  Pipe notify(*dev, 0x83);
  notify.submit_in(16);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(1100));  // 1 KiB FIFO and nobody reading bulk IN
  bus.advance(150ms);
  EXPECT_EQ(dev->port(0).snapshot().counters.overruns, 1100u - 1024);
  auto done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data.at(8) & 0x40, 0x40);  // bOverRun
}

}  // namespace
