// FTDI bulk IN framing: status bytes per packet, latency flush, status-only
// packets, error flags, multi-packet transfers, short-packet completion.
// Expected layouts: ftdi_sio.h / reference §2.3; timing: AN232B-04.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kOut = 0x40;
constexpr uint8_t kModemNone = 0x01;  // low nibble 0x1, no input asserted
constexpr uint8_t kThreTemt = 0x60;

struct Rig {
  sim::Bus bus{sim::ClockMode::manual};
  std::unique_ptr<sim::SimDevice> dev;
  explicit Rig(const char* chip = "ft232r", sim::SimOptions o = {}) {
    dev = sim::make_device(chip, bus, o);
  }
};

TEST(FtdiIn, StatusOnlyPacketAtEachLatencyExpiry) {
  Rig r;
  Pipe in(*r.dev, 0x81);
  in.submit_in(64);
  r.bus.advance(15ms);
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(1ms);  // 16 ms default latency
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, kIOReturnSuccess);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{kModemNone, kThreTemt}));
  // The next one 16 ms after that packet.
  in.submit_in(64);
  r.bus.advance(15ms);
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(1ms);
  EXPECT_EQ(in.count(), 1u);
  EXPECT_EQ(r.dev->port(0).snapshot().counters.usb_in_packets, 2u);
}

TEST(FtdiIn, ExpiredTimerServesTheNextInAtOnce) {
  Rig r;
  r.bus.advance(40ms);  // the timer expired with no IN pending
  Pipe in(*r.dev, 0x81);
  in.submit_in(64);
  r.bus.run_until_idle();
  ASSERT_EQ(in.count(), 1u);
}

TEST(FtdiIn, LatencyTimerSetting) {
  Rig r;
  control_out(*r.dev, kOut, 0x09, 2, 0);
  Pipe in(*r.dev, 0x81);
  in.submit_in(64);
  r.bus.advance(1ms);
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(1ms);
  EXPECT_EQ(in.count(), 1u);
}

TEST(FtdiIn, ShortDataWaitsForTheLatencyTimer) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  Pipe in(*r.dev, 0x81);
  Pipe out(*r.dev, 0x02);
  r.bus.advance(16ms);  // one status packet goes nowhere (no IN yet): timer now expired...
  in.submit_in(512);    // ...so this one gets a status-only packet at once
  r.bus.run_until_idle();
  ASSERT_EQ(in.take().size(), 1u);
  in.submit_in(512);
  out.submit_out(bytes("hello"));
  r.bus.run_until_idle();
  ASSERT_EQ(out.take().size(), 1u);
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(15ms);
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(1ms);
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  std::vector<uint8_t> want{kModemNone, kThreTemt};
  for (char c : std::string("hello")) {
    want.push_back(static_cast<uint8_t>(c));
  }
  EXPECT_EQ(done[0].data, want);
}

TEST(FtdiIn, FullPacketsGoAtOnceAndTheTailAtLatency) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  Pipe in(*r.dev, 0x81);
  Pipe out(*r.dev, 0x02);
  const auto data = pattern(200);
  in.submit_in(512);
  out.submit_out(data);
  r.bus.run_until_idle();
  EXPECT_EQ(in.count(), 0u);  // three full packets are in, the transfer is not done
  r.bus.advance(16ms);
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  // 3 x (2 + 62) + (2 + 14): status bytes at 0, 64, 128, 192.
  ASSERT_EQ(done[0].actual, 3u * 64 + 16);
  for (size_t off : {0u, 64u, 128u, 192u}) {
    EXPECT_EQ(done[0].data[off], kModemNone);
  }
  EXPECT_EQ(ftdi_payload(done[0].data, 64), data);
}

TEST(FtdiIn, TransferCompletesWhenFull) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  Pipe in(*r.dev, 0x81);
  Pipe out(*r.dev, 0x02);
  const auto data = pattern(200);
  out.submit_out(data);
  r.bus.run_until_idle();
  in.submit_in(128);
  r.bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].actual, 128u);  // two full packets, no short one needed
  EXPECT_EQ(ftdi_payload(done[0].data, 64), std::vector<uint8_t>(data.begin(), data.begin() + 124));
}

TEST(FtdiIn, HighSpeedPacketsAre512) {
  Rig r("ft2232h");
  sim::connect_loopback(r.dev->port(0));
  Pipe in(*r.dev, 0x81);
  Pipe out(*r.dev, 0x02);
  const auto data = pattern(600);
  in.submit_in(1024);
  out.submit_out(data);
  r.bus.advance(16ms);
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_EQ(done[0].actual, 512u + 2 + 90);
  EXPECT_EQ(done[0].data[512], kModemNone);
  EXPECT_EQ(ftdi_payload(done[0].data, 512), data);
  // Port B saw nothing.
  EXPECT_EQ(r.dev->port(1).snapshot().counters.rx_line_bytes, 0u);
}

TEST(FtdiIn, ModemChangeIsSentAtOnce) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  Pipe in(*r.dev, 0x81);
  r.bus.advance(16ms);
  in.submit_in(64);
  r.bus.run_until_idle();
  in.take();
  in.submit_in(64);
  r.bus.advance(5ms);
  EXPECT_EQ(in.count(), 0u);
  control_out(*r.dev, kOut, 0x01, 0x0101, 0);  // DTR -> DSR and DCD
  r.bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{0x01 | 0x20 | 0x80, kThreTemt}));
}

TEST(FtdiIn, ErrorFlagsTravelWithTheirByte) {
  Rig r;
  sim::Terminal term(r.bus);
  sim::connect_null_modem(r.dev->port(0), term.port());
  // The chip at 9600 8O1, the terminal at 9600 8E1: every character has a parity error.
  control_out(*r.dev, kOut, 0x04, 8 | (1 << 8), 0);
  term.configure(sim::LineFormat{9600, 8, sim::Parity::even, sim::StopBits::one});
  Pipe in(*r.dev, 0x81);
  term.write({'a', 'b'});
  in.submit_in(64);
  in.submit_in(64);
  r.bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 2u);  // an errored byte ends its packet
  EXPECT_EQ(done[0].data,
            (std::vector<uint8_t>{kModemNone | 0x10 | 0x20 | 0x80, 0x04 | kThreTemt, 'a'}));
  EXPECT_EQ(done[1].data[1], 0x04 | kThreTemt);
  EXPECT_EQ(done[1].data[2], 'b');
  EXPECT_EQ(r.dev->port(0).snapshot().counters.parity_errors, 2u);

  // SET_ERROR_CHAR replaces parity-error bytes.
  control_out(*r.dev, kOut, 0x07, 0x0100 | '?', 0);
  term.write({'c'});
  in.submit_in(64);
  r.bus.run_until_idle();
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data[2], '?');

  // Framing error: the chip at 7N1 gets 0x7F from an 8N1 terminal (bit 7 = 0 is its stop bit).
  control_out(*r.dev, kOut, 0x04, 7, 0);
  term.configure(sim::LineFormat{9600, 8, sim::Parity::none, sim::StopBits::one});
  term.write({0x7F});
  in.submit_in(64);
  r.bus.run_until_idle();
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_EQ(done[0].data.size(), 3u);
  EXPECT_EQ(done[0].data[1], 0x08 | kThreTemt);
  EXPECT_EQ(done[0].data[2], 0x7F);
}

TEST(FtdiIn, BreakArrivesAsNulWithBreakInterrupt) {
  Rig r;
  sim::Terminal term(r.bus);
  sim::connect_null_modem(r.dev->port(0), term.port());
  Pipe in(*r.dev, 0x81);
  in.submit_in(64);  // takes the status packet the modem-line change caused
  r.bus.run_until_idle();
  ASSERT_EQ(in.take().size(), 1u);
  in.submit_in(64);
  term.set_break(true);
  r.bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_EQ(done[0].data.size(), 3u);
  EXPECT_EQ(done[0].data[1] & 0x10, 0x10);
  EXPECT_EQ(done[0].data[2], 0x00);
  term.write(bytes("ok"));  // queued behind the break
  term.set_break(false);
  in.submit_in(64);
  r.bus.advance(16ms);
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(ftdi_payload(done[0].data, 64), bytes("ok"));
  EXPECT_EQ(done[0].data[1], kThreTemt);
  EXPECT_EQ(r.dev->port(0).snapshot().counters.breaks, 1u);
}

TEST(FtdiIn, EventCharacterFlushesAtOnce) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  control_out(*r.dev, kOut, 0x06, 0x0100 | '\n', 0);
  Pipe in(*r.dev, 0x81);
  Pipe out(*r.dev, 0x02);
  r.bus.advance(16ms);
  in.submit_in(64);
  r.bus.run_until_idle();
  in.take();
  in.submit_in(64);
  out.submit_out(bytes("ab"));
  r.bus.advance(2ms);
  EXPECT_EQ(in.count(), 0u);
  out.submit_out(bytes("c\n"));
  r.bus.run_until_idle();
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(ftdi_payload(done[0].data, 64), bytes("abc\n"));
}

TEST(FtdiIn, NothingFlowsInABitMode) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  control_out(*r.dev, kOut, 0x0B, 0x01FF, 0);
  Pipe out(*r.dev, 0x02);
  out.submit_out(bytes("abc"));
  r.bus.run_until_idle();
  ASSERT_EQ(out.take().size(), 1u);  // the pins took them
  const auto s = r.dev->port(0).snapshot();
  EXPECT_EQ(s.counters.tx_line_bytes, 0u);
  EXPECT_EQ(s.counters.usb_out_bytes, 3u);
}

}  // namespace
