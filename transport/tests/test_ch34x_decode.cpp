// CH34x input decoding and its path through SerialPort.
//
// Bulk IN is raw data (docs/usb-serial-reference.md §4.3). The interrupt pipe carries
// 4-byte status packets: byte 0 event type (WCH's driver: 0x08 modem change, 0x02 overrun,
// 0x04 parity, 0x44 framing), byte 1 (0x04: several changes), byte 2 the modem inputs
// inverted (CTS 0x01, DSR 0x02, RI 0x04, DCD 0x08), byte 3 usually 0xEE; Linux needs 4 bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <random>
#include <span>
#include <vector>

#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/ch34x.hpp"
#include "transport/serial_constants.hpp"
#include "transport/serial_port.hpp"

namespace {

using transport::ChipVariant;
using transport::ModemStatus;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::chips::Ch34x;

Ch34x configured() {
  PortConfig config;
  config.variant = ChipVariant::ch340;
  config.bulk_in_max_packet = 32;
  config.interrupt_max_packet = 8;
  Ch34x chip;
  EXPECT_EQ(chip.configure(config), Status::ok);
  return chip;
}

// ------------------------------------------------------------ bulk IN

TEST(Ch34xDecodeRx, EveryByteIsPayloadAndNothingIsReported) {
  Ch34x chip = configured();
  std::mt19937 random(7);
  for (const size_t length : {size_t{1}, size_t{2}, size_t{31}, size_t{32}, size_t{33}, size_t{64},
                              size_t{512}, size_t{4096}}) {
    std::vector<uint8_t> transfer(length);
    for (auto& b : transfer) {
      b = static_cast<uint8_t>(random());
    }
    const std::vector<uint8_t> original = transfer;
    RxReport report;
    EXPECT_EQ(chip.decode_rx(transfer, report), length);
    EXPECT_EQ(transfer, original);
    EXPECT_FALSE(report.errors.any());
    EXPECT_FALSE(report.modem_valid);
    EXPECT_EQ(report.malformed, 0u);
    EXPECT_EQ(report.status_only_packets, 0u);
  }
  RxReport report;
  EXPECT_EQ(chip.decode_rx({}, report), 0u);
  EXPECT_EQ(report.malformed, 0u);
}

TEST(Ch34xDecodeRx, AnUnconfiguredChipDropsAndCounts) {
  Ch34x chip;
  std::vector<uint8_t> transfer(8, 0x55);
  RxReport report;
  EXPECT_EQ(chip.decode_rx(transfer, report), 0u);
  EXPECT_EQ(report.malformed, 1u);
}

// ------------------------------------------------------------ interrupt IN

struct Packet {
  const char* label;
  std::vector<uint8_t> bytes;
  Status status;
  bool modem_valid;
  ModemStatus modem;
  uint32_t overrun, parity, framing, malformed;
};

void PrintTo(const Packet& p, std::ostream* os) {
  *os << p.label;
}

class Ch34xInterrupt : public ::testing::TestWithParam<Packet> {};

TEST_P(Ch34xInterrupt, Decodes) {
  const Packet& p = GetParam();
  Ch34x chip = configured();
  RxReport report;
  EXPECT_EQ(chip.decode_interrupt(p.bytes, report), p.status);
  EXPECT_EQ(report.modem_valid, p.modem_valid);
  if (p.modem_valid) {
    EXPECT_EQ(report.modem, p.modem);
  }
  EXPECT_EQ(report.errors.overrun, p.overrun);
  EXPECT_EQ(report.errors.parity, p.parity);
  EXPECT_EQ(report.errors.framing, p.framing);
  EXPECT_EQ(report.errors.brk, 0u);  // the chips report a received break as a framing error
  EXPECT_EQ(report.malformed, p.malformed);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Packets, Ch34xInterrupt,
    ::testing::Values(
        Packet{"idle", {0x08, 0x00, 0xFF, 0xEE}, Status::ok, true, {}, 0, 0, 0, 0},
        Packet{"dtr_rts_looped", {0x08, 0x00, 0x94, 0xEE}, Status::ok, true,
               {true, true, false, true}, 0, 0, 0, 0},  // ~0x94 & 0x0F = 0x0B
        Packet{"cts", {0x08, 0x00, 0x9E, 0xEE}, Status::ok, true, {true, false, false, false},
               0, 0, 0, 0},
        Packet{"dsr", {0x08, 0x00, 0x9D, 0xEE}, Status::ok, true, {false, true, false, false},
               0, 0, 0, 0},
        Packet{"ri", {0x08, 0x04, 0x9B, 0xEE}, Status::ok, true, {false, false, true, false},
               0, 0, 0, 0},
        Packet{"dcd", {0x08, 0x00, 0x97, 0xEE}, Status::ok, true, {false, false, false, true},
               0, 0, 0, 0},
        Packet{"all", {0x08, 0x00, 0x90, 0xEE}, Status::ok, true, {true, true, true, true},
               0, 0, 0, 0},
        // Error types (WCH ch341.h CH341_CTT_*), with the modem byte still read (ch341.c).
        Packet{"overrun", {0x02, 0x00, 0xFE, 0xEE}, Status::ok, true,
               {true, false, false, false}, 1, 0, 0, 0},
        Packet{"parity", {0x04, 0x00, 0xFF, 0xEE}, Status::ok, true, {}, 0, 1, 0, 0},
        Packet{"framing", {0x44, 0x00, 0xFF, 0xEE}, Status::ok, true, {}, 0, 0, 1, 0},
        Packet{"bit6_alone_is_nothing", {0x40, 0x00, 0xFF, 0xEE}, Status::ok, true, {}, 0, 0, 0, 0},
        Packet{"framing_and_overrun_and_modem", {0x4E, 0x00, 0xF7, 0xEE}, Status::ok, true,
               {false, false, false, true}, 1, 0, 1, 0},
        Packet{"parity_and_overrun", {0x06, 0x00, 0xFF, 0xEE}, Status::ok, true, {}, 1, 1, 0, 0},
        // Longer packets: only the first four bytes mean anything (ch341.c).
        Packet{"eight_bytes", {0x08, 0x00, 0x9E, 0xEE, 0x44, 0x00, 0x90, 0xEE}, Status::ok, true,
               {true, false, false, false}, 0, 0, 0, 0},
        // Shorter ones are garbage: nothing reported, counted.
        Packet{"empty", {}, Status::malformed, false, {}, 0, 0, 0, 1},
        Packet{"one_byte", {0x44}, Status::malformed, false, {}, 0, 0, 0, 1},
        Packet{"three_bytes", {0x44, 0x00, 0x90}, Status::malformed, false, {}, 0, 0, 0, 1}));
// clang-format on

TEST(Ch34xInterruptSplit, AStatusPacketCutInTwoIsTwoMalformedFragments) {
  // A 4-byte status always fits one 8-byte interrupt packet, so halves are never joined: the
  // second half on its own must not be read as the start of a packet.
  Ch34x chip = configured();
  const uint8_t whole[] = {0x44, 0x00, 0x90, 0xEE};
  RxReport report;
  EXPECT_EQ(chip.decode_interrupt(std::span<const uint8_t>(whole, 2), report), Status::malformed);
  EXPECT_EQ(chip.decode_interrupt(std::span<const uint8_t>(whole + 2, 2), report),
            Status::malformed);
  EXPECT_EQ(report.malformed, 2u);
  EXPECT_FALSE(report.modem_valid);
  EXPECT_FALSE(report.errors.any());
  // And the next whole packet is read as usual.
  EXPECT_EQ(chip.decode_interrupt(whole, report), Status::ok);
  EXPECT_EQ(report.errors.framing, 1u);
  EXPECT_EQ(report.modem, (ModemStatus{true, true, true, true}));
}

TEST(Ch34xInterruptSplit, AnyByteSoupNeverReadsOutOfBounds) {
  Ch34x chip = configured();
  std::mt19937 random(11);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> packet(random() % 12);
    for (auto& b : packet) {
      b = static_cast<uint8_t>(random());
    }
    RxReport report;
    const Status status = chip.decode_interrupt(packet, report);
    EXPECT_EQ(status, packet.size() >= 4 ? Status::ok : Status::malformed);
    EXPECT_LE(report.errors.overrun + report.errors.framing + report.errors.parity, 2u);
  }
}

TEST(Ch34xInterruptSplit, AnUnconfiguredChipDecodesNothing) {
  Ch34x chip;
  const uint8_t packet[] = {0x44, 0x00, 0x90, 0xEE};
  RxReport report;
  EXPECT_EQ(chip.decode_interrupt(packet, report), Status::not_open);
  EXPECT_FALSE(report.modem_valid);
  EXPECT_FALSE(report.errors.any());
}

// ------------------------------------------------------------ through SerialPort

class Ch34xPort : public ::testing::Test {
 protected:
  void SetUp() override {
    PortConfig config;
    config.variant = ChipVariant::ch340;
    config.bulk_in_max_packet = 32;
    config.interrupt_max_packet = 8;
    sink_.reply(0xC0, 0x5F, {0x31, 0x00});
    sink_.reply(0xC0, 0x95, {0x01, 0x00}, 0x0005);
    sink_.reply(0xC0, 0x95, {0x9F, 0xEE}, 0x0706);
    ASSERT_EQ(port_.attach(chip_, sink_, config), Status::ok);
  }
  Ch34x chip_;
  hostutil::RecordingSink sink_;
  transport::SerialPort port_;
};

TEST_F(Ch34xPort, ActivateOpensThenAppliesLineFlowAndModemLines) {
  namespace pd = transport::pd;
  ASSERT_EQ(port_.program_uart(115200, 8, pd::kHalfStopBitsOne, pd::kParityEven), Status::ok);
  ASSERT_EQ(port_.program_flow(pd::kFlowRfr | pd::kFlowCts, 0x11, 0x13), Status::ok);
  ASSERT_EQ(port_.program_mcr(true, true), Status::ok);
  EXPECT_TRUE(sink_.transcript().empty());  // cached until the chip is open
  ASSERT_EQ(port_.activate(), Status::ok);
  std::vector<std::string> got;
  for (const auto& t : sink_.transcript()) {
    got.push_back(hostutil::describe(t));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "C0 5F wValue=0000 wIndex=0000 wLength=2 [31 00]",  // version
                     "40 A1 wValue=0000 wIndex=0000 wLength=0",          // init
                     "C0 95 wValue=0005 wIndex=0000 wLength=2 [01 00]",  // break probe
                     "40 9A wValue=1312 wIndex=CC83 wLength=0",          // 115 385 Bd
                     "40 9A wValue=2518 wIndex=00DB wLength=0",          // 8E1
                     "40 9A wValue=2727 wIndex=0101 wLength=0",          // RTS/CTS
                     "40 A4 wValue=FF9F wIndex=0000 wLength=0",          // DTR, RTS on
                 }));
  EXPECT_EQ(port_.stats().actual_baud, 115385u);
  sink_.clear();
  ASSERT_EQ(port_.deactivate(), Status::ok);
  ASSERT_EQ(sink_.transcript().size(), 2u);
  EXPECT_EQ(hostutil::describe(sink_.transcript()[0]), "40 9A wValue=2727 wIndex=0000 wLength=0");
  EXPECT_EQ(hostutil::describe(sink_.transcript()[1]), "40 A4 wValue=FFFF wIndex=0000 wLength=0");
}

TEST_F(Ch34xPort, InterruptStatusBecomesModemChangesAndCountedErrors) {
  ASSERT_EQ(port_.activate(), Status::ok);
  transport::RxEvents events;
  const uint8_t looped[] = {0x08, 0x00, 0x94, 0xEE};  // CTS, DSR, DCD
  port_.handle_interrupt(looped, events);
  EXPECT_TRUE(events.modem_changed);
  EXPECT_EQ(events.modem, (ModemStatus{true, true, false, true}));
  port_.handle_interrupt(looped, events);
  EXPECT_FALSE(events.modem_changed);  // the same state again is no change
  const uint8_t framing[] = {0x44, 0x00, 0x94, 0xEE};
  const uint8_t parity_overrun[] = {0x06, 0x00, 0x94, 0xEE};
  port_.handle_interrupt(framing, events);
  EXPECT_EQ(events.errors.framing, 1u);
  port_.handle_interrupt(parity_overrun, events);
  EXPECT_EQ(events.errors.parity, 1u);
  EXPECT_EQ(events.errors.overrun, 1u);
  const uint8_t fragment[] = {0x44, 0x00};
  port_.handle_interrupt(fragment, events);
  EXPECT_FALSE(events.errors.any());
  const transport::PortStats& stats = port_.stats();
  EXPECT_EQ(stats.errors.framing, 1u);
  EXPECT_EQ(stats.errors.parity, 1u);
  EXPECT_EQ(stats.errors.overrun, 1u);
  EXPECT_EQ(stats.modem_changes, 1u);
  EXPECT_EQ(stats.malformed_notifications, 1u);
  EXPECT_EQ(stats.malformed, 0u);  // bulk-IN packets only
  // HwGetModemStatus polls register 0x06 (0x9F: inputs idle).
  ModemStatus polled{true, true, true, true};
  ASSERT_EQ(port_.modem_status(polled), Status::ok);
  EXPECT_EQ(polled, ModemStatus{});
}

TEST_F(Ch34xPort, RxPassesThroughWhole) {
  ASSERT_EQ(port_.activate(), Status::ok);
  std::vector<uint8_t> transfer(96, 0x3C);
  transport::RxEvents events;
  EXPECT_EQ(port_.handle_rx(transfer, events), 96u);
  EXPECT_EQ(port_.stats().rx_bytes, 96u);
  EXPECT_FALSE(events.modem_changed);
}

}  // namespace
