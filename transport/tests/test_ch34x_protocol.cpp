// CH34x control-request transcripts: the exact requests each operation sends, checked against
// docs/usb-serial-reference.md §4.2 (bmRequestType 0x40 / 0xC0, wIndex 0; 0x5F version,
// 0xA1 init, 0x9A write two registers, 0x95 read two registers, 0xA4 inverted modem control;
// registers 0x1312 rate, 0x2518 LCR, 0x1805 break, 0x0706 status, 0x2727 flow).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tools/common/recording_sink.hpp"
#include "transport/chip_protocol.hpp"
#include "transport/chips/ch34x.hpp"

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
using transport::chips::Ch34x;
namespace flow = transport::flow;
namespace capability = transport::capability;

// Written out from the reference (§4.2), not taken from ch34x_regs.hpp.
constexpr uint8_t kOut = 0x40;
constexpr uint8_t kIn = 0xC0;
constexpr uint8_t kVersion = 0x5F;
constexpr uint8_t kInit = 0xA1;
constexpr uint8_t kWrite = 0x9A;
constexpr uint8_t kRead = 0x95;
constexpr uint8_t kModem = 0xA4;

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

PortConfig config_for(ChipVariant variant) {
  PortConfig config;
  config.variant = variant;
  config.bulk_in_max_packet = 32;
  config.interrupt_max_packet = 8;
  return config;
}

class Ch34xProtocol : public ::testing::Test {
 protected:
  // Opens a chip that reports `version`; a clone STALLs the break-register probe.
  void open_chip(uint8_t version, bool clone = false, ChipVariant variant = ChipVariant::ch340) {
    ASSERT_EQ(chip_.configure(config_for(variant)), Status::ok);
    sink_.reply(kIn, kVersion, {version, 0x00});
    if (clone) {
      sink_.fail(kIn, kRead, Status::stall, 0x0005);
    } else {
      sink_.reply(kIn, kRead, {0x01, 0x00}, 0x0005);
    }
    ASSERT_EQ(chip_.open(sink_), Status::ok);
    sink_.clear();
  }

  Ch34x chip_;
  RecordingSink sink_;
};

// ------------------------------------------------------------ configure, open, close

TEST_F(Ch34xProtocol, ConfigureAcceptsOnlyCh34xPortsWithPackets) {
  EXPECT_STREQ(chip_.name(), "ch34x");
  EXPECT_EQ(chip_.capabilities().flags, 0u);
  EXPECT_EQ(chip_.configure(config_for(ChipVariant::ft232r)), Status::invalid_argument);
  PortConfig no_packet = config_for(ChipVariant::ch340);
  no_packet.bulk_in_max_packet = 0;
  EXPECT_EQ(chip_.configure(no_packet), Status::invalid_argument);
  PortConfig second_port = config_for(ChipVariant::ch340);
  second_port.port_index = 1;  // one UART per chip
  EXPECT_EQ(chip_.configure(second_port), Status::invalid_argument);
  ASSERT_EQ(chip_.configure(config_for(ChipVariant::ch341a)), Status::ok);
  EXPECT_STREQ(chip_.name(), "ch341a");
  ASSERT_EQ(chip_.configure(config_for(ChipVariant::ch340)), Status::ok);
  EXPECT_STREQ(chip_.name(), "ch340");
}

TEST_F(Ch34xProtocol, EverythingButConfigureNeedsAConfiguredChip) {
  uint32_t actual = 0;
  ModemStatus modem;
  EXPECT_EQ(chip_.open(sink_), Status::not_open);
  EXPECT_EQ(chip_.close(sink_), Status::not_open);
  EXPECT_EQ(chip_.set_modem_control(sink_, {true, true}), Status::not_open);
  EXPECT_EQ(chip_.set_flow_control(sink_, FlowControl{}), Status::not_open);
  EXPECT_EQ(chip_.get_modem_status(sink_, modem), Status::not_open);
  EXPECT_EQ(chip_.set_line(sink_, LineSettings{}, actual), Status::not_open);
  EXPECT_TRUE(sink_.transcript().empty());
}

TEST_F(Ch34xProtocol, OpenReadsTheVersionInitsAndProbesTheBreakRegister) {
  ASSERT_EQ(chip_.configure(config_for(ChipVariant::ch340)), Status::ok);
  sink_.reply(kIn, kVersion, {0x31, 0x00});
  sink_.reply(kIn, kRead, {0x01, 0x00}, 0x0005);
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, {
                               {kIn, kVersion, 0x0000, 0x0000, 2, {0x31, 0x00}},
                               {kOut, kInit, 0x0000, 0x0000},
                               {kIn, kRead, 0x0005, 0x0000, 2, {0x01, 0x00}},
                           });
  EXPECT_TRUE(chip_.opened());
  EXPECT_EQ(chip_.traits().version, 0x31);
  EXPECT_FALSE(chip_.traits().limited_prescaler);
  const transport::Capabilities caps = chip_.capabilities();
  EXPECT_TRUE(caps.has(capability::kBreak));
  EXPECT_FALSE(caps.has(capability::kBreakEmulated));
  EXPECT_TRUE(caps.has(capability::kMarkSpace | capability::kDataBits5_6));
  EXPECT_TRUE(caps.has(capability::kRtsCts | capability::kModemStatusPoll | capability::kCts |
                       capability::kLineErrors));
  EXPECT_FALSE(caps.has(capability::kStopBits1_5));
  EXPECT_FALSE(caps.has(capability::kPurge));
  EXPECT_FALSE(caps.has(capability::kLatencyTimer));
  EXPECT_FALSE(caps.has(capability::kDtrDsr));
  EXPECT_FALSE(caps.has(capability::kXonXoff));
  EXPECT_EQ(caps.min_baud, 46u);
  EXPECT_EQ(caps.max_baud, 2'000'000u);
}

TEST_F(Ch34xProtocol, ABreakRegisterThatStallsMarksALimitedClone) {
  ASSERT_EQ(chip_.configure(config_for(ChipVariant::ch340)), Status::ok);
  sink_.reply(kIn, kVersion, {0x31, 0x00});
  sink_.fail(kIn, kRead, Status::stall, 0x0005);
  ASSERT_EQ(chip_.open(sink_), Status::ok);
  expect_transcript(sink_, {
                               {kIn, kVersion, 0x0000, 0x0000, 2, {0x31, 0x00}},
                               {kOut, kInit, 0x0000, 0x0000},
                               {kIn, kRead, 0x0005, 0x0000, 2, {}, Status::stall},
                           });
  EXPECT_TRUE(chip_.traits().limited_prescaler);
  EXPECT_FALSE(chip_.capabilities().has(capability::kBreak));
  EXPECT_TRUE(chip_.capabilities().has(capability::kBreakEmulated));
}

TEST_F(Ch34xProtocol, OldVersionsCanOnlyRun8N1) {
  open_chip(0x27);
  const transport::Capabilities caps = chip_.capabilities();
  EXPECT_FALSE(caps.has(capability::kMarkSpace));
  EXPECT_FALSE(caps.has(capability::kDataBits5_6));
  EXPECT_TRUE(caps.has(capability::kBreak));
}

TEST_F(Ch34xProtocol, OpenStopsAtTheFirstFailure) {
  ASSERT_EQ(chip_.configure(config_for(ChipVariant::ch340)), Status::ok);
  sink_.fail(kIn, kVersion, Status::timeout);
  EXPECT_EQ(chip_.open(sink_), Status::timeout);
  EXPECT_EQ(sink_.transcript().size(), 1u);
  EXPECT_FALSE(chip_.opened());

  RecordingSink short_version;
  short_version.reply(kIn, kVersion, {0x31});  // one byte of two
  EXPECT_EQ(chip_.open(short_version), Status::short_transfer);
  EXPECT_EQ(short_version.transcript().size(), 1u);

  RecordingSink init_fails;
  init_fails.reply(kIn, kVersion, {0x31, 0x00});
  init_fails.fail(kOut, kInit, Status::no_device);
  EXPECT_EQ(chip_.open(init_fails), Status::no_device);
  EXPECT_EQ(init_fails.transcript().size(), 2u);

  // Only a STALL of the probe means "clone"; any other failure is a failed open.
  RecordingSink probe_fails;
  probe_fails.reply(kIn, kVersion, {0x31, 0x00});
  probe_fails.fail(kIn, kRead, Status::io_error, 0x0005);
  EXPECT_EQ(chip_.open(probe_fails), Status::io_error);
  EXPECT_FALSE(chip_.opened());
  uint32_t actual = 0;
  EXPECT_EQ(chip_.set_line(probe_fails, LineSettings{}, actual), Status::not_open);
}

TEST_F(Ch34xProtocol, CloseDropsDtrAndRts) {
  open_chip(0x31);
  ASSERT_EQ(chip_.close(sink_), Status::ok);
  expect_transcript(sink_, {{kOut, kModem, 0xFFFF, 0x0000}});
}

TEST_F(Ch34xProtocol, CloseTurnsRtsCtsOffFirstWhenItWasOn) {
  open_chip(0x31);
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kRtsCts}), Status::ok);
  sink_.clear();
  sink_.fail(kOut, kWrite, Status::stall);
  EXPECT_EQ(chip_.close(sink_), Status::stall);  // the first failure, after trying both
  expect_transcript(sink_, {
                               {kOut, kWrite, 0x2727, 0x0000, 0, {}, Status::stall},
                               {kOut, kModem, 0xFFFF, 0x0000},
                           });
}

// ------------------------------------------------------------ set_line

TEST_F(Ch34xProtocol, SetLineNeedsTheVersionFromOpen) {
  ASSERT_EQ(chip_.configure(config_for(ChipVariant::ch340)), Status::ok);
  uint32_t actual = 7;
  EXPECT_EQ(chip_.set_line(sink_, LineSettings{9600, 8, Parity::none, StopBits::one}, actual),
            Status::not_open);
  EXPECT_TRUE(sink_.transcript().empty());
  EXPECT_EQ(actual, 7u);
}

TEST_F(Ch34xProtocol, SetLine9600_8N1OnACurrentChip) {
  open_chip(0x31);
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, LineSettings{9600, 8, Parity::none, StopBits::one}, actual),
            Status::ok);
  EXPECT_EQ(actual, 9615u);  // 48 MHz / (64 * 78)
  expect_transcript(sink_, {
                               {kOut, kWrite, 0x1312, 0xB282},  // BIT(7) set above 0x27
                               {kOut, kWrite, 0x2518, 0x00C3},  // LCR 0xC3, LCR2 0
                           });
}

TEST_F(Ch34xProtocol, SetLineOnVersion0x27WritesNoBit7AndNoLcr) {
  open_chip(0x27);
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, LineSettings{115200, 8, Parity::none, StopBits::one}, actual),
            Status::ok);
  EXPECT_EQ(actual, 115385u);
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xCC03}});
}

TEST_F(Ch34xProtocol, SetLineOnVersion0x2FGetsBit7ButNoLcr) {
  open_chip(0x2F);
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, LineSettings{921600, 8, Parity::none, StopBits::one}, actual),
            Status::ok);
  EXPECT_EQ(actual, 923077u);
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xF387}});
}

TEST_F(Ch34xProtocol, FramingsBecomeTheLcr) {
  struct Framing {
    LineSettings line;
    uint16_t lcr;  // 0x80 RX | 0x40 TX | parity (O 0x08, E 0x18, M 0x28, S 0x38) | 0x04 2 stop
  };               // | data bits - 5
  const Framing framings[] = {
      {{9600, 7, Parity::even, StopBits::one}, 0x00DA},
      {{9600, 5, Parity::none, StopBits::two}, 0x00C4},
      {{9600, 6, Parity::odd, StopBits::one}, 0x00C9},
      {{9600, 8, Parity::mark, StopBits::one}, 0x00EB},
      {{9600, 8, Parity::space, StopBits::two}, 0x00FF},
      {{9600, 7, Parity::space, StopBits::one}, 0x00FA},
      {{9600, 8, Parity::odd, StopBits::two}, 0x00CF},
  };
  open_chip(0x30, false, ChipVariant::ch341a);
  for (const Framing& f : framings) {
    sink_.clear();
    uint32_t actual = 0;
    ASSERT_EQ(chip_.set_line(sink_, f.line, actual), Status::ok);
    expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xB282}, {kOut, kWrite, 0x2518, f.lcr}});
  }
}

TEST_F(Ch34xProtocol, SetLineRefusalsSendNothing) {
  open_chip(0x31);
  uint32_t actual = 12345;
  auto refuse = [&](LineSettings line, Status want) {
    EXPECT_EQ(chip_.set_line(sink_, line, actual), want);
  };
  refuse({9600, 8, Parity::none, StopBits::one_and_half}, Status::unsupported);
  refuse({9600, 9, Parity::none, StopBits::one}, Status::invalid_argument);
  refuse({9600, 4, Parity::none, StopBits::one}, Status::invalid_argument);
  refuse({9600, 8, static_cast<Parity>(7), StopBits::one}, Status::invalid_argument);
  refuse({9600, 8, Parity::none, static_cast<StopBits>(9)}, Status::invalid_argument);
  refuse({0, 8, Parity::none, StopBits::one}, Status::invalid_argument);
  refuse({45, 8, Parity::none, StopBits::one}, Status::baud_unreachable);
  refuse({1'800'000, 8, Parity::none, StopBits::one}, Status::baud_unreachable);
  refuse({3'000'000, 8, Parity::none, StopBits::one}, Status::baud_unreachable);
  EXPECT_TRUE(sink_.transcript().empty()) << describe_all(sink_);
  EXPECT_EQ(actual, 12345u);
}

TEST_F(Ch34xProtocol, OldChipsRefuseEveryFormatButEightNOne) {
  open_chip(0x27);
  uint32_t actual = 0;
  EXPECT_EQ(chip_.set_line(sink_, {9600, 7, Parity::even, StopBits::one}, actual),
            Status::unsupported);
  EXPECT_EQ(chip_.set_line(sink_, {9600, 8, Parity::none, StopBits::two}, actual),
            Status::unsupported);
  EXPECT_TRUE(sink_.transcript().empty());
}

TEST_F(Ch34xProtocol, AFailedRateWriteStopsBeforeTheLcr) {
  open_chip(0x31);
  sink_.fail(kOut, kWrite, Status::stall, 0x1312);
  uint32_t actual = 5;
  EXPECT_EQ(chip_.set_line(sink_, {19200, 8, Parity::none, StopBits::one}, actual), Status::stall);
  EXPECT_EQ(sink_.transcript().size(), 1u);
  EXPECT_EQ(actual, 5u);
}

TEST_F(Ch34xProtocol, LimitedClonesGetTheLowerBaseClock) {
  open_chip(0x31, true);
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, {23077, 8, Parity::none, StopBits::one}, actual), Status::ok);
  EXPECT_EQ(actual, 22727u);  // 48e6 / (64 * 33): fact 0 at ps 2
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xDF82}, {kOut, kWrite, 0x2518, 0x00C3}});
}

// ------------------------------------------------------------ modem lines

TEST_F(Ch34xProtocol, ModemControlIsTheInvertedControlByte) {
  open_chip(0x31);
  const struct {
    ModemControl lines;
    uint16_t value;  // ~(DTR 0x20 | RTS 0x40) as 16 bits
  } cases[] = {
      {{true, true}, 0xFF9F},
      {{true, false}, 0xFFDF},
      {{false, true}, 0xFFBF},
      {{false, false}, 0xFFFF},
  };
  for (const auto& c : cases) {
    sink_.clear();
    ASSERT_EQ(chip_.set_modem_control(sink_, c.lines), Status::ok);
    expect_transcript(sink_, {{kOut, kModem, c.value, 0x0000}});
  }
}

TEST_F(Ch34xProtocol, ModemStatusIsTheInvertedStatusRegister) {
  open_chip(0x31);
  const struct {
    uint8_t reg06;
    ModemStatus modem;
  } cases[] = {
      {0xFF, {false, false, false, false}},  // nothing asserted (power-up reads 0xFF 0xEE)
      {0x9F, {false, false, false, false}},  // DTR and RTS on: bits 5/6 low, inputs idle
      {0xFE, {true, false, false, false}},   // CTS# low
      {0xFD, {false, true, false, false}},   // DSR#
      {0xFB, {false, false, true, false}},   // RI#
      {0xF7, {false, false, false, true}},   // DCD#
      {0x90, {true, true, true, true}},
  };
  for (const auto& c : cases) {
    RecordingSink sink;
    sink.reply(kIn, kRead, {c.reg06, 0xEE}, 0x0706);
    ModemStatus modem;
    ASSERT_EQ(chip_.get_modem_status(sink, modem), Status::ok);
    EXPECT_EQ(modem, c.modem) << std::hex << int{c.reg06};
    expect_transcript(sink, {{kIn, kRead, 0x0706, 0x0000, 2, {c.reg06, 0xEE}}});
  }
  RecordingSink short_answer;
  short_answer.reply(kIn, kRead, {0xFE}, 0x0706);
  ModemStatus untouched{true, true, true, true};
  EXPECT_EQ(chip_.get_modem_status(short_answer, untouched), Status::short_transfer);
  EXPECT_EQ(untouched, (ModemStatus{true, true, true, true}));
}

// ------------------------------------------------------------ flow control

TEST_F(Ch34xProtocol, RtsCtsThroughRegister0x27) {
  open_chip(0x31);
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kRtsCts}), Status::ok);
  ASSERT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kNone}), Status::ok);
  expect_transcript(sink_, {{kOut, kWrite, 0x2727, 0x0101}, {kOut, kWrite, 0x2727, 0x0000}});
  sink_.clear();
  EXPECT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kDtrDsr}), Status::unsupported);
  EXPECT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kXonXoffOut}), Status::unsupported);
  EXPECT_EQ(chip_.set_flow_control(sink_, FlowControl{flow::kXonXoffIn | flow::kRtsCts}),
            Status::unsupported);
  EXPECT_EQ(chip_.set_flow_control(sink_, FlowControl{0x80}), Status::invalid_argument);
  EXPECT_TRUE(sink_.transcript().empty());
}

// ------------------------------------------------------------ break

TEST_F(Ch34xProtocol, BreakIsAReadModifyWriteOfTheBreakRegisterAndTheLcr) {
  open_chip(0x31);
  sink_.reply(kIn, kRead, {0x5F, 0xC3}, 0x1805);
  ASSERT_EQ(chip_.set_break(sink_, true), Status::ok);
  // NOT-break (bit 0) and TX enable (0x40) cleared; the other bits kept.
  expect_transcript(sink_, {
                               {kIn, kRead, 0x1805, 0x0000, 2, {0x5F, 0xC3}},
                               {kOut, kWrite, 0x1805, 0x835E},
                           });
  // While the break is on, a new line keeps the transmitter disabled.
  sink_.clear();
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, {9600, 7, Parity::even, StopBits::one}, actual), Status::ok);
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xB282}, {kOut, kWrite, 0x2518, 0x009A}});

  RecordingSink off;
  off.reply(kIn, kRead, {0x5E, 0x9A}, 0x1805);
  ASSERT_EQ(chip_.set_break(off, false), Status::ok);
  expect_transcript(off, {
                             {kIn, kRead, 0x1805, 0x0000, 2, {0x5E, 0x9A}},
                             {kOut, kWrite, 0x1805, 0xDA5F},
                         });
  sink_.clear();
  ASSERT_EQ(chip_.set_line(sink_, {9600, 7, Parity::even, StopBits::one}, actual), Status::ok);
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xB282}, {kOut, kWrite, 0x2518, 0x00DA}});
}

TEST_F(Ch34xProtocol, ABreakWhoseReadFailsWritesNothing) {
  open_chip(0x31);
  sink_.fail(kIn, kRead, Status::timeout, 0x1805);
  EXPECT_EQ(chip_.set_break(sink_, true), Status::timeout);
  EXPECT_EQ(sink_.transcript().size(), 1u);
  RecordingSink short_read;
  short_read.reply(kIn, kRead, {0x01}, 0x1805);
  EXPECT_EQ(chip_.set_break(short_read, true), Status::short_transfer);
  EXPECT_EQ(short_read.transcript().size(), 1u);
}

TEST_F(Ch34xProtocol, BreakBeforeOpenAndOnAClone) {
  Ch34x unopened;
  ASSERT_EQ(unopened.configure(config_for(ChipVariant::ch340)), Status::ok);
  EXPECT_EQ(unopened.set_break(sink_, true), Status::not_open);
  open_chip(0x31, true);
  EXPECT_EQ(chip_.set_break(sink_, true), Status::unsupported);
  EXPECT_EQ(chip_.set_break(sink_, false), Status::unsupported);
  EXPECT_TRUE(sink_.transcript().empty());
}

TEST_F(Ch34xProtocol, EmulatedBreakOnAClone) {
  open_chip(0x31, true);
  uint32_t actual = 0;
  ASSERT_EQ(chip_.set_line(sink_, {115200, 7, Parity::odd, StopBits::one}, actual), Status::ok);
  sink_.clear();
  std::span<const uint8_t> fill;
  ASSERT_EQ(chip_.begin_emulated_break(sink_, fill), Status::ok);
  // The slowest setting (ps 0, fact 0, div 256: register 0x00 | BIT(7)) and 8N1.
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0x0080}, {kOut, kWrite, 0x2518, 0x00C3}});
  ASSERT_EQ(fill.size(), 1u);
  EXPECT_EQ(fill[0], 0x00);
  // The line cannot change under the NUL.
  sink_.clear();
  EXPECT_EQ(chip_.set_line(sink_, {9600, 8, Parity::none, StopBits::one}, actual), Status::busy);
  EXPECT_TRUE(sink_.transcript().empty());
  ASSERT_EQ(chip_.end_emulated_break(sink_), Status::ok);
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xCC83}, {kOut, kWrite, 0x2518, 0x00CA}});
  // 9 bit times at 48e6 / 2^20 Bd = 196 608 us; 11 bit times = 240 298.7 us (rounded up).
  EXPECT_EQ(Ch34x::emulated_break_space_us(), 196'608u);
  EXPECT_EQ(Ch34x::emulated_break_hold_us(), 240'299u);
}

TEST_F(Ch34xProtocol, EmulatedBreakRestoresTheDefaultLineAndIsOnlyForClones) {
  open_chip(0x31, true);
  std::span<const uint8_t> fill;
  ASSERT_EQ(chip_.begin_emulated_break(sink_, fill), Status::ok);
  sink_.clear();
  ASSERT_EQ(chip_.end_emulated_break(sink_), Status::ok);
  expect_transcript(sink_, {{kOut, kWrite, 0x1312, 0xB282}, {kOut, kWrite, 0x2518, 0x00C3}});

  Ch34x genuine;
  ASSERT_EQ(genuine.configure(config_for(ChipVariant::ch340)), Status::ok);
  RecordingSink sink;
  EXPECT_EQ(genuine.begin_emulated_break(sink, fill), Status::not_open);
  sink.reply(kIn, kVersion, {0x31, 0x00});
  sink.reply(kIn, kRead, {0x01, 0x00}, 0x0005);
  ASSERT_EQ(genuine.open(sink), Status::ok);
  sink.clear();
  EXPECT_EQ(genuine.begin_emulated_break(sink, fill), Status::unsupported);
  EXPECT_EQ(genuine.end_emulated_break(sink), Status::unsupported);
  EXPECT_TRUE(sink.transcript().empty());
}

}  // namespace
