// SerialPort: the Hw* policy layer, against a gmock ChipProtocol and a
// RecordingSink (the sink only has to be the one handed to every chip call).
//
// Argument values are IOSerialFamily's (docs/driverkit-reference.md §1.5):
// PD_RS232_PARITY_DEFAULT 0, NONE 1, ODD 2, EVEN 3, MARK 4, SPACE 5, ANY 6;
// nHalfStopBits 2 = 1 stop bit, 3 = 1.5, 4 = 2; flow word PD_RS232_A_DTR 0x002,
// RFR 0x004, TXO 0x008, RXO 0x010, CTS 0x020, DSR 0x100, XANY 0x400.
#include <cstdint>
#include <span>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tools/common/recording_sink.hpp"
#include "transport/serial_port.hpp"

namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::InSequence;
using ::testing::NiceMock;
using ::testing::Ref;
using ::testing::Return;
using ::testing::SetArgReferee;
using ::testing::StrictMock;
using transport::Capabilities;
using transport::ChipVariant;
using transport::ControlSink;
using transport::FlowControl;
using transport::LineSettings;
using transport::ModemControl;
using transport::ModemStatus;
using transport::Parity;
using transport::PortConfig;
using transport::RxEvents;
using transport::RxReport;
using transport::SerialPort;
using transport::Status;
using transport::StopBits;

namespace cap = transport::capability;
namespace flow = transport::flow;

class MockChip : public transport::ChipProtocol {
 public:
  MOCK_METHOD(Status, configure, (const PortConfig&), (override));
  MOCK_METHOD(const char*, name, (), (const, override));
  MOCK_METHOD(Capabilities, capabilities, (), (const, override));
  MOCK_METHOD(Status, open, (ControlSink&), (override));
  MOCK_METHOD(Status, close, (ControlSink&), (override));
  MOCK_METHOD(Status, set_line, (ControlSink&, const LineSettings&, uint32_t&), (override));
  MOCK_METHOD(Status, set_modem_control, (ControlSink&, ModemControl), (override));
  MOCK_METHOD(Status, set_flow_control, (ControlSink&, const FlowControl&), (override));
  MOCK_METHOD(Status, set_break, (ControlSink&, bool), (override));
  MOCK_METHOD(Status, purge, (ControlSink&, bool, bool), (override));
  MOCK_METHOD(Status, set_latency, (ControlSink&, uint8_t), (override));
  MOCK_METHOD(Status, get_modem_status, (ControlSink&, ModemStatus&), (override));
  MOCK_METHOD(uint32_t, decode_rx, (std::span<uint8_t>, RxReport&), (override));
  MOCK_METHOD(Status, decode_interrupt, (std::span<const uint8_t>, RxReport&), (override));
};

// An FTDI-like chip (everything) and a CDC-like one (no CTS, purge, latency,
// flow control or polling).
constexpr uint32_t kFullCaps = cap::kBreak | cap::kRtsCts | cap::kDtrDsr | cap::kXonXoff |
                               cap::kPurge | cap::kLatencyTimer | cap::kModemStatusPoll |
                               cap::kLineErrors | cap::kMarkSpace | cap::kDataBits5_6 |
                               cap::kStopBits1_5 | cap::kCts;
constexpr uint32_t kCdcCaps =
    cap::kLineErrors | cap::kMarkSpace | cap::kDataBits5_6 | cap::kStopBits1_5;

LineSettings line(uint32_t baud, uint8_t bits, Parity parity, StopBits stops) {
  LineSettings l;
  l.baud = baud;
  l.data_bits = bits;
  l.parity = parity;
  l.stop_bits = stops;
  return l;
}

FlowControl flow_of(uint8_t modes, uint8_t xon = 0x11, uint8_t xoff = 0x13) {
  FlowControl f;
  f.modes = modes;
  f.xon = xon;
  f.xoff = xoff;
  return f;
}

class SerialPortTest : public ::testing::Test {
 protected:
  // Attaches the port; every expectation set before this is kept.
  void attach(uint32_t caps) {
    Capabilities c;
    c.flags = caps;
    c.min_baud = 300;
    c.max_baud = 3'000'000;
    EXPECT_CALL(chip_, configure(_)).WillOnce(Return(Status::ok));
    EXPECT_CALL(chip_, capabilities()).WillRepeatedly(Return(c));
    PortConfig config;
    config.variant = ChipVariant::ft232r;
    config.bulk_in_max_packet = 64;
    ASSERT_EQ(port_.attach(chip_, sink_, config), Status::ok);
  }

  // Activates with whatever the chip is told to expect by the caller first.
  void activate_plain(uint32_t caps) {
    EXPECT_CALL(chip_, open(Ref(sink_))).WillOnce(Return(Status::ok));
    if ((caps & cap::kLatencyTimer) != 0) {
      EXPECT_CALL(chip_, set_latency(Ref(sink_), transport::kDefaultLatencyMs))
          .WillOnce(Return(Status::ok));
    }
    EXPECT_CALL(chip_, set_modem_control(Ref(sink_), ModemControl{false, false}))
        .WillOnce(Return(Status::ok));
    ASSERT_EQ(port_.activate(), Status::ok);
    ::testing::Mock::VerifyAndClearExpectations(&chip_);
    Capabilities c;
    c.flags = caps;
    EXPECT_CALL(chip_, capabilities()).WillRepeatedly(Return(c));
  }

  // The chip accepts `baud` and reports `actual`.
  void expect_line(const LineSettings& wanted, uint32_t actual) {
    EXPECT_CALL(chip_, set_line(Ref(sink_), wanted, _))
        .WillOnce(DoAll(SetArgReferee<2>(actual), Return(Status::ok)));
  }

  StrictMock<MockChip> chip_;
  hostutil::RecordingSink sink_;
  SerialPort port_;
};

// ------------------------------------------------------------ translations

TEST(PdTranslation, ParityTable) {
  struct Case {
    uint8_t pd;
    Status status;
    Parity parity;
  };
  constexpr Case kCases[] = {
      {0, Status::ok, Parity::none},  // PD_RS232_PARITY_DEFAULT
      {1, Status::ok, Parity::none},
      {2, Status::ok, Parity::odd},
      {3, Status::ok, Parity::even},
      {4, Status::ok, Parity::mark},
      {5, Status::ok, Parity::space},
      {6, Status::invalid_argument, Parity::none},  // ANY
      {7, Status::invalid_argument, Parity::none},
      {255, Status::invalid_argument, Parity::none},
  };
  for (const Case& c : kCases) {
    Parity out = Parity::space;
    EXPECT_EQ(transport::parity_from_pd(c.pd, out), c.status) << int{c.pd};
    if (c.status == Status::ok) {
      EXPECT_EQ(out, c.parity) << int{c.pd};
    }
  }
}

TEST(PdTranslation, StopBitsTable) {
  struct Case {
    uint8_t half;
    Status status;
    StopBits stops;
  };
  constexpr Case kCases[] = {
      {0, Status::invalid_argument, StopBits::one},
      {1, Status::invalid_argument, StopBits::one},
      {2, Status::ok, StopBits::one},
      {3, Status::ok, StopBits::one_and_half},
      {4, Status::ok, StopBits::two},
      {5, Status::invalid_argument, StopBits::one},
      {255, Status::invalid_argument, StopBits::one},
  };
  for (const Case& c : kCases) {
    StopBits out = StopBits::two;
    EXPECT_EQ(transport::stop_bits_from_half(c.half, out), c.status) << int{c.half};
    if (c.status == Status::ok) {
      EXPECT_EQ(out, c.stops) << int{c.half};
    }
  }
}

TEST(PdTranslation, FlowTable) {
  struct Case {
    uint32_t arg;
    uint8_t modes;
  };
  constexpr Case kCases[] = {
      {0x000, flow::kNone},
      {0x004, flow::kRtsCts},  // CRTS_IFLOW
      {0x020, flow::kRtsCts},  // CCTS_OFLOW
      {0x024, flow::kRtsCts},  // CRTSCTS
      {0x002, flow::kDtrDsr},  // CDTR_IFLOW
      {0x100, flow::kDtrDsr},  // DSR output flow
      {0x102, flow::kDtrDsr},
      {0x008, flow::kXonXoffOut},  // IXON: obey XOFF from the line
      {0x010, flow::kXonXoffIn},   // IXOFF: send XOFF when full
      {0x018, flow::kXonXoffOut | flow::kXonXoffIn},
      {0x400, flow::kNone},  // IXANY alone asks for nothing the chip does
      {0x001, flow::kNone},  // PD_RS232_S_LE is not a flow bit
      {0x040, flow::kNone},  // nor is DCD
      {0x03E, flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn},
      {0xFFFF'FFFF, flow::kRtsCts | flow::kDtrDsr | flow::kXonXoffOut | flow::kXonXoffIn},
  };
  for (const Case& c : kCases) {
    const FlowControl f = transport::flow_from_pd(c.arg, 0x11, 0x13);
    EXPECT_EQ(f.modes, c.modes) << std::hex << c.arg;
  }
  const FlowControl custom = transport::flow_from_pd(0x18, 0x51, 0x53);
  EXPECT_EQ(custom.xon, 0x51);
  EXPECT_EQ(custom.xoff, 0x53);
}

// ------------------------------------------------------------ attach

TEST_F(SerialPortTest, AttachDefaults) {
  attach(kFullCaps);
  EXPECT_FALSE(port_.active());
  EXPECT_EQ(port_.chip(), &chip_);
  EXPECT_EQ(port_.line(), line(9600, 8, Parity::none, StopBits::one));
  EXPECT_EQ(port_.modem_control(), (ModemControl{false, false}));
  EXPECT_EQ(port_.flow_control().modes, flow::kNone);
  EXPECT_EQ(port_.stats().actual_baud, 0u);
  EXPECT_EQ(port_.stats().control_failures, 0u);
}

TEST_F(SerialPortTest, AttachPassesTheConfigAndItsRefusal) {
  PortConfig config;
  config.variant = ChipVariant::ft4232h;
  config.port_index = 3;
  EXPECT_CALL(chip_, configure(::testing::Field(&PortConfig::port_index, 3)))
      .WillOnce(Return(Status::invalid_argument));
  EXPECT_EQ(port_.attach(chip_, sink_, config), Status::invalid_argument);
  EXPECT_EQ(port_.chip(), nullptr);
  EXPECT_EQ(port_.activate(), Status::not_open);
  EXPECT_EQ(port_.program_mcr(true, true), Status::not_open);
}

TEST(SerialPortUnattached, EverythingIsNotOpen) {
  SerialPort port;
  EXPECT_EQ(port.activate(), Status::not_open);
  EXPECT_EQ(port.deactivate(), Status::ok);
  EXPECT_EQ(port.program_uart(9600, 8, 2, 1), Status::not_open);
  EXPECT_EQ(port.program_baud(9600), Status::not_open);
  EXPECT_EQ(port.program_mcr(true, false), Status::not_open);
  EXPECT_EQ(port.program_flow(0x24, 0x11, 0x13), Status::not_open);
  EXPECT_EQ(port.program_latency(2), Status::not_open);
  EXPECT_EQ(port.send_break(true), Status::not_open);
  EXPECT_EQ(port.reset_fifo(true, true), Status::not_open);
  ModemStatus m;
  EXPECT_EQ(port.modem_status(m), Status::not_open);
  std::vector<uint8_t> transfer = {1, 2, 3};
  RxEvents events;
  events.modem_changed = true;
  EXPECT_EQ(port.handle_rx(transfer, events), 0u);
  EXPECT_FALSE(events.modem_changed);
  port.handle_interrupt(transfer, events);
  EXPECT_FALSE(events.modem_changed);
}

// ------------------------------------------------------------ cache + activate

TEST_F(SerialPortTest, SettingsBeforeActivateAreCachedThenAppliedInOrder) {
  attach(kFullCaps);
  // StrictMock: none of these may reach the chip before HwActivate.
  EXPECT_EQ(port_.program_uart(115200, 7, 4, 3), Status::ok);
  EXPECT_EQ(port_.program_mcr(true, true), Status::ok);
  EXPECT_EQ(port_.program_flow(0x24, 0x11, 0x13), Status::ok);
  EXPECT_EQ(port_.program_latency(5), Status::ok);
  EXPECT_EQ(port_.line(), line(115200, 7, Parity::even, StopBits::two));
  EXPECT_EQ(port_.modem_control(), (ModemControl{true, true}));
  EXPECT_EQ(port_.flow_control(), flow_of(flow::kRtsCts));
  EXPECT_EQ(port_.stats().actual_baud, 0u);

  {
    InSequence order;
    EXPECT_CALL(chip_, open(Ref(sink_))).WillOnce(Return(Status::ok));
    EXPECT_CALL(chip_, set_line(Ref(sink_), line(115200, 7, Parity::even, StopBits::two), _))
        .WillOnce(DoAll(SetArgReferee<2>(115384u), Return(Status::ok)));
    EXPECT_CALL(chip_, set_latency(Ref(sink_), 5)).WillOnce(Return(Status::ok));
    EXPECT_CALL(chip_, set_flow_control(Ref(sink_), flow_of(flow::kRtsCts)))
        .WillOnce(Return(Status::ok));
    EXPECT_CALL(chip_, set_modem_control(Ref(sink_), ModemControl{true, true}))
        .WillOnce(Return(Status::ok));
  }
  EXPECT_EQ(port_.activate(), Status::ok);
  EXPECT_TRUE(port_.active());
  EXPECT_EQ(port_.stats().requested_baud, 115200u);
  EXPECT_EQ(port_.stats().actual_baud, 115384u);
}

TEST_F(SerialPortTest, ActivateWithNothingProgrammed) {
  attach(kFullCaps);
  InSequence order;
  EXPECT_CALL(chip_, open(Ref(sink_))).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_latency(Ref(sink_), 1)).WillOnce(Return(Status::ok));  // 1 ms default
  EXPECT_CALL(chip_, set_modem_control(Ref(sink_), ModemControl{false, false}))
      .WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
  EXPECT_EQ(port_.stats().actual_baud, 0u);
}

TEST_F(SerialPortTest, ActivateOnAChipWithoutLatencyTimer) {
  attach(kCdcCaps);
  ASSERT_EQ(port_.program_mcr(true, false), Status::ok);
  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, false})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
}

TEST_F(SerialPortTest, ActivateStopsAtTheFirstFailure) {
  attach(kFullCaps);
  ASSERT_EQ(port_.program_mcr(true, true), Status::ok);
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::no_device));
  EXPECT_EQ(port_.activate(), Status::no_device);
  EXPECT_FALSE(port_.active());
  EXPECT_EQ(port_.stats().control_failures, 1u);
  EXPECT_EQ(port_.stats().last_error, Status::no_device);
  EXPECT_EQ(port_.stats().last_error_site, transport::FaultSite::control);

  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_latency(_, 1)).WillOnce(Return(Status::stall));
  // Nothing after the latency timer is sent; the chip opened above is closed again.
  EXPECT_CALL(chip_, close(_)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::stall);
  EXPECT_FALSE(port_.active());
  EXPECT_EQ(port_.stats().control_failures, 2u);
  EXPECT_EQ(port_.stats().last_error, Status::stall);
}

TEST_F(SerialPortTest, AnOpenThatCannotApplyTheCachedLineLeavesThePortClosed) {
  attach(kFullCaps);
  ASSERT_EQ(port_.program_uart(115200, 8, 2, 1), Status::ok);  // cached, nothing sent
  {
    InSequence order;
    EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
    EXPECT_CALL(chip_, set_line(_, line(115200, 8, Parity::none, StopBits::one), _))
        .WillOnce(Return(Status::no_device));
    // The close's own failure does not hide the first one.
    EXPECT_CALL(chip_, close(_)).WillOnce(Return(Status::no_device));
  }
  EXPECT_EQ(port_.activate(), Status::no_device);
  EXPECT_FALSE(port_.active());
  // Inactive: settings are cached again, and HwDeactivate does not close twice.
  EXPECT_EQ(port_.program_mcr(true, true), Status::ok);
  EXPECT_EQ(port_.deactivate(), Status::ok);

  // The next open applies the cached line and modem lines.
  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_line(_, line(115200, 8, Parity::none, StopBits::one), _))
      .WillOnce(DoAll(SetArgReferee<2>(115384u), Return(Status::ok)));
  EXPECT_CALL(chip_, set_latency(_, 1)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
  EXPECT_TRUE(port_.active());
  EXPECT_EQ(port_.stats().actual_baud, 115384u);
}

TEST_F(SerialPortTest, DeactivateClosesOnce) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, close(Ref(sink_))).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.deactivate(), Status::ok);
  EXPECT_FALSE(port_.active());
  EXPECT_EQ(port_.deactivate(), Status::ok);  // already closed: the chip is not asked
}

TEST_F(SerialPortTest, ReopenAppliesTheLastLineAgain) {
  attach(kCdcCaps);
  activate_plain(kCdcCaps);
  expect_line(line(57600, 8, Parity::none, StopBits::one), 57600);
  ASSERT_EQ(port_.program_uart(57600, 8, 2, 1), Status::ok);
  EXPECT_CALL(chip_, close(_)).WillOnce(Return(Status::ok));
  ASSERT_EQ(port_.deactivate(), Status::ok);

  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_line(_, line(57600, 8, Parity::none, StopBits::one), _))
      .WillOnce(DoAll(SetArgReferee<2>(57600u), Return(Status::ok)));
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{false, false})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
}

// ------------------------------------------------------------ program_uart

TEST_F(SerialPortTest, ProgramUartTranslatesAndReportsTheActualRate) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  expect_line(line(921600, 5, Parity::mark, StopBits::one_and_half), 923077);
  EXPECT_EQ(port_.program_uart(921600, 5, 3, 4), Status::ok);
  EXPECT_EQ(port_.line(), line(921600, 5, Parity::mark, StopBits::one_and_half));
  EXPECT_EQ(port_.stats().requested_baud, 921600u);
  EXPECT_EQ(port_.stats().actual_baud, 923077u);

  expect_line(line(300, 6, Parity::space, StopBits::one), 300);
  EXPECT_EQ(port_.program_uart(300, 6, 2, 5), Status::ok);
  expect_line(line(9600, 8, Parity::none, StopBits::one), 9600);
  EXPECT_EQ(port_.program_uart(9600, 8, 2, 0), Status::ok);  // PARITY_DEFAULT = none
  expect_line(line(19200, 8, Parity::odd, StopBits::two), 19200);
  EXPECT_EQ(port_.program_uart(19200, 8, 4, 2), Status::ok);
}

TEST_F(SerialPortTest, ProgramUartRejectsBadArgumentsBeforeTheChip) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  struct Case {
    uint8_t bits, half_stops, parity;
  };
  constexpr Case kCases[] = {
      {4, 2, 1}, {9, 2, 1}, {0, 2, 1},   {16, 2, 1},  // data bits outside 5..8
      {8, 1, 1}, {8, 5, 1}, {8, 0, 1},                // stop bits
      {8, 2, 6}, {8, 2, 7}, {8, 2, 200},              // parity ANY / unknown
  };
  uint32_t failures = 0;
  for (const Case& c : kCases) {
    EXPECT_EQ(port_.program_uart(115200, c.bits, c.half_stops, c.parity), Status::invalid_argument)
        << int{c.bits} << " " << int{c.half_stops} << " " << int{c.parity};
    EXPECT_EQ(port_.stats().control_failures, ++failures);
    EXPECT_EQ(port_.stats().last_error, Status::invalid_argument);
  }
  EXPECT_EQ(port_.line(), line(9600, 8, Parity::none, StopBits::one));
  // The same checks apply to the cache before activation.
  EXPECT_CALL(chip_, close(_)).WillOnce(Return(Status::ok));
  ASSERT_EQ(port_.deactivate(), Status::ok);
  EXPECT_EQ(port_.program_uart(115200, 9, 2, 1), Status::invalid_argument);
  EXPECT_EQ(port_.line(), line(9600, 8, Parity::none, StopBits::one));
}

TEST_F(SerialPortTest, UnreachableRateKeepsThePreviousLineAndRate) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  expect_line(line(115200, 8, Parity::none, StopBits::one), 115384);
  ASSERT_EQ(port_.program_uart(115200, 8, 2, 1), Status::ok);

  EXPECT_CALL(chip_, set_line(_, line(3'500'000, 7, Parity::even, StopBits::one), _))
      .WillOnce(Return(Status::baud_unreachable));
  EXPECT_EQ(port_.program_uart(3'500'000, 7, 2, 3), Status::baud_unreachable);
  EXPECT_EQ(port_.line(), line(115200, 8, Parity::none, StopBits::one));
  EXPECT_EQ(port_.stats().actual_baud, 115384u);
  EXPECT_EQ(port_.stats().requested_baud, 3'500'000u);
  EXPECT_EQ(port_.stats().last_error, Status::baud_unreachable);
  EXPECT_EQ(port_.stats().control_failures, 1u);

  // program_baud builds on the line in force, not on the refused one.
  expect_line(line(57600, 8, Parity::none, StopBits::one), 57692);
  EXPECT_EQ(port_.program_baud(57600), Status::ok);
}

TEST_F(SerialPortTest, ProgramBaudKeepsTheFraming) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  struct Case {
    uint8_t bits, half_stops, parity;
    LineSettings framing;
  };
  const Case kCases[] = {
      {7, 4, 2, line(0, 7, Parity::odd, StopBits::two)},
      {5, 3, 4, line(0, 5, Parity::mark, StopBits::one_and_half)},
      {6, 2, 5, line(0, 6, Parity::space, StopBits::one)},
      {8, 2, 3, line(0, 8, Parity::even, StopBits::one)},
      {8, 2, 1, line(0, 8, Parity::none, StopBits::one)},
  };
  for (const Case& c : kCases) {
    LineSettings first = c.framing;
    first.baud = 4800;
    expect_line(first, 4800);
    ASSERT_EQ(port_.program_uart(4800, c.bits, c.half_stops, c.parity), Status::ok);
    LineSettings second = c.framing;
    second.baud = 230400;
    expect_line(second, 230769);
    EXPECT_EQ(port_.program_baud(230400), Status::ok);
    EXPECT_EQ(port_.line(), second);
  }
}

TEST_F(SerialPortTest, ProgramBaudBeforeActivateIsCached) {
  attach(kFullCaps);
  EXPECT_EQ(port_.program_baud(38400), Status::ok);
  EXPECT_EQ(port_.line(), line(38400, 8, Parity::none, StopBits::one));
}

// ------------------------------------------------------------ B0 hang-up

TEST_F(SerialPortTest, BaudZeroHangsUpAndLeavingRestores) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  expect_line(line(115200, 8, Parity::none, StopBits::one), 115384);
  ASSERT_EQ(port_.program_uart(115200, 8, 2, 1), Status::ok);
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true})).WillOnce(Return(Status::ok));
  ASSERT_EQ(port_.program_mcr(true, true), Status::ok);
  ::testing::Mock::VerifyAndClearExpectations(&chip_);
  Capabilities c;
  c.flags = kFullCaps;
  EXPECT_CALL(chip_, capabilities()).WillRepeatedly(Return(c));

  // B0: DTR and RTS drop, no set_line, the rate stays.
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{false, false})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_uart(0, 8, 2, 1), Status::ok);
  EXPECT_EQ(port_.line().baud, 115200u);
  EXPECT_EQ(port_.stats().actual_baud, 115384u);
  EXPECT_EQ(port_.modem_control(), (ModemControl{true, true}));  // what to restore
  // Repeating B0 (here through HwProgramBaudRate) sends nothing more.
  EXPECT_EQ(port_.program_baud(0), Status::ok);
  ::testing::Mock::VerifyAndClearExpectations(&chip_);
  EXPECT_CALL(chip_, capabilities()).WillRepeatedly(Return(c));

  // Leaving B0: the new rate, then DTR/RTS as last programmed.
  InSequence order;
  EXPECT_CALL(chip_, set_line(_, line(57600, 8, Parity::none, StopBits::one), _))
      .WillOnce(DoAll(SetArgReferee<2>(57692u), Return(Status::ok)));
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_uart(57600, 8, 2, 1), Status::ok);
  EXPECT_EQ(port_.stats().actual_baud, 57692u);
}

TEST_F(SerialPortTest, ModemControlWhileHungUpStaysLow) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{false, false}))
      .Times(2)
      .WillRepeatedly(Return(Status::ok));
  ASSERT_EQ(port_.program_uart(0, 8, 2, 1), Status::ok);
  EXPECT_EQ(port_.program_mcr(true, false), Status::ok);
  EXPECT_EQ(port_.modem_control(), (ModemControl{true, false}));
}

TEST_F(SerialPortTest, LeavingHangUpWithAnUnreachableRateStaysHungUp) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  expect_line(line(9600, 8, Parity::none, StopBits::one), 9600);
  ASSERT_EQ(port_.program_uart(9600, 8, 2, 1), Status::ok);
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true})).WillOnce(Return(Status::ok));
  ASSERT_EQ(port_.program_mcr(true, true), Status::ok);
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{false, false})).WillOnce(Return(Status::ok));
  ASSERT_EQ(port_.program_uart(0, 8, 2, 1), Status::ok);
  ::testing::Mock::VerifyAndClearExpectations(&chip_);
  Capabilities c;
  c.flags = kFullCaps;
  EXPECT_CALL(chip_, capabilities()).WillRepeatedly(Return(c));

  // A refused rate changes nothing: DTR/RTS are not raised.
  EXPECT_CALL(chip_, set_line(_, _, _)).WillOnce(Return(Status::baud_unreachable));
  EXPECT_EQ(port_.program_uart(50'000'000, 8, 2, 1), Status::baud_unreachable);
  EXPECT_EQ(port_.line().baud, 9600u);
  ::testing::Mock::VerifyAndClearExpectations(&chip_);
  EXPECT_CALL(chip_, capabilities()).WillRepeatedly(Return(c));
  // Still hung up: MCR stays low.
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{false, false})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_mcr(true, true), Status::ok);
  // A good rate then ends the hang-up.
  InSequence order;
  expect_line(line(19200, 8, Parity::none, StopBits::one), 19200);
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_uart(19200, 8, 2, 1), Status::ok);
}

TEST_F(SerialPortTest, HangUpBeforeActivateKeepsTheLineAndDropsTheLines) {
  attach(kCdcCaps);
  ASSERT_EQ(port_.program_uart(115200, 8, 2, 1), Status::ok);
  ASSERT_EQ(port_.program_mcr(true, true), Status::ok);
  ASSERT_EQ(port_.program_uart(0, 8, 2, 1), Status::ok);
  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  // The rate in force is programmed (the open may have reset the chip) ...
  EXPECT_CALL(chip_, set_line(_, line(115200, 8, Parity::none, StopBits::one), _))
      .WillOnce(DoAll(SetArgReferee<2>(115200u), Return(Status::ok)));
  // ... but DTR and RTS stay low.
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{false, false})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
  EXPECT_EQ(port_.stats().actual_baud, 115200u);
}

TEST_F(SerialPortTest, LeavingHangUpBeforeActivate) {
  attach(kCdcCaps);
  ASSERT_EQ(port_.program_mcr(true, true), Status::ok);
  ASSERT_EQ(port_.program_uart(0, 8, 2, 1), Status::ok);
  ASSERT_EQ(port_.program_uart(4800, 8, 2, 1), Status::ok);
  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_line(_, line(4800, 8, Parity::none, StopBits::one), _))
      .WillOnce(DoAll(SetArgReferee<2>(4800u), Return(Status::ok)));
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true})).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
}

// ------------------------------------------------------------ MCR, flow

TEST_F(SerialPortTest, ProgramMcrWhileActive) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, set_modem_control(Ref(sink_), ModemControl{false, true}))
      .WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_mcr(false, true), Status::ok);
  EXPECT_CALL(chip_, set_modem_control(_, ModemControl{true, true}))
      .WillOnce(Return(Status::timeout));
  EXPECT_EQ(port_.program_mcr(true, true), Status::timeout);
  EXPECT_EQ(port_.stats().control_failures, 1u);
  EXPECT_EQ(port_.stats().last_error, Status::timeout);
}

TEST_F(SerialPortTest, ProgramFlowWhileActive) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, set_flow_control(Ref(sink_), flow_of(flow::kXonXoffOut, 0x11, 0x13)))
      .WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_flow(0x008, 0x11, 0x13), Status::ok);
  EXPECT_EQ(port_.flow_control(), flow_of(flow::kXonXoffOut));
  // Refused: the previous mode stays.
  EXPECT_CALL(chip_, set_flow_control(_, flow_of(flow::kDtrDsr))).WillOnce(Return(Status::stall));
  EXPECT_EQ(port_.program_flow(0x102, 0x11, 0x13), Status::stall);
  EXPECT_EQ(port_.flow_control(), flow_of(flow::kXonXoffOut));
}

TEST_F(SerialPortTest, FlowOnAChipWithoutFlowControl) {
  attach(kCdcCaps);
  activate_plain(kCdcCaps);
  // "Off" on a chip that has no flow control is already true.
  EXPECT_CALL(chip_, set_flow_control(_, flow_of(flow::kNone)))
      .WillOnce(Return(Status::unsupported));
  EXPECT_EQ(port_.program_flow(0, 0x11, 0x13), Status::ok);
  EXPECT_EQ(port_.stats().control_failures, 0u);  // every open sends "off": not an error
  // Asking for a handshake it cannot do is an error.
  EXPECT_CALL(chip_, set_flow_control(_, flow_of(flow::kRtsCts)))
      .WillOnce(Return(Status::unsupported));
  EXPECT_EQ(port_.program_flow(0x24, 0x11, 0x13), Status::unsupported);
  EXPECT_EQ(port_.flow_control().modes, flow::kNone);
  EXPECT_EQ(port_.stats().control_failures, 1u);
  EXPECT_EQ(port_.stats().last_error, Status::unsupported);
}

// ------------------------------------------------------------ latency

TEST_F(SerialPortTest, LatencyBounds) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, set_latency(_, 1)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_latency(0), Status::ok);  // 0 = shortest
  EXPECT_CALL(chip_, set_latency(_, 1)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_latency(1), Status::ok);
  EXPECT_CALL(chip_, set_latency(_, 16)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_latency(16), Status::ok);
  EXPECT_CALL(chip_, set_latency(_, 255)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.program_latency(255), Status::ok);
  for (const uint32_t ms : {256u, 1000u, 16000u, 0xFFFF'FFFFu}) {
    EXPECT_EQ(port_.program_latency(ms), Status::invalid_argument) << ms;  // nothing sent
  }
  EXPECT_EQ(port_.stats().control_failures, 4u);
}

TEST_F(SerialPortTest, LatencyOnAChipWithoutTimer) {
  attach(kCdcCaps);
  EXPECT_EQ(port_.program_latency(4), Status::unsupported);
  activate_plain(kCdcCaps);
  EXPECT_EQ(port_.program_latency(4), Status::unsupported);
  EXPECT_EQ(port_.program_latency(300), Status::invalid_argument);
}

TEST_F(SerialPortTest, LatencyBeforeActivateIsApplied) {
  attach(kFullCaps);
  EXPECT_EQ(port_.program_latency(0), Status::ok);
  EXPECT_EQ(port_.program_latency(300), Status::invalid_argument);  // the cache keeps 1
  InSequence order;
  EXPECT_CALL(chip_, open(_)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_latency(_, 1)).WillOnce(Return(Status::ok));
  EXPECT_CALL(chip_, set_modem_control(_, _)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.activate(), Status::ok);
}

// ------------------------------------------------------------ break, purge

TEST_F(SerialPortTest, BreakNeedsAnActivePort) {
  attach(kFullCaps);
  EXPECT_EQ(port_.send_break(true), Status::not_open);
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, set_break(Ref(sink_), true)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.send_break(true), Status::ok);
  EXPECT_CALL(chip_, set_break(Ref(sink_), false)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.send_break(false), Status::ok);
  EXPECT_CALL(chip_, set_break(_, true)).WillOnce(Return(Status::unsupported));
  EXPECT_EQ(port_.send_break(true), Status::unsupported);
}

TEST_F(SerialPortTest, ResetFifoOnAChipWithPurge) {
  attach(kFullCaps);
  EXPECT_EQ(port_.reset_fifo(true, true), Status::ok);  // inactive: nothing held
  activate_plain(kFullCaps);
  EXPECT_CALL(chip_, purge(Ref(sink_), true, false)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.reset_fifo(true, false), Status::ok);
  EXPECT_CALL(chip_, purge(Ref(sink_), false, true)).WillOnce(Return(Status::ok));
  EXPECT_EQ(port_.reset_fifo(false, true), Status::ok);
  EXPECT_CALL(chip_, purge(Ref(sink_), true, true)).WillOnce(Return(Status::stall));
  EXPECT_EQ(port_.reset_fifo(true, true), Status::stall);
  EXPECT_EQ(port_.reset_fifo(false, false), Status::ok);  // nothing asked: nothing sent
}

TEST_F(SerialPortTest, ResetFifoOnAChipWithoutPurge) {
  attach(kCdcCaps);
  activate_plain(kCdcCaps);
  // StrictMock: purge() must not be called at all.
  EXPECT_EQ(port_.reset_fifo(true, true), Status::ok);
  EXPECT_EQ(port_.reset_fifo(true, false), Status::ok);
  EXPECT_EQ(port_.stats().control_failures, 0u);
}

// ------------------------------------------------------------ modem status

TEST_F(SerialPortTest, ModemStatusPolledFromAChipThatCan) {
  attach(kFullCaps);
  activate_plain(kFullCaps);
  const ModemStatus polled{false, true, false, true};
  EXPECT_CALL(chip_, get_modem_status(Ref(sink_), _))
      .WillOnce(DoAll(SetArgReferee<1>(polled), Return(Status::ok)));
  ModemStatus out{true, false, true, false};
  EXPECT_EQ(port_.modem_status(out), Status::ok);
  EXPECT_EQ(out, polled);  // CTS reported as it is: this chip has a CTS input

  EXPECT_CALL(chip_, get_modem_status(_, _)).WillOnce(Return(Status::timeout));
  ModemStatus untouched{true, true, true, true};
  EXPECT_EQ(port_.modem_status(untouched), Status::timeout);
  EXPECT_EQ(untouched, (ModemStatus{true, true, true, true}));
  EXPECT_EQ(port_.stats().control_failures, 1u);
}

TEST_F(SerialPortTest, ModemStatusCachedFromInBandReports) {
  attach(kCdcCaps);
  activate_plain(kCdcCaps);
  ModemStatus out;
  EXPECT_EQ(port_.modem_status(out), Status::ok);
  // Nothing reported yet: all low except CTS, which a chip without CTS asserts.
  EXPECT_EQ(out, (ModemStatus{true, false, false, false}));

  RxReport report;
  report.modem_valid = true;
  report.modem = ModemStatus{false, true, true, true};
  EXPECT_CALL(chip_, decode_interrupt(_, _))
      .WillOnce(DoAll(SetArgReferee<1>(report), Return(Status::ok)));
  RxEvents events;
  const std::vector<uint8_t> packet(10, 0);
  port_.handle_interrupt(packet, events);
  EXPECT_EQ(port_.modem_status(out), Status::ok);
  EXPECT_EQ(out, (ModemStatus{true, true, true, true}));
}

TEST_F(SerialPortTest, CtsAssertedOnlyForChipsWithoutCts) {
  for (const uint32_t caps : {kCdcCaps, kCdcCaps | cap::kCts}) {
    StrictMock<MockChip> chip;
    SerialPort port;
    Capabilities c;
    c.flags = caps;
    EXPECT_CALL(chip, configure(_)).WillOnce(Return(Status::ok));
    EXPECT_CALL(chip, capabilities()).WillRepeatedly(Return(c));
    ASSERT_EQ(port.attach(chip, sink_, PortConfig{}), Status::ok);
    RxReport report;
    report.modem_valid = true;
    report.modem = ModemStatus{false, false, false, true};
    EXPECT_CALL(chip, decode_rx(_, _)).WillOnce(DoAll(SetArgReferee<1>(report), Return(0u)));
    std::vector<uint8_t> transfer(2);
    RxEvents events;
    port.handle_rx(transfer, events);
    ModemStatus out;
    ASSERT_EQ(port.modem_status(out), Status::ok);
    const bool has_cts = (caps & cap::kCts) != 0;
    EXPECT_EQ(out.cts, !has_cts);
    EXPECT_EQ(events.modem.cts, !has_cts);
    EXPECT_TRUE(out.dcd);
  }
}

// ------------------------------------------------------------ RX events

TEST_F(SerialPortTest, HandleRxReturnsThePayloadAndCountsEverything) {
  attach(kFullCaps);
  std::vector<uint8_t> transfer = {0x01, 0x60, 'a', 'b', 'c'};
  RxReport report;
  report.errors.parity = 2;
  report.errors.brk = 1;
  report.status_only_packets = 1;
  report.malformed = 3;
  EXPECT_CALL(chip_, decode_rx(_, _)).WillOnce([&](std::span<uint8_t> t, RxReport& r) {
    EXPECT_EQ(t.data(), transfer.data());
    EXPECT_EQ(t.size(), transfer.size());
    r = report;
    return 3u;
  });
  RxEvents events;
  EXPECT_EQ(port_.handle_rx(transfer, events), 3u);
  EXPECT_FALSE(events.modem_changed);
  EXPECT_EQ(events.errors.parity, 2u);
  EXPECT_EQ(events.errors.brk, 1u);
  EXPECT_TRUE(events.errors.any());
  EXPECT_EQ(port_.stats().rx_bytes, 3u);
  EXPECT_EQ(port_.stats().rx_transfers, 1u);
  EXPECT_EQ(port_.stats().errors.parity, 2u);
  EXPECT_EQ(port_.stats().status_only_packets, 1u);
  EXPECT_EQ(port_.stats().malformed, 3u);

  // A clean transfer: no errors in the events, the totals keep growing.
  EXPECT_CALL(chip_, decode_rx(_, _)).WillOnce(Return(5u));
  EXPECT_EQ(port_.handle_rx(transfer, events), 5u);
  EXPECT_FALSE(events.errors.any());
  EXPECT_EQ(port_.stats().rx_bytes, 8u);
  EXPECT_EQ(port_.stats().rx_transfers, 2u);
  EXPECT_EQ(port_.stats().errors.parity, 2u);
}

TEST_F(SerialPortTest, ModemChangedOnlyOnChange) {
  attach(kFullCaps);
  const ModemStatus a{true, true, false, false};
  const ModemStatus b{true, false, false, true};
  struct Step {
    bool valid;
    ModemStatus modem;
    bool changed;
    ModemStatus reported;
  };
  const Step kSteps[] = {
      {false, {}, false, {}},  // no status in the packet: nothing known yet
      {true, {}, true, {}},    // the first status is news, even all-low
      {true, {}, false, {}},  {true, a, true, a},
      {true, a, false, a},    {false, {}, false, a},  // payload-only packet keeps the last status
      {true, b, true, b},     {true, a, true, a},
  };
  uint32_t changes = 0;
  std::vector<uint8_t> transfer(4);
  for (const Step& s : kSteps) {
    RxReport report;
    report.modem_valid = s.valid;
    report.modem = s.modem;
    EXPECT_CALL(chip_, decode_rx(_, _)).WillOnce(DoAll(SetArgReferee<1>(report), Return(2u)));
    RxEvents events;
    port_.handle_rx(transfer, events);
    EXPECT_EQ(events.modem_changed, s.changed);
    EXPECT_EQ(events.modem, s.reported);
    changes += s.changed ? 1 : 0;
    EXPECT_EQ(port_.stats().modem_changes, changes);
  }
}

TEST_F(SerialPortTest, HandleInterruptEvents) {
  attach(kCdcCaps);
  const std::vector<uint8_t> packet = {0xA1, 0x20, 0, 0, 0, 0, 2, 0, 0x03, 0x00};
  RxReport report;
  report.modem_valid = true;
  report.modem = ModemStatus{false, true, false, true};
  report.errors.framing = 1;
  EXPECT_CALL(chip_, decode_interrupt(_, _)).WillOnce([&](std::span<const uint8_t> p, RxReport& r) {
    EXPECT_EQ(p.data(), packet.data());
    EXPECT_EQ(p.size(), packet.size());
    r = report;
    return Status::ok;
  });
  RxEvents events;
  port_.handle_interrupt(packet, events);
  EXPECT_TRUE(events.modem_changed);
  EXPECT_EQ(events.modem, (ModemStatus{true, true, false, true}));  // no CTS on this chip
  EXPECT_EQ(events.errors.framing, 1u);
  EXPECT_EQ(port_.stats().errors.framing, 1u);
  EXPECT_EQ(port_.stats().rx_transfers, 0u);  // interrupts are not bulk transfers
  EXPECT_EQ(port_.stats().interrupt_transfers, 1u);

  // A malformed notification is still accounted, apart from bulk-IN packets.
  RxReport bad;
  bad.malformed = 1;
  EXPECT_CALL(chip_, decode_interrupt(_, _))
      .WillOnce(DoAll(SetArgReferee<1>(bad), Return(Status::malformed)));
  port_.handle_interrupt(packet, events);
  EXPECT_FALSE(events.modem_changed);
  EXPECT_EQ(port_.stats().malformed_notifications, 1u);
  EXPECT_EQ(port_.stats().malformed, 0u);
  EXPECT_EQ(port_.stats().interrupt_transfers, 2u);
}

TEST_F(SerialPortTest, PipeErrorsAreTheLastErrorWithTheirSite) {
  attach(kFullCaps);
  EXPECT_EQ(port_.stats().last_error_site, transport::FaultSite::none);
  EXPECT_TRUE(port_.note_pipe_error(transport::FaultSite::bulk_in, Status::stall));
  EXPECT_EQ(port_.stats().last_error, Status::stall);
  EXPECT_EQ(port_.stats().last_error_site, transport::FaultSite::bulk_in);
  // The owner's own Abort and a success are not errors.
  EXPECT_FALSE(port_.note_pipe_error(transport::FaultSite::bulk_out, Status::aborted));
  EXPECT_FALSE(port_.note_pipe_error(transport::FaultSite::bulk_out, Status::ok));
  EXPECT_EQ(port_.stats().last_error_site, transport::FaultSite::bulk_in);
  EXPECT_TRUE(port_.note_pipe_error(transport::FaultSite::interrupt_in, Status::overflow));
  EXPECT_EQ(port_.stats().last_error, Status::overflow);
  EXPECT_EQ(port_.stats().last_error_site, transport::FaultSite::interrupt_in);
  EXPECT_EQ(port_.stats().control_failures, 0u);  // pipes are counted by their owner
  EXPECT_STREQ(transport::to_string(transport::FaultSite::interrupt_in), "interrupt-in");
  EXPECT_STREQ(transport::to_string(transport::FaultSite::bulk_out), "bulk-out");
}

TEST_F(SerialPortTest, InterruptOnAChipWithoutInterruptsIsIgnored) {
  attach(kFullCaps);
  RxReport report;
  report.modem_valid = true;
  report.modem = ModemStatus{true, true, true, true};
  report.malformed = 1;
  EXPECT_CALL(chip_, decode_interrupt(_, _))
      .WillOnce(DoAll(SetArgReferee<1>(report), Return(Status::unsupported)));
  RxEvents events;
  events.modem_changed = true;
  port_.handle_interrupt(std::vector<uint8_t>(2), events);
  EXPECT_FALSE(events.modem_changed);
  EXPECT_FALSE(events.errors.any());
  EXPECT_EQ(port_.stats().modem_changes, 0u);
  EXPECT_EQ(port_.stats().malformed_notifications, 0u);
  EXPECT_EQ(port_.stats().interrupt_transfers, 0u);
}

}  // namespace
