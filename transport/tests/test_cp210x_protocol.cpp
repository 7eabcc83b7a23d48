// CP210x control-request transcripts: the exact requests each operation sends, checked against
// docs/usb-serial-reference.md §3 (AN571): vendor requests 0x41 (OUT) / 0xC1 (IN) to the
// interface with wIndex = the interface number, 0xC0 0xFF reads for the part number and
// firmware version, SET_LINE_CTL bits 0-3 stop / 4-7 parity / 8-15 data bits, SET_MHS bit 0
// DTR, bit 1 RTS, bits 8/9 "apply", SET_FLOW as 4 little-endian u32.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/cp210x.hpp"

namespace {

using hostutil::RecordingSink;
using transport::ChipVariant;
using transport::FlowControl;
using transport::LineSettings;
using transport::ModemControl;
using transport::ModemStatus;
using transport::Parity;
using transport::PortConfig;
using transport::RxReport;
using transport::Status;
using transport::StopBits;
using transport::chips::Cp210x;
namespace flow = transport::flow;
namespace capability = transport::capability;

// Request codes written out from the reference table (§3.2), not taken from cp210x_regs.hpp.
constexpr uint8_t kOut = 0x41;
constexpr uint8_t kIn = 0xC1;
constexpr uint8_t kVendorIn = 0xC0;
constexpr uint8_t kIfcEnable = 0x00;
constexpr uint8_t kSetLineCtl = 0x03;
constexpr uint8_t kSetBreak = 0x05;
constexpr uint8_t kSetMhs = 0x07;
constexpr uint8_t kGetMdmsts = 0x08;
constexpr uint8_t kGetCommStatus = 0x10;
constexpr uint8_t kPurge = 0x12;
constexpr uint8_t kSetFlow = 0x13;
constexpr uint8_t kGetFlow = 0x14;
constexpr uint8_t kEmbedEvents = 0x15;
constexpr uint8_t kSetChars = 0x19;
constexpr uint8_t kSetBaudrate = 0x1E;
constexpr uint8_t kVendor = 0xFF;
constexpr uint16_t kPartNum = 0x370B;
constexpr uint16_t kFirmware2n = 0x0010;

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

PortConfig config_for(ChipVariant variant, uint8_t port) {
  PortConfig config;
  config.variant = variant;
  config.interface_number = port;
  config.data_interface = port;
  config.port_index = port;
  config.bulk_in_max_packet = (variant == ChipVariant::cp2105 && port == 1) ? 32 : 64;
  return config;
}

// 16 bytes of four little-endian u32.
std::vector<uint8_t> flow_bytes(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  std::vector<uint8_t> out;
  for (const uint32_t v : {a, b, c, d}) {
    for (int shift = 0; shift < 32; shift += 8) {
      out.push_back(static_cast<uint8_t>(v >> shift));
    }
  }
  return out;
}

// 19 bytes of GET_COMM_STATUS.
std::vector<uint8_t> comm_bytes(uint32_t errors, uint32_t hold, uint32_t in, uint32_t out) {
  std::vector<uint8_t> bytes = flow_bytes(errors, hold, in, out);
  bytes.insert(bytes.end(), {0, 0, 0});
  return bytes;
}

// One port of one part with the part number it answers and the requests its open sends
// between GET_PARTNUM and PURGE (the quirk probes).
struct PortCase {
  const char* label;
  ChipVariant variant;
  uint8_t port;
  uint8_t part_number;
  const char* name;
};

void PrintTo(const PortCase& p, std::ostream* os) {
  *os << p.label;
}

const PortCase kPorts[] = {
    {"cp2102", ChipVariant::cp210x, 0, 0x02, "cp2102"},
    {"cp2103", ChipVariant::cp210x, 0, 0x03, "cp2103"},
    {"cp2102n", ChipVariant::cp210x, 0, 0x20, "cp2102n"},
    {"cp2104", ChipVariant::cp210x, 0, 0x04, "cp2104"},
    {"cp2105_eci", ChipVariant::cp2105, 0, 0x05, "cp2105"},
    {"cp2105_sci", ChipVariant::cp2105, 1, 0x05, "cp2105"},
    {"cp2108_port3", ChipVariant::cp2108, 3, 0x08, "cp2108"},
};

class Cp210xPort : public ::testing::TestWithParam<PortCase> {
 protected:
  void SetUp() override {
    const PortCase& p = GetParam();
    ASSERT_EQ(chip_.configure(config_for(p.variant, p.port)), Status::ok);
    sink_.reply(kVendorIn, kVendor, {p.part_number, 0x00}, kPartNum);
    sink_.reply(kVendorIn, kVendor, {1, 0, 8}, kFirmware2n);  // CP2102N firmware 1.0.8
  }
  uint16_t idx() const { return GetParam().port; }
  // What open() sends for this part, through the purge and the event insertion.
  std::vector<Req> open_requests() const {
    const PortCase& p = GetParam();
    std::vector<Req> want = {{kOut, kIfcEnable, 0x0001, idx()},
                             {kVendorIn, kVendor, kPartNum, idx(), 1, {p.part_number}}};
    if (p.part_number == 0x02) {  // the counterfeit probe: 2 bytes asked, 2 answered
      want.push_back({kVendorIn, kVendor, kPartNum, idx(), 2, {0x02, 0x00}});
    }
    if (p.part_number == 0x20) {  // erratum E104: the firmware version
      want.push_back({kVendorIn, kVendor, kFirmware2n, idx(), 3, {1, 0, 8}});
    }
    want.push_back({kOut, kPurge, 0x000F, idx()});
    want.push_back({kOut, kEmbedEvents, 0x00EC, idx()});
    return want;
  }
  void open() {
    ASSERT_EQ(chip_.open(sink_), Status::ok);
    sink_.clear();
  }

  Cp210x chip_;
  RecordingSink sink_;
};

TEST_P(Cp210xPort, OpenEnablesFirstDetectsThePartAndTurnsEventsOn) {
  EXPECT_STREQ(chip_.name(), transport::variant_info(GetParam().variant).name);
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, open_requests());
  EXPECT_STREQ(chip_.name(), GetParam().name);
  EXPECT_TRUE(chip_.event_mode());
  EXPECT_FALSE(chip_.flow_control_refused());
}

TEST_P(Cp210xPort, DetectionRunsOnceAReopenOnlyEnablesPurgesAndTurnsEventsOn) {
  open();
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, {{kOut, kIfcEnable, 0x0001, idx()},
                            {kOut, kPurge, 0x000F, idx()},
                            {kOut, kEmbedEvents, 0x00EC, idx()}});
}

TEST_P(Cp210xPort, SetLine9600_8N1) {
  open();
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, {9600, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 9600u);
  // 9600 = 0x00002580, little-endian.
  expect_transcript(sink_, {{kOut, kSetBaudrate, 0, idx(), 4, {0x80, 0x25, 0x00, 0x00}},
                            {kOut, kSetLineCtl, 0x0800, idx()}});
}

TEST_P(Cp210xPort, ModemControlBothLevelsInOneRequest) {
  open();
  for (const ModemControl lines : {ModemControl{false, false}, ModemControl{true, false},
                                   ModemControl{false, true}, ModemControl{true, true}}) {
    ASSERT_EQ(chip_.set_modem_control(sink_, lines), Status::ok);
  }
  expect_transcript(sink_, {{kOut, kSetMhs, 0x0300, idx()},
                            {kOut, kSetMhs, 0x0301, idx()},
                            {kOut, kSetMhs, 0x0302, idx()},
                            {kOut, kSetMhs, 0x0303, idx()}});
}

TEST_P(Cp210xPort, BreakOnOff) {
  open();
  ASSERT_EQ(chip_.set_break(sink_, true), Status::ok);
  ASSERT_EQ(chip_.set_break(sink_, false), Status::ok);
  expect_transcript(sink_, {{kOut, kSetBreak, 0x0001, idx()}, {kOut, kSetBreak, 0x0000, idx()}});
}

TEST_P(Cp210xPort, PurgeSides) {
  open();
  ASSERT_EQ(chip_.purge(sink_, true, false), Status::ok);
  ASSERT_EQ(chip_.purge(sink_, false, true), Status::ok);
  ASSERT_EQ(chip_.purge(sink_, true, true), Status::ok);
  ASSERT_EQ(chip_.purge(sink_, false, false), Status::ok);
  // Transmit side: bits 0 and 2; receive side: bits 1 and 3 (AN571).
  expect_transcript(sink_, {{kOut, kPurge, 0x0005, idx()},
                            {kOut, kPurge, 0x000A, idx()},
                            {kOut, kPurge, 0x000F, idx()}});
}

TEST_P(Cp210xPort, ModemStatusPoll) {
  open();
  sink_.reply(kIn, kGetMdmsts, {0xF3});
  ModemStatus status;
  ASSERT_EQ(chip_.get_modem_status(sink_, status), Status::ok);
  EXPECT_EQ(status, (ModemStatus{true, true, true, true}));
  // Event insertion is on: no GET_COMM_STATUS.
  expect_transcript(sink_, {{kIn, kGetMdmsts, 0, idx(), 1, {0xF3}}});
}

TEST_P(Cp210xPort, CloseWithAnEmptyTransmitQueueDisablesTheUart) {
  open();
  sink_.reply(kIn, kGetCommStatus, comm_bytes(0, 0, 0, 0));
  ASSERT_EQ(chip_.close(sink_), Status::ok);
  expect_transcript(sink_, {{kOut, kSetMhs, 0x0300, idx()},
                            {kIn, kGetCommStatus, 0, idx(), 19, comm_bytes(0, 0, 0, 0)},
                            {kOut, kPurge, 0x000F, idx()},
                            {kOut, kIfcEnable, 0x0000, idx()}});
  EXPECT_FALSE(chip_.event_mode());
}

TEST_P(Cp210xPort, CloseLeavesTheUartSendingWhatItHolds) {
  open();
  sink_.reply(kIn, kGetCommStatus, comm_bytes(0, 0, 0, 37));
  ASSERT_EQ(chip_.close(sink_), Status::ok);
  expect_transcript(sink_, {{kOut, kSetMhs, 0x0300, idx()},
                            {kIn, kGetCommStatus, 0, idx(), 19, comm_bytes(0, 0, 0, 37)}});
}

TEST_P(Cp210xPort, Capabilities) {
  open();
  const transport::Capabilities caps = chip_.capabilities();
  for (const uint32_t flag :
       {capability::kBreak, capability::kRtsCts, capability::kDtrDsr, capability::kXonXoff,
        capability::kPurge, capability::kModemStatusPoll, capability::kLineErrors,
        capability::kCts}) {
    EXPECT_TRUE(caps.has(flag)) << flag;
  }
  EXPECT_FALSE(caps.has(capability::kLatencyTimer));
  const bool sci = GetParam().variant == ChipVariant::cp2105 && GetParam().port == 1;
  EXPECT_EQ(caps.has(capability::kMarkSpace), !sci);
  EXPECT_EQ(caps.has(capability::kDataBits5_6), !sci);
  EXPECT_EQ(caps.has(capability::kStopBits1_5), !sci);
}

INSTANTIATE_TEST_SUITE_P(Ports, Cp210xPort, ::testing::ValuesIn(kPorts),
                         [](const auto& param_info) {
                           return std::string(param_info.param.label);
                         });

// ---- Line control ----

class Cp210xLine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(chip_.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
  }
  Cp210x chip_;
  RecordingSink sink_;
};

TEST_F(Cp210xLine, EveryFraming) {
  struct Framing {
    LineSettings line;
    uint16_t value;  // bits 0-3 stop (0, 1 = 1.5, 2), 4-7 parity (0 N 1 O 2 E 3 M 4 S), 8-15 data
  };
  const Framing framings[] = {
      {{9600, 8, Parity::none, StopBits::one}, 0x0800},
      {{9600, 7, Parity::even, StopBits::one}, 0x0720},
      {{9600, 7, Parity::odd, StopBits::two}, 0x0712},
      {{9600, 8, Parity::mark, StopBits::one}, 0x0830},
      {{9600, 8, Parity::space, StopBits::two}, 0x0842},
      {{9600, 6, Parity::none, StopBits::one}, 0x0600},
      {{9600, 5, Parity::none, StopBits::one_and_half}, 0x0501},
      {{9600, 5, Parity::even, StopBits::two}, 0x0522},
  };
  for (const Framing& f : framings) {
    sink_.clear();
    uint32_t actual = 0;
    ASSERT_EQ(chip_.set_line(sink_, f.line, actual), Status::ok);
    expect_transcript(sink_, {{kOut, kSetBaudrate, 0, 0, 4, {0x80, 0x25, 0x00, 0x00}},
                              {kOut, kSetLineCtl, f.value, 0}});
  }
}

TEST_F(Cp210xLine, RefusalsSendNothing) {
  uint32_t actual = 4321;
  EXPECT_EQ(chip_.set_line(sink_, {9600, 8, Parity::none, StopBits::one_and_half}, actual),
            Status::unsupported);  // 1.5 stop bits need 5 data bits
  EXPECT_EQ(chip_.set_line(sink_, {9600, 7, Parity::none, StopBits::one_and_half}, actual),
            Status::unsupported);
  EXPECT_EQ(chip_.set_line(sink_, {9600, 9, Parity::none, StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(chip_.set_line(sink_, {9600, 4, Parity::none, StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(chip_.set_line(sink_, {9600, 8, static_cast<Parity>(7), StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(chip_.set_line(sink_, {9600, 8, Parity::none, static_cast<StopBits>(5)}, actual),
            Status::invalid_argument);
  EXPECT_EQ(chip_.set_line(sink_, {0, 8, Parity::none, StopBits::one}, actual),
            Status::invalid_argument);
  EXPECT_EQ(chip_.set_line(sink_, {3'000'000, 8, Parity::none, StopBits::one}, actual),
            Status::baud_unreachable);  // CP2104 stops at 2 MBd
  EXPECT_EQ(chip_.set_line(sink_, {100, 8, Parity::none, StopBits::one}, actual),
            Status::baud_unreachable);
  EXPECT_TRUE(sink_.transcript().empty()) << describe_all(sink_);
  EXPECT_EQ(actual, 4321u);
}

TEST(Cp210xSciPort, OnlyEightDataBitsNoneOddEvenParityOneStopBit) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2105, 1)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(chip.set_line(sink, {115200, 8, Parity::odd, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 115200u);
  // 115200 = 0x0001C200; wIndex 1: the SCI port is interface 1.
  expect_transcript(sink, {{kOut, kSetBaudrate, 0, 1, 4, {0x00, 0xC2, 0x01, 0x00}},
                           {kOut, kSetLineCtl, 0x0810, 1}});
  sink.clear();
  for (const LineSettings& line : {LineSettings{9600, 7, Parity::none, StopBits::one},
                                   LineSettings{9600, 5, Parity::none, StopBits::one_and_half},
                                   LineSettings{9600, 8, Parity::mark, StopBits::one},
                                   LineSettings{9600, 8, Parity::space, StopBits::one},
                                   LineSettings{9600, 8, Parity::none, StopBits::two}}) {
    EXPECT_EQ(chip.set_line(sink, line, actual), Status::unsupported);
  }
  EXPECT_EQ(chip.set_line(sink, {1200, 8, Parity::none, StopBits::one}, actual),
            Status::baud_unreachable);  // the SCI port starts at 2400
  EXPECT_TRUE(sink.transcript().empty()) << describe_all(sink);
}

TEST(Cp210xTranscript, TableRateIsWhatIsSent) {
  // CP2102 at 4803 Bd: AN205 maps the request to 4800, and 4800 (0x12C0) is what goes out.
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2102, 0)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(chip.set_line(sink, {4803, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 4800u);
  EXPECT_EQ(sink.transcript().at(0).data, (std::vector<uint8_t>{0xC0, 0x12, 0x00, 0x00}));
}

TEST(Cp210xTranscript, DividerPartsGetTheRequestAndReportTheRealRate) {
  // CP2102N at 921600: divider 26, 48 MHz / 52 = 923076.9 Bd; the request (0x000E1000) goes out.
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2102n, 0)), Status::ok);
  RecordingSink sink;
  uint32_t actual = 0;
  ASSERT_EQ(chip.set_line(sink, {921600, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 923077u);
  EXPECT_EQ(sink.transcript().at(0).data, (std::vector<uint8_t>{0x00, 0x10, 0x0E, 0x00}));
}

TEST(Cp210xTranscript, RefusedBaudRequestStopsBeforeLineCtl) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
  RecordingSink sink;
  sink.fail(kOut, kSetBaudrate, Status::stall);
  uint32_t actual = 77;
  EXPECT_EQ(chip.set_line(sink, {9600, 8, Parity::none, StopBits::one}, actual), Status::stall);
  EXPECT_EQ(actual, 77u);
  ASSERT_EQ(sink.transcript().size(), 1u) << describe_all(sink);
}

// ---- Flow control: read-modify-write ----

class Cp210xFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(chip_.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
    // What the chip holds before: DTR active; RTS active, error-character replacement, NUL
    // stripping and break character on (which must go), XOFF continue (bit 31, kept);
    // limits 0x200 / 0x80 (kept unless the chip is to send XON/XOFF).
    sink_.reply(kIn, kGetFlow, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80));
  }
  Cp210x chip_;
  RecordingSink sink_;
};

TEST_F(Cp210xFlow, NoneKeepsTheLevelsAndClearsWhatWouldChangeTheData) {
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kNone, 0x11, 0x13}), Status::ok);
  // Lines low (nothing set yet): DTR mode 0, RTS mode 0; bits 2-4 cleared; bit 31 kept.
  expect_transcript(sink_,
                    {{kIn, kGetFlow, 0, 0, 16, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80)},
                     {kOut, kSetFlow, 0, 0, 16, flow_bytes(0x00000000, 0x80000000, 0x200, 0x80)}});
}

TEST_F(Cp210xFlow, RtsCtsWithBothLinesUp) {
  ASSERT_EQ(chip_.set_modem_control(sink_, ModemControl{true, true}), Status::ok);
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kRtsCts, 0x11, 0x13}), Status::ok);
  // DTR active (1) + CTS handshake (bit 3) = 0x09; RTS flow control (2 << 6) = 0x80.
  expect_transcript(sink_,
                    {{kOut, kSetMhs, 0x0303, 0},
                     {kIn, kGetFlow, 0, 0, 16, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80)},
                     {kOut, kSetFlow, 0, 0, 16, flow_bytes(0x00000009, 0x80000080, 0x200, 0x80)}});
  // While RTS/CTS is on, the levels go through SET_FLOW: RTS dropped = RTS mode 0, DTR kept.
  sink_.clear();
  ASSERT_EQ(chip_.set_modem_control(sink_, ModemControl{true, false}), Status::ok);
  expect_transcript(sink_,
                    {{kIn, kGetFlow, 0, 0, 16, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80)},
                     {kOut, kSetFlow, 0, 0, 16, flow_bytes(0x00000009, 0x80000000, 0x200, 0x80)}});
}

TEST_F(Cp210xFlow, DtrDsrWithBothLinesUp) {
  ASSERT_EQ(chip_.set_modem_control(sink_, ModemControl{true, true}), Status::ok);
  sink_.clear();
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kDtrDsr, 0x11, 0x13}), Status::ok);
  // DTR flow control (2) + DSR handshake (bit 4) = 0x12; RTS active (1 << 6) = 0x40.
  expect_transcript(sink_,
                    {{kIn, kGetFlow, 0, 0, 16, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80)},
                     {kOut, kSetFlow, 0, 0, 16, flow_bytes(0x00000012, 0x80000040, 0x200, 0x80)}});
}

TEST_F(Cp210xFlow, XonXoffBothWaysSetsTheCharactersFirst) {
  ASSERT_EQ(
      chip_.set_flow_control(sink_, FlowControl{flow::kXonXoffOut | flow::kXonXoffIn, 0x05, 0x06}),
      Status::ok);
  // SET_CHARS: EOF, error, break, event characters 0, then XON 0x05, XOFF 0x06. Auto transmit
  // (bit 0) + auto receive (bit 1); the chip sends XON/XOFF at 128 bytes either way.
  expect_transcript(sink_,
                    {{kOut, kSetChars, 0, 0, 6, {0, 0, 0, 0, 0x05, 0x06}},
                     {kIn, kGetFlow, 0, 0, 16, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80)},
                     {kOut, kSetFlow, 0, 0, 16, flow_bytes(0x00000000, 0x80000003, 128, 128)}});
}

TEST_F(Cp210xFlow, XonXoffOneDirectionEach) {
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kXonXoffOut, 0x11, 0x13}), Status::ok);
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kXonXoffIn, 0x11, 0x13}), Status::ok);
  const auto& t = sink_.transcript();
  ASSERT_EQ(t.size(), 6u) << describe_all(sink_);
  EXPECT_EQ(t[2].data, flow_bytes(0x00000000, 0x80000001, 0x200, 0x80));  // obey only
  EXPECT_EQ(t[5].data, flow_bytes(0x00000000, 0x80000002, 128, 128));     // send only
}

TEST_F(Cp210xFlow, EverythingAtOnce) {
  ASSERT_EQ(chip_.set_modem_control(sink_, ModemControl{true, true}), Status::ok);
  const uint8_t all = flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn;
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{all, 0x11, 0x13}), Status::ok);
  EXPECT_EQ(sink_.transcript().back().data, flow_bytes(0x0000001A, 0x80000083, 128, 128));
}

TEST_F(Cp210xFlow, UnknownModeBitsSendNothing) {
  EXPECT_EQ(chip_.set_flow_control(sink_, FlowControl{0x10, 0x11, 0x13}), Status::invalid_argument);
  EXPECT_TRUE(sink_.transcript().empty());
}

TEST_F(Cp210xFlow, RefusedReadSendsNoWrite) {
  RecordingSink sink;
  sink.fail(kIn, kGetFlow, Status::stall);
  EXPECT_EQ(chip_.set_flow_control(sink, FlowControl{flow::kRtsCts, 0x11, 0x13}), Status::stall);
  ASSERT_EQ(sink.transcript().size(), 1u);
  // Not in force: the next level change still uses SET_MHS.
  sink.clear();
  ASSERT_EQ(chip_.set_modem_control(sink, ModemControl{true, true}), Status::ok);
  expect_transcript(sink, {{kOut, kSetMhs, 0x0303, 0}});
}

TEST_F(Cp210xFlow, CloseTurnsFlowOffThenDropsTheLines) {
  ASSERT_EQ(chip_.set_modem_control(sink_, ModemControl{true, true}), Status::ok);
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kRtsCts, 0x11, 0x13}), Status::ok);
  sink_.clear();
  sink_.reply(kIn, kGetCommStatus, comm_bytes(0, 0, 0, 0));
  ASSERT_EQ(chip_.close(sink_), Status::ok);
  expect_transcript(sink_,
                    {{kIn, kGetFlow, 0, 0, 16, flow_bytes(0x00000001, 0x8000005C, 0x200, 0x80)},
                     {kOut, kSetFlow, 0, 0, 16, flow_bytes(0x00000000, 0x80000000, 0x200, 0x80)},
                     {kOut, kSetMhs, 0x0300, 0},
                     {kIn, kGetCommStatus, 0, 0, 19, comm_bytes(0, 0, 0, 0)},
                     {kOut, kPurge, 0x000F, 0},
                     {kOut, kIfcEnable, 0x0000, 0}});
}

// ---- Detection and quirks ----

TEST(Cp210xDetect, Cp2102nErratumE104RefusesFlowControlAndNeverSendsSetFlow) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x21}, kPartNum);        // CP2102N QFN24
  sink.reply(kVendorIn, kVendor, {1, 0, 4}, kFirmware2n);  // 1.0.4: affected
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_STREQ(chip.name(), "cp2102n");
  EXPECT_TRUE(chip.flow_control_refused());
  EXPECT_FALSE(chip.capabilities().has(capability::kRtsCts));
  EXPECT_FALSE(chip.capabilities().has(capability::kXonXoff));
  sink.clear();
  EXPECT_EQ(chip.set_flow_control(sink, FlowControl{flow::kRtsCts, 0x11, 0x13}),
            Status::unsupported);
  EXPECT_EQ(chip.set_flow_control(sink, FlowControl{flow::kXonXoffOut, 0x11, 0x13}),
            Status::unsupported);
  EXPECT_EQ(chip.set_flow_control(sink, FlowControl{flow::kNone, 0x11, 0x13}), Status::ok);
  EXPECT_TRUE(sink.transcript().empty()) << describe_all(sink);
  sink.reply(kIn, kGetCommStatus, comm_bytes(0, 0, 0, 0));
  ASSERT_EQ(chip.close(sink), Status::ok);
  for (const auto& t : sink.transcript()) {
    EXPECT_NE(t.request.bRequest, kSetFlow) << hostutil::describe(t);
    EXPECT_NE(t.request.bRequest, kGetFlow) << hostutil::describe(t);
  }
}

TEST(Cp210xDetect, Cp2102nFirmwareAfterTheErratumKeepsFlowControl) {
  for (const std::vector<uint8_t>& version :
       {std::vector<uint8_t>{1, 0, 5}, std::vector<uint8_t>{1, 1, 0},
        std::vector<uint8_t>{2, 0, 0}}) {
    Cp210x chip;
    ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2102n, 0)), Status::ok);
    RecordingSink sink;
    sink.reply(kVendorIn, kVendor, {0x22}, kPartNum);
    sink.reply(kVendorIn, kVendor, version, kFirmware2n);
    ASSERT_EQ(chip.open(sink), Status::ok);
    EXPECT_FALSE(chip.flow_control_refused()) << int{version[0]} << int{version[1]};
  }
  for (const std::vector<uint8_t>& version :
       {std::vector<uint8_t>{1, 0, 0}, std::vector<uint8_t>{0, 9, 9}}) {
    Cp210x chip;
    ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2102n, 0)), Status::ok);
    RecordingSink sink;
    sink.reply(kVendorIn, kVendor, {0x20}, kPartNum);
    sink.reply(kVendorIn, kVendor, version, kFirmware2n);
    ASSERT_EQ(chip.open(sink), Status::ok);
    EXPECT_TRUE(chip.flow_control_refused());
  }
}

TEST(Cp210xDetect, UnreadableCp2102nFirmwareIsTreatedAsAffected) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x20}, kPartNum);
  sink.reply(kVendorIn, kVendor, {1, 0}, kFirmware2n);  // short: 2 of 3 bytes
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_TRUE(chip.flow_control_refused());
}

TEST(Cp210xDetect, Cp2102ThatAnswersTheProbeWithOneByteHasNoEventInsertion) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x02}, kPartNum);  // one byte, whatever was asked
  ASSERT_EQ(chip.open(sink), Status::ok);
  expect_transcript(sink, {{kOut, kIfcEnable, 0x0001, 0},
                           {kVendorIn, kVendor, kPartNum, 0, 1, {0x02}},
                           {kVendorIn, kVendor, kPartNum, 0, 2, {0x02}},
                           {kOut, kPurge, 0x000F, 0}});
  EXPECT_FALSE(chip.event_mode());
  // Line errors then come from GET_COMM_STATUS when the lines are polled.
  sink.clear();
  sink.reply(kIn, kGetMdmsts, {0x10});
  // ulErrors: break, framing, HW overrun, parity.
  sink.reply(kIn, kGetCommStatus, comm_bytes(0x17, 0, 0, 0));
  ModemStatus status;
  ASSERT_EQ(chip.get_modem_status(sink, status), Status::ok);
  EXPECT_TRUE(status.cts);
  expect_transcript(sink, {{kIn, kGetMdmsts, 0, 0, 1, {0x10}},
                           {kIn, kGetCommStatus, 0, 0, 19, comm_bytes(0x17, 0, 0, 0)}});
  // Raw data, and the polled errors reported with the next transfer.
  std::vector<uint8_t> data = {0xEC, 0x01, 0x02};
  RxReport report;
  EXPECT_EQ(chip.decode_rx(data, report), 3u);
  EXPECT_EQ(data, (std::vector<uint8_t>{0xEC, 0x01, 0x02}));
  EXPECT_EQ(report.errors.brk, 1u);
  EXPECT_EQ(report.errors.framing, 1u);
  EXPECT_EQ(report.errors.overrun, 1u);
  EXPECT_EQ(report.errors.parity, 1u);
  RxReport again;
  EXPECT_EQ(chip.decode_rx(data, again), 3u);
  EXPECT_FALSE(again.errors.any());
}

TEST(Cp210xDetect, RefusedEventInsertionIsNotFatal) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2108, 2)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x08}, kPartNum);
  sink.fail(kOut, kEmbedEvents, Status::stall);
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_FALSE(chip.event_mode());
}

TEST(Cp210xDetect, UnreadablePartNumberOnTheGenericEntryRunsTheCautiousProfile) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  RecordingSink sink;
  sink.fail(kVendorIn, kVendor, Status::stall);
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_STREQ(chip.name(), "cp210x");
  EXPECT_EQ(chip.capabilities().max_baud, 921'600u);
  expect_transcript(sink, {{kOut, kIfcEnable, 0x0001, 0},
                           {kVendorIn, kVendor, kPartNum, 0, 1, {}, Status::stall},
                           {kOut, kPurge, 0x000F, 0},
                           {kOut, kEmbedEvents, 0x00EC, 0}});
}

TEST(Cp210xDetect, UnknownPartNumberKeepsWhatTheDescriptorsSaid) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2105, 1)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x77}, kPartNum);
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_EQ(chip.capabilities().min_baud, 2'400u);  // still the SCI port
}

TEST(Cp210xDetect, PartsWeDoNotDriveOrThatContradictTheDescriptorsFailTheOpen) {
  struct Refusal {
    ChipVariant variant;
    uint8_t port;
    uint8_t part_number;
  };
  const Refusal refusals[] = {
      {ChipVariant::cp210x, 0, 0x01},  // CP2101
      {ChipVariant::cp2105, 0, 0x02},  // a CP2102 behind the CP2105's ID
      {ChipVariant::cp2108, 1, 0x05},  // a CP2105 behind the CP2108's ID
      {ChipVariant::cp2102n, 0, 0x04},
  };
  for (const Refusal& r : refusals) {
    Cp210x chip;
    ASSERT_EQ(chip.configure(config_for(r.variant, r.port)), Status::ok);
    RecordingSink sink;
    sink.reply(kVendorIn, kVendor, {r.part_number}, kPartNum);
    EXPECT_EQ(chip.open(sink), Status::unsupported) << int{r.part_number};
    // Enabled first, disabled again.
    ASSERT_EQ(sink.transcript().size(), 3u) << describe_all(sink);
    EXPECT_EQ(sink.transcript()[2].request.bRequest, kIfcEnable);
    EXPECT_EQ(sink.transcript()[2].request.wValue, 0x0000);
  }
  // A CP2108 on a single-port entry: its port 0 is this interface, and is driven.
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x08}, kPartNum);
  EXPECT_EQ(chip.open(sink), Status::ok);
  EXPECT_STREQ(chip.name(), "cp2108");
}

TEST(Cp210xDetect, RefusedEnableStopsEverything) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
  RecordingSink sink;
  sink.fail(kOut, kIfcEnable, Status::stall);
  EXPECT_EQ(chip.open(sink), Status::stall);
  ASSERT_EQ(sink.transcript().size(), 1u) << describe_all(sink);
}

TEST(Cp210xDetect, CloseWithoutCommStatusStillDisables) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
  RecordingSink sink;
  sink.fail(kIn, kGetCommStatus, Status::stall);
  EXPECT_EQ(chip.close(sink), Status::ok);
  expect_transcript(sink, {{kOut, kSetMhs, 0x0300, 0},
                           {kIn, kGetCommStatus, 0, 0, 19, {}, Status::stall},
                           {kOut, kPurge, 0x000F, 0},
                           {kOut, kIfcEnable, 0x0000, 0}});
}

TEST(Cp210xDetect, CloseAttemptsEveryStepAndReportsTheFirstFailure) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
  RecordingSink sink;
  sink.fail(kOut, kSetMhs, Status::timeout);
  sink.reply(kIn, kGetCommStatus, comm_bytes(0, 0, 0, 0));
  EXPECT_EQ(chip.close(sink), Status::timeout);
  EXPECT_EQ(sink.transcript().size(), 4u) << describe_all(sink);
}

TEST(Cp210xModemStatus, BitsAndShortAnswers) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2104, 0)), Status::ok);
  struct Case {
    uint8_t byte;
    ModemStatus want;
  };
  // bit 4 CTS, 5 DSR, 6 RI, 7 DCD; bits 0/1 are our own DTR/RTS.
  const Case cases[] = {{0x00, {false, false, false, false}}, {0x03, {false, false, false, false}},
                        {0x10, {true, false, false, false}},  {0x20, {false, true, false, false}},
                        {0x40, {false, false, true, false}},  {0x80, {false, false, false, true}}};
  for (const Case& c : cases) {
    RecordingSink sink;
    sink.reply(kIn, kGetMdmsts, {c.byte});
    ModemStatus status{true, true, true, true};
    ASSERT_EQ(chip.get_modem_status(sink, status), Status::ok);
    EXPECT_EQ(status, c.want) << int{c.byte};
  }
  RecordingSink empty;
  ModemStatus status;
  EXPECT_EQ(chip.get_modem_status(empty, status), Status::short_transfer);
}

TEST(Cp210xCommStatus, FieldsAndShortAnswer) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp2108, 1)), Status::ok);
  RecordingSink sink;
  sink.reply(kIn, kGetCommStatus, comm_bytes(0x10, 0x08, 300, 0x01020304));
  transport::chips::cp210x::CommStatus status;
  ASSERT_EQ(chip.get_comm_status(sink, status), Status::ok);
  EXPECT_EQ(status.errors, 0x10u);
  EXPECT_EQ(status.hold_reasons, 0x08u);  // waiting for XON
  EXPECT_EQ(status.in_queue, 300u);
  EXPECT_EQ(status.out_queue, 0x01020304u);
  expect_transcript(sink,
                    {{kIn, kGetCommStatus, 0, 1, 19, comm_bytes(0x10, 0x08, 300, 0x01020304)}});
  RecordingSink short_sink;
  short_sink.reply(kIn, kGetCommStatus, {1, 2, 3, 4});
  EXPECT_EQ(chip.get_comm_status(short_sink, status), Status::short_transfer);
}

// ---- configure() ----

TEST(Cp210xConfigure, RefusesWhatItCannotDrive) {
  Cp210x chip;
  EXPECT_EQ(chip.configure(config_for(ChipVariant::ft232r, 0)), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::cdc_acm, 0)), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::cp2102, 1)), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::cp2105, 2)), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::cp2108, 4)), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(static_cast<ChipVariant>(99), 0)), Status::invalid_argument);
  PortConfig tiny = config_for(ChipVariant::cp2104, 0);
  tiny.bulk_in_max_packet = 7;
  EXPECT_EQ(chip.configure(tiny), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::cp2108, 3)), Status::ok);
}

TEST(Cp210xConfigure, UnconfiguredSendsNothing) {
  Cp210x chip;
  RecordingSink sink;
  uint32_t actual = 0;
  ModemStatus status;
  transport::chips::cp210x::CommStatus comm;
  EXPECT_STREQ(chip.name(), "cp210x");
  EXPECT_EQ(chip.open(sink), Status::not_open);
  EXPECT_EQ(chip.close(sink), Status::not_open);
  EXPECT_EQ(chip.set_line(sink, LineSettings{}, actual), Status::not_open);
  EXPECT_EQ(chip.set_modem_control(sink, {}), Status::not_open);
  EXPECT_EQ(chip.set_flow_control(sink, {}), Status::not_open);
  EXPECT_EQ(chip.set_break(sink, true), Status::not_open);
  EXPECT_EQ(chip.purge(sink, true, true), Status::not_open);
  EXPECT_EQ(chip.set_latency(sink, 1), Status::unsupported);
  EXPECT_EQ(chip.get_modem_status(sink, status), Status::not_open);
  EXPECT_EQ(chip.get_comm_status(sink, comm), Status::not_open);
  EXPECT_TRUE(sink.transcript().empty());
  EXPECT_EQ(chip.capabilities().flags, 0u);
}

TEST(Cp210xConfigure, ReconfigureForgetsTheDetectedPart) {
  Cp210x chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kVendor, {0x04}, kPartNum);
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_STREQ(chip.name(), "cp2104");
  ASSERT_EQ(chip.configure(config_for(ChipVariant::cp210x, 0)), Status::ok);
  EXPECT_STREQ(chip.name(), "cp210x");
  sink.clear();
  ASSERT_EQ(chip.open(sink), Status::ok);
  EXPECT_EQ(sink.transcript().at(1).request.wValue, kPartNum);  // detected again
}

}  // namespace
