// CH34x simulator, data and status: 32-byte bulk IN packets and the BIT(7) rule, 4-byte
// status packets on the 8-byte interrupt endpoint (byte 0 event type: 0x08 modem, 0x02
// overrun, 0x04 parity, 0x44 framing; byte 2 the inverted inputs; byte 3 0xEE), and the
// paced line against an FTDI part and a free terminal. Facts: reference §0, §4.2-§4.4.
#include <gtest/gtest.h>

#include "sim/ch34x.hpp"
#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kOut = 0x40;

struct Rig {
  sim::Bus bus{sim::ClockMode::manual};
  std::unique_ptr<sim::SimDevice> dev;
  explicit Rig(sim::SimOptions o = {}, sim::ch34x::Quirks q = {}) {
    dev = std::make_unique<sim::ch34x::Ch34xDevice>(bus, *sim::ch34x::find_variant("ch340"), o, q);
  }
  void rate(uint16_t registers) { control_out(*dev, kOut, 0x9A, 0x1312, registers); }
};

TEST(Ch34xIn, WithBit7ShortDataGoesOutAfterAFrameWithoutNewCharacters) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  r.rate(0xCC83);  // 115 385 Bd, BIT(7)
  Pipe in(*r.dev, 0x82);
  Pipe out(*r.dev, 0x02);
  in.submit_in(512);
  out.submit_out(bytes("hello"));
  r.bus.run_until_idle();
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(1ms);  // the first frame tick saw the characters arrive
  EXPECT_EQ(in.count(), 0u);
  r.bus.advance(1ms);  // the second saw nothing new: the receive timeout
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, bytes("hello"));
}

TEST(Ch34xIn, AContinuousStreamGoesInFullPackets) {
  Rig r(paced());
  sim::connect_loopback(r.dev->port(0));
  r.rate(0xCC83);  // 115 385 Bd: 11.5 characters per millisecond
  Pipe in(*r.dev, 0x82);
  Pipe out(*r.dev, 0x02);
  in.submit_in(4096);
  out.submit_out(pattern(3000));
  r.bus.advance(200ms);  // 260 ms of line time in all: still streaming
  EXPECT_EQ(in.count(), 0u);
  const auto s = r.dev->port(0).snapshot();
  EXPECT_EQ(s.counters.usb_in_bytes, s.counters.usb_in_packets * 32);  // every one full
  r.bus.advance(100ms);  // the stream ends; the rest goes after the timeout
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, pattern(3000));
}

TEST(Ch34xIn, WithoutBit7TheChipWaitsForAFullPacket) {
  // ch341.c: "CH341A buffers data until a full endpoint-size packet (32 bytes) has been
  // received unless bit 7 is set."
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  r.rate(0xCC03);
  Pipe in(*r.dev, 0x82);
  Pipe out(*r.dev, 0x02);
  in.submit_in(512);
  out.submit_out(pattern(20));
  r.bus.advance(50ms);
  EXPECT_EQ(in.count(), 0u);
  out.submit_out(pattern(20, 7));
  r.bus.advance(50ms);
  EXPECT_EQ(in.count(), 0u);  // 32 bytes went out in one full packet; the transfer goes on
  EXPECT_EQ(r.dev->port(0).snapshot().counters.usb_in_packets, 1u);
  EXPECT_EQ(r.dev->port(0).snapshot().rx_fifo_level, 8u);
}

TEST(Ch34xIn, Version0x27HasBit7Inverted) {
  Rig r({}, sim::ch34x::Quirks{0x27, false});
  sim::connect_loopback(r.dev->port(0));
  r.rate(0xCC03);  // bit 7 clear: on 0x27 that is "send what you have"
  Pipe in(*r.dev, 0x82);
  Pipe out(*r.dev, 0x02);
  in.submit_in(64);
  out.submit_out(bytes("abc"));
  r.bus.advance(2ms);
  ASSERT_EQ(in.count(), 1u);
  EXPECT_EQ(in.take()[0].data, bytes("abc"));
}

TEST(Ch34xIn, PacketsAreAtMost32Bytes) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  r.rate(0xCC83);
  Pipe out(*r.dev, 0x02);
  const auto data = pattern(100);
  out.submit_out(data);
  r.bus.run_until_idle();
  Pipe in(*r.dev, 0x82);
  in.submit_in(32);
  in.submit_in(32);
  in.submit_in(32);
  in.submit_in(32);
  r.bus.advance(2ms);
  auto done = in.take();
  ASSERT_EQ(done.size(), 4u);
  std::vector<uint8_t> got;
  for (size_t i = 0; i < done.size(); ++i) {
    EXPECT_EQ(done[i].actual, i < 3 ? 32u : 4u);
    got.insert(got.end(), done[i].data.begin(), done[i].data.end());
  }
  EXPECT_EQ(got, data);
}

// ---------------------------------------------------------------- status endpoint

TEST(Ch34xStatus, ModemChangesArriveInverted) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));
  Pipe status(*r.dev, 0x81);
  status.submit_in(8);
  status.submit_in(8);
  control_out(*r.dev, kOut, 0xA4, 0xFF9F, 0);  // DTR, RTS on: CTS, DSR, DCD come back
  r.bus.run_until_idle();
  control_out(*r.dev, kOut, 0xA4, 0xFFFF, 0);
  r.bus.run_until_idle();
  auto done = status.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{0x08, 0x00, 0x94, 0xEE}));
  EXPECT_EQ(done[1].data, (std::vector<uint8_t>{0x08, 0x00, 0xFF, 0xEE}));
}

TEST(Ch34xStatus, RiAloneAndNothingForOutputOnlyChanges) {
  Rig r;
  Pipe status(*r.dev, 0x81);
  status.submit_in(8);
  control_out(*r.dev, kOut, 0xA4, 0xFF9F, 0);  // no plug: the inputs do not move
  r.bus.run_until_idle();
  EXPECT_EQ(status.count(), 0u);
  r.dev->port(0).override_input(sim::ModemInput::ri, true);
  r.bus.run_until_idle();
  auto done = status.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{0x08, 0x00, 0x9B, 0xEE}));
}

TEST(Ch34xStatus, InjectedGarbageIsDeliveredAsIs) {
  Rig r;
  Pipe status(*r.dev, 0x81);
  status.submit_in(8);
  status.submit_in(8);
  r.dev->inject_interrupt({0x44, 0x00});
  r.dev->inject_interrupt({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  r.bus.run_until_idle();
  auto done = status.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{0x44, 0x00}));
  EXPECT_EQ(done[1].data.size(), 8u);  // one interrupt packet at most
}

TEST(Ch34xStatus, ParityErrorsFromAFarEndWithTheOtherParity) {
  Rig r(paced());
  sim::Terminal far(r.bus, "far", true);
  sim::connect_null_modem(r.dev->port(0), far.port());
  control_out(*r.dev, kOut, 0x9A, 0x1312, 0xB282);  // 9615 Bd
  control_out(*r.dev, kOut, 0x9A, 0x2518, 0x00DB);  // 8E1
  far.configure({48e6 / (64 * 78), 8, sim::Parity::odd, sim::StopBits::one});
  Pipe status(*r.dev, 0x81);
  status.submit_in(8);  // the cable's DTR/RTS arriving: a modem-change packet (0x08)
  r.bus.advance(1ms);   // paced: the host learns of it at the end of the frame
  ASSERT_EQ(status.take().at(0).data[0], 0x08);
  status.submit_in(8);
  far.write({0x01});  // one 1 bit: odd parity sends 0, even expects 1
  r.bus.advance(5ms);
  auto done = status.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data[0], 0x04);
  EXPECT_EQ(r.dev->port(0).snapshot().counters.parity_errors, 1u);
  // The character itself still reaches bulk IN.
  Pipe in(*r.dev, 0x82);
  in.submit_in(32);
  r.bus.advance(3ms);
  ASSERT_EQ(in.count(), 1u);
  EXPECT_EQ(in.take()[0].data, (std::vector<uint8_t>{0x01}));
}

TEST(Ch34xStatus, OverrunWhenTheHostDoesNotRead) {
  Rig r(paced());
  sim::connect_loopback(r.dev->port(0));
  r.rate(0xCC83);
  Pipe status(*r.dev, 0x81);
  status.submit_in(8);
  Pipe out(*r.dev, 0x02);
  out.submit_out(pattern(300));  // 256-byte FIFO, nobody reading bulk IN
  r.bus.advance(50ms);
  EXPECT_EQ(r.dev->port(0).snapshot().counters.overruns, 300u - 256);
  auto done = status.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data[0] & 0x02, 0x02);
}

// ---------------------------------------------------------------- against an FTDI part

TEST(Ch34xNullModem, SameRateAsAnFt232rPassesCleanly) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus, paced());
  auto ch = sim::make_device("ch340", bus, paced());
  sim::connect_null_modem(ftdi->port(0), ch->port(0));
  control_out(*ftdi, kOut, 0x03, 26, 0);         // 3 MHz / 26 = 115 384.6 Bd
  control_out(*ch, kOut, 0x9A, 0x1312, 0xCC83);  // 48 MHz / 416: the same rate
  control_out(*ftdi, kOut, 0x09, 1, 0);          // 1 ms latency
  Pipe ftdi_out(*ftdi, 0x02);
  Pipe ch_in(*ch, 0x82);
  const auto data = pattern(2000);
  ftdi_out.submit_out(data);
  std::vector<uint8_t> got;
  for (int i = 0; i < 400 && got.size() < data.size(); ++i) {
    ch_in.submit_in(512);
    bus.advance(1ms);
    for (const Done& d : ch_in.take()) {
      got.insert(got.end(), d.data.begin(), d.data.end());
    }
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(ch->port(0).snapshot().counters.framing_errors, 0u);
}

TEST(Ch34xNullModem, RatesBeyondToleranceShowFramingErrorsOnTheStatusPipe) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus, paced());
  auto ch = sim::make_device("ch340", bus, paced());
  sim::connect_null_modem(ftdi->port(0), ch->port(0));
  control_out(*ftdi, kOut, 0x03, 12, 0);         // 250 000 Bd
  control_out(*ch, kOut, 0x9A, 0x1312, 0xCC83);  // 115 385 Bd
  Pipe status(*ch, 0x81);
  status.submit_in(8);
  Pipe ftdi_out(*ftdi, 0x02);
  ftdi_out.submit_out(pattern(200));
  bus.advance(20ms);
  EXPECT_GT(ch->port(0).snapshot().counters.framing_errors, 0u);
  auto done = status.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data[0] & 0x44, 0x44);
}

TEST(Ch34xNullModem, BreakFromTheChReachesTheFtdi) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus, paced());
  auto ch = sim::make_device("ch340", bus, paced());
  sim::connect_null_modem(ftdi->port(0), ch->port(0));
  control_out(*ch, kOut, 0x9A, 0x1312, 0xB282);  // both at 9615 / 9600 Bd
  control_out(*ch, kOut, 0x9A, 0x1805, 0x8300);  // break on
  bus.advance(3ms);
  control_out(*ch, kOut, 0x9A, 0x1805, 0xC301);  // off
  bus.advance(5ms);
  EXPECT_EQ(ftdi->port(0).snapshot().counters.breaks, 1u);
}

TEST(Ch34xNullModem, ACloneEmulatesBreakWithANulAtTheSlowestRate) {
  // ch341.c ch341_simulate_break: the slowest rate and one NUL: 9 bit times of space at
  // 45.78 Bd = 196.6 ms, which a 9600 Bd receiver sees as a break.
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus, paced());
  auto clone = std::make_unique<sim::ch34x::Ch34xDevice>(
      bus, *sim::ch34x::find_variant("ch340"), paced(), sim::ch34x::Quirks{std::nullopt, true});
  sim::connect_null_modem(ftdi->port(0), clone->port(0));
  control_out(*clone, kOut, 0x9A, 0x1312, 0x0080);  // ps 0, fact 0, div 256
  Pipe out(*clone, 0x02);
  out.submit_out({0x00});
  bus.advance(100ms);
  EXPECT_EQ(ftdi->port(0).snapshot().counters.breaks, 1u);  // decided long before the end
  bus.advance(150ms);
  EXPECT_EQ(clone->port(0).snapshot().counters.tx_line_bytes, 1u);  // 10 bits = 218 ms
  control_out(*clone, kOut, 0x9A, 0x1312, 0xB282);
  bus.advance(5ms);
  EXPECT_EQ(ftdi->port(0).snapshot().counters.breaks, 1u);
  EXPECT_EQ(ftdi->port(0).snapshot().counters.rx_line_bytes, 1u);  // the break's one NUL
}

}  // namespace
