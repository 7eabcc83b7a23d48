// CDC-ACM simulator: descriptors, class requests, SERIAL_STATE notifications
// (split by the interrupt endpoint's wMaxPacketSize) and bulk IN timing.
// Expected values: USB CDC PSTN 1.2 layouts as in reference §1.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kOut = 0x21;
constexpr uint8_t kIn = 0xA1;

std::vector<uint8_t> coding(uint32_t rate, uint8_t stop, uint8_t parity, uint8_t bits) {
  return {static_cast<uint8_t>(rate),
          static_cast<uint8_t>(rate >> 8),
          static_cast<uint8_t>(rate >> 16),
          static_cast<uint8_t>(rate >> 24),
          stop,
          parity,
          bits};
}

TEST(CdcDescriptors, ControlAndDataInterfaces) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.serial = "SIM0001";
  auto dev = sim::make_device("cdc-acm", bus, o);
  ASSERT_NE(dev, nullptr);
  EXPECT_EQ(dev->chip(), "cdc-acm");
  EXPECT_EQ(dev->port_count(), 1u);
  EXPECT_EQ(dev->speed(), hostkit::UsbSpeed::full);
  const auto d = dev->device_descriptor();
  ASSERT_EQ(d.size(), 18u);
  EXPECT_EQ(d[4], 0x02);  // bDeviceClass: CDC
  EXPECT_EQ(d[8] | (d[9] << 8), 0x1209);
  EXPECT_EQ(d[10] | (d[11] << 8), 0x0001);
  EXPECT_EQ(ascii_of(dev->string_descriptor(d[15])), "USBSerialBridge CDC-ACM simulator");
  EXPECT_EQ(ascii_of(dev->string_descriptor(d[16])), "SIM0001");
  const auto ifs = walk_config(dev->configuration_descriptor());
  ASSERT_EQ(ifs.size(), 2u);
  EXPECT_EQ(ifs[0].number, 0);
  EXPECT_EQ(ifs[0].cls, 0x02);
  EXPECT_EQ(ifs[0].subclass, 0x02);
  EXPECT_EQ(ifs[0].protocol, 0x01);
  ASSERT_EQ(ifs[0].functional.size(), 4u);
  EXPECT_EQ(ifs[0].functional[0], (std::vector<uint8_t>{5, 0x24, 0x00, 0x10, 0x01}));
  EXPECT_EQ(ifs[0].functional[1][2], 0x01);  // Call Management
  EXPECT_EQ(ifs[0].functional[1][4], 1);     // bDataInterface
  EXPECT_EQ(ifs[0].functional[2], (std::vector<uint8_t>{4, 0x24, 0x02, 0x06}));
  EXPECT_EQ(ifs[0].functional[3], (std::vector<uint8_t>{5, 0x24, 0x06, 0x00, 0x01}));
  ASSERT_EQ(ifs[0].endpoints.size(), 1u);
  EXPECT_EQ(ifs[0].endpoints[0].address, 0x83);
  EXPECT_EQ(ifs[0].endpoints[0].attributes, 0x03);
  EXPECT_EQ(ifs[0].endpoints[0].max_packet, 16);
  EXPECT_EQ(ifs[1].cls, 0x0A);
  ASSERT_EQ(ifs[1].endpoints.size(), 2u);
  EXPECT_EQ(ifs[1].endpoints[0].address, 0x81);
  EXPECT_EQ(ifs[1].endpoints[1].address, 0x02);
  EXPECT_EQ(ifs[1].endpoints[0].max_packet, 64);
  EXPECT_EQ(ifs[1].endpoints[1].max_packet, 64);
}

TEST(CdcRequests, LineCodingIsTheUartRateExactly) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  EXPECT_EQ(control_in(*dev, kIn, 0x21, 0, 0, 7).second, coding(9600, 0, 0, 8));
  EXPECT_EQ(control_out(*dev, kOut, 0x20, 0, 0, coding(123457, 2, 1, 7)), kIOReturnSuccess);
  const auto s = dev->port(0).snapshot();
  EXPECT_DOUBLE_EQ(s.line.baud, 123457.0);
  EXPECT_EQ(s.line.data_bits, 7);
  EXPECT_EQ(s.line.parity, sim::Parity::odd);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::two);
  EXPECT_EQ(control_in(*dev, kIn, 0x21, 0, 0, 7).second, coding(123457, 2, 1, 7));
  // Refused codings STALL and leave the setting alone.
  EXPECT_EQ(control_out(*dev, kOut, 0x20, 0, 0, coding(9600, 0, 0, 16)), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, kOut, 0x20, 0, 0, coding(9600, 0, 5, 8)), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, kOut, 0x20, 0, 0, coding(9600, 3, 0, 8)), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, kOut, 0x20, 0, 0, coding(0, 0, 0, 8)), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, kOut, 0x20, 0, 0, {0x80, 0x25}), kIOUSBPipeStalled);  // too short
  const auto after = dev->port(0).snapshot();
  EXPECT_DOUBLE_EQ(after.line.baud, 123457.0);
  EXPECT_EQ(after.counters.invalid_settings, 4u);
}

TEST(CdcRequests, WrongInterfaceAndUnknownRequestsStall) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  EXPECT_EQ(control_out(*dev, kOut, 0x22, 3, 1), kIOUSBPipeStalled);          // wIndex 1
  EXPECT_EQ(control_out(*dev, kOut, 0x00, 0, 0, {1, 2}), kIOUSBPipeStalled);  // SEND_ENCAPSULATED
  EXPECT_EQ(control_in(*dev, kIn, 0x20, 0, 0, 7).first, kIOUSBPipeStalled);   // IN SET_LINE_CODING
  EXPECT_EQ(control_out(*dev, 0x40, 0x01, 0x0101, 0), kIOUSBPipeStalled);     // a vendor request
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.control_requests, 4u);
  EXPECT_EQ(c.stalled_requests, 4u);
}

TEST(CdcRequests, ControlLineStateAndBreak) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  auto& p = dev->port(0);
  control_out(*dev, kOut, 0x22, 0x0001, 0);
  EXPECT_TRUE(p.snapshot().dtr);
  EXPECT_FALSE(p.snapshot().rts);
  control_out(*dev, kOut, 0x22, 0x0002, 0);
  EXPECT_FALSE(p.snapshot().dtr);
  EXPECT_TRUE(p.snapshot().rts);
  // SEND_BREAK 10 ms.
  control_out(*dev, kOut, 0x23, 10, 0);
  EXPECT_TRUE(p.snapshot().break_on);
  bus.advance(9ms);
  EXPECT_TRUE(p.snapshot().break_on);
  bus.advance(1ms);
  EXPECT_FALSE(p.snapshot().break_on);
  // 0xFFFF: until cleared by SEND_BREAK 0.
  control_out(*dev, kOut, 0x23, 0xFFFF, 0);
  bus.advance(1s);
  EXPECT_TRUE(p.snapshot().break_on);
  control_out(*dev, kOut, 0x23, 0, 0);
  EXPECT_FALSE(p.snapshot().break_on);
}

const std::vector<uint8_t> kSerialStateHeader{0xA1, 0x20, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00};

std::vector<uint8_t> serial_state(uint16_t bits) {
  auto v = kSerialStateHeader;
  v.push_back(static_cast<uint8_t>(bits));
  v.push_back(static_cast<uint8_t>(bits >> 8));
  return v;
}

TEST(CdcNotify, SerialStateOnModemChange) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  sim::connect_loopback(dev->port(0));
  Pipe notify(*dev, 0x83);
  notify.submit_in(16);
  bus.run_until_idle();
  EXPECT_EQ(notify.count(), 0u);
  control_out(*dev, kOut, 0x22, 0x0001, 0);  // DTR -> DSR (bit 1) and DCD (bit 0)
  bus.run_until_idle();
  auto done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, serial_state(0x0003));
  // RI (bit 3), then DTR off.
  notify.submit_in(16);
  notify.submit_in(16);
  dev->port(0).override_input(sim::ModemInput::ri, true);
  control_out(*dev, kOut, 0x22, 0x0000, 0);
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].data, serial_state(0x000B));
  EXPECT_EQ(done[1].data, serial_state(0x0008));
}

TEST(CdcNotify, SplitAcrossEightBytePackets) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.cdc_interrupt_max_packet = 8;
  auto dev = sim::make_device("cdc-acm", bus, o);
  EXPECT_EQ(walk_config(dev->configuration_descriptor())[0].endpoints[0].max_packet, 8);
  sim::connect_loopback(dev->port(0));
  Pipe notify(*dev, 0x83);
  // 8-byte transfers: the 10-byte notification takes two of them.
  notify.submit_in(8);
  notify.submit_in(8);
  control_out(*dev, kOut, 0x22, 0x0001, 0);
  bus.run_until_idle();
  auto done = notify.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].data, kSerialStateHeader);
  EXPECT_EQ(done[1].data, (std::vector<uint8_t>{0x03, 0x00}));
  // A 16-byte transfer gets both packets (8 full + 2 short) in one completion.
  notify.submit_in(16);
  control_out(*dev, kOut, 0x22, 0x0000, 0);
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, serial_state(0));
}

TEST(CdcNotify, LineErrorsAreEventBits) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  sim::Terminal term(bus);
  sim::connect_null_modem(dev->port(0), term.port());
  Pipe notify(*dev, 0x83);
  notify.submit_in(16);
  bus.run_until_idle();
  ASSERT_EQ(notify.take().size(), 1u);  // DSR + DCD from the terminal's DTR
  // Parity error: the device at 9600 8E1, the terminal at 9600 8O1.
  control_out(*dev, kOut, 0x20, 0, 0, coding(9600, 0, 2, 8));
  term.configure(sim::LineFormat{9600, 8, sim::Parity::odd, sim::StopBits::one});
  notify.submit_in(16);
  term.write({'x'});
  bus.run_until_idle();
  auto done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, serial_state(0x0003 | 0x0020));
  // Break.
  notify.submit_in(16);
  term.set_break(true);
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, serial_state(0x0003 | 0x0004));
  term.set_break(false);
  // Data on bulk IN is raw: the errored character is there, no status bytes.
  Pipe in(*dev, 0x81);
  in.submit_in(64);
  bus.advance(1ms);
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{'x', 0x00}));
}

TEST(CdcNotify, InjectedRawBytes) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  Pipe notify(*dev, 0x83);
  notify.submit_in(16);
  notify.submit_in(16);
  dev->inject_interrupt({0xA1, 0x2A, 0xFF});
  dev->inject_interrupt(std::vector<uint8_t>(16, 0x55));  // exactly one full packet
  bus.run_until_idle();
  auto done = notify.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{0xA1, 0x2A, 0xFF}));
  EXPECT_EQ(done[1].data, std::vector<uint8_t>(16, 0x55));
}

TEST(CdcBulk, ShortPacketAfterOneFrame) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  sim::connect_loopback(dev->port(0));
  Pipe in(*dev, 0x81);
  Pipe out(*dev, 0x02);
  bus.advance(std::chrono::microseconds(300));
  in.submit_in(512);
  out.submit_out(pattern(100));
  bus.run_until_idle();
  EXPECT_EQ(in.count(), 0u);  // one full packet in, the rest waits for the frame
  bus.advance(std::chrono::microseconds(699));
  EXPECT_EQ(in.count(), 0u);
  bus.advance(std::chrono::microseconds(1));  // the 1 ms frame boundary
  auto done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, pattern(100));
}

TEST(CdcBulk, FullTransferCompletesAtOnceAndZeroLengthPacketEndsAFullOne) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cdc-acm", bus);
  sim::connect_loopback(dev->port(0));
  Pipe in(*dev, 0x81);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(128));
  bus.run_until_idle();
  in.submit_in(64);
  bus.run_until_idle();
  ASSERT_EQ(in.count(), 1u);  // full
  in.submit_in(512);
  bus.run_until_idle();
  EXPECT_EQ(in.count(), 1u);  // 64 bytes in, transfer not full, no short packet yet
  bus.advance(1ms);
  auto done = in.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].actual, 64u);  // ended by a zero-length packet
  auto all = done[0].data;
  all.insert(all.end(), done[1].data.begin(), done[1].data.end());
  EXPECT_EQ(all, pattern(128));
}

}  // namespace
