// Loopback plug and null-modem cable, end to end through the UsbDeviceBackend
// API only: submit OUT, submit IN, compare bytes.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

// Reads everything a device has sent to the host until the bus is quiet.
std::vector<uint8_t> drain(sim::Bus& bus, Pipe& in, size_t max_packet, bool ftdi,
                           size_t transfers = 4) {
  std::vector<uint8_t> got;
  for (int round = 0; round < 64; ++round) {
    for (size_t i = 0; i < transfers; ++i) {
      in.submit_in(max_packet * 8);
    }
    bus.advance(20ms);
    size_t n = 0;
    for (auto& d : in.take()) {
      EXPECT_EQ(d.status, kIOReturnSuccess);
      const auto payload = ftdi ? ftdi_payload(d.data, max_packet) : d.data;
      got.insert(got.end(), payload.begin(), payload.end());
      n += payload.size();
    }
    if (n == 0 && round > 0) {
      break;
    }
  }
  return got;
}

TEST(Wiring, Ft232rLoopback) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  sim::connect_loopback(dev->port(0));
  Pipe out(*dev, 0x02);
  Pipe in(*dev, 0x81);
  const auto data = pattern(5000);
  out.submit_out(data);
  EXPECT_EQ(drain(bus, in, 64, true), data);
  const auto done = out.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].actual, 5000u);
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.tx_line_bytes, 5000u);
  EXPECT_EQ(c.rx_line_bytes, 5000u);
  EXPECT_EQ(c.usb_in_bytes, 5000u);
  EXPECT_EQ(c.usb_out_bytes, 5000u);
  EXPECT_EQ(c.overruns, 0u);
}

TEST(Wiring, LoopbackModemLines) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  auto& p = dev->port(0);
  sim::connect_loopback(p);
  control_out(*dev, 0x40, 0x01, 0x0202, 0);  // RTS -> CTS only
  auto s = p.snapshot();
  EXPECT_TRUE(s.cts);
  EXPECT_FALSE(s.dsr);
  EXPECT_FALSE(s.dcd);
  control_out(*dev, 0x40, 0x01, 0x0101, 0);  // DTR -> DSR and DCD
  s = p.snapshot();
  EXPECT_TRUE(s.dsr);
  EXPECT_TRUE(s.dcd);
  EXPECT_FALSE(s.ri);
  sim::disconnect(p);
  s = p.snapshot();
  EXPECT_FALSE(s.cts);
  EXPECT_FALSE(s.dsr);
}

TEST(Wiring, ModemLoopbackPlugWiresDtrToRiToo) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  auto& p = dev->port(0);
  sim::connect_modem_loopback(p);
  control_out(*dev, 0x40, 0x01, 0x0202, 0);  // RTS on: CTS only
  auto s = p.snapshot();
  EXPECT_TRUE(s.cts);
  EXPECT_FALSE(s.dsr);
  EXPECT_FALSE(s.dcd);
  EXPECT_FALSE(s.ri);
  control_out(*dev, 0x40, 0x01, 0x0101, 0);  // DTR on: DSR, DCD and RI
  s = p.snapshot();
  EXPECT_TRUE(s.dsr);
  EXPECT_TRUE(s.dcd);
  EXPECT_TRUE(s.ri);
  control_out(*dev, 0x40, 0x01, 0x0100, 0);  // DTR off
  s = p.snapshot();
  EXPECT_FALSE(s.dsr);
  EXPECT_FALSE(s.dcd);
  EXPECT_FALSE(s.ri);
  EXPECT_TRUE(s.cts);
}

TEST(Wiring, NullModemFtdiToCdc) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus);
  auto cdc = sim::make_device("cdc-acm", bus);
  sim::connect_null_modem(ftdi->port(0), cdc->port(0));
  // Both at 115200 8N1... as each chip understands it: FTDI's divisor 26 gives
  // 115384.6 Bd, CDC runs at exactly 115200 (0.16 % apart: still clean).
  control_out(*ftdi, 0x40, 0x03, 26, 0);
  control_out(*cdc, 0x21, 0x20, 0, 0, {0x00, 0xC2, 0x01, 0x00, 0, 0, 8});
  Pipe ftdi_out(*ftdi, 0x02);
  Pipe ftdi_in(*ftdi, 0x81);
  Pipe cdc_out(*cdc, 0x02);
  Pipe cdc_in(*cdc, 0x81);
  const auto a = pattern(3000, 1);
  const auto b = pattern(2000, 2);
  ftdi_out.submit_out(a);
  cdc_out.submit_out(b);
  EXPECT_EQ(drain(bus, cdc_in, 64, false), a);
  EXPECT_EQ(drain(bus, ftdi_in, 64, true), b);
  EXPECT_EQ(cdc->port(0).snapshot().counters.framing_errors, 0u);
  // DTR on the FTDI side -> DSR and DCD on the CDC side; RTS -> CTS.
  control_out(*ftdi, 0x40, 0x01, 0x0303, 0);
  auto s = cdc->port(0).snapshot();
  EXPECT_TRUE(s.dsr);
  EXPECT_TRUE(s.dcd);
  EXPECT_TRUE(s.cts);
  control_out(*cdc, 0x21, 0x22, 0x0001, 0);
  s = ftdi->port(0).snapshot();
  EXPECT_TRUE(s.dsr);
  EXPECT_TRUE(s.dcd);
  EXPECT_FALSE(s.cts);
}

TEST(Wiring, MismatchedRatesGiveGarbage) {
  sim::Bus bus(sim::ClockMode::manual);
  auto ftdi = sim::make_device("ft232r", bus);
  auto cdc = sim::make_device("cdc-acm", bus);
  sim::connect_null_modem(ftdi->port(0), cdc->port(0));
  control_out(*ftdi, 0x40, 0x03, 12, 0);                                   // 3 MHz / 12 = 250000 Bd
  control_out(*cdc, 0x21, 0x20, 0, 0, {0x00, 0xC2, 0x01, 0x00, 0, 0, 8});  // 115200
  Pipe ftdi_out(*ftdi, 0x02);
  Pipe cdc_in(*cdc, 0x81);
  const auto a = pattern(2000, 7);
  ftdi_out.submit_out(a);
  const auto got = drain(bus, cdc_in, 64, false);
  EXPECT_NE(got, a);
  EXPECT_GT(cdc->port(0).snapshot().counters.framing_errors, 0u);
  EXPECT_EQ(ftdi->port(0).snapshot().counters.tx_line_bytes, 2000u);
}

TEST(Wiring, InvalidDivisorProducesGarbage) {
  sim::Bus bus(sim::ClockMode::manual);
  auto a = sim::make_device("ft232r", bus);
  auto b = sim::make_device("ft232r", bus);
  sim::connect_null_modem(a->port(0), b->port(0));
  // Both sides get the same invalid divisor (1.25): still garbage.
  control_out(*a, 0x40, 0x03, 0x8001, 0);
  control_out(*b, 0x40, 0x03, 0x8001, 0);
  Pipe out(*a, 0x02);
  Pipe in(*b, 0x81);
  const auto data = pattern(500, 3);
  out.submit_out(data);
  EXPECT_NE(drain(bus, in, 64, true), data);
  EXPECT_GT(b->port(0).snapshot().counters.framing_errors, 0u);
}

TEST(Wiring, MultiPortChannelsAreIndependent) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft4232h", bus);
  for (size_t i = 0; i < 4; ++i) {
    sim::connect_loopback(dev->port(i));
  }
  std::vector<std::unique_ptr<Pipe>> outs, ins;
  for (uint8_t i = 0; i < 4; ++i) {
    outs.push_back(std::make_unique<Pipe>(*dev, static_cast<uint8_t>(0x02 + 2 * i)));
    ins.push_back(std::make_unique<Pipe>(*dev, static_cast<uint8_t>(0x81 + 2 * i)));
    outs.back()->submit_out(pattern(1000 + 100 * i, i + 10u));
  }
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_EQ(drain(bus, *ins[i], 512, true), pattern(1000 + 100 * i, i + 10u)) << int(i);
  }
}

TEST(Wiring, TerminalSeesWhatTheHostWrites) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft-x", bus);
  sim::Terminal term(bus);
  sim::connect_null_modem(dev->port(0), term.port());
  Pipe out(*dev, 0x02);
  out.submit_out(bytes("AT\r"));
  bus.run_until_idle();
  const auto got = term.read();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].value, 'A');
  EXPECT_EQ(got[1].value, 'T');
  EXPECT_EQ(got[2].value, '\r');
  EXPECT_EQ(got[2].flags, 0);
}

TEST(Wiring, XonXoffStopsAndRestartsTheTransmitter) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  sim::Terminal term(bus);
  sim::connect_null_modem(dev->port(0), term.port());
  control_out(*dev, 0x40, 0x02, 0x1311, 0x0400);  // XON/XOFF, DC1/DC3
  term.write({0x13});                             // XOFF
  bus.run_until_idle();
  EXPECT_TRUE(dev->port(0).snapshot().xoff_received);
  Pipe out(*dev, 0x02);
  out.submit_out(bytes("abc"));
  bus.run_until_idle();
  EXPECT_TRUE(term.read().empty());
  term.write({0x11});  // XON
  bus.run_until_idle();
  const auto got = term.read();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].value, 'c');
}

TEST(Wiring, DtrDsrHoldsTheTransmitterWhileDsrIsLow) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  sim::Terminal term(bus);
  sim::connect_null_modem(dev->port(0), term.port());
  control_out(*dev, 0x40, 0x02, 0, 0x0200);  // DTR/DSR
  term.set_dtr(false);
  Pipe out(*dev, 0x02);
  out.submit_out(bytes("xyz"));
  bus.run_until_idle();
  EXPECT_TRUE(term.read().empty());
  EXPECT_FALSE(dev->port(0).snapshot().dsr);
  term.set_dtr(true);
  bus.run_until_idle();
  EXPECT_EQ(term.read().size(), 3u);
}

}  // namespace
