// PL2303 input decoding: bulk IN is raw data; the interrupt endpoint carries 10-byte
// notifications whose byte 8 is the UART state (Linux pl2303.c UART_*: 0x01 DCD, 0x02 DSR,
// 0x04 break, 0x08 RI, 0x10 framing, 0x20 parity, 0x40 overrun, 0x80 CTS; bytes 0-1 are
// 0xA1 0x20 as in a CDC SERIAL_STATE). Tables cover every bit, several notifications in one
// transfer, notifications split across transfers, and garbage.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "transport/chip_protocol.hpp"
#include "transport/chips/pl2303.hpp"

namespace {

using transport::ChipVariant;
using transport::LineErrors;
using transport::ModemStatus;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::chips::Pl2303;
using Bytes = std::vector<uint8_t>;

Bytes notification(uint8_t state) {
  return {0xA1, 0x20, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, state, 0x00};
}

Bytes join(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

class Pl2303Decode : public ::testing::Test {
 protected:
  void configure(uint16_t interrupt_packet) {
    PortConfig config;
    config.variant = ChipVariant::pl2303_hx;
    config.bulk_in_max_packet = 64;
    config.interrupt_max_packet = interrupt_packet;
    ASSERT_EQ(chip_.configure(config), Status::ok);
  }
  void SetUp() override { configure(10); }
  Status feed(const Bytes& bytes) { return chip_.decode_interrupt(bytes, report_); }

  Pl2303 chip_;
  RxReport report_;
};

// ------------------------------------------------------------ bulk IN

TEST_F(Pl2303Decode, BulkInIsPassedThroughUntouched) {
  Bytes data(512);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<uint8_t>(i * 7);
  }
  const Bytes original = data;
  EXPECT_EQ(chip_.decode_rx(data, report_), 512u);
  EXPECT_EQ(data, original);
  Bytes one = {0x13};  // no byte value is special (XON/XOFF is done by the chip)
  EXPECT_EQ(chip_.decode_rx(one, report_), 1u);
  EXPECT_EQ(chip_.decode_rx({}, report_), 0u);
  EXPECT_FALSE(report_.errors.any());
  EXPECT_FALSE(report_.modem_valid);
  EXPECT_EQ(report_.malformed, 0u);
}

TEST(Pl2303DecodeUnconfigured, CountsMalformed) {
  Pl2303 chip;
  RxReport report;
  Bytes data = {1, 2, 3};
  EXPECT_EQ(chip.decode_rx(data, report), 0u);
  EXPECT_EQ(chip.decode_interrupt(notification(0x80), report), Status::malformed);
  EXPECT_EQ(report.malformed, 2u);
  EXPECT_FALSE(report.modem_valid);
}

// ------------------------------------------------------------ UART state

struct StateCase {
  uint8_t state;
  ModemStatus modem;  // cts, dsr, ri, dcd
  LineErrors errors;  // overrun, parity, framing, brk
};

// clang-format off
const StateCase kStates[] = {
    {0x00, {false, false, false, false}, {0, 0, 0, 0}},
    {0x80, {true, false, false, false}, {0, 0, 0, 0}},
    {0x02, {false, true, false, false}, {0, 0, 0, 0}},
    {0x08, {false, false, true, false}, {0, 0, 0, 0}},
    {0x01, {false, false, false, true}, {0, 0, 0, 0}},
    {0x8B, {true, true, true, true}, {0, 0, 0, 0}},
    {0x04, {false, false, false, false}, {0, 0, 0, 1}},  // break
    {0x10, {false, false, false, false}, {0, 0, 1, 0}},  // framing
    {0x20, {false, false, false, false}, {0, 1, 0, 0}},  // parity
    {0x40, {false, false, false, false}, {1, 0, 0, 0}},  // overrun
    // One event per notification for the flagged data: break > parity > framing.
    {0x14, {false, false, false, false}, {0, 0, 0, 1}},
    {0x30, {false, false, false, false}, {0, 1, 0, 0}},
    {0x34, {false, false, false, false}, {0, 0, 0, 1}},
    // Overrun is its own event.
    {0x50, {false, false, false, false}, {1, 0, 1, 0}},
    {0xFF, {true, true, true, true}, {1, 0, 0, 1}},
};
// clang-format on

TEST_F(Pl2303Decode, EveryStateBit) {
  for (const StateCase& c : kStates) {
    SCOPED_TRACE(static_cast<int>(c.state));
    RxReport report;
    ASSERT_EQ(chip_.decode_interrupt(notification(c.state), report), Status::ok);
    EXPECT_TRUE(report.modem_valid);
    EXPECT_EQ(report.modem, c.modem);
    EXPECT_EQ(report.errors.overrun, c.errors.overrun);
    EXPECT_EQ(report.errors.parity, c.errors.parity);
    EXPECT_EQ(report.errors.framing, c.errors.framing);
    EXPECT_EQ(report.errors.brk, c.errors.brk);
    EXPECT_EQ(report.malformed, 0u);
  }
}

TEST_F(Pl2303Decode, SeveralInOneTransferAreEachCountedAndTheLastModemWins) {
  ASSERT_EQ(feed(join({notification(0x90), notification(0x10), notification(0x02)})), Status::ok);
  EXPECT_EQ(report_.errors.framing, 2u);
  EXPECT_EQ(report_.modem, (ModemStatus{false, true, false, false}));
}

// ------------------------------------------------------------ split input

TEST_F(Pl2303Decode, SplitAcrossFullPacketsOfASmallEndpoint) {
  configure(8);  // an 8-byte interrupt endpoint: a notification is 8 + 2
  const Bytes n = notification(0x21);
  ASSERT_EQ(feed(Bytes(n.begin(), n.begin() + 8)), Status::ok);
  EXPECT_FALSE(report_.modem_valid);
  ASSERT_EQ(feed(Bytes(n.begin() + 8, n.end())), Status::ok);
  EXPECT_TRUE(report_.modem_valid);
  EXPECT_EQ(report_.modem, (ModemStatus{false, false, false, true}));
  EXPECT_EQ(report_.errors.parity, 1u);
  EXPECT_EQ(report_.malformed, 0u);
  // And again, as 4 + 4 + 2 on a 4-byte endpoint.
  configure(4);
  RxReport report;
  ASSERT_EQ(chip_.decode_interrupt(Bytes(n.begin(), n.begin() + 4), report), Status::ok);
  ASSERT_EQ(chip_.decode_interrupt(Bytes(n.begin() + 4, n.begin() + 8), report), Status::ok);
  ASSERT_EQ(chip_.decode_interrupt(Bytes(n.begin() + 8, n.end()), report), Status::ok);
  EXPECT_EQ(report.errors.parity, 1u);
}

// On a 10-byte endpoint a notification always arrives whole: a short transfer is a cut one.
TEST_F(Pl2303Decode, ShortTransferOnAWholeNotificationEndpointIsMalformed) {
  const Bytes n = notification(0x80);
  EXPECT_EQ(feed(Bytes(n.begin(), n.begin() + 9)), Status::malformed);
  EXPECT_EQ(report_.malformed, 1u);
  EXPECT_FALSE(report_.modem_valid);
  // The next whole one decodes from a clean start.
  ASSERT_EQ(feed(n), Status::ok);
  EXPECT_TRUE(report_.modem.cts);
}

TEST_F(Pl2303Decode, ShortFragmentOnASmallEndpointIsMalformed) {
  configure(8);
  const Bytes n = notification(0x80);
  EXPECT_EQ(feed(Bytes(n.begin(), n.begin() + 5)), Status::malformed);  // 5 < 8: transfer over
  EXPECT_EQ(report_.malformed, 1u);
  ASSERT_EQ(feed(Bytes(n.begin(), n.begin() + 8)), Status::ok);
  ASSERT_EQ(feed(Bytes(n.begin() + 8, n.end())), Status::ok);
  EXPECT_TRUE(report_.modem.cts);
}

// A whole notification followed by the start of another in one transfer: the second is cut.
TEST_F(Pl2303Decode, TrailingPartialNotification) {
  const Bytes n = notification(0x40);
  EXPECT_EQ(feed(join({n, Bytes(n.begin(), n.begin() + 3)})), Status::malformed);
  EXPECT_EQ(report_.errors.overrun, 1u);
  EXPECT_EQ(report_.malformed, 1u);
}

// ------------------------------------------------------------ garbage

TEST_F(Pl2303Decode, GarbageIsCountedAndDropped) {
  struct Case {
    const char* label;
    Bytes bytes;
  };
  const Case kCases[] = {
      {"wrong request type", {0x21, 0x20, 0, 0, 0, 0, 2, 0, 0x80, 0}},
      {"wrong notification", {0xA1, 0x2A, 0, 0, 0, 0, 2, 0, 0x80, 0}},
      {"one byte", {0xA1}},
      {"noise", {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}},
      {"good then garbage", join({notification(0x02), {0x00, 0x20}})},
      {"eleven bytes", join({notification(0x02), {0xA1}})},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.label);
    RxReport report;
    EXPECT_EQ(chip_.decode_interrupt(c.bytes, report), Status::malformed);
    EXPECT_EQ(report.malformed, 1u);
    EXPECT_EQ(report.errors.overrun + report.errors.parity + report.errors.framing, 0u);
    // Nothing is carried into the next transfer.
    RxReport next;
    ASSERT_EQ(chip_.decode_interrupt(notification(0x88), next), Status::ok);
    EXPECT_EQ(next.modem, (ModemStatus{true, false, true, false}));
    EXPECT_EQ(next.malformed, 0u);
  }
}

TEST_F(Pl2303Decode, EmptyTransferIsNothing) {
  EXPECT_EQ(feed({}), Status::ok);
  EXPECT_FALSE(report_.modem_valid);
  EXPECT_EQ(report_.malformed, 0u);
}

// Every byte pattern is acceptable input: short random transfers never crash, never report
// more events than whole notifications could carry.
TEST_F(Pl2303Decode, RandomInputStaysBounded) {
  uint32_t seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    seed = seed * 1103515245u + 12345u;
    Bytes bytes((seed >> 16) % 24);
    for (uint8_t& b : bytes) {
      seed = seed * 1103515245u + 12345u;
      b = static_cast<uint8_t>(seed >> 24);
      if ((seed & 0x300) == 0) {
        b = 0xA1;
      }
    }
    RxReport report;
    (void)chip_.decode_interrupt(bytes, report);
    const uint32_t events =
        report.errors.overrun + report.errors.parity + report.errors.framing + report.errors.brk;
    EXPECT_LE(events, 2 * (bytes.size() / 10 + 1));
  }
}

}  // namespace
