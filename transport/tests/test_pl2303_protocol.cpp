// PL2303 control-request transcripts: the exact requests each operation sends, per type.
//
// Expected values written out from Linux pl2303.c (v6.1 era), not taken from pl2303_regs.hpp:
//   class-style: 0x21 SET_LINE 0x20 (7 bytes, wIndex 0), SET_CONTROL 0x22 (DTR 1, RTS 2),
//     BREAK 0x23 (0xFFFF on, 0 off);
//   vendor: read 0xC0 bRequest 0x01 (G series 0x81), 1 byte, wValue register | 0x80 (G series:
//     the register); write 0x40 bRequest 0x01 (G series 0x80), wValue register, wIndex value;
//   type probe: old-style read of 0x8080; init (pl2303_startup): read 8484, write 0404=0,
//     read 8484, read 8383, read 8484, write 0404=1, read 8484, read 8383, write 0=1, write
//     1=0, write 2=0x44 (H: 0x24);
//   open: write 8=0 and 9=0 (G series: write 7=0x03); flow: register 0 mask 0xF0: RTS/CTS
//     0x60 (H 0x40), XON/XOFF 0xC0; G series register 0x0A mask 0x1C: none 0x1C, RTS/CTS
//     0x18, XON/XOFF 0x0C; purge (usb-serial-for-android): 8 = host->line, 9 = line->host.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/pl2303.hpp"

namespace {

using hostutil::RecordingSink;
using transport::ChipVariant;
using transport::FlowControl;
using transport::LineSettings;
using transport::ModemControl;
using transport::Parity;
using transport::PortConfig;
using transport::Status;
using transport::StopBits;
using transport::chips::Pl2303;
namespace flow = transport::flow;
namespace capability = transport::capability;

constexpr uint8_t kClassOut = 0x21;
constexpr uint8_t kVendorOut = 0x40;
constexpr uint8_t kVendorIn = 0xC0;
constexpr uint8_t kSetLine = 0x20;
constexpr uint8_t kSetControl = 0x22;
constexpr uint8_t kBreak = 0x23;
constexpr uint8_t kOld = 0x01;
constexpr uint8_t kReadN = 0x81;
constexpr uint8_t kWriteN = 0x80;

struct Req {
  uint8_t bm;
  uint8_t req;
  uint16_t value;
  uint16_t index;
  uint16_t length = 0;
  std::vector<uint8_t> data = {};
  Status status = Status::ok;
};

Req read_old(uint16_t value, uint8_t answer) {
  return {kVendorIn, kOld, value, 0, 1, {answer}};
}
Req write_old(uint16_t reg, uint16_t value) {
  return {kVendorOut, kOld, reg, value};
}
Req read_n(uint16_t reg, uint8_t answer) {
  return {kVendorIn, kReadN, reg, 0, 1, {answer}};
}
Req write_n(uint16_t reg, uint16_t value) {
  return {kVendorOut, kWriteN, reg, value};
}
Req set_line(std::vector<uint8_t> coding) {
  return {kClassOut, kSetLine, 0, 0, 7, std::move(coding)};
}

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

PortConfig config_for(ChipVariant variant) {
  PortConfig config;
  config.variant = variant;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = 10;
  return config;
}

// The init sequence as Linux sends it; reads answered with `answer`.
std::vector<Req> init_sequence(uint16_t register2, uint8_t answer = 0x00) {
  return {read_old(0x8484, answer), write_old(0x0404, 0),        read_old(0x8484, answer),
          read_old(0x8383, answer), read_old(0x8484, answer),    write_old(0x0404, 1),
          read_old(0x8484, answer), read_old(0x8383, answer),    write_old(0x0000, 1),
          write_old(0x0001, 0),     write_old(0x0002, register2)};
}

std::vector<Req> concat(std::vector<Req> a, const std::vector<Req>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ------------------------------------------------------------ configure

TEST(Pl2303Configure, RefusesWhatItCannotDrive) {
  Pl2303 chip;
  EXPECT_STREQ(chip.name(), "pl2303");
  EXPECT_EQ(chip.capabilities().flags, 0u);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::ft232r)), Status::invalid_argument);
  EXPECT_EQ(chip.configure(config_for(ChipVariant::cdc_acm)), Status::invalid_argument);
  PortConfig second_port = config_for(ChipVariant::pl2303_hx);
  second_port.port_index = 1;
  EXPECT_EQ(chip.configure(second_port), Status::invalid_argument);
  PortConfig no_bulk = config_for(ChipVariant::pl2303_hx);
  no_bulk.bulk_in_max_packet = 0;
  EXPECT_EQ(chip.configure(no_bulk), Status::invalid_argument);
  PortConfig no_interrupt = config_for(ChipVariant::pl2303_hx);
  no_interrupt.interrupt_max_packet = 0;
  EXPECT_EQ(chip.configure(no_interrupt), Status::invalid_argument);
  EXPECT_STREQ(chip.name(), "pl2303");  // a refused configure leaves it unconfigured

  RecordingSink sink;
  uint32_t actual = 0;
  EXPECT_EQ(chip.open(sink), Status::not_open);
  EXPECT_EQ(chip.close(sink), Status::not_open);
  EXPECT_EQ(chip.set_line(sink, LineSettings{}, actual), Status::not_open);
  EXPECT_EQ(chip.set_modem_control(sink, ModemControl{}), Status::not_open);
  EXPECT_EQ(chip.set_flow_control(sink, FlowControl{}), Status::not_open);
  EXPECT_EQ(chip.set_break(sink, true), Status::not_open);
  EXPECT_EQ(chip.purge(sink, true, true), Status::not_open);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST(Pl2303Configure, NamesAndCapabilities) {
  struct Case {
    ChipVariant variant;
    const char* name;
    uint32_t min, max;
    bool xon_xoff;
  };
  const Case kCases[] = {
      {ChipVariant::pl2303_h, "pl2303-h", 46, 1'228'800, false},
      {ChipVariant::pl2303_hx, "pl2303-hx", 46, 6'000'000, true},
      {ChipVariant::pl2303_hxd, "pl2303-hxd", 46, 12'000'000, true},
      {ChipVariant::pl2303_ta, "pl2303-ta", 6, 6'000'000, true},
      {ChipVariant::pl2303_tb, "pl2303-tb", 6, 12'000'000, true},
      {ChipVariant::pl2303_hxn, "pl2303-hxn", 75, 12'000'000, true},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Pl2303 chip;
    ASSERT_EQ(chip.configure(config_for(c.variant)), Status::ok);
    EXPECT_STREQ(chip.name(), c.name);
    const transport::Capabilities caps = chip.capabilities();
    EXPECT_EQ(caps.min_baud, c.min);
    EXPECT_EQ(caps.max_baud, c.max);
    EXPECT_TRUE(caps.has(capability::kBreak | capability::kRtsCts | capability::kPurge |
                         capability::kLineErrors | capability::kMarkSpace |
                         capability::kDataBits5_6 | capability::kStopBits1_5 | capability::kCts));
    EXPECT_EQ(caps.has(capability::kXonXoff), c.xon_xoff);
    // Not known for any type: the modem lines come from the interrupt endpoint.
    EXPECT_FALSE(caps.has(capability::kDtrDsr));
    EXPECT_FALSE(caps.has(capability::kLatencyTimer));
    EXPECT_FALSE(caps.has(capability::kModemStatusPoll));
  }
}

// ------------------------------------------------------------ open

class Pl2303Open : public ::testing::Test {
 protected:
  void configure(ChipVariant variant) {
    ASSERT_EQ(chip_.configure(config_for(variant)), Status::ok);
  }
  Pl2303 chip_;
  RecordingSink sink_;
};

TEST_F(Pl2303Open, HxInitOnceThenPipeResetsOnEveryOpen) {
  configure(ChipVariant::pl2303_hx);
  sink_.reply(kVendorIn, kOld, {0x5A});
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  EXPECT_TRUE(chip_.initialised());
  expect_transcript(sink_, concat(init_sequence(0x44, 0x5A), {write_old(8, 0), write_old(9, 0)}));

  ASSERT_EQ(chip_.close(sink_), Status::ok);
  sink_.clear();
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, {write_old(8, 0), write_old(9, 0)});
}

TEST_F(Pl2303Open, HxdSameAsHx) {
  configure(ChipVariant::pl2303_hxd);
  sink_.reply(kVendorIn, kOld, {0x00});
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, concat(init_sequence(0x44), {write_old(8, 0), write_old(9, 0)}));
}

TEST_F(Pl2303Open, LegacyHWritesRegister2As0x24AndNoPipeResets) {
  configure(ChipVariant::pl2303_h);
  sink_.reply(kVendorIn, kOld, {0x00});
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, init_sequence(0x24));
  sink_.clear();
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  EXPECT_TRUE(sink_.transcript().empty()) << describe_all(sink_);
}

TEST_F(Pl2303Open, TaAnswersTheProbe) {
  configure(ChipVariant::pl2303_ta);
  sink_.reply(kVendorIn, kOld, {0x00});
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  EXPECT_EQ(chip_.variant(), ChipVariant::pl2303_ta);
  EXPECT_STREQ(chip_.name(), "pl2303-ta");
  expect_transcript(sink_, concat(concat({read_old(0x8080, 0x00)}, init_sequence(0x44)),
                                  {write_old(8, 0), write_old(9, 0)}));
  // The probe runs once per configure().
  sink_.clear();
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, {write_old(8, 0), write_old(9, 0)});
}

// A PL2303GT has the TA's descriptors and refuses the old vendor request: from then on it is
// driven as a G-series part (no init, the G register map).
TEST_F(Pl2303Open, RefusedProbeMeansGSeries) {
  for (const ChipVariant variant : {ChipVariant::pl2303_ta, ChipVariant::pl2303_tb}) {
    SCOPED_TRACE(static_cast<int>(variant));
    RecordingSink sink;
    Pl2303 chip;
    ASSERT_EQ(chip.configure(config_for(variant)), Status::ok);
    sink.fail(kVendorIn, kOld, Status::stall);
    sink.reply(kVendorIn, kReadN, {0xE3});
    ASSERT_EQ(chip.open(sink), Status::ok);
    EXPECT_EQ(chip.variant(), ChipVariant::pl2303_hxn);
    EXPECT_STREQ(chip.name(), "pl2303-hxn");
    EXPECT_EQ(chip.capabilities().max_baud, 12'000'000u);
    expect_transcript(sink, {{kVendorIn, kOld, 0x8080, 0, 1, {}, Status::stall},
                             write_n(0x07, 0x03),
                             read_n(0x0A, 0xE3),
                             write_n(0x0A, 0xFF)});  // 0xE3 with bits 4..2 set to 0x1C
    // Rates are direct from then on: 110 would have been an alternative divisor on a TA.
    sink.clear();
    uint32_t actual = 0;
    LineSettings line;
    line.baud = 110;
    ASSERT_EQ(chip.set_line(sink, line, actual), Status::ok);
    expect_transcript(sink, {set_line({0x6E, 0x00, 0x00, 0x00, 0, 0, 8})});
    // A new configure() forgets the decision.
    ASSERT_EQ(chip.configure(config_for(variant)), Status::ok);
    EXPECT_EQ(chip.variant(), variant);
  }
}

TEST_F(Pl2303Open, UndecidedProbeFailsTheOpen) {
  configure(ChipVariant::pl2303_ta);
  sink_.fail(kVendorIn, kOld, Status::timeout);
  EXPECT_EQ(chip_.open(sink_), Status::timeout);
  EXPECT_FALSE(chip_.initialised());
  EXPECT_EQ(chip_.variant(), ChipVariant::pl2303_ta);
  expect_transcript(sink_, {{kVendorIn, kOld, 0x8080, 0, 1, {}, Status::timeout}});
}

TEST_F(Pl2303Open, ShortProbeAnswerFailsTheOpen) {
  configure(ChipVariant::pl2303_tb);
  // No reply scripted: the read returns 0 bytes.
  EXPECT_EQ(chip_.open(sink_), Status::short_transfer);
  EXPECT_FALSE(chip_.initialised());
}

TEST_F(Pl2303Open, InitStopsAtTheFirstFailureAndIsRetriedNextOpen) {
  configure(ChipVariant::pl2303_hx);
  sink_.reply(kVendorIn, kOld, {0x00});
  sink_.fail(kVendorOut, kOld, Status::stall);
  EXPECT_EQ(chip_.open(sink_), Status::stall);
  EXPECT_FALSE(chip_.initialised());
  expect_transcript(sink_,
                    {read_old(0x8484, 0), {kVendorOut, kOld, 0x0404, 0, 0, {}, Status::stall}});

  RecordingSink healthy;
  healthy.reply(kVendorIn, kOld, {0x00});
  ASSERT_EQ(chip_.open(healthy), Status::ok);
  expect_transcript(healthy, concat(init_sequence(0x44), {write_old(8, 0), write_old(9, 0)}));
}

TEST_F(Pl2303Open, GSeriesResetsBothPipesAndTurnsFlowControlOff) {
  configure(ChipVariant::pl2303_hxn);
  sink_.reply(kVendorIn, kReadN, {0x18});  // RTS/CTS left on by a previous user
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, {write_n(0x07, 0x03), read_n(0x0A, 0x18), write_n(0x0A, 0x1C)});
}

// ------------------------------------------------------------ close

TEST(Pl2303Close, FlowOffLinesLowBreakOff) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_hx)), Status::ok);
  RecordingSink sink;
  sink.reply(kVendorIn, kOld, {0x61});
  ASSERT_EQ(chip.close(sink), Status::ok);
  expect_transcript(sink, {read_old(0x0080, 0x61),
                           write_old(0x0000, 0x01),
                           {kClassOut, kSetControl, 0, 0},
                           {kClassOut, kBreak, 0, 0}});
}

TEST(Pl2303Close, EveryStepIsTriedAndTheFirstFailureReturned) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_hxn)), Status::ok);
  RecordingSink sink;
  sink.fail(kVendorIn, kReadN, Status::no_device);
  sink.fail(kClassOut, kSetControl, Status::stall);
  EXPECT_EQ(chip.close(sink), Status::no_device);
  expect_transcript(sink, {{kVendorIn, kReadN, 0x0A, 0, 1, {}, Status::no_device},
                           {kClassOut, kSetControl, 0, 0, 0, {}, Status::stall},
                           {kClassOut, kBreak, 0, 0}});
}

// ------------------------------------------------------------ set_line

class Pl2303Line : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(chip_.configure(config_for(ChipVariant::pl2303_hx)), Status::ok);
  }
  Status apply(uint32_t baud, uint8_t bits = 8, Parity parity = Parity::none,
               StopBits stop = StopBits::one) {
    LineSettings line;
    line.baud = baud;
    line.data_bits = bits;
    line.parity = parity;
    line.stop_bits = stop;
    return chip_.set_line(sink_, line, actual_);
  }
  Pl2303 chip_;
  RecordingSink sink_;
  uint32_t actual_ = 0;
};

TEST_F(Pl2303Line, DirectRateAndFraming) {
  ASSERT_EQ(apply(115200), Status::ok);
  EXPECT_EQ(actual_, 115200u);
  ASSERT_EQ(apply(9600, 7, Parity::even, StopBits::two), Status::ok);
  ASSERT_EQ(apply(300, 5, Parity::mark, StopBits::one_and_half), Status::ok);
  ASSERT_EQ(apply(300, 6, Parity::space, StopBits::one), Status::ok);
  ASSERT_EQ(apply(300, 6, Parity::odd, StopBits::one), Status::ok);
  expect_transcript(
      sink_,
      {set_line({0x00, 0xC2, 0x01, 0x00, 0, 0, 8}), set_line({0x80, 0x25, 0x00, 0x00, 2, 2, 7}),
       set_line({0x2C, 0x01, 0x00, 0x00, 1, 3, 5}), set_line({0x2C, 0x01, 0x00, 0x00, 0, 4, 6}),
       set_line({0x2C, 0x01, 0x00, 0x00, 0, 1, 6})});
}

TEST_F(Pl2303Line, DivisorRateReportsTheActualRate) {
  ASSERT_EQ(apply(56000), Status::ok);
  EXPECT_EQ(actual_, 55944u);  // 384 MHz / (429 * 16)
  expect_transcript(sink_, {set_line({0xAD, 0x05, 0x00, 0x80, 0, 0, 8})});
}

TEST_F(Pl2303Line, UnchangedCodingIsNotSentAgain) {
  ASSERT_EQ(apply(56000), Status::ok);
  actual_ = 0;
  ASSERT_EQ(apply(56000), Status::ok);
  EXPECT_EQ(actual_, 55944u);  // reported from the cache
  ASSERT_EQ(apply(56000, 7), Status::ok);
  ASSERT_EQ(apply(56000, 7), Status::ok);
  // 55944 itself is outside the direct table: it is a divisor too, the same one.
  ASSERT_EQ(apply(55944, 7), Status::ok);
  expect_transcript(sink_, {set_line({0xAD, 0x05, 0x00, 0x80, 0, 0, 8}),
                            set_line({0xAD, 0x05, 0x00, 0x80, 0, 0, 7})});
  // After an open the chip's coding is not trusted: the next set_line sends.
  RecordingSink opener;
  opener.reply(kVendorIn, kOld, {0x00});
  ASSERT_EQ(chip_.open(opener), Status::ok);
  sink_.clear();
  ASSERT_EQ(apply(56000, 7), Status::ok);
  expect_transcript(sink_, {set_line({0xAD, 0x05, 0x00, 0x80, 0, 0, 7})});
}

TEST_F(Pl2303Line, AFailedSetLineIsNotCached) {
  sink_.fail(kClassOut, kSetLine, Status::timeout);
  EXPECT_EQ(apply(9600), Status::timeout);
  RecordingSink healthy;
  LineSettings line;
  line.baud = 9600;
  ASSERT_EQ(chip_.set_line(healthy, line, actual_), Status::ok);
  expect_transcript(healthy, {set_line({0x80, 0x25, 0x00, 0x00, 0, 0, 8})});
  ASSERT_EQ(chip_.set_line(healthy, line, actual_), Status::ok);
  EXPECT_EQ(healthy.transcript().size(), 1u);
}

TEST_F(Pl2303Line, RefusedBeforeAnythingIsSent) {
  EXPECT_EQ(apply(6'000'001), Status::baud_unreachable);
  EXPECT_EQ(apply(45), Status::baud_unreachable);
  EXPECT_EQ(apply(0), Status::invalid_argument);
  EXPECT_EQ(apply(9600, 4), Status::invalid_argument);
  EXPECT_EQ(apply(9600, 9), Status::invalid_argument);
  EXPECT_EQ(apply(9600, 8, static_cast<Parity>(9)), Status::invalid_argument);
  EXPECT_EQ(apply(9600, 8, Parity::none, static_cast<StopBits>(7)), Status::invalid_argument);
  EXPECT_TRUE(sink_.transcript().empty()) << describe_all(sink_);
}

TEST(Pl2303LinePerType, TheSameRequestPerEncoding) {
  struct Case {
    ChipVariant variant;
    uint32_t baud;
    std::array<uint8_t, 4> field;
  };
  const Case kCases[] = {
      {ChipVariant::pl2303_h, 110, {0xD5, 0x0E, 0x00, 0x80}},    // standard
      {ChipVariant::pl2303_ta, 110, {0xA9, 0xA6, 0x01, 0x80}},   // alternative
      {ChipVariant::pl2303_tb, 110, {0xA9, 0xA6, 0x01, 0x80}},   // alternative
      {ChipVariant::pl2303_hxn, 110, {0x6E, 0x00, 0x00, 0x00}},  // direct
      {ChipVariant::pl2303_tb, 921600, {0x00, 0x10, 0x0E, 0x00}},
  };
  for (const Case& c : kCases) {
    Pl2303 chip;
    ASSERT_EQ(chip.configure(config_for(c.variant)), Status::ok);
    RecordingSink sink;
    LineSettings line;
    line.baud = c.baud;
    uint32_t actual = 0;
    ASSERT_EQ(chip.set_line(sink, line, actual), Status::ok);
    expect_transcript(sink, {set_line({c.field[0], c.field[1], c.field[2], c.field[3], 0, 0, 8})});
  }
}

// ------------------------------------------------------------ modem control, break

TEST(Pl2303Lines, ModemControlAndBreak) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_ta)), Status::ok);
  RecordingSink sink;
  ASSERT_EQ(chip.set_modem_control(sink, ModemControl{true, true}), Status::ok);
  ASSERT_EQ(chip.set_modem_control(sink, ModemControl{true, false}), Status::ok);
  ASSERT_EQ(chip.set_modem_control(sink, ModemControl{false, true}), Status::ok);
  ASSERT_EQ(chip.set_modem_control(sink, ModemControl{false, false}), Status::ok);
  ASSERT_EQ(chip.set_break(sink, true), Status::ok);
  ASSERT_EQ(chip.set_break(sink, false), Status::ok);
  expect_transcript(sink, {{kClassOut, kSetControl, 3, 0},
                           {kClassOut, kSetControl, 1, 0},
                           {kClassOut, kSetControl, 2, 0},
                           {kClassOut, kSetControl, 0, 0},
                           {kClassOut, kBreak, 0xFFFF, 0},
                           {kClassOut, kBreak, 0, 0}});
}

// ------------------------------------------------------------ flow control

FlowControl flow_of(uint8_t modes, uint8_t xon = 0x11, uint8_t xoff = 0x13) {
  FlowControl f;
  f.modes = modes;
  f.xon = xon;
  f.xoff = xoff;
  return f;
}

TEST(Pl2303Flow, OldMapReadModifyWriteKeepsTheOtherBits) {
  struct Case {
    ChipVariant variant;
    uint8_t modes;
    uint8_t written;  // register 0 after the write, from 0x05 before
  };
  const Case kCases[] = {
      {ChipVariant::pl2303_hx, flow::kNone, 0x05},
      {ChipVariant::pl2303_hx, flow::kRtsCts, 0x65},
      {ChipVariant::pl2303_hx, flow::kXonXoffOut, 0xC5},
      {ChipVariant::pl2303_hx, flow::kXonXoffIn, 0xC5},
      {ChipVariant::pl2303_hx, flow::kXonXoffOut | flow::kXonXoffIn, 0xC5},
      {ChipVariant::pl2303_ta, flow::kRtsCts, 0x65},
      {ChipVariant::pl2303_tb, flow::kXonXoffOut, 0xC5},
      {ChipVariant::pl2303_hxd, flow::kRtsCts, 0x65},
      {ChipVariant::pl2303_h, flow::kRtsCts, 0x45},
      {ChipVariant::pl2303_h, flow::kNone, 0x05},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::to_string(static_cast<int>(c.variant)) + " modes " + std::to_string(c.modes));
    Pl2303 chip;
    ASSERT_EQ(chip.configure(config_for(c.variant)), Status::ok);
    RecordingSink sink;
    sink.reply(kVendorIn, kOld, {0xF5});  // every flow bit set before: all must be rewritten
    ASSERT_EQ(chip.set_flow_control(sink, flow_of(c.modes)), Status::ok);
    expect_transcript(sink, {read_old(0x0080, 0xF5), write_old(0x0000, c.written)});
  }
}

TEST(Pl2303Flow, GSeriesRegister0x0A) {
  struct Case {
    uint8_t modes;
    uint8_t written;  // from 0xE3 before (bits 4..2 clear)
  };
  const Case kCases[] = {
      {flow::kNone, 0xFF}, {flow::kRtsCts, 0xFB}, {flow::kXonXoffOut | flow::kXonXoffIn, 0xEF}};
  for (const Case& c : kCases) {
    Pl2303 chip;
    ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_hxn)), Status::ok);
    RecordingSink sink;
    sink.reply(kVendorIn, kReadN, {0xE3});
    ASSERT_EQ(chip.set_flow_control(sink, flow_of(c.modes)), Status::ok);
    expect_transcript(sink, {read_n(0x0A, 0xE3), write_n(0x0A, c.written)});
  }
}

TEST(Pl2303Flow, RefusedModesSendNothing) {
  struct Case {
    ChipVariant variant;
    FlowControl flow;
    Status status;
  };
  const Case kCases[] = {
      {ChipVariant::pl2303_hx, flow_of(flow::kDtrDsr), Status::unsupported},
      {ChipVariant::pl2303_hxn, flow_of(flow::kDtrDsr), Status::unsupported},
      {ChipVariant::pl2303_hx, flow_of(flow::kRtsCts | flow::kXonXoffOut), Status::unsupported},
      {ChipVariant::pl2303_h, flow_of(flow::kXonXoffOut), Status::unsupported},
      {ChipVariant::pl2303_hx, flow_of(flow::kXonXoffOut, 0x11, 0x14), Status::unsupported},
      {ChipVariant::pl2303_hxn, flow_of(flow::kXonXoffIn, 0x01, 0x13), Status::unsupported},
      {ChipVariant::pl2303_hx, flow_of(0x40), Status::invalid_argument},
  };
  for (const Case& c : kCases) {
    Pl2303 chip;
    ASSERT_EQ(chip.configure(config_for(c.variant)), Status::ok);
    RecordingSink sink;
    EXPECT_EQ(chip.set_flow_control(sink, c.flow), c.status);
    EXPECT_TRUE(sink.transcript().empty()) << describe_all(sink);
  }
}

TEST(Pl2303Flow, AFailedReadWritesNothing) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_hx)), Status::ok);
  RecordingSink sink;
  sink.fail(kVendorIn, kOld, Status::stall);
  EXPECT_EQ(chip.set_flow_control(sink, flow_of(flow::kRtsCts)), Status::stall);
  EXPECT_EQ(sink.transcript().size(), 1u);
}

// ------------------------------------------------------------ purge

TEST(Pl2303Purge, OldMapRegisters8And9) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_hx)), Status::ok);
  RecordingSink sink;
  ASSERT_EQ(chip.purge(sink, true, false), Status::ok);
  ASSERT_EQ(chip.purge(sink, false, true), Status::ok);
  ASSERT_EQ(chip.purge(sink, true, true), Status::ok);
  ASSERT_EQ(chip.purge(sink, false, false), Status::ok);
  expect_transcript(sink, {write_old(8, 0), write_old(9, 0), write_old(8, 0), write_old(9, 0)});
}

TEST(Pl2303Purge, GSeriesOneWriteOfRegister7) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_hxn)), Status::ok);
  RecordingSink sink;
  ASSERT_EQ(chip.purge(sink, true, false), Status::ok);
  ASSERT_EQ(chip.purge(sink, false, true), Status::ok);
  ASSERT_EQ(chip.purge(sink, true, true), Status::ok);
  expect_transcript(sink, {write_n(7, 0x01), write_n(7, 0x02), write_n(7, 0x03)});
}

TEST(Pl2303Purge, TxFailureStopsBeforeRx) {
  Pl2303 chip;
  ASSERT_EQ(chip.configure(config_for(ChipVariant::pl2303_ta)), Status::ok);
  RecordingSink sink;
  sink.fail(kVendorOut, kOld, Status::no_device);
  EXPECT_EQ(chip.purge(sink, true, true), Status::no_device);
  EXPECT_EQ(sink.transcript().size(), 1u);
}

}  // namespace
