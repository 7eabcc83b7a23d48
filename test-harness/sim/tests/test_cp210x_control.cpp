// CP210x simulator: identity, descriptors and vendor requests, through the UsbDeviceBackend
// API only. Expected values: AN571 / AN205 / the data sheets as restated in
// docs/usb-serial-reference.md §3 (requests 0x41 / 0xC1 to the interface with wIndex =
// the interface number; 0xC0 0xFF reads; SET_FLOW as four little-endian u32).
#include <gtest/gtest.h>

#include "sim/cp210x.hpp"
#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kOut = 0x41;
constexpr uint8_t kIn = 0xC1;
constexpr uint8_t kDevIn = 0xC0;

std::vector<uint8_t> le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

std::vector<uint8_t> words(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  std::vector<uint8_t> out;
  for (const uint32_t v : {a, b, c, d}) {
    const auto w = le32(v);
    out.insert(out.end(), w.begin(), w.end());
  }
  return out;
}

void enable(sim::SimDevice& dev, uint16_t interface_number = 0) {
  ASSERT_EQ(control_out(dev, kOut, 0x00, 1, interface_number), kIOReturnSuccess);
}

TEST(Cp210xDescriptors, EveryVariant) {
  struct Expected {
    const char* chip;
    uint16_t pid;
    size_t ports;
    const char* product;
    std::vector<uint16_t> max_packet;
  };
  const Expected table[] = {
      {"cp2102", 0xEA60, 1, "CP2102 USB to UART Bridge Controller", {64}},
      {"cp2102n", 0xEA60, 1, "CP2102N USB to UART Bridge Controller", {64}},
      {"cp2104", 0xEA60, 1, "CP2104 USB to UART Bridge Controller", {64}},
      {"cp2105", 0xEA70, 2, "CP2105 Dual USB to UART Bridge Controller", {64, 32}},
      {"cp2108", 0xEA71, 4, "CP2108 Quad USB to UART Bridge Controller", {64, 64, 64, 64}},
  };
  sim::Bus bus(sim::ClockMode::manual);
  for (const Expected& e : table) {
    sim::SimOptions o;
    o.serial = "0001";
    auto dev = sim::make_device(e.chip, bus, o);
    ASSERT_NE(dev, nullptr) << e.chip;
    EXPECT_EQ(dev->chip(), e.chip);
    EXPECT_EQ(dev->port_count(), e.ports);
    EXPECT_EQ(dev->speed(), hostkit::UsbSpeed::full);
    const auto d = dev->device_descriptor();
    ASSERT_EQ(d.size(), 18u);
    EXPECT_EQ(d[8] | (d[9] << 8), 0x10C4);
    EXPECT_EQ(d[10] | (d[11] << 8), e.pid);
    EXPECT_EQ(ascii_of(dev->string_descriptor(d[14])), "Silicon Labs");
    EXPECT_EQ(ascii_of(dev->string_descriptor(d[15])), e.product);
    EXPECT_EQ(ascii_of(dev->string_descriptor(d[16])), "0001");
    const auto ifs = walk_config(dev->configuration_descriptor());
    ASSERT_EQ(ifs.size(), e.ports);
    for (size_t i = 0; i < e.ports; ++i) {
      SCOPED_TRACE(std::string(e.chip) + " interface " + std::to_string(i));
      EXPECT_EQ(ifs[i].number, i);
      EXPECT_EQ(ifs[i].cls, 0xFF);
      ASSERT_EQ(ifs[i].endpoints.size(), 2u);  // bulk IN + bulk OUT, no interrupt endpoint
      EXPECT_EQ(ifs[i].endpoints[0].address, 0x81 + i);
      EXPECT_EQ(ifs[i].endpoints[1].address, 0x01 + i);
      for (const auto& ep : ifs[i].endpoints) {
        EXPECT_EQ(ep.attributes, 0x02);
        EXPECT_EQ(ep.max_packet, e.max_packet[i]);
      }
    }
  }
}

TEST(Cp210xVendorReads, PartNumberAndFirmware) {
  sim::Bus bus(sim::ClockMode::manual);
  struct Part {
    const char* chip;
    uint8_t number;
  };
  for (const Part& p : {Part{"cp2102", 0x02}, Part{"cp2102n", 0x20}, Part{"cp2104", 0x04},
                        Part{"cp2105", 0x05}, Part{"cp2108", 0x08}}) {
    auto dev = sim::make_device(p.chip, bus);
    // Answered before IFC_ENABLE (Linux reads it at attach).
    auto one = control_in(*dev, kDevIn, 0xFF, 0x370B, 0, 1);
    EXPECT_EQ(one.first, kIOReturnSuccess);
    EXPECT_EQ(one.second, (std::vector<uint8_t>{p.number})) << p.chip;
    EXPECT_EQ(control_in(*dev, kDevIn, 0xFF, 0x370B, 0, 2).second.size(), 2u) << p.chip;
  }
  auto n = sim::make_device("cp2102n", bus);
  EXPECT_EQ(control_in(*n, kDevIn, 0xFF, 0x0010, 0, 3).second, (std::vector<uint8_t>{1, 0, 8}));
  auto dual = sim::make_device("cp2105", bus);
  EXPECT_EQ(control_in(*dual, kDevIn, 0xFF, 0x000E, 1, 3).second, (std::vector<uint8_t>{1, 0, 0}));
  auto plain = sim::make_device("cp2102", bus);
  EXPECT_EQ(control_in(*plain, kDevIn, 0xFF, 0x0010, 0, 3).first, kIOUSBPipeStalled);
  EXPECT_EQ(control_in(*plain, kDevIn, 0xFF, 0x1234, 0, 1).first, kIOUSBPipeStalled);
}

TEST(Cp210xVendorReads, TheQuirkyCp2102AnswersOneByteAndHasNoEvents) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::cp210x::Quirks quirks;
  quirks.one_byte_part_number = true;
  sim::cp210x::Cp210xDevice dev(bus, *sim::cp210x::find_variant("cp2102"), {}, quirks);
  EXPECT_EQ(control_in(dev, kDevIn, 0xFF, 0x370B, 0, 2).second, (std::vector<uint8_t>{0x02}));
  enable(dev);
  EXPECT_EQ(control_out(dev, kOut, 0x15, 0xEC, 0), kIOUSBPipeStalled);
}

TEST(Cp210xControl, NothingButIfcEnableWorksBeforeIt) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cp2104", bus);
  EXPECT_EQ(control_out(*dev, kOut, 0x1E, 0, 0, le32(115200)), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dev, kOut, 0x07, 0x0303, 0), kIOUSBPipeStalled);
  EXPECT_EQ(control_in(*dev, kIn, 0x08, 0, 0, 1).first, kIOUSBPipeStalled);
  EXPECT_DOUBLE_EQ(dev->port(0).snapshot().line.baud, 9600.0);
  enable(*dev);
  EXPECT_EQ(control_out(*dev, kOut, 0x1E, 0, 0, le32(115200)), kIOReturnSuccess);
  EXPECT_DOUBLE_EQ(dev->port(0).snapshot().line.baud, 48e6 / 416);
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.control_requests, 5u);
  EXPECT_EQ(c.stalled_requests, 3u);
  // Disabling: later requests stall again, and event insertion is off.
  EXPECT_EQ(control_out(*dev, kOut, 0x15, 0xEC, 0), kIOReturnSuccess);
  EXPECT_EQ(control_out(*dev, kOut, 0x00, 0, 0), kIOReturnSuccess);
  auto& cp = static_cast<sim::cp210x::Cp210xDevice&>(*dev);
  EXPECT_FALSE(cp.state(0).enabled);
  EXPECT_EQ(cp.state(0).escape, 0);
  EXPECT_EQ(control_out(*dev, kOut, 0x07, 0x0303, 0), kIOUSBPipeStalled);
}

TEST(Cp210xControl, WIndexSelectsTheUartAndWrongRequestsStall) {
  sim::Bus bus(sim::ClockMode::manual);
  auto quad = sim::make_device("cp2108", bus);
  enable(*quad, 2);
  EXPECT_EQ(control_out(*quad, kOut, 0x07, 0x0101, 2), kIOReturnSuccess);
  EXPECT_TRUE(quad->port(2).snapshot().host_dtr);
  EXPECT_FALSE(quad->port(0).snapshot().host_dtr);
  EXPECT_EQ(control_out(*quad, kOut, 0x07, 0x0101, 0), kIOUSBPipeStalled);     // UART 0 disabled
  EXPECT_EQ(control_out(*quad, kOut, 0x00, 1, 4), kIOUSBPipeStalled);          // no UART 4
  EXPECT_EQ(control_out(*quad, 0x40, 0x00, 1, 2), kIOUSBPipeStalled);          // device recipient
  EXPECT_EQ(control_out(*quad, kOut, 0x55, 0, 2), kIOUSBPipeStalled);          // unknown request
  EXPECT_EQ(control_out(*quad, kOut, 0x08, 0, 2), kIOUSBPipeStalled);          // OUT GET_MDMSTS
  EXPECT_EQ(control_in(*quad, kIn, 0x07, 0, 2, 1).first, kIOUSBPipeStalled);   // IN SET_MHS
  EXPECT_EQ(control_out(*quad, kOut, 0x1E, 0, 2, {0, 1}), kIOUSBPipeStalled);  // 2-byte rate
}

TEST(Cp210xControl, RatesPerPart) {
  sim::Bus bus(sim::ClockMode::manual);
  auto table = sim::make_device("cp2102", bus);
  enable(*table);
  control_out(*table, kOut, 0x1E, 0, 0, le32(4803));
  auto s = table->port(0).snapshot();
  EXPECT_DOUBLE_EQ(s.line.baud, 4800.0);
  EXPECT_EQ(s.chip.baud_encoded, 4803u);
  EXPECT_FALSE(s.garbled);
  control_out(*table, kOut, 0x1E, 0, 0, le32(1'100'000));  // AN205: undefined
  s = table->port(0).snapshot();
  EXPECT_TRUE(s.chip.baud_invalid);
  EXPECT_TRUE(s.garbled);
  EXPECT_EQ(s.counters.invalid_settings, 1u);
  control_out(*table, kOut, 0x1E, 0, 0, le32(921600));
  EXPECT_FALSE(table->port(0).snapshot().garbled);
  auto got = control_in(*table, kIn, 0x1D, 0, 0, 4);
  EXPECT_EQ(got.second, le32(921600));

  auto n = sim::make_device("cp2102n", bus);
  enable(*n);
  control_out(*n, kOut, 0x1E, 0, 0, le32(3'000'000));
  EXPECT_DOUBLE_EQ(n->port(0).snapshot().line.baud, 3e6);
  control_out(*n, kOut, 0x1E, 0, 0, le32(3'500'000));  // above the data sheet's range
  EXPECT_TRUE(n->port(0).snapshot().garbled);

  auto dual = sim::make_device("cp2105", bus);
  enable(*dual, 0);
  enable(*dual, 1);
  EXPECT_EQ(control_out(*dual, kOut, 0x1E, 0, 1, le32(1200)), kIOUSBPipeStalled);  // SCI < 2400
  EXPECT_EQ(control_out(*dual, kOut, 0x1E, 0, 1, le32(1'000'000)), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*dual, kOut, 0x1E, 0, 1, le32(115200)), kIOReturnSuccess);
  EXPECT_DOUBLE_EQ(dual->port(1).snapshot().line.baud, 115200.0);  // the SCI port's table
  EXPECT_EQ(control_out(*dual, kOut, 0x1E, 0, 0, le32(115200)), kIOReturnSuccess);
  EXPECT_DOUBLE_EQ(dual->port(0).snapshot().line.baud, 48e6 / 416);  // the ECI port's divider

  auto quad = sim::make_device("cp2108", bus);
  enable(*quad, 3);
  control_out(*quad, kOut, 0x1E, 0, 3, le32(1'500'000));
  EXPECT_DOUBLE_EQ(quad->port(3).snapshot().line.baud, 1.5e6);
  control_out(*quad, kOut, 0x1E, 0, 3, le32(999'999));
  EXPECT_DOUBLE_EQ(quad->port(3).snapshot().line.baud, 921600.0);
}

TEST(Cp210xControl, LineControl) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cp2102", bus);
  enable(*dev);
  auto& p = dev->port(0);
  control_out(*dev, kOut, 0x03, 0x0722, 0);  // 7 data bits, even parity, 2 stop bits
  auto s = p.snapshot();
  EXPECT_EQ(s.line.data_bits, 7);
  EXPECT_EQ(s.line.parity, sim::Parity::even);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::two);
  EXPECT_EQ(control_in(*dev, kIn, 0x04, 0, 0, 2).second, (std::vector<uint8_t>{0x22, 0x07}));
  control_out(*dev, kOut, 0x03, 0x0541, 0);  // 5 bits, space, 1.5 stop bits
  s = p.snapshot();
  EXPECT_EQ(s.line.data_bits, 5);
  EXPECT_EQ(s.line.parity, sim::Parity::space);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::one_and_half);
  // Not formats the UART has: kept as before, counted.
  for (const uint16_t bad : {0x0801, 0x0900, 0x0400, 0x0850, 0x0803}) {
    control_out(*dev, kOut, 0x03, bad, 0);
  }
  s = p.snapshot();
  EXPECT_EQ(s.line.data_bits, 5);
  EXPECT_TRUE(s.chip.format_invalid);
  EXPECT_EQ(s.counters.invalid_settings, 5u);

  auto dual = sim::make_device("cp2105", bus);
  enable(*dual, 1);
  control_out(*dual, kOut, 0x03, 0x0810, 1);  // 8 bits, odd: fine on SCI
  EXPECT_EQ(dual->port(1).snapshot().line.parity, sim::Parity::odd);
  for (const uint16_t narrow : {0x0700, 0x0830, 0x0802}) {  // 7 bits, mark, 2 stop bits
    control_out(*dual, kOut, 0x03, narrow, 1);
  }
  s = dual->port(1).snapshot();
  EXPECT_EQ(s.line.data_bits, 8);
  EXPECT_EQ(s.line.parity, sim::Parity::odd);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::one);
  EXPECT_EQ(s.counters.invalid_settings, 3u);
}

TEST(Cp210xControl, ModemLinesBreakAndPurge) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cp2104", bus);
  enable(*dev);
  auto& p = dev->port(0);
  sim::connect_loopback(p);                  // RTS -> CTS, DTR -> DSR and DCD
  control_out(*dev, kOut, 0x07, 0x0003, 0);  // levels without "apply": nothing
  EXPECT_EQ(control_in(*dev, kIn, 0x08, 0, 0, 1).second, (std::vector<uint8_t>{0x00}));
  control_out(*dev, kOut, 0x07, 0x0202, 0);  // RTS
  EXPECT_EQ(control_in(*dev, kIn, 0x08, 0, 0, 1).second, (std::vector<uint8_t>{0x12}));
  control_out(*dev, kOut, 0x07, 0x0101, 0);  // DTR
  EXPECT_EQ(control_in(*dev, kIn, 0x08, 0, 0, 1).second, (std::vector<uint8_t>{0xB3}));
  control_out(*dev, kOut, 0x07, 0x0300, 0);
  EXPECT_EQ(control_in(*dev, kIn, 0x08, 0, 0, 1).second, (std::vector<uint8_t>{0x00}));

  control_out(*dev, kOut, 0x05, 1, 0);
  EXPECT_TRUE(p.snapshot().break_on);
  control_out(*dev, kOut, 0x05, 0, 0);
  EXPECT_FALSE(p.snapshot().break_on);

  // PURGE: bits 0/2 transmit side, 1/3 receive side.
  sim::disconnect(p);
  Pipe out(*dev, 0x01);
  out.submit_out(std::vector<uint8_t>(40, 'x'));
  bus.run_until_idle();
  sim::Terminal far(bus);
  sim::connect_null_modem(p, far.port());
  far.write(std::vector<uint8_t>(10, 'y'));
  bus.run_until_idle();
  EXPECT_GT(p.snapshot().rx_fifo_level, 0u);
  control_out(*dev, kOut, 0x12, 0x000A, 0);
  EXPECT_EQ(p.snapshot().rx_fifo_level, 0u);
}

TEST(Cp210xControl, FlowWordsReachThePort) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cp2104", bus);
  enable(*dev);
  auto& p = dev->port(0);
  auto& cp = static_cast<sim::cp210x::Cp210xDevice&>(*dev);
  // DTR active + CTS handshake; RTS flow control.
  control_out(*dev, kOut, 0x13, 0, 0, words(0x09, 0x80, 128, 128));
  auto s = p.snapshot();
  EXPECT_EQ(s.flow, sim::flow_mode::kRtsCts);
  EXPECT_TRUE(s.host_dtr);
  EXPECT_TRUE(s.host_rts);
  EXPECT_EQ(control_in(*dev, kIn, 0x14, 0, 0, 16).second, words(0x09, 0x80, 128, 128));
  // DTR flow control + DSR handshake; XON/XOFF both ways with the characters of SET_CHARS.
  control_out(*dev, kOut, 0x19, 0, 0, {0, 0, 0, 0, 0x05, 0x06});
  control_out(*dev, kOut, 0x13, 0, 0, words(0x12, 0x43, 128, 128));
  s = p.snapshot();
  EXPECT_EQ(s.flow, sim::flow_mode::kDtrDsr | sim::flow_mode::kXonXoff);
  EXPECT_EQ(s.xon, 0x05);
  EXPECT_EQ(s.xoff, 0x06);
  // Lines inactive, nothing on.
  control_out(*dev, kOut, 0x13, 0, 0, words(0, 0, 0, 0));
  s = p.snapshot();
  EXPECT_EQ(s.flow, sim::flow_mode::kNone);
  EXPECT_FALSE(s.host_dtr);
  EXPECT_FALSE(s.host_rts);
  // SET_MHS writes the DTR / RTS modes of the same structure.
  control_out(*dev, kOut, 0x07, 0x0303, 0);
  EXPECT_EQ(cp.state(0).flow[0] & 3u, 1u);
  EXPECT_EQ((cp.state(0).flow[1] >> 6) & 3u, 1u);
  EXPECT_EQ(control_out(*dev, kOut, 0x13, 0, 0, {1, 2, 3}), kIOUSBPipeStalled);  // 3 bytes
}

TEST(Cp210xControl, ErratumE104TakesTheXonLimitAsFlowReplace) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::cp210x::Quirks old_firmware;
  old_firmware.firmware = {1, 0, 4};
  sim::cp210x::Cp210xDevice affected(bus, *sim::cp210x::find_variant("cp2102n"), {}, old_firmware);
  EXPECT_EQ(control_in(affected, kDevIn, 0xFF, 0x0010, 0, 3).second,
            (std::vector<uint8_t>{1, 0, 4}));
  enable(affected);
  // Asked: nothing but RTS active; the XON limit 128 (bit 7: RTS mode 2) is what it takes.
  control_out(affected, kOut, 0x13, 0, 0, words(0x00, 0x40, 128, 128));
  EXPECT_EQ(affected.state(0).flow[1], 128u);
  // The current firmware takes what it is given.
  auto fixed = sim::make_device("cp2102n", bus);
  enable(*fixed);
  control_out(*fixed, kOut, 0x13, 0, 0, words(0x00, 0x40, 128, 128));
  EXPECT_EQ(static_cast<sim::cp210x::Cp210xDevice&>(*fixed).state(0).flow[1], 0x40u);
}

TEST(Cp210xControl, CommStatusErrorsQueuesAndHoldReasons) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("cp2102", bus);
  enable(*dev);
  auto& p = dev->port(0);
  sim::Terminal far(bus);
  sim::connect_null_modem(p, far.port());
  // The far end at 9600 8E1, the chip at 9600 8N1 (its power-up): the chip samples the
  // parity bit as its stop bit. 0x01 has an odd weight, so even parity sends a 1 there (a
  // good stop bit); 0x03 has an even weight and sends a 0: a framing error.
  sim::LineFormat even;
  even.parity = sim::Parity::even;
  far.configure(even);
  far.write(std::vector<uint8_t>(8, 0x01));
  far.write(std::vector<uint8_t>(8, 0x03));
  bus.run_until_idle();
  auto got = control_in(*dev, kIn, 0x10, 0, 0, 19);
  ASSERT_EQ(got.first, kIOReturnSuccess);
  ASSERT_EQ(got.second.size(), 19u);
  EXPECT_EQ(got.second[0] & 0x02, 0x02);  // framing
  const uint32_t in_queue = got.second[8] | (got.second[9] << 8);
  EXPECT_EQ(in_queue, p.snapshot().rx_fifo_level);
  // Read clears the errors.
  EXPECT_EQ(control_in(*dev, kIn, 0x10, 0, 0, 19).second[0], 0);
  // RTS/CTS with CTS low: the transmitter waits (hold reason bit 0).
  sim::disconnect(p);
  control_out(*dev, kOut, 0x13, 0, 0, words(0x08, 0x00, 0, 0));
  EXPECT_EQ(control_in(*dev, kIn, 0x10, 0, 0, 19).second[4] & 0x01, 0x01);
}

}  // namespace
