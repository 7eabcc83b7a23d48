// PL2303 simulator: descriptors per type, the vendor register map (old and G series), the
// type probe and init sequence, the rate field as each type decodes it, flow control,
// purges, notifications and bulk data.
//
// Expected values written out from Linux pl2303.c and the PL2303HXD datasheet's descriptor
// table: interrupt IN 0x81, bulk OUT 0x02, bulk IN 0x83; rate = 384 MHz / divisor with the
// standard (m * 4^e) or alternative (m * 2^e) layouts; unknown direct values run at 9600.
#include <gtest/gtest.h>

#include "sim/pl2303.hpp"
#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kClassOut = 0x21;
constexpr uint8_t kClassIn = 0xA1;
constexpr uint8_t kVendorOut = 0x40;
constexpr uint8_t kVendorIn = 0xC0;

std::vector<uint8_t> coding(std::vector<uint8_t> field, uint8_t stop = 0, uint8_t parity = 0,
                            uint8_t bits = 8) {
  field.push_back(stop);
  field.push_back(parity);
  field.push_back(bits);
  return field;
}

std::vector<uint8_t> direct(uint32_t rate) {
  return {static_cast<uint8_t>(rate), static_cast<uint8_t>(rate >> 8),
          static_cast<uint8_t>(rate >> 16), static_cast<uint8_t>(rate >> 24)};
}

std::vector<uint8_t> notification(uint8_t state) {
  return {0xA1, 0x20, 0, 0, 0, 0, 2, 0, state, 0};
}

sim::pl2303::Pl2303Device& pl(sim::SimDevice& dev) {
  return static_cast<sim::pl2303::Pl2303Device&>(dev);
}

// Sends Linux's vendor init sequence (pl2303_startup) with register 2 = `register2`.
void send_init(sim::SimDevice& dev, uint16_t register2) {
  control_in(dev, kVendorIn, 0x01, 0x8484, 0, 1);
  control_out(dev, kVendorOut, 0x01, 0x0404, 0);
  control_in(dev, kVendorIn, 0x01, 0x8484, 0, 1);
  control_in(dev, kVendorIn, 0x01, 0x8383, 0, 1);
  control_in(dev, kVendorIn, 0x01, 0x8484, 0, 1);
  control_out(dev, kVendorOut, 0x01, 0x0404, 1);
  control_in(dev, kVendorIn, 0x01, 0x8484, 0, 1);
  control_in(dev, kVendorIn, 0x01, 0x8383, 0, 1);
  control_out(dev, kVendorOut, 0x01, 0x0000, 1);
  control_out(dev, kVendorOut, 0x01, 0x0001, 0);
  control_out(dev, kVendorOut, 0x01, 0x0002, register2);
}

// ------------------------------------------------------------ descriptors

TEST(Pl2303Descriptors, EveryTypeAsLinuxDetectsIt) {
  struct Case {
    const char* name;
    uint16_t bcd_usb;
    uint8_t max_packet0;
    uint16_t pid;
    uint16_t bcd_device;
  };
  const Case kCases[] = {
      {"pl2303-h", 0x0110, 8, 0x2303, 0x0202},    {"pl2303-hx", 0x0110, 64, 0x2303, 0x0300},
      {"pl2303-ta", 0x0200, 64, 0x2303, 0x0300},  {"pl2303-tb", 0x0200, 64, 0x2304, 0x0500},
      {"pl2303-hxn", 0x0200, 64, 0x23A3, 0x0100},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    sim::Bus bus(sim::ClockMode::manual);
    sim::SimOptions o;
    o.serial = "PL01";
    auto dev = sim::make_device(c.name, bus, o);
    ASSERT_NE(dev, nullptr);
    EXPECT_EQ(dev->chip(), c.name);
    EXPECT_EQ(dev->port_count(), 1u);
    EXPECT_EQ(dev->speed(), hostkit::UsbSpeed::full);
    const auto d = dev->device_descriptor();
    ASSERT_EQ(d.size(), 18u);
    EXPECT_EQ(d[2] | (d[3] << 8), c.bcd_usb);
    EXPECT_EQ(d[4], 0x00);  // bDeviceClass
    EXPECT_EQ(d[7], c.max_packet0);
    EXPECT_EQ(d[8] | (d[9] << 8), 0x067B);
    EXPECT_EQ(d[10] | (d[11] << 8), c.pid);
    EXPECT_EQ(d[12] | (d[13] << 8), c.bcd_device);
    EXPECT_EQ(ascii_of(dev->string_descriptor(d[16])), "PL01");
    const auto ifs = walk_config(dev->configuration_descriptor());
    ASSERT_EQ(ifs.size(), 1u);
    EXPECT_EQ(ifs[0].cls, 0xFF);
    ASSERT_EQ(ifs[0].endpoints.size(), 3u);
    EXPECT_EQ(ifs[0].endpoints[0].address, 0x81);
    EXPECT_EQ(ifs[0].endpoints[0].attributes, 0x03);
    EXPECT_EQ(ifs[0].endpoints[0].max_packet, 10);
    EXPECT_EQ(ifs[0].endpoints[1].address, 0x02);
    EXPECT_EQ(ifs[0].endpoints[1].max_packet, 64);
    EXPECT_EQ(ifs[0].endpoints[2].address, 0x83);
    EXPECT_EQ(ifs[0].endpoints[2].max_packet, 64);
  }
  sim::Bus bus(sim::ClockMode::manual);
  EXPECT_EQ(sim::make_device("pl2303-hxd", bus), nullptr);  // not one of the simulated names
}

// ------------------------------------------------------------ vendor map

TEST(Pl2303Vendor, OldMapReadsNeedTheReadFlagAndTheProbeIsAnswered) {
  sim::Bus bus(sim::ClockMode::manual);
  for (const char* name : {"pl2303-ta", "pl2303-tb", "pl2303-hx"}) {
    auto dev = sim::make_device(name, bus);
    EXPECT_EQ(control_in(*dev, kVendorIn, 0x01, 0x8080, 0, 1).first, kIOReturnSuccess) << name;
    EXPECT_EQ(pl(*dev).observed().type_probes, 1u);
    EXPECT_EQ(control_in(*dev, kVendorIn, 0x01, 0x0001, 0, 1).first, kIOUSBPipeStalled) << name;
    EXPECT_EQ(control_in(*dev, kVendorIn, 0x81, 0x000A, 0, 1).first, kIOUSBPipeStalled) << name;
    EXPECT_EQ(control_out(*dev, kVendorOut, 0x80, 0x0007, 3), kIOUSBPipeStalled) << name;
  }
}

TEST(Pl2303Vendor, GSeriesRefusesTheOldRequests) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("pl2303-hxn", bus);
  EXPECT_EQ(control_in(*dev, kVendorIn, 0x01, 0x8080, 0, 1).first, kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, kVendorOut, 0x01, 0x0000, 0x61), kIOUSBPipeStalled);
  EXPECT_EQ(pl(*dev).observed().type_probes, 0u);
  // Its own requests: register 0x0A reads back its power-up "no flow control".
  const auto [status, value] = control_in(*dev, kVendorIn, 0x81, 0x000A, 0, 1);
  EXPECT_EQ(status, kIOReturnSuccess);
  EXPECT_EQ(value, (std::vector<uint8_t>{0x1C}));
  EXPECT_EQ(control_out(*dev, kVendorOut, 0x80, 0x000A, 0x18), kIOReturnSuccess);
  EXPECT_EQ(control_in(*dev, kVendorIn, 0x81, 0x000A, 0, 1).second, (std::vector<uint8_t>{0x18}));
  EXPECT_EQ(dev->port(0).snapshot().flow, sim::flow_mode::kRtsCts);
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.stalled_requests, 2u);
}

TEST(Pl2303Vendor, InitSequenceIsRecognisedOnlyWhenComplete) {
  sim::Bus bus(sim::ClockMode::manual);
  auto hx = sim::make_device("pl2303-hx", bus);
  EXPECT_FALSE(pl(*hx).observed().initialised);
  send_init(*hx, 0x24);  // the H's value on an HX: not its sequence
  EXPECT_FALSE(pl(*hx).observed().initialised);
  send_init(*hx, 0x44);
  EXPECT_TRUE(pl(*hx).observed().initialised);
  // Register 0 = 1 from the sequence reads back (the flow bits are clear).
  EXPECT_EQ(control_in(*hx, kVendorIn, 0x01, 0x0080, 0, 1).second, (std::vector<uint8_t>{0x01}));

  auto h = sim::make_device("pl2303-h", bus);
  send_init(*h, 0x24);
  EXPECT_TRUE(pl(*h).observed().initialised);

  auto ta = sim::make_device("pl2303-ta", bus);
  control_out(*ta, kVendorOut, 0x01, 0x0404, 0);  // out of order
  send_init(*ta, 0x44);
  EXPECT_TRUE(pl(*ta).observed().initialised);
}

// ------------------------------------------------------------ the rate field

struct RateCase {
  const char* chip;
  std::vector<uint8_t> field;
  double baud;
  bool invalid;  // counted as an invalid setting
  bool garbled;
};

TEST(Pl2303Rate, EachTypeDecodesTheField) {
  const RateCase kCases[] = {
      // Direct values a type with divisors knows.
      {"pl2303-hx", direct(115200), 115200, false, false},
      {"pl2303-hx", direct(6000000), 6000000, false, false},
      {"pl2303-ta", direct(921600), 921600, false, false},
      // Direct values it does not know: 9600, silently (counted here).
      {"pl2303-hx", direct(250000), 9600, true, false},
      {"pl2303-hx", direct(110), 9600, true, false},
      {"pl2303-tb", direct(12000000), 9600, true, false},
      {"pl2303-h", direct(2457600), 9600, true, false},  // in the table, above the H's maximum
      // Standard divisor: m 213 e 7 -> 384e6 / (213 * 16384); m 384 e 1 -> 250000.
      {"pl2303-hx", {0xD5, 0x0E, 0x00, 0x80}, 384e6 / (213.0 * 16384), false, false},
      {"pl2303-h", {0x80, 0x03, 0x00, 0x80}, 250000, false, false},
      // Alternative divisor: m 0x6A8 (1704) e 11 (Windows' 110 Bd) -> 110.035.
      {"pl2303-ta", {0xA8, 0xA6, 0x01, 0x80}, 384e6 / (1704.0 * 2048), false, false},
      {"pl2303-tb", {0x20, 0x00, 0x00, 0x80}, 12000000, false, false},
      // The same bytes on the other layout mean another rate: 0xA6 read as standard is
      // m 0xA8 (bit 0 of 0xA6 clear), e 3 -> 384e6 / (168 * 64).
      {"pl2303-hx", {0xA8, 0xA6, 0x01, 0x80}, 384e6 / (168.0 * 64), false, false},
      // Divisors faster than the part, or zero: no defined rate.
      {"pl2303-hx", {0x20, 0x00, 0x00, 0x80}, 0, true, true},
      {"pl2303-hx", {0x00, 0x00, 0x00, 0x80}, 0, true, true},
      // The G series takes any value directly, and has no divisor mode.
      {"pl2303-hxn", direct(250000), 250000, false, false},
      {"pl2303-hxn", direct(123457), 123457, false, false},
      {"pl2303-hxn", direct(12000000), 12000000, false, false},
      {"pl2303-hxn", {0x80, 0x03, 0x00, 0x80}, 0, true, true},
  };
  for (const RateCase& c : kCases) {
    SCOPED_TRACE(std::string(c.chip) + " " + std::to_string(c.baud));
    sim::Bus bus(sim::ClockMode::manual);
    auto dev = sim::make_device(c.chip, bus);
    ASSERT_EQ(control_out(*dev, kClassOut, 0x20, 0, 0, coding(c.field)), kIOReturnSuccess);
    const auto s = dev->port(0).snapshot();
    EXPECT_EQ(s.garbled, c.garbled);
    EXPECT_EQ(s.chip.baud_invalid, c.invalid);
    EXPECT_EQ(s.counters.invalid_settings, c.invalid ? 1u : 0u);
    if (!c.garbled) {
      EXPECT_NEAR(s.line.baud, c.baud, 1e-6);
    }
    EXPECT_EQ(pl(*dev).observed().set_line_requests, 1u);
    EXPECT_EQ(control_in(*dev, kClassIn, 0x21, 0, 0, 7).second, coding(c.field));
  }
}

TEST(Pl2303Rate, FramingAndRefusedCodings) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("pl2303-ta", bus);
  ASSERT_EQ(control_out(*dev, kClassOut, 0x20, 0, 0, coding(direct(9600), 1, 3, 5)),
            kIOReturnSuccess);
  auto s = dev->port(0).snapshot();
  EXPECT_EQ(s.line.data_bits, 5);
  EXPECT_EQ(s.line.parity, sim::Parity::mark);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::one_and_half);
  for (const auto& bad : {coding(direct(9600), 3), coding(direct(9600), 0, 5),
                          coding(direct(9600), 0, 0, 4), coding(direct(9600), 0, 0, 9)}) {
    EXPECT_EQ(control_out(*dev, kClassOut, 0x20, 0, 0, bad), kIOUSBPipeStalled);
  }
  EXPECT_EQ(control_out(*dev, kClassOut, 0x20, 0, 1, coding(direct(9600))), kIOUSBPipeStalled);
  s = dev->port(0).snapshot();
  EXPECT_EQ(s.line.data_bits, 5);  // unchanged
  EXPECT_EQ(pl(*dev).observed().set_line_requests, 1u);
}

// ------------------------------------------------------------ lines, flow, purge

TEST(Pl2303Lines, ControlAndBreak) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("pl2303-hx", bus);
  auto& p = dev->port(0);
  control_out(*dev, kClassOut, 0x22, 0x0001, 0);
  EXPECT_TRUE(p.snapshot().dtr);
  EXPECT_FALSE(p.snapshot().rts);
  control_out(*dev, kClassOut, 0x22, 0x0003, 0);
  EXPECT_TRUE(p.snapshot().rts);
  control_out(*dev, kClassOut, 0x23, 0xFFFF, 0);
  bus.advance(1s);
  EXPECT_TRUE(p.snapshot().break_on);
  control_out(*dev, kClassOut, 0x23, 0x0000, 0);
  EXPECT_FALSE(p.snapshot().break_on);
}

TEST(Pl2303Flow, RegisterValuesPerType) {
  struct Case {
    const char* chip;
    uint8_t value;
    uint8_t mode;
    bool invalid;
  };
  const Case kCases[] = {
      {"pl2303-hx", 0x61, sim::flow_mode::kRtsCts, false},
      {"pl2303-hx", 0xC1, sim::flow_mode::kXonXoff, false},
      {"pl2303-hx", 0x01, sim::flow_mode::kNone, false},
      {"pl2303-hx", 0x41, sim::flow_mode::kNone, true},  // the H's value on an HX
      {"pl2303-h", 0x41, sim::flow_mode::kRtsCts, false},
      {"pl2303-h", 0x61, sim::flow_mode::kNone, true},
      {"pl2303-h", 0xC1, sim::flow_mode::kNone, true},  // no XON/XOFF on the H
      {"pl2303-tb", 0x60, sim::flow_mode::kRtsCts, false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(c.chip) + " " + std::to_string(c.value));
    sim::Bus bus(sim::ClockMode::manual);
    auto dev = sim::make_device(c.chip, bus);
    ASSERT_EQ(control_out(*dev, kVendorOut, 0x01, 0x0000, c.value), kIOReturnSuccess);
    const auto s = dev->port(0).snapshot();
    EXPECT_EQ(s.flow, c.mode);
    EXPECT_EQ(s.counters.invalid_settings, c.invalid ? 1u : 0u);
    if (c.mode == sim::flow_mode::kXonXoff) {
      EXPECT_EQ(s.xon, 0x11);
      EXPECT_EQ(s.xoff, 0x13);
    }
    EXPECT_EQ(pl(*dev).observed().flow_register, c.value);
  }
  sim::Bus bus(sim::ClockMode::manual);
  auto g = sim::make_device("pl2303-hxn", bus);
  control_out(*g, kVendorOut, 0x80, 0x000A, 0x0C);
  EXPECT_EQ(g->port(0).snapshot().flow, sim::flow_mode::kXonXoff);
  control_out(*g, kVendorOut, 0x80, 0x000A, 0x1C);
  EXPECT_EQ(g->port(0).snapshot().flow, sim::flow_mode::kNone);
  control_out(*g, kVendorOut, 0x80, 0x000A, 0x04);
  EXPECT_EQ(g->port(0).snapshot().counters.invalid_settings, 1u);
}

TEST(Pl2303Purge, OldRegisters8And9AndGSeriesRegister7) {
  for (const char* name : {"pl2303-hx", "pl2303-hxn"}) {
    SCOPED_TRACE(name);
    const bool g = std::string(name) == "pl2303-hxn";
    const auto purge = [&](sim::SimDevice& dev, bool downstream) {
      if (g) {
        return control_out(dev, kVendorOut, 0x80, 0x0007, downstream ? 0x01 : 0x02);
      }
      return control_out(dev, kVendorOut, 0x01, downstream ? 0x0008 : 0x0009, 0);
    };
    sim::Bus bus(sim::ClockMode::manual);
    sim::SimOptions o;
    o.paced = true;  // so bytes stay in the FIFOs long enough to look at
    auto dev = sim::make_device(name, bus, o);
    auto& p = dev->port(0);
    sim::connect_loopback(p);
    control_out(*dev, kClassOut, 0x20, 0, 0, coding(direct(300)));
    Pipe out(*dev, 0x02);
    out.submit_out(pattern(100));
    bus.advance(200ms);  // 300 Bd: ~5 characters on the wire, the rest waits
    auto s = p.snapshot();
    ASSERT_GT(s.tx_fifo_level, 90u);
    ASSERT_GT(s.rx_fifo_level, 3u);
    // Downstream (host -> line) first: only the transmit FIFO goes.
    EXPECT_EQ(purge(*dev, true), kIOReturnSuccess);
    s = p.snapshot();
    EXPECT_EQ(s.tx_fifo_level, 0u);
    EXPECT_GT(s.rx_fifo_level, 3u);
    EXPECT_EQ(purge(*dev, false), kIOReturnSuccess);
    EXPECT_EQ(p.snapshot().rx_fifo_level, 0u);
  }
}

// ------------------------------------------------------------ notifications, data

TEST(Pl2303Notify, ModemChangesAndLineErrors) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("pl2303-hx", bus);
  sim::Terminal term(bus);
  sim::connect_null_modem(dev->port(0), term.port());
  Pipe notify(*dev, 0x81);
  notify.submit_in(10);
  term.set_rts(true);  // -> our CTS; the terminal's DTR -> our DSR and DCD
  bus.run_until_idle();
  auto done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, notification(0x80 | 0x02 | 0x01));
  // Framing error: 0x01 sent at 4800 to us at 9600: our stop-bit sample falls in its data.
  term.configure(sim::LineFormat{4800, 8, sim::Parity::none, sim::StopBits::one});
  notify.submit_in(10);
  term.write({0x01});
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, notification(0x83 | 0x10));
  // Parity error: we at 8E1, the terminal at 8O1.
  control_out(*dev, kClassOut, 0x20, 0, 0, coding(direct(9600), 0, 2));
  term.configure(sim::LineFormat{9600, 8, sim::Parity::odd, sim::StopBits::one});
  notify.submit_in(10);
  term.write({'x'});
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, notification(0x83 | 0x20));
  // Break.
  notify.submit_in(10);
  term.set_break(true);
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data, notification(0x83 | 0x04));
  term.set_break(false);
  // Bulk IN is raw: the errored characters are there, no status bytes.
  Pipe in(*dev, 0x83);
  in.submit_in(64);
  bus.advance(1ms);
  done = in.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data.size(), 3u);
  EXPECT_EQ(done[0].data[1], 'x');
}

TEST(Pl2303Notify, InjectedBytesAndAHostBufferLargerThanAPacket) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("pl2303-tb", bus);
  sim::connect_loopback(dev->port(0));
  Pipe notify(*dev, 0x81);
  notify.submit_in(64);
  control_out(*dev, kClassOut, 0x22, 0x0002, 0);  // RTS -> CTS through the plug
  bus.run_until_idle();
  auto done = notify.take();
  ASSERT_EQ(done.size(), 1u);  // a full 10-byte packet, then a zero-length one ends it
  EXPECT_EQ(done[0].data, notification(0x80));
  notify.submit_in(10);
  notify.submit_in(10);
  dev->inject_interrupt({0xA1, 0x2A, 0x01});
  dev->inject_interrupt(std::vector<uint8_t>(12, 0x55));
  bus.run_until_idle();
  done = notify.take();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].data, (std::vector<uint8_t>{0xA1, 0x2A, 0x01}));
  EXPECT_EQ(done[1].data, std::vector<uint8_t>(10, 0x55));
}

TEST(Pl2303Bulk, RawDataThroughALoopbackPlug) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("pl2303-hxn", bus);
  sim::connect_loopback(dev->port(0));
  Pipe in(*dev, 0x83);
  Pipe out(*dev, 0x02);
  const auto data = pattern(1000);
  out.submit_out(data);
  std::vector<uint8_t> got;
  for (int i = 0; i < 100 && got.size() < data.size(); ++i) {
    in.submit_in(512);
    bus.advance(1ms);
    for (const Done& d : in.take()) {
      got.insert(got.end(), d.data.begin(), d.data.end());
    }
  }
  EXPECT_EQ(got, data);
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.usb_out_bytes, 1000u);
  EXPECT_EQ(c.usb_in_bytes, 1000u);
}

}  // namespace
