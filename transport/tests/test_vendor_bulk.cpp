// VendorBulk: a bulk pipe pair with no chip protocol. Nothing may ever reach the
// device's endpoint 0, every line setting is recorded and reported as in force,
// modem lines are not claimed, and bulk IN data passes through untouched. Also
// SerialPort on such a port: the kernel's open sequence (DTR up, HwActivate,
// termios) must succeed with nothing sent.
#include <array>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "tools/common/recording_sink.hpp"
#include "transport/chips/vendor_bulk.hpp"
#include "transport/serial_port.hpp"

namespace {

using transport::ChipVariant;
using transport::LineSettings;
using transport::ModemControl;
using transport::ModemStatus;
using transport::Parity;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::StopBits;
using transport::chips::VendorBulk;
namespace cap = transport::capability;

PortConfig radio_port(uint8_t interface_number) {
  PortConfig config;
  config.variant = ChipVariant::vendor_bulk;
  config.interface_number = interface_number;
  config.data_interface = interface_number;
  config.port_index = interface_number;
  config.bulk_in_max_packet = 512;
  return config;
}

LineSettings line(uint32_t baud, uint8_t bits, Parity parity, StopBits stops) {
  LineSettings l;
  l.baud = baud;
  l.data_bits = bits;
  l.parity = parity;
  l.stop_bits = stops;
  return l;
}

class VendorBulkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(chip_.configure(radio_port(1)), Status::ok); }
  void TearDown() override {
    EXPECT_TRUE(sink_.transcript().empty()) << "a vendor bulk port sent a control request";
  }
  VendorBulk chip_;
  hostutil::RecordingSink sink_;
};

TEST(VendorBulkConfigure, RefusesOtherVariantsAndZeroPackets) {
  VendorBulk chip;
  PortConfig ftdi = radio_port(0);
  ftdi.variant = ChipVariant::ft232r;
  EXPECT_EQ(chip.configure(ftdi), Status::invalid_argument);
  PortConfig zero = radio_port(0);
  zero.bulk_in_max_packet = 0;
  EXPECT_EQ(chip.configure(zero), Status::invalid_argument);
  hostutil::RecordingSink sink;
  EXPECT_EQ(chip.open(sink), Status::not_open);
  uint32_t actual = 0;
  EXPECT_EQ(chip.set_line(sink, LineSettings{}, actual), Status::not_open);
  EXPECT_EQ(chip.set_modem_control(sink, ModemControl{true, true}), Status::not_open);
  EXPECT_EQ(chip.close(sink), Status::not_open);
  EXPECT_EQ(chip.configure(radio_port(0)), Status::ok);
  EXPECT_STREQ(chip.name(), "vendor-bulk");
}

TEST_F(VendorBulkTest, CapabilitiesClaimNoModemLinesNorAnyChipFeature) {
  const transport::Capabilities caps = chip_.capabilities();
  EXPECT_TRUE(caps.has(cap::kNoModemLines));
  for (const uint32_t absent :
       {cap::kBreak, cap::kRtsCts, cap::kDtrDsr, cap::kXonXoff, cap::kPurge, cap::kLatencyTimer,
        cap::kModemStatusPoll, cap::kLineErrors, cap::kCts}) {
    EXPECT_FALSE(caps.has(absent)) << absent;
  }
  // Every framing is accepted, because every framing is only recorded.
  EXPECT_TRUE(caps.has(cap::kMarkSpace | cap::kDataBits5_6 | cap::kStopBits1_5));
  EXPECT_EQ(caps.min_baud, 1u);
  EXPECT_EQ(caps.max_baud, 0u);
}

TEST_F(VendorBulkTest, OpenAndCloseSendNothing) {
  EXPECT_EQ(chip_.open(sink_), Status::ok);
  EXPECT_EQ(chip_.close(sink_), Status::ok);
}

TEST_F(VendorBulkTest, LineSettingsAreRecordedAtTheRequestedRate) {
  const LineSettings kAccepted[] = {
      line(1, 5, Parity::none, StopBits::one),
      line(9600, 8, Parity::none, StopBits::one),
      line(38400, 7, Parity::even, StopBits::two),
      line(115200, 6, Parity::odd, StopBits::one_and_half),
      line(921600, 8, Parity::mark, StopBits::one),
      line(12'000'000, 8, Parity::space, StopBits::two),
      line(0xFFFF'FFFF, 8, Parity::none, StopBits::one),
  };
  for (const LineSettings& wanted : kAccepted) {
    uint32_t actual = 0;
    EXPECT_EQ(chip_.set_line(sink_, wanted, actual), Status::ok) << wanted.baud;
    EXPECT_EQ(actual, wanted.baud);
    EXPECT_EQ(chip_.line(), wanted);
  }
}

TEST_F(VendorBulkTest, InvalidLinesAreRefusedAndTheRecordedOneStays) {
  const LineSettings kept = line(19200, 8, Parity::none, StopBits::one);
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, kept, actual), Status::ok);
  const LineSettings kRefused[] = {
      line(0, 8, Parity::none, StopBits::one),
      line(9600, 4, Parity::none, StopBits::one),
      line(9600, 9, Parity::none, StopBits::one),
      line(9600, 8, static_cast<Parity>(5), StopBits::one),
      line(9600, 8, Parity::none, static_cast<StopBits>(3)),
  };
  for (const LineSettings& wanted : kRefused) {
    actual = 7;
    EXPECT_EQ(chip_.set_line(sink_, wanted, actual), Status::invalid_argument);
    EXPECT_EQ(actual, 7u);
    EXPECT_EQ(chip_.line(), kept);
  }
}

TEST_F(VendorBulkTest, ModemAndChipFeaturesAreUnsupported) {
  for (const ModemControl lines : {ModemControl{true, true}, ModemControl{false, false}}) {
    EXPECT_EQ(chip_.set_modem_control(sink_, lines), Status::unsupported);
  }
  ModemStatus status;
  EXPECT_EQ(chip_.get_modem_status(sink_, status), Status::unsupported);
  EXPECT_EQ(chip_.set_break(sink_, true), Status::unsupported);
  EXPECT_EQ(chip_.set_flow_control(sink_, transport::FlowControl{}), Status::unsupported);
  EXPECT_EQ(chip_.purge(sink_, true, true), Status::unsupported);
  EXPECT_EQ(chip_.set_latency(sink_, 1), Status::unsupported);
  RxReport report;
  const std::array<uint8_t, 2> notification = {0xA1, 0x20};
  EXPECT_EQ(chip_.decode_interrupt(notification, report), Status::unsupported);
}

TEST_F(VendorBulkTest, DecodeRxPassesEveryByteThrough) {
  for (const size_t size :
       {size_t{0}, size_t{1}, size_t{2}, size_t{511}, size_t{512}, size_t{513}, size_t{16 * 512}}) {
    std::vector<uint8_t> transfer(size);
    for (size_t i = 0; i < size; ++i) {
      // FTDI-like status bytes and CDC-like headers must not be taken for framing.
      transfer[i] = static_cast<uint8_t>(i % 3 == 0 ? 0x01 : (i * 37 + 0x60));
    }
    const std::vector<uint8_t> sent = transfer;
    RxReport report;
    EXPECT_EQ(chip_.decode_rx(transfer, report), size);
    EXPECT_EQ(transfer, sent);
    EXPECT_FALSE(report.errors.any());
    EXPECT_FALSE(report.modem_valid);
    EXPECT_EQ(report.malformed, 0u);
    EXPECT_EQ(report.status_only_packets, 0u);
  }
}

// ------------------------------------------------------------ through SerialPort

class VendorBulkPortTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(port_.attach(chip_, sink_, radio_port(0)), Status::ok); }
  void TearDown() override {
    EXPECT_TRUE(sink_.transcript().empty()) << "a vendor bulk port sent a control request";
  }
  VendorBulk chip_;
  hostutil::RecordingSink sink_;
  transport::SerialPort port_;
};

TEST_F(VendorBulkPortTest, TheKernelsOpenSequenceSucceeds) {
  // IOSerialBSDClient raises DTR (and the Linux tty RTS) before HwActivate.
  EXPECT_EQ(port_.program_mcr(true, true), Status::ok);
  EXPECT_EQ(port_.program_uart(115200, 8, 2, 1), Status::ok);  // cached until active
  EXPECT_EQ(port_.activate(), Status::ok);
  EXPECT_TRUE(port_.active());
  EXPECT_EQ(port_.stats().actual_baud, 115200u);
  EXPECT_EQ(port_.program_flow(0, 0x11, 0x13), Status::ok);  // "no flow control" is true
  EXPECT_EQ(port_.reset_fifo(true, true), Status::ok);       // no chip FIFO to flush
  EXPECT_EQ(port_.deactivate(), Status::ok);
  EXPECT_EQ(port_.stats().control_failures, 0u);
  EXPECT_EQ(port_.stats().last_error, Status::ok);
}

TEST_F(VendorBulkPortTest, LineChangesReportTheRequestedRate) {
  ASSERT_EQ(port_.activate(), Status::ok);
  EXPECT_EQ(port_.program_uart(9600, 7, 4, 3), Status::ok);  // 7E2
  EXPECT_EQ(port_.stats().requested_baud, 9600u);
  EXPECT_EQ(port_.stats().actual_baud, 9600u);
  EXPECT_EQ(chip_.line(), line(9600, 7, Parity::even, StopBits::two));
  EXPECT_EQ(port_.program_baud(3'000'000), Status::ok);
  EXPECT_EQ(port_.stats().actual_baud, 3'000'000u);
  EXPECT_EQ(chip_.line(), line(3'000'000, 7, Parity::even, StopBits::two));
  // Hang-up (B0) and back: no modem lines to drop or raise, so nothing fails.
  EXPECT_EQ(port_.program_uart(0, 8, 2, 1), Status::ok);
  EXPECT_EQ(port_.program_uart(57600, 8, 2, 1), Status::ok);
  EXPECT_EQ(port_.stats().actual_baud, 57600u);
}

TEST_F(VendorBulkPortTest, ModemLinesAreNotClaimed) {
  ASSERT_EQ(port_.activate(), Status::ok);
  EXPECT_EQ(port_.program_mcr(false, true), Status::unsupported);
  EXPECT_EQ(port_.modem_control(), (ModemControl{false, true}));  // recorded all the same
  EXPECT_EQ(port_.send_break(true), Status::unsupported);
  EXPECT_EQ(port_.program_flow(0x024, 0x11, 0x13), Status::unsupported);  // RTS/CTS
  EXPECT_EQ(port_.program_latency(4), Status::unsupported);
  // Nothing to poll and nothing reported in-band: all inputs low, except CTS,
  // which SerialPort asserts for every device that has none.
  ModemStatus status;
  EXPECT_EQ(port_.modem_status(status), Status::ok);
  EXPECT_EQ(status, (ModemStatus{true, false, false, false}));
}

TEST_F(VendorBulkPortTest, ReceivedDataIsCountedUnchanged) {
  ASSERT_EQ(port_.activate(), Status::ok);
  std::array<uint8_t, 5> transfer = {'O', 'K', '\r', '\n', 0x00};
  transport::RxEvents events;
  EXPECT_EQ(port_.handle_rx(transfer, events), 5u);
  EXPECT_FALSE(events.modem_changed);
  EXPECT_FALSE(events.errors.any());
  EXPECT_EQ(port_.stats().rx_bytes, 5u);
  EXPECT_EQ(port_.stats().rx_transfers, 1u);
}

}  // namespace
