// CDC-ACM notifications on the interrupt IN endpoint.
//
// Layout (docs/usb-serial-reference.md §1.3, CDC 1.2 / PSTN 1.20): an
// 8-byte header bmRequestType 0xA1, bNotification, wValue, wIndex, wLength,
// then wLength data bytes. SERIAL_STATE (0x20) carries a u16 LE UART state:
// bit0 bRxCarrier = DCD, bit1 bTxCarrier = DSR, bit2 bBreak, bit3 bRingSignal
// = RI, bit4 bFraming, bit5 bParity, bit6 bOverRun. Other codes: 0x00
// NETWORK_CONNECTION, 0x01 RESPONSE_AVAILABLE, 0x2A CONNECTION_SPEED_CHANGE.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "tools/common/recording_sink.hpp"
#include "transport/chips/cdc_acm.hpp"
#include "transport/serial_port.hpp"

namespace {

using transport::ChipVariant;
using transport::ModemStatus;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::chips::CdcAcm;

constexpr uint8_t kInterface = 0;

using Bytes = std::vector<uint8_t>;

// A notification written out by hand from the layout above.
Bytes notification(uint8_t code, uint16_t value, const Bytes& data,
                   uint16_t w_length_override = 0xFFFF, uint8_t request_type = 0xA1) {
  const uint16_t length =
      w_length_override == 0xFFFF ? static_cast<uint16_t>(data.size()) : w_length_override;
  Bytes out = {request_type, code, static_cast<uint8_t>(value),  static_cast<uint8_t>(value >> 8),
               kInterface,   0x00, static_cast<uint8_t>(length), static_cast<uint8_t>(length >> 8)};
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes serial_state(uint16_t bits) {
  return notification(0x20, 0, {static_cast<uint8_t>(bits), static_cast<uint8_t>(bits >> 8)});
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

ModemStatus modem(bool dsr, bool ri, bool dcd) {
  ModemStatus m;
  m.cts = false;
  m.dsr = dsr;
  m.ri = ri;
  m.dcd = dcd;
  return m;
}

class CdcAcmNotify : public ::testing::Test {
 protected:
  void SetUp() override { set_up(8); }

  // The notification endpoint's wMaxPacketSize: a transfer that is not a whole
  // number of such packets ended in a short packet.
  void set_up(uint16_t interrupt_max_packet) {
    PortConfig config;
    config.variant = ChipVariant::cdc_acm;
    config.interface_number = kInterface;
    config.data_interface = 1;
    config.bulk_in_max_packet = 64;
    config.interrupt_max_packet = interrupt_max_packet;
    config.acm_capabilities = 0x02;
    ASSERT_EQ(acm.configure(config), Status::ok);
    ASSERT_EQ(acm.open(sink), Status::ok);
  }

  Status feed(const Bytes& transfer, RxReport& report) {
    return acm.decode_interrupt(std::span<const uint8_t>(transfer.data(), transfer.size()), report);
  }

  CdcAcm acm;
  hostutil::RecordingSink sink;
};

TEST_F(CdcAcmNotify, SerialStateWhole) {
  RxReport report;
  EXPECT_EQ(feed(serial_state(0x0003), report), Status::ok);  // DCD + DSR
  EXPECT_TRUE(report.modem_valid);
  EXPECT_EQ(report.modem, modem(true, false, true));
  EXPECT_FALSE(report.errors.any());
  EXPECT_EQ(report.malformed, 0u);
  EXPECT_TRUE(sink.transcript().empty());  // decoding never talks to the device
}

TEST_F(CdcAcmNotify, EachSerialStateBit) {
  struct Case {
    uint16_t bits;
    ModemStatus modem;
    uint32_t brk, framing, parity, overrun;
  };
  const Case cases[] = {
      {0x0000, modem(false, false, false), 0, 0, 0, 0},
      {0x0001, modem(false, false, true), 0, 0, 0, 0},   // bRxCarrier -> DCD
      {0x0002, modem(true, false, false), 0, 0, 0, 0},   // bTxCarrier -> DSR
      {0x0004, modem(false, false, false), 1, 0, 0, 0},  // bBreak
      {0x0008, modem(false, true, false), 0, 0, 0, 0},   // bRingSignal -> RI
      {0x0010, modem(false, false, false), 0, 1, 0, 0},  // bFraming
      {0x0020, modem(false, false, false), 0, 0, 1, 0},  // bParity
      {0x0040, modem(false, false, false), 0, 0, 0, 1},  // bOverRun
      {0xFF80, modem(false, false, false), 0, 0, 0, 0},  // reserved bits mean nothing
      {0x007F, modem(true, true, true), 1, 1, 1, 1},
  };
  for (const Case& c : cases) {
    RxReport report;
    EXPECT_EQ(feed(serial_state(c.bits), report), Status::ok) << c.bits;
    EXPECT_TRUE(report.modem_valid) << c.bits;
    EXPECT_EQ(report.modem, c.modem) << c.bits;
    EXPECT_EQ(report.errors.brk, c.brk) << c.bits;
    EXPECT_EQ(report.errors.framing, c.framing) << c.bits;
    EXPECT_EQ(report.errors.parity, c.parity) << c.bits;
    EXPECT_EQ(report.errors.overrun, c.overrun) << c.bits;
    EXPECT_FALSE(report.modem.cts) << c.bits;  // no CTS in the class
  }
}

TEST_F(CdcAcmNotify, ErrorBitsAreEventsCountedEveryTime) {
  RxReport report;
  ASSERT_EQ(feed(serial_state(0x0010), report), Status::ok);
  ASSERT_EQ(feed(serial_state(0x0010), report), Status::ok);
  EXPECT_EQ(report.errors.framing, 2u);
}

TEST_F(CdcAcmNotify, SplitEightPlusTwo) {
  const Bytes n = serial_state(0x0042);  // DSR + overrun
  RxReport first;
  EXPECT_EQ(feed(Bytes(n.begin(), n.begin() + 8), first), Status::ok);
  EXPECT_FALSE(first.modem_valid);
  EXPECT_FALSE(first.errors.any());
  RxReport second;
  EXPECT_EQ(feed(Bytes(n.begin() + 8, n.end()), second), Status::ok);
  EXPECT_TRUE(second.modem_valid);
  EXPECT_EQ(second.modem, modem(true, false, false));
  EXPECT_EQ(second.errors.overrun, 1u);
  EXPECT_EQ(second.malformed, 0u);
}

TEST_F(CdcAcmNotify, SplitOneByteAtATime) {
  set_up(1);                             // an endpoint of 1-byte packets
  const Bytes n = serial_state(0x0009);  // DCD + RI
  for (size_t i = 0; i + 1 < n.size(); ++i) {
    RxReport report;
    EXPECT_EQ(feed(Bytes{n[i]}, report), Status::ok) << i;
    EXPECT_FALSE(report.modem_valid) << i;
    EXPECT_EQ(report.malformed, 0u) << i;
  }
  RxReport last;
  EXPECT_EQ(feed(Bytes{n.back()}, last), Status::ok);
  EXPECT_TRUE(last.modem_valid);
  EXPECT_EQ(last.modem, modem(false, true, true));
}

TEST_F(CdcAcmNotify, SplitInsideHeaderAndAcrossNotifications) {
  // Two SERIAL_STATEs on an endpoint of 4-byte packets, cut 4 + 8 + 8: the
  // middle transfer completes the first one and starts the second.
  set_up(4);
  const Bytes stream = concat({serial_state(0x0001), serial_state(0x0002)});
  RxReport a, b, c;
  EXPECT_EQ(feed(Bytes(stream.begin(), stream.begin() + 4), a), Status::ok);
  EXPECT_FALSE(a.modem_valid);
  EXPECT_EQ(feed(Bytes(stream.begin() + 4, stream.begin() + 12), b), Status::ok);
  EXPECT_TRUE(b.modem_valid);
  EXPECT_EQ(b.modem, modem(false, false, true));
  EXPECT_EQ(feed(Bytes(stream.begin() + 12, stream.end()), c), Status::ok);
  EXPECT_TRUE(c.modem_valid);
  EXPECT_EQ(c.modem, modem(true, false, false));
}

TEST_F(CdcAcmNotify, TwoNotificationsInOneTransferAreProcessedInOrder) {
  RxReport report;
  EXPECT_EQ(feed(concat({serial_state(0x0005), serial_state(0x0022)}), report), Status::ok);
  EXPECT_TRUE(report.modem_valid);
  EXPECT_EQ(report.modem, modem(true, false, false));  // the later state wins
  EXPECT_EQ(report.errors.brk, 1u);                    // events of both are counted
  EXPECT_EQ(report.errors.parity, 1u);
  EXPECT_EQ(report.malformed, 0u);
}

TEST_F(CdcAcmNotify, OtherKnownNotificationsAreIgnored) {
  const Bytes speed = {0x00, 0xC2, 0x01, 0x00, 0x00, 0xC2, 0x01, 0x00};  // 115200 up and down
  RxReport report;
  EXPECT_EQ(feed(concat({notification(0x00, 1, {}),       // NETWORK_CONNECTION, connected
                         notification(0x01, 0, {}),       // RESPONSE_AVAILABLE
                         notification(0x2A, 0, speed)}),  // CONNECTION_SPEED_CHANGE
                 report),
            Status::ok);
  EXPECT_FALSE(report.modem_valid);
  EXPECT_FALSE(report.errors.any());
  EXPECT_EQ(report.malformed, 0u);
  // And the stream is still in step.
  RxReport next;
  EXPECT_EQ(feed(serial_state(0x0001), next), Status::ok);
  EXPECT_EQ(next.modem, modem(false, false, true));
}

TEST_F(CdcAcmNotify, UnknownNotificationIsConsumedAndTheNextOneDecoded) {
  RxReport report;
  EXPECT_EQ(
      feed(concat({notification(0x7E, 0x1234, {0x20, 0x20, 0x03, 0x00}), serial_state(0x0002)}),
           report),
      Status::ok);
  EXPECT_EQ(report.malformed, 0u);
  EXPECT_TRUE(report.modem_valid);
  EXPECT_EQ(report.modem, modem(true, false, false));
}

TEST_F(CdcAcmNotify, SerialStateWithWrongLengthIsDroppedButTheStreamStaysInStep) {
  for (const Bytes& data : {Bytes{}, Bytes{0x03}, Bytes{0x03, 0x00, 0x00}, Bytes(8, 0x7F)}) {
    RxReport report;
    EXPECT_EQ(feed(concat({notification(0x20, 0, data), serial_state(0x0008)}), report),
              Status::malformed)
        << data.size();
    EXPECT_EQ(report.malformed, 1u) << data.size();
    // The bad one set nothing (0x7F would have counted errors); the good one is decoded.
    EXPECT_FALSE(report.errors.any()) << data.size();
    EXPECT_TRUE(report.modem_valid) << data.size();
    EXPECT_EQ(report.modem, modem(false, true, false)) << data.size();
  }
}

TEST_F(CdcAcmNotify, GarbageDropsTheRestOfItsTransferOnly) {
  RxReport report;
  // Not 0xA1 where a notification must start; a valid notification later in
  // the same transfer cannot be told from garbage and is dropped with it.
  EXPECT_EQ(feed(concat({Bytes{0x00, 0x13, 0x37}, serial_state(0x0001)}), report),
            Status::malformed);
  EXPECT_EQ(report.malformed, 1u);
  EXPECT_FALSE(report.modem_valid);
  RxReport next;
  EXPECT_EQ(feed(serial_state(0x0001), next), Status::ok);
  EXPECT_EQ(next.malformed, 0u);
  EXPECT_TRUE(next.modem_valid);
  EXPECT_EQ(next.modem, modem(false, false, true));
}

TEST_F(CdcAcmNotify, WrongRequestTypeIsGarbage) {
  RxReport report;
  // A SERIAL_STATE shaped notification with bmRequestType 0x21 (host-to-device).
  EXPECT_EQ(feed(notification(0x20, 0, {0x01, 0x00}, 0xFFFF, 0x21), report), Status::malformed);
  EXPECT_EQ(report.malformed, 1u);
  EXPECT_FALSE(report.modem_valid);
}

TEST_F(CdcAcmNotify, GarbageAfterAValidNotificationKeepsTheValidOne) {
  RxReport report;
  EXPECT_EQ(feed(concat({serial_state(0x0002), Bytes{0xEE, 0xEE}}), report), Status::malformed);
  EXPECT_TRUE(report.modem_valid);
  EXPECT_EQ(report.modem, modem(true, false, false));
  EXPECT_EQ(report.malformed, 1u);
}

TEST_F(CdcAcmNotify, HugeWLengthIsGarbage) {
  for (uint16_t length : {uint16_t{65}, uint16_t{0x0400}, uint16_t{0xFFFF - 1}}) {
    RxReport report;
    EXPECT_EQ(feed(notification(0x7E, 0, {}, length), report), Status::malformed) << length;
    EXPECT_EQ(report.malformed, 1u) << length;
    // Nothing of it is waited for: the next transfer is decoded.
    RxReport next;
    EXPECT_EQ(feed(serial_state(0x0001), next), Status::ok) << length;
    EXPECT_TRUE(next.modem_valid) << length;
  }
}

TEST_F(CdcAcmNotify, WLengthAtTheCapIsAcceptedAcrossTransfers) {
  // 64 data bytes (the cap) of an unknown notification, split over 8-byte
  // transfers, then a SERIAL_STATE: everything in step, nothing malformed.
  const Bytes stream = concat({notification(0x7E, 0, Bytes(64, 0xA1)), serial_state(0x0002)});
  RxReport total;
  for (size_t i = 0; i < stream.size(); i += 8) {
    const size_t end = std::min(stream.size(), i + 8);
    EXPECT_EQ(feed(Bytes(stream.begin() + static_cast<std::ptrdiff_t>(i),
                         stream.begin() + static_cast<std::ptrdiff_t>(end)),
                   total),
              Status::ok);
  }
  EXPECT_EQ(total.malformed, 0u);
  EXPECT_TRUE(total.modem_valid);
  EXPECT_EQ(total.modem, modem(true, false, false));
}

TEST_F(CdcAcmNotify, ValidNotificationAfterGarbageInsideAHeaderIsDecoded) {
  // A fragment that looks like the start of a header, then a header whose
  // wLength (assembled across the two) is huge: rejected, and decoding resumes.
  set_up(2);
  RxReport a;
  EXPECT_EQ(feed(Bytes{0xA1, 0x20, 0x00, 0x00, 0x00, 0x00}, a), Status::ok);
  RxReport b;
  EXPECT_EQ(feed(Bytes{0x00, 0x40, 0x11, 0x22}, b), Status::malformed);  // wLength 0x4000
  EXPECT_EQ(b.malformed, 1u);
  RxReport c;
  EXPECT_EQ(feed(serial_state(0x0001), c), Status::ok);
  EXPECT_TRUE(c.modem_valid);
  EXPECT_EQ(c.modem, modem(false, false, true));
}

TEST_F(CdcAcmNotify, OpenForgetsAHalfReassembledNotification) {
  RxReport report;
  const Bytes whole = serial_state(0x0001);
  ASSERT_EQ(feed(Bytes(whole.begin(), whole.begin() + 8), report), Status::ok);  // a full packet
  ASSERT_EQ(acm.open(sink), Status::ok);
  EXPECT_EQ(feed(serial_state(0x0002), report), Status::ok);
  EXPECT_TRUE(report.modem_valid);
  EXPECT_EQ(report.modem, modem(true, false, false));
  EXPECT_EQ(report.malformed, 0u);
}

// A notification the device cut short (its transfer ended in a short or
// zero-length packet before wLength bytes came) is malformed, and the next
// notification is decoded as itself, not as the missing data.
TEST_F(CdcAcmNotify, ATruncatedNotificationIsMalformedAndTheNextOneDecoded) {
  const Bytes whole = serial_state(0x0001);
  const Bytes header(whole.begin(), whole.begin() + 8);
  const Bytes header_and_one(whole.begin(), whole.begin() + 9);
  // Header only, one full packet, then a zero-length packet; header and one
  // data byte, a full packet and a short one.
  for (const std::vector<Bytes>& transfers :
       {std::vector<Bytes>{header, Bytes{}}, std::vector<Bytes>{header_and_one}}) {
    RxReport report;
    Status last = Status::ok;
    for (const Bytes& transfer : transfers) {
      last = feed(transfer, report);
    }
    EXPECT_EQ(last, Status::malformed);
    EXPECT_EQ(report.malformed, 1u);
    EXPECT_FALSE(report.modem_valid);
    RxReport next;
    EXPECT_EQ(feed(serial_state(0x0002), next), Status::ok);
    EXPECT_EQ(next.malformed, 0u);
    EXPECT_FALSE(next.errors.any()) << "the next header read as the missing state";
    EXPECT_EQ(next.modem, modem(true, false, false));
  }
  // The same header on a 16-byte endpoint is a short packet by itself.
  set_up(16);
  RxReport report;
  EXPECT_EQ(feed(header, report), Status::malformed);
  EXPECT_EQ(report.malformed, 1u);
}

TEST_F(CdcAcmNotify, EmptyTransferIsNothing) {
  RxReport report;
  EXPECT_EQ(feed({}, report), Status::ok);
  EXPECT_FALSE(report.modem_valid);
  EXPECT_EQ(report.malformed, 0u);
}

// After any byte sequence, a run of whole SERIAL_STATE transfers gets the
// decoder back in step: at worst it is waiting for 7 header bytes and 64 data
// bytes (under 8 transfers of 10 bytes), and a misaligned header cannot start
// inside a SERIAL_STATE transfer because only its first byte is 0xA1. From the
// first decoded transfer on, every transfer is decoded.
TEST_F(CdcAcmNotify, RandomInputNeverStopsLaterNotifications) {
  std::mt19937 rng(20240611);
  for (int round = 0; round < 20000; ++round) {
    ASSERT_EQ(acm.open(sink), Status::ok);
    const int transfers = static_cast<int>(rng() % 6);
    for (int t = 0; t < transfers; ++t) {
      Bytes junk(rng() % 24);
      for (auto& byte : junk) {
        // Bias towards bytes that look like headers so reassembly is exercised.
        const uint32_t pick = rng() % 4;
        byte = pick == 0 ? 0xA1 : pick == 1 ? 0x00 : static_cast<uint8_t>(rng());
      }
      RxReport ignored;
      (void)feed(junk, ignored);
    }
    bool in_step = false;
    for (int t = 0; t < 10; ++t) {
      const uint16_t bits = static_cast<uint16_t>(rng() % 16) & 0x000B;  // DCD, DSR, RI only
      RxReport report;
      const Status status = feed(serial_state(bits), report);
      const bool decoded = status == Status::ok && report.modem_valid && report.malformed == 0 &&
                           report.modem == modem((bits & 2) != 0, (bits & 8) != 0, (bits & 1) != 0);
      if (in_step) {
        ASSERT_TRUE(decoded) << "round " << round << " transfer " << t;
      }
      in_step = in_step || decoded;
    }
    ASSERT_TRUE(in_step) << "round " << round;
  }
}

// SerialPort reports CTS asserted for CDC (no CTS line in the class), as Linux does.
TEST(CdcAcmNotifySerialPort, CtsIsReportedAssertedThroughSerialPort) {
  CdcAcm acm;
  hostutil::RecordingSink sink;
  transport::SerialPort port;
  PortConfig config;
  config.variant = ChipVariant::cdc_acm;
  config.bulk_in_max_packet = 64;
  ASSERT_EQ(port.attach(acm, sink, config), Status::ok);
  ASSERT_EQ(port.activate(), Status::ok);
  const Bytes n = serial_state(0x0003);
  transport::RxEvents events;
  port.handle_interrupt(n, events);
  EXPECT_TRUE(events.modem_changed);
  EXPECT_TRUE(events.modem.cts);
  EXPECT_TRUE(events.modem.dsr);
  EXPECT_TRUE(events.modem.dcd);
  EXPECT_FALSE(events.modem.ri);
}

}  // namespace
