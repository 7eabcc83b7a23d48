// FTDI control-request transcripts: the exact requests each operation sends, checked against
// docs/usb-serial-reference.md §2.2 (bmRequestType 0x40 / 0xC0, bRequest codes, wValue
// layouts, channel in the low byte of wIndex).
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/ftdi.hpp"

namespace {

using hostutil::RecordingSink;
using transport::ChipVariant;
using transport::FlowControl;
using transport::LineSettings;
using transport::ModemControl;
using transport::ModemStatus;
using transport::Parity;
using transport::PortConfig;
using transport::Status;
using transport::StopBits;
using transport::chips::Ftdi;
namespace flow = transport::flow;
namespace capability = transport::capability;

// bRequest codes written out from the reference table (§2.2), not taken from ftdi_regs.hpp.
constexpr uint8_t kOut = 0x40;
constexpr uint8_t kIn = 0xC0;
constexpr uint8_t kReset = 0x00;
constexpr uint8_t kModemCtrl = 0x01;
constexpr uint8_t kFlowCtrl = 0x02;
constexpr uint8_t kBaud = 0x03;
constexpr uint8_t kData = 0x04;
constexpr uint8_t kModemStatus = 0x05;
constexpr uint8_t kEventChar = 0x06;
constexpr uint8_t kErrorChar = 0x07;
constexpr uint8_t kLatency = 0x09;
constexpr uint8_t kBitmode = 0x0B;

struct Req {
  uint8_t bm;
  uint8_t req;
  uint16_t value;
  uint16_t index;
  uint16_t length = 0;
  std::vector<uint8_t> data = {};
  Status status = Status::ok;
};

std::string describe_all(const RecordingSink& sink) {
  std::string text;
  for (const auto& t : sink.transcript()) {
    text += "  " + hostutil::describe(t) + "\n";
  }
  return text;
}

void expect_transcript(const RecordingSink& sink, const std::vector<Req>& want) {
  const auto& got = sink.transcript();
  ASSERT_EQ(got.size(), want.size()) << describe_all(sink);
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i) + ": " + hostutil::describe(got[i]));
    EXPECT_EQ(got[i].request.bmRequestType, want[i].bm);
    EXPECT_EQ(got[i].request.bRequest, want[i].req);
    EXPECT_EQ(got[i].request.wValue, want[i].value);
    EXPECT_EQ(got[i].request.wIndex, want[i].index);
    EXPECT_EQ(got[i].request.wLength, want[i].length);
    EXPECT_EQ(got[i].data, want[i].data);
    EXPECT_EQ(got[i].status, want[i].status);
  }
}

PortConfig config_for(ChipVariant variant, uint8_t port_index, uint16_t packet) {
  PortConfig config;
  config.variant = variant;
  config.interface_number = port_index;
  config.data_interface = port_index;
  config.port_index = port_index;
  config.bulk_in_max_packet = packet;
  return config;
}

// One port of one part, with the channel and 9600-Bd encoding worked out by hand.
struct PortCase {
  const char* label;
  ChipVariant variant;
  uint8_t port_index;
  uint16_t packet;
  uint8_t channel;
  uint16_t baud9600_value;  // SET_BAUD_RATE for 9600
  uint16_t baud9600_index;
  const char* name;
};

// clang-format off
const PortCase kPorts[] = {
    // 3 MHz: 9600 = 312.5 -> 0x4138. Channel 0 parts keep wIndex = encoded >> 16 = 0.
    {"ft232r", ChipVariant::ft232r, 0, 64, 0, 0x4138, 0x0000, "ft232r"},
    {"ft232bm", ChipVariant::ft232bm, 0, 64, 0, 0x4138, 0x0000, "ft232bm"},
    {"ft_x", ChipVariant::ft_x, 0, 64, 1, 0x4138, 0x0001, "ft-x"},
    {"ft2232c_B", ChipVariant::ft2232c, 1, 64, 2, 0x4138, 0x0002, "ft2232c"},
    // 12 MHz: 9600 = 1250 = 0x4E2, bit 17 -> wIndex bit 9.
    {"ft232h", ChipVariant::ft232h, 0, 512, 1, 0x04E2, 0x0201, "ft232h"},
    {"ft2232h_B", ChipVariant::ft2232h, 1, 512, 2, 0x04E2, 0x0202, "ft2232h"},
    {"ft4232h_C", ChipVariant::ft4232h, 2, 512, 3, 0x04E2, 0x0203, "ft4232h"},
};
// clang-format on

void PrintTo(const PortCase& p, std::ostream* os) {
  *os << p.label;
}

class FtdiPort : public ::testing::TestWithParam<PortCase> {
 protected:
  void SetUp() override {
    const PortCase& p = GetParam();
    ASSERT_EQ(ftdi_.configure(config_for(p.variant, p.port_index, p.packet)), Status::ok);
  }
  uint8_t ch() const { return GetParam().channel; }
  uint16_t idx(uint16_t high) const { return static_cast<uint16_t>(high | ch()); }

  Ftdi ftdi_;
  RecordingSink sink_;
};

TEST_P(FtdiPort, NameAndChannel) {
  EXPECT_STREQ(ftdi_.name(), GetParam().name);
  EXPECT_EQ(ftdi_.channel(), ch());
}

TEST_P(FtdiPort, OpenResetsBitmodeEventAndErrorChar) {
  ASSERT_EQ(ftdi_.open(sink_), Status::ok);
  expect_transcript(sink_, {
                               {kOut, kReset, 0x0000, idx(0)},
                               {kOut, kBitmode, 0x0000, idx(0)},
                               {kOut, kEventChar, 0x0000, idx(0)},
                               {kOut, kErrorChar, 0x0000, idx(0)},
                           });
}

TEST_P(FtdiPort, CloseDropsFlowThenDtrRts) {
  ASSERT_EQ(ftdi_.close(sink_), Status::ok);
  expect_transcript(sink_, {
                               {kOut, kFlowCtrl, 0x0000, idx(0x0000)},
                               {kOut, kModemCtrl, 0x0300, idx(0)},
                           });
}

TEST_P(FtdiPort, SetLine9600_8N1) {
  uint32_t actual = 0;
  ASSERT_EQ(ftdi_.set_line(sink_, LineSettings{9600, 8, Parity::none, StopBits::one}, actual),
            Status::ok);
  EXPECT_EQ(actual, 9600u);
  expect_transcript(sink_, {
                               {kOut, kBaud, GetParam().baud9600_value, GetParam().baud9600_index},
                               {kOut, kData, 0x0008, idx(0)},
                           });
}

TEST_P(FtdiPort, SetLineFramings) {
  struct Framing {
    LineSettings line;
    uint16_t value;  // bits 0-7 data, 8-10 parity (0 N,1 O,2 E,3 M,4 S), 11-13 stop (0,1=1.5,2)
  };
  const Framing framings[] = {
      {{9600, 7, Parity::even, StopBits::one}, 0x0207},
      {{9600, 7, Parity::odd, StopBits::two}, 0x1107},
      {{9600, 8, Parity::mark, StopBits::one}, 0x0308},
      {{9600, 8, Parity::space, StopBits::one_and_half}, 0x0C08},
      {{9600, 8, Parity::even, StopBits::two}, 0x1208},
  };
  for (const Framing& f : framings) {
    sink_.clear();
    uint32_t actual = 0;
    ASSERT_EQ(ftdi_.set_line(sink_, f.line, actual), Status::ok);
    ASSERT_EQ(sink_.transcript().size(), 2u);
    EXPECT_EQ(sink_.transcript()[1].request.bRequest, kData);
    EXPECT_EQ(sink_.transcript()[1].request.wValue, f.value);
    EXPECT_EQ(sink_.transcript()[1].request.wIndex, ch());
    EXPECT_EQ(ftdi_.data_value(), f.value);
  }
}

TEST_P(FtdiPort, SetLineRefusalsSendNothing) {
  uint32_t actual = 12345;
  // 5 and 6 data bits: the chip cannot.
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 5, Parity::none, StopBits::one}, actual),
            Status::unsupported);
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 6, Parity::none, StopBits::one}, actual),
            Status::unsupported);
  // Nonsense framing.
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 9, Parity::none, StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 0, Parity::none, StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 8, static_cast<Parity>(9), StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 8, Parity::none, static_cast<StopBits>(7)}, actual),
            Status::invalid_argument);
  // Rate 0 (B0 is SerialPort's business) and unreachable rates.
  EXPECT_EQ(ftdi_.set_line(sink_, {0, 8, Parity::none, StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(ftdi_.set_line(sink_, {100, 8, Parity::none, StopBits::one}, actual),
            Status::baud_unreachable);
  EXPECT_EQ(ftdi_.set_line(sink_, {13'000'000, 8, Parity::none, StopBits::one}, actual),
            Status::baud_unreachable);
  EXPECT_TRUE(sink_.transcript().empty()) << describe_all(sink_);
  EXPECT_EQ(actual, 12345u);
  EXPECT_EQ(ftdi_.data_value(), 0x0008);  // 8N1 default kept
}

TEST_P(FtdiPort, UnreachableBaudLeavesBreakValueAlone) {
  uint32_t actual = 0;
  ASSERT_EQ(ftdi_.set_line(sink_, {9600, 7, Parity::odd, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(ftdi_.set_line(sink_, {150, 8, Parity::none, StopBits::one}, actual),
            Status::baud_unreachable);
  sink_.clear();
  ASSERT_EQ(ftdi_.set_break(sink_, true), Status::ok);
  expect_transcript(sink_, {{kOut, kData, 0x4107, idx(0)}});
}

TEST_P(FtdiPort, ModemControlBothLinesInOneRequest) {
  ASSERT_EQ(ftdi_.set_modem_control(sink_, ModemControl{false, false}), Status::ok);
  ASSERT_EQ(ftdi_.set_modem_control(sink_, ModemControl{true, false}), Status::ok);
  ASSERT_EQ(ftdi_.set_modem_control(sink_, ModemControl{false, true}), Status::ok);
  ASSERT_EQ(ftdi_.set_modem_control(sink_, ModemControl{true, true}), Status::ok);
  expect_transcript(sink_, {
                               {kOut, kModemCtrl, 0x0300, idx(0)},
                               {kOut, kModemCtrl, 0x0301, idx(0)},
                               {kOut, kModemCtrl, 0x0302, idx(0)},
                               {kOut, kModemCtrl, 0x0303, idx(0)},
                           });
}

TEST_P(FtdiPort, EveryFlowMode) {
  ASSERT_EQ(ftdi_.set_flow_control(sink_, FlowControl{flow::kNone, 0x11, 0x13}), Status::ok);
  ASSERT_EQ(ftdi_.set_flow_control(sink_, FlowControl{flow::kRtsCts, 0x11, 0x13}), Status::ok);
  ASSERT_EQ(ftdi_.set_flow_control(sink_, FlowControl{flow::kDtrDsr, 0x11, 0x13}), Status::ok);
  // Either XON/XOFF direction (or both) selects the chip's one XON/XOFF mode.
  ASSERT_EQ(ftdi_.set_flow_control(sink_, FlowControl{flow::kXonXoffOut, 0x11, 0x13}), Status::ok);
  ASSERT_EQ(ftdi_.set_flow_control(sink_, FlowControl{flow::kXonXoffIn, 0x11, 0x13}), Status::ok);
  ASSERT_EQ(
      ftdi_.set_flow_control(sink_, FlowControl{flow::kXonXoffOut | flow::kXonXoffIn, 0x21, 0x23}),
      Status::ok);
  expect_transcript(sink_, {
                               {kOut, kFlowCtrl, 0x0000, idx(0x0000)},
                               {kOut, kFlowCtrl, 0x0000, idx(0x0100)},
                               {kOut, kFlowCtrl, 0x0000, idx(0x0200)},
                               {kOut, kFlowCtrl, 0x1311, idx(0x0400)},
                               {kOut, kFlowCtrl, 0x1311, idx(0x0400)},
                               {kOut, kFlowCtrl, 0x2321, idx(0x0400)},
                           });
}

TEST_P(FtdiPort, FlowCombinationsTheChipCannotDoSendNothing) {
  EXPECT_EQ(ftdi_.set_flow_control(sink_, FlowControl{flow::kRtsCts | flow::kDtrDsr, 0x11, 0x13}),
            Status::unsupported);
  EXPECT_EQ(
      ftdi_.set_flow_control(sink_, FlowControl{flow::kRtsCts | flow::kXonXoffOut, 0x11, 0x13}),
      Status::unsupported);
  EXPECT_EQ(
      ftdi_.set_flow_control(sink_, FlowControl{flow::kDtrDsr | flow::kXonXoffIn, 0x11, 0x13}),
      Status::unsupported);
  EXPECT_EQ(ftdi_.set_flow_control(sink_, FlowControl{0x10, 0x11, 0x13}), Status::invalid_argument);
  EXPECT_TRUE(sink_.transcript().empty()) << describe_all(sink_);
}

TEST_P(FtdiPort, BreakOnOffUsesRememberedDataValue) {
  // Before any set_line: the chip's default format 8N1.
  ASSERT_EQ(ftdi_.set_break(sink_, true), Status::ok);
  ASSERT_EQ(ftdi_.set_break(sink_, false), Status::ok);
  uint32_t actual = 0;
  ASSERT_EQ(ftdi_.set_line(sink_, {9600, 7, Parity::even, StopBits::two}, actual), Status::ok);
  sink_.clear();
  ASSERT_EQ(ftdi_.set_break(sink_, true), Status::ok);
  ASSERT_EQ(ftdi_.set_break(sink_, false), Status::ok);
  expect_transcript(sink_, {
                               {kOut, kData, 0x5207, idx(0)},
                               {kOut, kData, 0x1207, idx(0)},
                           });
}

TEST_P(FtdiPort, SetLineDuringBreakKeepsTheBreak) {
  ASSERT_EQ(ftdi_.set_break(sink_, true), Status::ok);
  uint32_t actual = 0;
  ASSERT_EQ(ftdi_.set_line(sink_, {9600, 8, Parity::odd, StopBits::one}, actual), Status::ok);
  ASSERT_EQ(ftdi_.set_break(sink_, false), Status::ok);
  const auto& t = sink_.transcript();
  ASSERT_EQ(t.size(), 4u) << describe_all(sink_);
  EXPECT_EQ(t[0].request.wValue, 0x4008);  // break on, 8N1
  EXPECT_EQ(t[2].request.wValue, 0x4108);  // new framing, break still on
  EXPECT_EQ(t[3].request.wValue, 0x0108);  // break off
}

TEST_P(FtdiPort, PurgeDirections) {
  ASSERT_EQ(ftdi_.purge(sink_, true, false), Status::ok);
  ASSERT_EQ(ftdi_.purge(sink_, false, true), Status::ok);
  ASSERT_EQ(ftdi_.purge(sink_, true, true), Status::ok);
  ASSERT_EQ(ftdi_.purge(sink_, false, false), Status::ok);
  // wValue 1 = host->device (TX) FIFO, 2 = device->host (RX) FIFO (libftdi >= 1.5).
  expect_transcript(sink_, {
                               {kOut, kReset, 0x0001, idx(0)},
                               {kOut, kReset, 0x0002, idx(0)},
                               {kOut, kReset, 0x0001, idx(0)},
                               {kOut, kReset, 0x0002, idx(0)},
                           });
}

TEST_P(FtdiPort, Latency) {
  ASSERT_EQ(ftdi_.set_latency(sink_, 1), Status::ok);
  ASSERT_EQ(ftdi_.set_latency(sink_, 16), Status::ok);
  ASSERT_EQ(ftdi_.set_latency(sink_, 255), Status::ok);
  EXPECT_EQ(ftdi_.set_latency(sink_, 0), Status::invalid_argument);
  expect_transcript(sink_, {
                               {kOut, kLatency, 1, idx(0)},
                               {kOut, kLatency, 16, idx(0)},
                               {kOut, kLatency, 255, idx(0)},
                           });
}

TEST_P(FtdiPort, ModemStatusPoll) {
  sink_.reply(kIn, kModemStatus, {0xF1, 0x60});
  ModemStatus status;
  ASSERT_EQ(ftdi_.get_modem_status(sink_, status), Status::ok);
  EXPECT_EQ(status, (ModemStatus{true, true, true, true}));
  expect_transcript(sink_, {{kIn, kModemStatus, 0x0000, idx(0), 2, {0xF1, 0x60}}});
}

TEST_P(FtdiPort, ModemStatusBits) {
  struct Case {
    uint8_t byte0;
    ModemStatus want;
  };
  const Case cases[] = {
      {0x01, {false, false, false, false}}, {0x0F, {false, false, false, false}},
      {0x11, {true, false, false, false}},  {0x21, {false, true, false, false}},
      {0x41, {false, false, true, false}},  {0x81, {false, false, false, true}},
  };
  for (const Case& c : cases) {
    RecordingSink sink;
    sink.reply(kIn, kModemStatus, {c.byte0, 0x00});
    ModemStatus status{true, true, true, true};
    ASSERT_EQ(ftdi_.get_modem_status(sink, status), Status::ok);
    EXPECT_EQ(status, c.want) << std::hex << int{c.byte0};
  }
}

TEST_P(FtdiPort, ModemStatusShortAnswer) {
  sink_.reply(kIn, kModemStatus, {0xF1});
  ModemStatus status{false, false, false, false};
  EXPECT_EQ(ftdi_.get_modem_status(sink_, status), Status::short_transfer);
  EXPECT_EQ(status, (ModemStatus{false, false, false, false}));
  RecordingSink empty;  // no reply scripted: zero bytes
  EXPECT_EQ(ftdi_.get_modem_status(empty, status), Status::short_transfer);
}

TEST_P(FtdiPort, StallIsReported) {
  sink_.fail(kOut, kModemCtrl, Status::stall);
  EXPECT_EQ(ftdi_.set_modem_control(sink_, ModemControl{true, true}), Status::stall);
  expect_transcript(sink_, {{kOut, kModemCtrl, 0x0303, idx(0), 0, {}, Status::stall}});

  RecordingSink in_stall;
  in_stall.fail(kIn, kModemStatus, Status::stall);
  ModemStatus status;
  EXPECT_EQ(ftdi_.get_modem_status(in_stall, status), Status::stall);
}

TEST_P(FtdiPort, OpenStopsAtTheFirstRefusal) {
  sink_.fail(kOut, kBitmode, Status::stall);
  EXPECT_EQ(ftdi_.open(sink_), Status::stall);
  expect_transcript(sink_, {
                               {kOut, kReset, 0x0000, idx(0)},
                               {kOut, kBitmode, 0x0000, idx(0), 0, {}, Status::stall},
                           });
}

TEST_P(FtdiPort, CloseStillDropsDtrRtsWhenFlowIsRefused) {
  sink_.fail(kOut, kFlowCtrl, Status::stall);
  EXPECT_EQ(ftdi_.close(sink_), Status::stall);
  expect_transcript(sink_, {
                               {kOut, kFlowCtrl, 0x0000, idx(0), 0, {}, Status::stall},
                               {kOut, kModemCtrl, 0x0300, idx(0)},
                           });
}

TEST_P(FtdiPort, RefusedBaudRequestStopsBeforeSetData) {
  sink_.fail(kOut, kBaud, Status::stall);
  uint32_t actual = 777;
  EXPECT_EQ(ftdi_.set_line(sink_, {9600, 7, Parity::even, StopBits::one}, actual), Status::stall);
  EXPECT_EQ(actual, 777u);
  ASSERT_EQ(sink_.transcript().size(), 1u) << describe_all(sink_);
  EXPECT_EQ(sink_.transcript()[0].request.bRequest, kBaud);
  EXPECT_EQ(ftdi_.data_value(), 0x0008);  // SET_DATA never went out
}

TEST_P(FtdiPort, Capabilities) {
  const transport::Capabilities caps = ftdi_.capabilities();
  for (const uint32_t flag : {capability::kBreak, capability::kRtsCts, capability::kDtrDsr,
                              capability::kXonXoff, capability::kPurge, capability::kLatencyTimer,
                              capability::kModemStatusPoll, capability::kLineErrors,
                              capability::kMarkSpace, capability::kStopBits1_5, capability::kCts}) {
    EXPECT_TRUE(caps.has(flag)) << flag;
  }
  EXPECT_FALSE(caps.has(capability::kDataBits5_6));
  EXPECT_EQ(caps.min_baud, 183u);
  const bool h = GetParam().packet == 512;
  EXPECT_EQ(caps.max_baud, h ? 12'000'000u : 3'000'000u);
}

INSTANTIATE_TEST_SUITE_P(Ports, FtdiPort, ::testing::ValuesIn(kPorts), [](const auto& param_info) {
  return std::string(param_info.param.label);
});

// ---- Specific transcripts named in the brief, spelled out in full ----

TEST(FtdiTranscript, Ft232hAt12MBd) {
  Ftdi ftdi;
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::ft232h, 0, 512)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(ftdi.set_line(sink, {12'000'000, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 12'000'000u);
  expect_transcript(sink, {{kOut, kBaud, 0x0000, 0x0201}, {kOut, kData, 0x0008, 0x0001}});
}

TEST(FtdiTranscript, Ft4232hPortC) {
  Ftdi ftdi;
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::ft4232h, 2, 512)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(ftdi.set_line(sink, {2'500'000, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 2'526'316u);  // 12 MHz / 4.75
  ASSERT_EQ(ftdi.set_flow_control(sink, FlowControl{flow::kRtsCts, 0x11, 0x13}), Status::ok);
  ASSERT_EQ(ftdi.purge(sink, true, true), Status::ok);
  expect_transcript(sink, {
                              {kOut, kBaud, 0x8004, 0x0303},  // code 6, 12 MHz bit, channel 3
                              {kOut, kData, 0x0008, 0x0003},
                              {kOut, kFlowCtrl, 0x0000, 0x0103},
                              {kOut, kReset, 0x0001, 0x0003},
                              {kOut, kReset, 0x0002, 0x0003},
                          });
}

TEST(FtdiTranscript, Ft2232hPortBBelow1200UsesThreeMHz) {
  Ftdi ftdi;
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::ft2232h, 1, 512)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(ftdi.set_line(sink, {300, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 300u);
  expect_transcript(sink, {{kOut, kBaud, 0x2710, 0x0002}, {kOut, kData, 0x0008, 0x0002}});
}

// ---- configure() ----

TEST(FtdiConfigure, RefusesWhatItCannotDrive) {
  Ftdi ftdi;
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::cdc_acm, 0, 64)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 1, 64)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft2232c, 2, 64)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft2232h, 2, 512)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft4232h, 4, 512)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 0, 7)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 0, 0)), Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(static_cast<ChipVariant>(99), 0, 64)),
            Status::invalid_argument);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 0, 8)), Status::ok);
  EXPECT_EQ(ftdi.configure(config_for(ChipVariant::ft4232h, 3, 64)), Status::ok);
}

TEST(FtdiConfigure, UnconfiguredSendsNothing) {
  Ftdi ftdi;
  RecordingSink sink;
  uint32_t actual = 0;
  ModemStatus status;
  EXPECT_STREQ(ftdi.name(), "ftdi");
  EXPECT_EQ(ftdi.open(sink), Status::not_open);
  EXPECT_EQ(ftdi.close(sink), Status::not_open);
  EXPECT_EQ(ftdi.set_line(sink, LineSettings{}, actual), Status::not_open);
  EXPECT_EQ(ftdi.set_modem_control(sink, {}), Status::not_open);
  EXPECT_EQ(ftdi.set_flow_control(sink, {}), Status::not_open);
  EXPECT_EQ(ftdi.set_break(sink, true), Status::not_open);
  EXPECT_EQ(ftdi.purge(sink, true, true), Status::not_open);
  EXPECT_EQ(ftdi.set_latency(sink, 1), Status::not_open);
  EXPECT_EQ(ftdi.get_modem_status(sink, status), Status::not_open);
  EXPECT_TRUE(sink.transcript().empty());
  EXPECT_EQ(ftdi.capabilities().flags, 0u);
}

TEST(FtdiConfigure, RefusedReconfigureLeavesItUnconfigured) {
  Ftdi ftdi;
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 0, 64)), Status::ok);
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::cdc_acm, 0, 64)), Status::invalid_argument);
  RecordingSink sink;
  EXPECT_EQ(ftdi.open(sink), Status::not_open);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST(FtdiConfigure, ReconfigureForgetsLineAndBreak) {
  Ftdi ftdi;
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 0, 64)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(ftdi.set_line(sink, {9600, 7, Parity::odd, StopBits::one}, actual), Status::ok);
  ASSERT_EQ(ftdi.set_break(sink, true), Status::ok);
  ASSERT_EQ(ftdi.configure(config_for(ChipVariant::ft232r, 0, 64)), Status::ok);
  EXPECT_EQ(ftdi.data_value(), 0x0008);
  sink.clear();
  ASSERT_EQ(ftdi.set_line(sink, {9600, 8, Parity::none, StopBits::one}, actual), Status::ok);
  ASSERT_EQ(sink.transcript().size(), 2u);
  EXPECT_EQ(sink.transcript()[1].request.wValue, 0x0008);  // no stale break bit
}

}  // namespace
