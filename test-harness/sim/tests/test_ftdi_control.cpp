// FTDI simulator: identity, descriptors and vendor requests, through the
// UsbDeviceBackend API only. Expected values: ftdi_sio.h / AN232B-05 /
// docs/usb-serial-reference.md §2.
#include <gtest/gtest.h>

#include "sim_test_util.hpp"

namespace {

using namespace simtest;
using namespace std::chrono_literals;

constexpr uint8_t kOut = 0x40;
constexpr uint8_t kIn = 0xC0;

struct Expected {
  const char* chip;
  uint16_t bcd;
  uint16_t pid;
  size_t ports;
  bool high_speed;
  const char* product;
};

TEST(FtdiDescriptors, EveryVariant) {
  const Expected table[] = {
      {"ft232bm", 0x0400, 0x6001, 1, false, "USB <-> Serial"},
      {"ft232r", 0x0600, 0x6001, 1, false, "FT232R USB UART"},
      {"ft-x", 0x1000, 0x6015, 1, false, "FT230X Basic UART"},
      {"ft2232c", 0x0500, 0x6010, 2, false, "Dual RS232"},
      {"ft232h", 0x0900, 0x6014, 1, true, "Single RS232-HS"},
      {"ft2232h", 0x0700, 0x6010, 2, true, "Dual RS232-HS"},
      {"ft4232h", 0x0800, 0x6011, 4, true, "Quad RS232-HS"},
  };
  sim::Bus bus(sim::ClockMode::manual);
  for (const Expected& e : table) {
    for (bool fs_port : {false, true}) {
      sim::SimOptions o;
      o.serial = "FT123456";
      o.full_speed_port = fs_port;
      auto dev = sim::make_device(e.chip, bus, o);
      ASSERT_NE(dev, nullptr) << e.chip;
      EXPECT_EQ(dev->chip(), e.chip);
      EXPECT_EQ(dev->port_count(), e.ports);
      const auto d = dev->device_descriptor();
      ASSERT_EQ(d.size(), 18u);
      EXPECT_EQ(d[1], 0x01);
      EXPECT_EQ(d[8] | (d[9] << 8), 0x0403);
      EXPECT_EQ(d[10] | (d[11] << 8), e.pid);
      EXPECT_EQ(d[12] | (d[13] << 8), e.bcd);
      EXPECT_EQ(d[16], 3);  // iSerialNumber
      EXPECT_EQ(ascii_of(dev->string_descriptor(d[14])), "FTDI");
      EXPECT_EQ(ascii_of(dev->string_descriptor(d[15])), e.product);
      EXPECT_EQ(ascii_of(dev->string_descriptor(d[16])), "FT123456");
      const bool hs = e.high_speed && !fs_port;
      EXPECT_EQ(dev->speed(), hs ? hostkit::UsbSpeed::high : hostkit::UsbSpeed::full);
      const auto cfg = dev->configuration_descriptor();
      ASSERT_GE(cfg.size(), 9u);
      EXPECT_EQ(cfg[2] | (cfg[3] << 8), static_cast<int>(cfg.size()));
      EXPECT_EQ(cfg[4], e.ports);
      const auto ifs = walk_config(cfg);
      ASSERT_EQ(ifs.size(), e.ports);
      for (size_t i = 0; i < e.ports; ++i) {
        EXPECT_EQ(ifs[i].number, i);
        EXPECT_EQ(ifs[i].cls, 0xFF);
        EXPECT_EQ(ifs[i].subclass, 0xFF);
        EXPECT_EQ(ifs[i].protocol, 0xFF);
        ASSERT_EQ(ifs[i].endpoints.size(), 2u);
        EXPECT_EQ(ifs[i].endpoints[0].address, 0x81 + 2 * i);
        EXPECT_EQ(ifs[i].endpoints[1].address, 0x02 + 2 * i);
        for (const auto& ep : ifs[i].endpoints) {
          EXPECT_EQ(ep.attributes, 0x02);  // bulk
          EXPECT_EQ(ep.max_packet, hs ? 512 : 64);
        }
      }
    }
  }
}

TEST(FtdiDescriptors, NoSerialMeansIndexZeroAndIdOverrides) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.vid = 0x1234;
  o.pid = 0xABCD;
  auto dev = sim::make_device("ft232r", bus, o);
  const auto d = dev->device_descriptor();
  EXPECT_EQ(d[16], 0);
  EXPECT_EQ(d[8] | (d[9] << 8), 0x1234);
  EXPECT_EQ(d[10] | (d[11] << 8), 0xABCD);
  EXPECT_TRUE(dev->string_descriptor(3).empty());
  EXPECT_EQ(dev->string_descriptor(0), (std::vector<uint8_t>{4, 3, 0x09, 0x04}));
}

TEST(FtdiControl, ChannelSelection) {
  sim::Bus bus(sim::ClockMode::manual);
  // FT232R: channel 0 only.
  auto r = sim::make_device("ft232r", bus);
  EXPECT_EQ(control_out(*r, kOut, 0x01, 0x0101, 0), kIOReturnSuccess);
  EXPECT_EQ(control_out(*r, kOut, 0x01, 0x0101, 1), kIOUSBPipeStalled);
  // FT-X and FT232H: 0 or 1.
  for (const char* chip : {"ft-x", "ft232h"}) {
    auto x = sim::make_device(chip, bus);
    EXPECT_EQ(control_out(*x, kOut, 0x01, 0x0101, 0), kIOReturnSuccess) << chip;
    EXPECT_EQ(control_out(*x, kOut, 0x01, 0x0202, 1), kIOReturnSuccess) << chip;
    EXPECT_EQ(control_out(*x, kOut, 0x01, 0x0101, 2), kIOUSBPipeStalled) << chip;
    const auto s = x->port(0).snapshot();
    EXPECT_TRUE(s.host_dtr);
    EXPECT_TRUE(s.host_rts);
  }
  // FT4232H: A..D = 1..4; 0 and 5 stall; each request lands on its own port.
  auto q = sim::make_device("ft4232h", bus);
  EXPECT_EQ(control_out(*q, kOut, 0x01, 0x0101, 0), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*q, kOut, 0x01, 0x0101, 5), kIOUSBPipeStalled);
  EXPECT_EQ(control_out(*q, kOut, 0x01, 0x0101, 3), kIOReturnSuccess);
  EXPECT_EQ(control_out(*q, kOut, 0x09, 5, 4), kIOReturnSuccess);
  EXPECT_TRUE(q->port(2).snapshot().host_dtr);
  EXPECT_FALSE(q->port(0).snapshot().host_dtr);
  EXPECT_EQ(q->port(3).snapshot().chip.latency_ms, 5);
  EXPECT_EQ(q->port(0).snapshot().chip.latency_ms, 16);
  // Counters: the stalled wrong-channel requests are counted on port A.
  const auto a = q->port(0).snapshot().counters;
  EXPECT_EQ(a.control_requests, 2u);
  EXPECT_EQ(a.stalled_requests, 2u);
  EXPECT_EQ(q->port(2).snapshot().counters.control_requests, 1u);
}

TEST(FtdiControl, UnknownRequestsAndWrongDirectionStall) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  EXPECT_EQ(control_out(*dev, kOut, 0x55, 0, 0), kIOUSBPipeStalled);
  EXPECT_EQ(control_in(*dev, kIn, 0x0C, 0, 0, 1).first, kIOUSBPipeStalled);       // READ_PINS
  EXPECT_EQ(control_in(*dev, kIn, 0x01, 0x0101, 0, 0).first, kIOUSBPipeStalled);  // IN MODEM_CTRL
  EXPECT_EQ(control_out(*dev, kOut, 0x05, 0, 0, {0, 0}), kIOUSBPipeStalled);      // OUT GET_MODEM
  EXPECT_EQ(control_out(*dev, 0x41, 0x01, 0x0101, 0), kIOUSBPipeStalled);  // interface recipient
  EXPECT_EQ(control_out(*dev, kOut, 0x00, 3, 0), kIOUSBPipeStalled);       // RESET 3
  const auto c = dev->port(0).snapshot().counters;
  EXPECT_EQ(c.control_requests, 6u);
  EXPECT_EQ(c.stalled_requests, 6u);
}

TEST(FtdiControl, ModemControlApplyMasks) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  auto& p = dev->port(0);
  control_out(*dev, kOut, 0x01, 0x0003, 0);  // levels without "apply": nothing changes
  EXPECT_FALSE(p.snapshot().dtr);
  EXPECT_FALSE(p.snapshot().rts);
  control_out(*dev, kOut, 0x01, 0x0101, 0);  // DTR on
  EXPECT_TRUE(p.snapshot().dtr);
  EXPECT_FALSE(p.snapshot().rts);
  control_out(*dev, kOut, 0x01, 0x0202, 0);  // RTS on
  EXPECT_TRUE(p.snapshot().rts);
  control_out(*dev, kOut, 0x01, 0x0100, 0);  // DTR off
  EXPECT_FALSE(p.snapshot().dtr);
  EXPECT_TRUE(p.snapshot().rts);
  control_out(*dev, kOut, 0x01, 0x0301, 0);  // both applied at once: DTR on, RTS off
  EXPECT_TRUE(p.snapshot().dtr);
  EXPECT_FALSE(p.snapshot().rts);
}

TEST(FtdiControl, BaudRateDecoding) {
  sim::Bus bus(sim::ClockMode::manual);
  auto r = sim::make_device("ft232r", bus);
  EXPECT_DOUBLE_EQ(r->port(0).snapshot().line.baud, 9600.0);  // power-up
  control_out(*r, kOut, 0x03, 26, 0);
  auto s = r->port(0).snapshot();
  EXPECT_DOUBLE_EQ(s.line.baud, 3'000'000.0 / 26);
  EXPECT_FALSE(s.chip.baud_invalid);
  // wIndex bit 0 on an FT232R is divisor bit 16: 2 + code 5 (.625) -> 1.142857 MBd.
  control_out(*r, kOut, 0x03, 0x4002, 0x0001);
  EXPECT_DOUBLE_EQ(r->port(0).snapshot().line.baud, 3'000'000.0 / 2.625);
  // Invalid sub-integer divisor 1.25: recorded, counted, and the UART is garbled.
  control_out(*r, kOut, 0x03, 0x8001, 0);
  s = r->port(0).snapshot();
  EXPECT_TRUE(s.chip.baud_invalid);
  EXPECT_TRUE(s.garbled);
  EXPECT_EQ(s.counters.invalid_settings, 1u);
  // Bit 17 (wIndex bit 1) on a non-H part: invalid.
  control_out(*r, kOut, 0x03, 26, 0x0002);
  EXPECT_TRUE(r->port(0).snapshot().chip.baud_invalid);
  control_out(*r, kOut, 0x03, 0x4138, 0);
  EXPECT_FALSE(r->port(0).snapshot().chip.baud_invalid);
  EXPECT_FALSE(r->port(0).snapshot().garbled);

  // FT2232H channel B, 12 MHz clock bit in wIndex bit 9, fraction MSB in bit 8.
  auto h = sim::make_device("ft2232h", bus);
  control_out(*h, kOut, 0x03, 0xC068, 0x0202);
  EXPECT_DOUBLE_EQ(h->port(1).snapshot().line.baud, 12'000'000.0 / 104.125);
  EXPECT_DOUBLE_EQ(h->port(0).snapshot().line.baud, 9600.0);
  control_out(*h, kOut, 0x03, 0x0000, 0x0201);
  EXPECT_DOUBLE_EQ(h->port(0).snapshot().line.baud, 12'000'000.0);
  EXPECT_EQ(h->port(0).snapshot().chip.baud_encoded, 0x20000u);
}

TEST(FtdiControl, DataFormatAndBreak) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  auto& p = dev->port(0);
  // 8 data bits, even parity (2 << 8), two stop bits (2 << 11).
  control_out(*dev, kOut, 0x04, 8 | (2 << 8) | (2 << 11), 0);
  auto s = p.snapshot();
  EXPECT_EQ(s.line.data_bits, 8);
  EXPECT_EQ(s.line.parity, sim::Parity::even);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::two);
  EXPECT_FALSE(s.break_on);
  // 7 data bits, space parity, 1.5 stop bits, break on (bit 14).
  control_out(*dev, kOut, 0x04, 7 | (4 << 8) | (1 << 11) | 0x4000, 0);
  s = p.snapshot();
  EXPECT_EQ(s.line.data_bits, 7);
  EXPECT_EQ(s.line.parity, sim::Parity::space);
  EXPECT_EQ(s.line.stop_bits, sim::StopBits::one_and_half);
  EXPECT_TRUE(s.break_on);
  control_out(*dev, kOut, 0x04, 7 | (4 << 8) | (1 << 11), 0);
  EXPECT_FALSE(p.snapshot().break_on);
  // 6 data bits: not supported; runs as 8 and is counted.
  control_out(*dev, kOut, 0x04, 6, 0);
  s = p.snapshot();
  EXPECT_EQ(s.line.data_bits, 8);
  EXPECT_TRUE(s.chip.format_invalid);
  EXPECT_EQ(s.counters.invalid_settings, 1u);
  // Parity code 5: not defined.
  control_out(*dev, kOut, 0x04, 8 | (5 << 8), 0);
  EXPECT_EQ(p.snapshot().counters.invalid_settings, 2u);
}

TEST(FtdiControl, FlowControlLatencyCharsBitmode) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  auto& p = dev->port(0);
  control_out(*dev, kOut, 0x02, 0, 0x0100);
  EXPECT_EQ(p.snapshot().flow, sim::flow_mode::kRtsCts);
  control_out(*dev, kOut, 0x02, 0, 0x0200);
  EXPECT_EQ(p.snapshot().flow, sim::flow_mode::kDtrDsr);
  control_out(*dev, kOut, 0x02, 0x1311, 0x0400);
  auto s = p.snapshot();
  EXPECT_EQ(s.flow, sim::flow_mode::kXonXoff);
  EXPECT_EQ(s.xon, 0x11);
  EXPECT_EQ(s.xoff, 0x13);
  control_out(*dev, kOut, 0x02, 0, 0x0000);
  EXPECT_EQ(p.snapshot().flow, sim::flow_mode::kNone);

  control_out(*dev, kOut, 0x09, 1, 0);
  auto got = control_in(*dev, kIn, 0x0A, 0, 0, 1);
  EXPECT_EQ(got.first, kIOReturnSuccess);
  EXPECT_EQ(got.second, (std::vector<uint8_t>{1}));
  control_out(*dev, kOut, 0x09, 0, 0);  // 0 ms is not a latency
  EXPECT_EQ(control_in(*dev, kIn, 0x0A, 0, 0, 1).second, (std::vector<uint8_t>{1}));
  EXPECT_EQ(p.snapshot().counters.invalid_settings, 1u);

  control_out(*dev, kOut, 0x06, 0x017E, 0);
  control_out(*dev, kOut, 0x07, 0x003F, 0);
  s = p.snapshot();
  EXPECT_TRUE(s.chip.event_char_enabled);
  EXPECT_EQ(s.chip.event_char, 0x7E);
  EXPECT_FALSE(s.chip.error_char_enabled);
  EXPECT_EQ(s.chip.error_char, 0x3F);

  control_out(*dev, kOut, 0x0B, 0x01FF, 0);  // async bit-bang, all pins
  s = p.snapshot();
  EXPECT_EQ(s.chip.bitmode, 0x01);
  EXPECT_EQ(s.chip.bitmode_mask, 0xFF);
  control_out(*dev, kOut, 0x0B, 0x0000, 0);
  EXPECT_EQ(p.snapshot().chip.bitmode, 0x00);
}

TEST(FtdiControl, ModemStatusRequest) {
  sim::Bus bus(sim::ClockMode::manual);
  auto dev = sim::make_device("ft232r", bus);
  auto got = control_in(*dev, kIn, 0x05, 0, 0, 2);
  EXPECT_EQ(got.first, kIOReturnSuccess);
  EXPECT_EQ(got.second, (std::vector<uint8_t>{0x01, 0x60}));  // nothing asserted, THRE|TEMT
  sim::connect_loopback(dev->port(0));
  control_out(*dev, kOut, 0x01, 0x0303, 0);  // DTR and RTS on -> DSR, DCD and CTS
  got = control_in(*dev, kIn, 0x05, 0, 0, 2);
  EXPECT_EQ(got.second, (std::vector<uint8_t>{0x01 | 0x10 | 0x20 | 0x80, 0x60}));
  dev->port(0).override_input(sim::ModemInput::ri, true);
  got = control_in(*dev, kIn, 0x05, 0, 0, 2);
  EXPECT_EQ(got.second[0], 0xF1);
}

TEST(FtdiControl, ResetAndPurges) {
  sim::Bus bus(sim::ClockMode::manual);
  sim::SimOptions o;
  o.paced = true;  // so bytes stay in the FIFOs long enough to look at
  auto dev = sim::make_device("ft232r", bus, o);
  auto& p = dev->port(0);
  sim::connect_loopback(p);
  control_out(*dev, kOut, 0x03, 0x2710, 0);  // 300 Bd: 3 MHz / 10000
  control_out(*dev, kOut, 0x01, 0x0303, 0);
  control_out(*dev, kOut, 0x02, 0, 0x0100);
  Pipe out(*dev, 0x02);
  out.submit_out(pattern(100));
  bus.advance(200ms);  // 300 Bd: ~5 characters on the wire, the rest waits
  auto s = p.snapshot();
  EXPECT_GT(s.tx_fifo_level, 90u);
  EXPECT_GT(s.rx_fifo_level, 3u);
  // wValue 1 flushes the transmit (host -> line) FIFO only.
  EXPECT_EQ(control_out(*dev, kOut, 0x00, 1, 0), kIOReturnSuccess);
  s = p.snapshot();
  EXPECT_EQ(s.tx_fifo_level, 0u);
  EXPECT_GT(s.rx_fifo_level, 3u);
  // wValue 2 flushes the receive (line -> host) FIFO.
  EXPECT_EQ(control_out(*dev, kOut, 0x00, 2, 0), kIOReturnSuccess);
  EXPECT_EQ(p.snapshot().rx_fifo_level, 0u);
  // wValue 0: flow off, DTR/RTS low, baud kept.
  EXPECT_EQ(control_out(*dev, kOut, 0x00, 0, 0), kIOReturnSuccess);
  s = p.snapshot();
  EXPECT_EQ(s.flow, sim::flow_mode::kNone);
  EXPECT_FALSE(s.dtr);
  EXPECT_FALSE(s.rts);
  EXPECT_DOUBLE_EQ(s.line.baud, 300.0);
}

}  // namespace
