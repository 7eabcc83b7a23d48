// CH34x simulator: identity, descriptors and vendor requests, through the UsbDeviceBackend
// API only. Expected values: docs/usb-serial-reference.md §0 and §4 (ch341.c requests
// and registers, 32-byte bulk endpoints, 8-byte interrupt endpoint), the CH340 data sheet
// (default IDs, 98 mA, 1 or 2 stop bits, odd/even/mark/space), WCH's driver (register 0x27).
#include <gtest/gtest.h>

#include "sim/ch34x.hpp"
#include "sim_test_util.hpp"

namespace {

using namespace simtest;

constexpr uint8_t kOut = 0x40;
constexpr uint8_t kIn = 0xC0;

struct Rig {
  sim::Bus bus{sim::ClockMode::manual};
  std::unique_ptr<sim::SimDevice> dev;
  explicit Rig(const char* chip = "ch340") { dev = sim::make_device(chip, bus, {}); }
  Rig(const char* chip, sim::ch34x::Quirks quirks) {
    dev = std::make_unique<sim::ch34x::Ch34xDevice>(bus, *sim::ch34x::find_variant(chip),
                                                    sim::SimOptions{}, quirks);
  }
  sim::PortSnapshot snap() { return dev->port(0).snapshot(); }
  std::vector<uint8_t> read_regs(uint16_t pair) {
    auto [r, data] = control_in(*dev, kIn, 0x95, pair, 0, 2);
    EXPECT_EQ(r, kIOReturnSuccess);
    return data;
  }
};

TEST(Ch34xDescriptors, BothVariants) {
  struct Expected {
    const char* chip;
    uint16_t pid;
    uint8_t version;
  };
  for (const Expected& e : {Expected{"ch340", 0x7523, 0x31}, Expected{"ch341a", 0x5523, 0x30}}) {
    SCOPED_TRACE(e.chip);
    sim::Bus bus(sim::ClockMode::manual);
    sim::SimOptions o;
    o.serial = "SIM1";
    auto dev = sim::make_device(e.chip, bus, o);
    ASSERT_NE(dev, nullptr);
    EXPECT_EQ(dev->chip(), e.chip);
    EXPECT_EQ(dev->port_count(), 1u);
    EXPECT_EQ(dev->speed(), hostkit::UsbSpeed::full);
    const auto d = dev->device_descriptor();
    ASSERT_EQ(d.size(), 18u);
    EXPECT_EQ(d[4], 0xFF);  // vendor-specific device class
    EXPECT_EQ(d[7], 8);     // bMaxPacketSize0
    EXPECT_EQ(d[8] | (d[9] << 8), 0x1A86);
    EXPECT_EQ(d[10] | (d[11] << 8), e.pid);
    EXPECT_EQ(d[14], 0);  // no manufacturer string
    EXPECT_EQ(ascii_of(dev->string_descriptor(d[16])), "SIM1");
    const auto cfg = dev->configuration_descriptor();
    EXPECT_EQ(cfg[8], 0x31);  // 98 mA (CH340 data sheet: PWR default 31H)
    const auto interfaces = walk_config(cfg);
    ASSERT_EQ(interfaces.size(), 1u);
    EXPECT_EQ(interfaces[0].cls, 0xFF);
    EXPECT_EQ(interfaces[0].subclass, 0x01);
    EXPECT_EQ(interfaces[0].protocol, 0x02);
    ASSERT_EQ(interfaces[0].endpoints.size(), 3u);
    EXPECT_EQ(interfaces[0].endpoints[0].address, 0x82);
    EXPECT_EQ(interfaces[0].endpoints[0].attributes, 0x02);
    EXPECT_EQ(interfaces[0].endpoints[0].max_packet, 32);
    EXPECT_EQ(interfaces[0].endpoints[1].address, 0x02);
    EXPECT_EQ(interfaces[0].endpoints[1].max_packet, 32);
    EXPECT_EQ(interfaces[0].endpoints[2].address, 0x81);
    EXPECT_EQ(interfaces[0].endpoints[2].attributes, 0x03);
    EXPECT_EQ(interfaces[0].endpoints[2].max_packet, 8);
    auto [r, version] = control_in(*dev, kIn, 0x5F, 0, 0, 2);
    EXPECT_EQ(r, kIOReturnSuccess);
    EXPECT_EQ(version, (std::vector<uint8_t>{e.version, 0x00}));
  }
}

TEST(Ch34xControl, PowerUpIs9600Bd8N1WithTheLinesReleased) {
  Rig r;
  const auto s = r.snap();
  EXPECT_NEAR(s.line.baud, 48e6 / (64 * 78), 1e-6);
  EXPECT_EQ(s.line.data_bits, 8);
  EXPECT_EQ(s.line.parity, sim::Parity::none);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::one);
  EXPECT_FALSE(s.dtr);
  EXPECT_FALSE(s.rts);
  EXPECT_FALSE(s.break_on);
  // Register 0x06 inverted: nothing asserted reads 0xFF; 0x07 reads 0xEE (ch341.c comments).
  EXPECT_EQ(r.read_regs(0x0706), (std::vector<uint8_t>{0xFF, 0xEE}));
}

TEST(Ch34xControl, ModemControlIsActiveLow) {
  Rig r;
  ASSERT_EQ(control_out(*r.dev, kOut, 0xA4, 0xFF9F, 0), kIOReturnSuccess);  // ~(0x20 | 0x40)
  EXPECT_TRUE(r.snap().dtr);
  EXPECT_TRUE(r.snap().rts);
  EXPECT_EQ(r.read_regs(0x0706)[0], 0x9F);
  ASSERT_EQ(control_out(*r.dev, kOut, 0xA4, 0xFFDF, 0), kIOReturnSuccess);  // DTR only
  EXPECT_TRUE(r.snap().dtr);
  EXPECT_FALSE(r.snap().rts);
  ASSERT_EQ(control_out(*r.dev, kOut, 0xA4, 0x00BF, 0), kIOReturnSuccess);  // WCH's 8-bit form
  EXPECT_FALSE(r.snap().dtr);
  EXPECT_TRUE(r.snap().rts);
  ASSERT_EQ(control_out(*r.dev, kOut, 0xA4, 0xFFFF, 0), kIOReturnSuccess);
  EXPECT_FALSE(r.snap().dtr);
  EXPECT_FALSE(r.snap().rts);
}

TEST(Ch34xControl, InputsReadInvertedWithALoopbackPlug) {
  Rig r;
  sim::connect_loopback(r.dev->port(0));  // RTS->CTS, DTR->DSR and DCD
  control_out(*r.dev, kOut, 0xA4, 0xFF9F, 0);
  r.bus.run_until_idle();
  const auto s = r.snap();
  EXPECT_TRUE(s.cts && s.dsr && s.dcd && !s.ri);
  EXPECT_EQ(r.read_regs(0x0706)[0], 0x94);  // ~(0x01 | 0x02 | 0x08 | 0x20 | 0x40)
}

TEST(Ch34xControl, SerialInitResetsLineAndDropsDtrRts) {
  Rig r;
  control_out(*r.dev, kOut, 0xA4, 0xFF9F, 0);
  control_out(*r.dev, kOut, 0x9A, 0x1312, 0xCC83);
  control_out(*r.dev, kOut, 0x9A, 0x2518, 0x00DA);
  control_out(*r.dev, kOut, 0x9A, 0x2727, 0x0101);
  ASSERT_EQ(control_out(*r.dev, kOut, 0xA1, 0, 0), kIOReturnSuccess);
  const auto s = r.snap();
  EXPECT_NEAR(s.line.baud, 9615.38, 0.01);
  EXPECT_EQ(s.line.data_bits, 8);
  EXPECT_EQ(s.line.parity, sim::Parity::none);
  EXPECT_EQ(s.flow, sim::flow_mode::kNone);
  EXPECT_FALSE(s.dtr);
  EXPECT_FALSE(s.rts);
  // WCH's "line setting" form of 0xA1 is not modelled: counted, nothing changes.
  ASSERT_EQ(control_out(*r.dev, kOut, 0xA1, 0x501F, 0xD90A), kIOReturnSuccess);
  EXPECT_EQ(r.snap().counters.invalid_settings, 1u);
  EXPECT_NEAR(r.snap().line.baud, 9615.38, 0.01);
}

TEST(Ch34xControl, RateRegistersDecodeAsTheGeneratorFormula) {
  struct Case {
    uint16_t value;  // wIndex of WRITE_REG 0x1312: reg13 << 8 | reg12
    double baud;
    bool valid;
  };
  const Case cases[] = {
      {0xCC83, 48e6 / (8 * 52), true},      // ps 3, fact 0, div 52, BIT(7)
      {0xF387, 48e6 / (4 * 13), true},      // ps 3, fact 1, div 13: 923 077 Bd
      {0xB202, 48e6 / (64 * 78), true},     // no BIT(7): same rate
      {0x0080, 48e6 / (4096 * 256), true},  // divisor register 0 = div 256: 45.78 Bd
      {0xFE83, 48e6 / (8 * 2), true},       // div 2: 3 MBd
      {0xFF83, 48e6 / (8 * 1), false},      // div 1: not a valid setting
      {0xF886, 48e6 / (32 * 8), false},     // fact 1 with div 8 < 9
      {0xF786, 48e6 / (32 * 9), true},      // fact 1 with div 9
  };
  Rig r;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x1312, c.value), kIOReturnSuccess);
    const auto s = r.snap();
    EXPECT_NEAR(s.line.baud, c.baud, 1e-6);
    EXPECT_EQ(s.chip.baud_invalid, !c.valid);
    EXPECT_EQ(s.garbled, !c.valid);
    EXPECT_EQ(s.chip.baud_encoded, c.value);
    EXPECT_EQ(r.read_regs(0x1312), (std::vector<uint8_t>{static_cast<uint8_t>(c.value & 0xFF),
                                                         static_cast<uint8_t>(c.value >> 8)}));
  }
  EXPECT_EQ(r.snap().counters.invalid_settings, 2u);
}

TEST(Ch34xControl, LcrSetsTheFormat) {
  struct Case {
    uint8_t lcr;
    uint8_t bits;
    sim::Parity parity;
    sim::StopBits stop;
  };
  const Case cases[] = {
      {0xC3, 8, sim::Parity::none, sim::StopBits::one},
      {0xDA, 7, sim::Parity::even, sim::StopBits::one},
      {0xC9, 6, sim::Parity::odd, sim::StopBits::one},
      {0xC4, 5, sim::Parity::none, sim::StopBits::two},
      {0xEB, 8, sim::Parity::mark, sim::StopBits::one},
      {0xFF, 8, sim::Parity::space, sim::StopBits::two},
  };
  Rig r("ch341a");
  for (const Case& c : cases) {
    SCOPED_TRACE(int{c.lcr});
    ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x2518, c.lcr), kIOReturnSuccess);
    const auto s = r.snap();
    EXPECT_EQ(s.line.data_bits, c.bits);
    EXPECT_EQ(s.line.parity, c.parity);
    EXPECT_EQ(s.line.stop_bits, c.stop);
  }
  EXPECT_EQ(r.snap().counters.invalid_settings, 0u);
  control_out(*r.dev, kOut, 0x9A, 0x2518, 0x01C3);  // LCR2 must be 0
  EXPECT_EQ(r.snap().counters.invalid_settings, 1u);
}

TEST(Ch34xControl, ChipsOlderThan0x30HaveNoLcrRegister) {
  Rig r("ch340", sim::ch34x::Quirks{0x27, false});
  auto [status, version] = control_in(*r.dev, kIn, 0x5F, 0, 0, 2);
  EXPECT_EQ(version[0], 0x27);
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x2518, 0x00DA), kIOReturnSuccess);
  const auto s = r.snap();
  EXPECT_EQ(s.line.data_bits, 8);  // unchanged: 8N1
  EXPECT_EQ(s.line.parity, sim::Parity::none);
  EXPECT_EQ(s.counters.invalid_settings, 1u);
}

TEST(Ch34xControl, PartialPacketBitFollowsTheVersionRule) {
  using sim::ch34x::sends_partial_packets;
  EXPECT_TRUE(sends_partial_packets(0x82, 0x31));
  EXPECT_FALSE(sends_partial_packets(0x02, 0x31));
  EXPECT_TRUE(sends_partial_packets(0x82, 0x28));
  EXPECT_FALSE(sends_partial_packets(0x82, 0x27));  // inverted on 0x27 (ch341.c)
  EXPECT_TRUE(sends_partial_packets(0x02, 0x27));
}

TEST(Ch34xControl, BreakThroughRegister5AndTheLcr) {
  Rig r;
  ASSERT_EQ(r.read_regs(0x1805), (std::vector<uint8_t>{0x01, 0xC3}));
  // ch341.c: NOT-break and TX enable cleared together.
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x1805, 0x8300), kIOReturnSuccess);
  EXPECT_TRUE(r.snap().break_on);
  EXPECT_TRUE(r.dev->port(0).snapshot().counters.stalled_requests == 0);
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x1805, 0xC301), kIOReturnSuccess);
  EXPECT_FALSE(r.snap().break_on);
}

TEST(Ch34xControl, FlowControlRegister) {
  Rig r;
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x2727, 0x0101), kIOReturnSuccess);
  EXPECT_EQ(r.snap().flow, sim::flow_mode::kRtsCts);
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x2727, 0x0000), kIOReturnSuccess);
  EXPECT_EQ(r.snap().flow, sim::flow_mode::kNone);
  control_out(*r.dev, kOut, 0x9A, 0x2727, 0x0202);
  EXPECT_EQ(r.snap().counters.invalid_settings, 2u);  // both halves
  EXPECT_EQ(r.snap().flow, sim::flow_mode::kNone);
}

TEST(Ch34xControl, LimitedCloneStallsTheBreakRegisterAndNeedsFact0BelowPs3) {
  Rig r("ch340", sim::ch34x::Quirks{std::nullopt, true});
  auto [status, data] = control_in(*r.dev, kIn, 0x95, 0x0005, 0, 2);
  EXPECT_EQ(status, kIOUSBPipeStalled);
  EXPECT_EQ(control_in(*r.dev, kIn, 0x95, 0x1805, 0, 2).first, kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*r.dev, kOut, 0x9A, 0x1805, 0x8300), kIOUSBPipeStalled);
  EXPECT_EQ(control_in(*r.dev, kIn, 0x95, 0x0706, 0, 2).first, kIOReturnSuccess);
  EXPECT_FALSE(r.snap().break_on);
  // ps 2, fact 1 (0x06): "some devices require a lower base clock if ps < 3" (ch341.c).
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x1312, 0xBF86), kIOReturnSuccess);
  EXPECT_TRUE(r.snap().garbled);
  ASSERT_EQ(control_out(*r.dev, kOut, 0x9A, 0x1312, 0xF387), kIOReturnSuccess);  // ps 3
  EXPECT_FALSE(r.snap().garbled);
  EXPECT_EQ(r.snap().counters.stalled_requests, 3u);
}

TEST(Ch34xControl, UnknownRequestsAndDirectionsStall) {
  Rig r;
  EXPECT_EQ(control_out(*r.dev, kOut, 0x5F, 0, 0), kIOUSBPipeStalled);  // an IN request as OUT
  EXPECT_EQ(control_in(*r.dev, kIn, 0x9A, 0x1312, 0, 2).first, kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*r.dev, kOut, 0x77, 0, 0), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*r.dev, 0x21, 0x20, 0, 0, {0x80, 0x25, 0, 0, 0, 0, 8}),
            kIOUSBPipeStalled);  // CDC SET_LINE_CODING is not understood
  EXPECT_EQ(control_out(*r.dev, 0x41, 0xA4, 0xFF9F, 0), kIOUSBPipeStalled);  // to an interface
  const auto s = r.snap();
  EXPECT_EQ(s.counters.stalled_requests, 5u);
  EXPECT_FALSE(s.dtr);
}

}  // namespace
