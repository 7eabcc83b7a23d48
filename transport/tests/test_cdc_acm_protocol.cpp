// Control-transfer transcripts of the CDC-ACM class protocol.
//
// Expected bytes come from the CDC 1.2 / PSTN 1.20 layouts restated in
// docs/usb-serial-reference.md §1.2: class requests are bmRequestType
// 0x21 (OUT) / 0xA1 (IN) with wIndex = the communication interface;
// SET_LINE_CODING 0x20 carries dwDTERate (u32 LE), bCharFormat (0/1/2 =
// 1/1.5/2 stop bits), bParityType (0..4 = none/odd/even/mark/space), bDataBits.
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "tools/common/recording_sink.hpp"
#include "transport/chips/cdc_acm.hpp"
#include "transport/serial_constants.hpp"
#include "transport/serial_port.hpp"

namespace {

using hostutil::RecordingSink;
using transport::Capabilities;
using transport::ChipVariant;
using transport::LineSettings;
using transport::ModemControl;
using transport::Parity;
using transport::PortConfig;
using transport::Status;
using transport::StopBits;
using transport::chips::CdcAcm;

constexpr uint8_t kInterface = 2;            // non-zero so a wrong wIndex shows
constexpr uint8_t kCapsLineAndBreak = 0x06;  // D1 | D2
constexpr uint8_t kCapsLineOnly = 0x02;      // D1

struct Expected {
  uint8_t bm_request_type;
  uint8_t b_request;
  uint16_t w_value;
  uint16_t w_index;
  uint16_t w_length;
  std::vector<uint8_t> data;
  Status status = Status::ok;
};

void expect_transcript(const RecordingSink& sink, const std::vector<Expected>& expected) {
  const auto& got = sink.transcript();
  std::string dump;
  for (const auto& t : got) {
    dump += "  " + hostutil::describe(t) + "\n";
  }
  ASSERT_EQ(got.size(), expected.size()) << "transcript:\n" << dump;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& g = got[i];
    const auto& e = expected[i];
    EXPECT_EQ(g.request.bmRequestType, e.bm_request_type) << "transfer " << i << "\n" << dump;
    EXPECT_EQ(g.request.bRequest, e.b_request) << "transfer " << i << "\n" << dump;
    EXPECT_EQ(g.request.wValue, e.w_value) << "transfer " << i << "\n" << dump;
    EXPECT_EQ(g.request.wIndex, e.w_index) << "transfer " << i << "\n" << dump;
    EXPECT_EQ(g.request.wLength, e.w_length) << "transfer " << i << "\n" << dump;
    EXPECT_EQ(g.data, e.data) << "transfer " << i << "\n" << dump;
    EXPECT_EQ(g.status, e.status) << "transfer " << i << "\n" << dump;
  }
}

PortConfig cdc_config(uint8_t caps = kCapsLineAndBreak) {
  PortConfig config;
  config.variant = ChipVariant::cdc_acm;
  config.interface_number = kInterface;
  config.data_interface = kInterface + 1;
  config.bulk_in_max_packet = 64;
  config.interrupt_max_packet = 16;
  config.acm_capabilities = caps;
  return config;
}

LineSettings line(uint32_t baud, uint8_t bits = 8, Parity parity = Parity::none,
                  StopBits stop = StopBits::one) {
  LineSettings l;
  l.baud = baud;
  l.data_bits = bits;
  l.parity = parity;
  l.stop_bits = stop;
  return l;
}

// The expected SET_LINE_CODING and the GET that follows it.
Expected set_coding(std::vector<uint8_t> coding) {
  return {0x21, 0x20, 0x0000, kInterface, 7, std::move(coding)};
}
Expected get_coding(std::vector<uint8_t> answer, Status status = Status::ok) {
  return {0xA1, 0x21, 0x0000, kInterface, 7, std::move(answer), status};
}

class CdcAcmProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(acm.configure(cdc_config()), Status::ok);
    ASSERT_EQ(acm.open(sink), Status::ok);
  }
  CdcAcm acm;
  RecordingSink sink;
};

// --- configure / open / close ----------------------------------------------

TEST(CdcAcmConfigure, RejectsOtherVariantsAndZeroPacketSize) {
  CdcAcm acm;
  PortConfig config = cdc_config();
  config.variant = ChipVariant::ft232r;
  EXPECT_EQ(acm.configure(config), Status::invalid_argument);
  config = cdc_config();
  config.bulk_in_max_packet = 0;
  EXPECT_EQ(acm.configure(config), Status::invalid_argument);
  EXPECT_EQ(acm.configure(cdc_config()), Status::ok);
  EXPECT_STREQ(acm.name(), "cdc-acm");
}

TEST(CdcAcmConfigure, NothingIsSentBeforeConfigure) {
  CdcAcm acm;
  RecordingSink sink;
  uint32_t actual = 0;
  EXPECT_EQ(acm.open(sink), Status::not_open);
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::not_open);
  EXPECT_EQ(acm.set_modem_control(sink, {true, true}), Status::not_open);
  EXPECT_EQ(acm.set_break(sink, true), Status::not_open);
  EXPECT_EQ(acm.close(sink), Status::not_open);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, OpenSendsNothing) {
  EXPECT_EQ(acm.open(sink), Status::ok);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, CloseDropsDtrAndRts) {
  EXPECT_EQ(acm.close(sink), Status::ok);
  expect_transcript(sink, {{0x21, 0x22, 0x0000, kInterface, 0, {}}});
}

// --- set_line ----------------------------------------------------------------

TEST_F(CdcAcmProtocol, SetLine115200_8N1WithMatchingReadback) {
  // 115200 = 0x0001C200.
  sink.reply(0xA1, 0x21, {0x00, 0xC2, 0x01, 0x00, 0x00, 0x00, 0x08});
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(115200), actual), Status::ok);
  EXPECT_EQ(actual, 115200u);
  expect_transcript(sink, {set_coding({0x00, 0xC2, 0x01, 0x00, 0x00, 0x00, 0x08}),
                           get_coding({0x00, 0xC2, 0x01, 0x00, 0x00, 0x00, 0x08})});
}

TEST_F(CdcAcmProtocol, ParityStopBitsAndDataBitsEncoding) {
  struct Case {
    uint8_t bits;
    Parity parity;
    StopBits stop;
    uint8_t char_format;
    uint8_t parity_type;
  };
  const Case cases[] = {
      {8, Parity::none, StopBits::one, 0, 0},           {7, Parity::odd, StopBits::one, 0, 1},
      {7, Parity::even, StopBits::two, 2, 2},           {6, Parity::mark, StopBits::one, 0, 3},
      {5, Parity::space, StopBits::one_and_half, 1, 4},
  };
  uint32_t baud = 1200;  // 0x04B0; a new rate per case so no request is skipped as redundant
  for (const Case& c : cases) {
    RecordingSink s;
    uint32_t actual = 0;
    ASSERT_EQ(acm.set_line(s, line(baud, c.bits, c.parity, c.stop), actual), Status::ok);
    EXPECT_EQ(actual, baud);  // no GET answer: the request stands
    const uint8_t lo = static_cast<uint8_t>(baud);
    const uint8_t hi = static_cast<uint8_t>(baud >> 8);
    expect_transcript(s, {set_coding({lo, hi, 0x00, 0x00, c.char_format, c.parity_type, c.bits}),
                          get_coding({})});
    baud += 1;
  }
}

TEST_F(CdcAcmProtocol, ExtremeRatesAreEncodedLittleEndian) {
  uint32_t actual = 0;
  ASSERT_EQ(acm.set_line(sink, line(1), actual), Status::ok);
  EXPECT_EQ(actual, 1u);
  ASSERT_EQ(acm.set_line(sink, line(std::numeric_limits<uint32_t>::max()), actual), Status::ok);
  EXPECT_EQ(actual, 0xFFFFFFFFu);
  expect_transcript(sink, {set_coding({0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08}), get_coding({}),
                           set_coding({0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x08}), get_coding({})});
}

TEST_F(CdcAcmProtocol, InvalidLineSettingsSendNothing) {
  uint32_t actual = 1234;
  EXPECT_EQ(acm.set_line(sink, line(0), actual), Status::invalid_argument);
  EXPECT_EQ(acm.set_line(sink, line(9600, 4), actual), Status::invalid_argument);
  EXPECT_EQ(acm.set_line(sink, line(9600, 9), actual), Status::invalid_argument);
  EXPECT_EQ(acm.set_line(sink, line(9600, 16), actual), Status::invalid_argument);
  EXPECT_EQ(acm.set_line(sink, line(9600, 8, static_cast<Parity>(5)), actual),
            Status::invalid_argument);
  EXPECT_EQ(acm.set_line(sink, line(9600, 8, Parity::none, static_cast<StopBits>(3)), actual),
            Status::invalid_argument);
  EXPECT_EQ(actual, 1234u);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, RedundantSetLineCodingIsSkipped) {
  // 9600 = 0x2580.
  sink.reply(0xA1, 0x21, {0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08});
  uint32_t actual = 0;
  ASSERT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  ASSERT_EQ(sink.transcript().size(), 2u);
  sink.clear();

  actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  EXPECT_EQ(actual, 9600u);
  EXPECT_TRUE(sink.transcript().empty());

  // A different framing at the same rate is not redundant.
  EXPECT_EQ(acm.set_line(sink, line(9600, 7, Parity::even), actual), Status::ok);
  expect_transcript(sink, {set_coding({0x80, 0x25, 0x00, 0x00, 0x00, 0x02, 0x07}),
                           get_coding({0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08})});
  sink.clear();

  // Only the last coding is remembered: going back to 8N1 is sent again.
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  EXPECT_EQ(sink.transcript().size(), 2u);
  sink.clear();

  // open() forgets the cache.
  ASSERT_EQ(acm.open(sink), Status::ok);
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  expect_transcript(sink, {set_coding({0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08}),
                           get_coding({0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08})});
}

TEST_F(CdcAcmProtocol, SkippedRequestReportsTheCachedActualRate) {
  // The device runs 115200 requests at 117647 (48 MHz / 408; 2.1 % fast).
  // 117647 = 0x0001CB8F.
  sink.reply(0xA1, 0x21, {0x8F, 0xCB, 0x01, 0x00, 0x00, 0x00, 0x08});
  uint32_t actual = 0;
  ASSERT_EQ(acm.set_line(sink, line(115200), actual), Status::ok);
  EXPECT_EQ(actual, 117647u);
  sink.clear();
  actual = 0;
  ASSERT_EQ(acm.set_line(sink, line(115200), actual), Status::ok);
  EXPECT_EQ(actual, 117647u);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, ReadbackWithinThreePercentIsTheActualRate) {
  // Tolerance boundary: 3 % of 100000 is 3000.
  {
    RecordingSink s;
    s.reply(0xA1, 0x21, {0x58, 0x92, 0x01, 0x00, 0x00, 0x00, 0x08});  // 103000 = 0x00019258
    uint32_t actual = 0;
    EXPECT_EQ(acm.set_line(s, line(100000), actual), Status::ok);
    EXPECT_EQ(actual, 103000u);
  }
  {
    RecordingSink s;
    s.reply(0xA1, 0x21, {0x18, 0x7B, 0x01, 0x00, 0x00, 0x00, 0x08});  // 97048 = 0x00017B18
    uint32_t actual = 0;
    EXPECT_EQ(acm.set_line(s, line(100001), actual), Status::ok);  // 2953 below: inside
    EXPECT_EQ(actual, 97048u);
  }
}

TEST_F(CdcAcmProtocol, ReadbackMoreThanThreePercentOffIsBaudUnreachable) {
  // 100000 requested, device at 103001 (0x00019259): 3001 > 3000.
  sink.reply(0xA1, 0x21, {0x59, 0x92, 0x01, 0x00, 0x00, 0x00, 0x08});
  uint32_t actual = 77;
  EXPECT_EQ(acm.set_line(sink, line(100000), actual), Status::baud_unreachable);
  EXPECT_EQ(actual, 77u);  // untouched on error
  // No coding succeeded since open(): nothing to restore.
  expect_transcript(sink, {set_coding({0xA0, 0x86, 0x01, 0x00, 0x00, 0x00, 0x08}),
                           get_coding({0x59, 0x92, 0x01, 0x00, 0x00, 0x00, 0x08})});
  sink.clear();
  // A failed coding is not cached: the same request is sent (and checked) again.
  EXPECT_EQ(acm.set_line(sink, line(100000), actual), Status::baud_unreachable);
  EXPECT_EQ(sink.transcript().size(), 2u);
}

TEST_F(CdcAcmProtocol, UnreachableRateRestoresThePreviousCoding) {
  {
    RecordingSink s;  // 9600 8N1 succeeds, the device confirms it
    s.reply(0xA1, 0x21, {0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08});
    uint32_t actual = 0;
    ASSERT_EQ(acm.set_line(s, line(9600), actual), Status::ok);
  }
  // 250000 (0x0003D090) requested; the device settles on 230400 (0x00038400), 7.8 % off.
  sink.reply(0xA1, 0x21, {0x00, 0x84, 0x03, 0x00, 0x00, 0x00, 0x08});
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(250000), actual), Status::baud_unreachable);
  expect_transcript(sink, {set_coding({0x90, 0xD0, 0x03, 0x00, 0x00, 0x00, 0x08}),
                           get_coding({0x00, 0x84, 0x03, 0x00, 0x00, 0x00, 0x08}),
                           set_coding({0x80, 0x25, 0x00, 0x00, 0x00, 0x00, 0x08})});
  sink.clear();
  // The restored 9600 8N1 is in force again, so asking for it is redundant.
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  EXPECT_EQ(actual, 9600u);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, StalledGetMeansTheRequestStands) {
  sink.fail(0xA1, 0x21, Status::stall);
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(57600), actual), Status::ok);  // 0x0000E100
  EXPECT_EQ(actual, 57600u);
  expect_transcript(sink, {set_coding({0x00, 0xE1, 0x00, 0x00, 0x00, 0x00, 0x08}),
                           get_coding({}, Status::stall)});
  sink.clear();
  // It succeeded, so it is cached.
  EXPECT_EQ(acm.set_line(sink, line(57600), actual), Status::ok);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, ShortOrEmptyGetMeansTheRequestStands) {
  sink.reply(0xA1, 0x21, {0x00, 0x4B, 0x00, 0x00});  // 4 of 7 bytes
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(19200), actual), Status::ok);
  EXPECT_EQ(actual, 19200u);
  RecordingSink empty;  // answers IN requests with 0 bytes
  EXPECT_EQ(acm.set_line(empty, line(38400), actual), Status::ok);
  EXPECT_EQ(actual, 38400u);
  expect_transcript(empty,
                    {set_coding({0x00, 0x96, 0x00, 0x00, 0x00, 0x00, 0x08}), get_coding({})});
}

TEST_F(CdcAcmProtocol, GetAnsweringRateZeroIsAStubAndTheRequestStands) {
  sink.reply(0xA1, 0x21, {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(921600), actual), Status::ok);
  EXPECT_EQ(actual, 921600u);
}

TEST_F(CdcAcmProtocol, GetTimeoutMeansTheRequestStandsButAGoneDeviceIsAnError) {
  {
    RecordingSink s;
    s.fail(0xA1, 0x21, Status::timeout);
    uint32_t actual = 0;
    EXPECT_EQ(acm.set_line(s, line(4800), actual), Status::ok);
    EXPECT_EQ(actual, 4800u);
  }
  RecordingSink gone;
  gone.fail(0xA1, 0x21, Status::no_device);
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(gone, line(2400), actual), Status::no_device);
  // Not cached: the next identical request is sent.
  RecordingSink again;
  EXPECT_EQ(acm.set_line(again, line(2400), actual), Status::ok);
  EXPECT_EQ(again.transcript().size(), 2u);
}

TEST_F(CdcAcmProtocol, FailedSetIsReturnedWithoutAGet) {
  sink.fail(0x21, 0x20, Status::stall);
  uint32_t actual = 0;
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::stall);
  expect_transcript(sink, {{0x21, 0x20, 0x0000, kInterface, 7, {}, Status::stall}});
  RecordingSink ok_sink;
  EXPECT_EQ(acm.set_line(ok_sink, line(9600), actual), Status::ok);
  EXPECT_EQ(ok_sink.transcript().size(), 2u);  // not cached after the failure
}

TEST_F(CdcAcmProtocol, FailedSetDropsTheCacheOfTheCodingBefore) {
  uint32_t actual = 0;
  ASSERT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  RecordingSink failing;
  failing.fail(0x21, 0x20, Status::stall);
  EXPECT_EQ(acm.set_line(failing, line(19200), actual), Status::stall);
  // The device's coding is unknown now: 9600 is sent again rather than assumed.
  sink.clear();
  EXPECT_EQ(acm.set_line(sink, line(9600), actual), Status::ok);
  EXPECT_EQ(sink.transcript().size(), 2u);
}

// --- modem control and break --------------------------------------------------

TEST_F(CdcAcmProtocol, ModemControlIsDtrPlusRtsShiftedOne) {
  EXPECT_EQ(acm.set_modem_control(sink, {false, false}), Status::ok);
  EXPECT_EQ(acm.set_modem_control(sink, {true, false}), Status::ok);
  EXPECT_EQ(acm.set_modem_control(sink, {false, true}), Status::ok);
  EXPECT_EQ(acm.set_modem_control(sink, {true, true}), Status::ok);
  expect_transcript(sink, {{0x21, 0x22, 0x0000, kInterface, 0, {}},
                           {0x21, 0x22, 0x0001, kInterface, 0, {}},
                           {0x21, 0x22, 0x0002, kInterface, 0, {}},
                           {0x21, 0x22, 0x0003, kInterface, 0, {}}});
}

TEST_F(CdcAcmProtocol, ModemControlFailureIsReturned) {
  sink.fail(0x21, 0x22, Status::stall);
  EXPECT_EQ(acm.set_modem_control(sink, {true, true}), Status::stall);
}

TEST_F(CdcAcmProtocol, BreakWithSendBreakCapability) {
  EXPECT_TRUE(acm.capabilities().has(transport::capability::kBreak));
  EXPECT_EQ(acm.set_break(sink, true), Status::ok);
  EXPECT_EQ(acm.set_break(sink, false), Status::ok);
  expect_transcript(
      sink, {{0x21, 0x23, 0xFFFF, kInterface, 0, {}}, {0x21, 0x23, 0x0000, kInterface, 0, {}}});
}

TEST(CdcAcmBreak, WithoutD2BreakIsUnsupportedAndNothingIsSent) {
  CdcAcm acm;
  RecordingSink sink;
  ASSERT_EQ(acm.configure(cdc_config(kCapsLineOnly)), Status::ok);
  ASSERT_EQ(acm.open(sink), Status::ok);
  EXPECT_FALSE(acm.capabilities().has(transport::capability::kBreak));
  EXPECT_EQ(acm.set_break(sink, true), Status::unsupported);
  EXPECT_EQ(acm.set_break(sink, false), Status::unsupported);
  EXPECT_TRUE(sink.transcript().empty());
}

// --- what the class protocol does not have -------------------------------------

TEST_F(CdcAcmProtocol, CapabilitiesOfTheClass) {
  namespace cap = transport::capability;
  const Capabilities caps = acm.capabilities();
  EXPECT_TRUE(caps.has(cap::kLineErrors));
  EXPECT_TRUE(caps.has(cap::kMarkSpace));
  EXPECT_TRUE(caps.has(cap::kDataBits5_6));
  EXPECT_TRUE(caps.has(cap::kStopBits1_5));
  EXPECT_FALSE(caps.has(cap::kCts));
  EXPECT_FALSE(caps.has(cap::kPurge));
  EXPECT_FALSE(caps.has(cap::kLatencyTimer));
  EXPECT_FALSE(caps.has(cap::kModemStatusPoll));
  EXPECT_FALSE(caps.has(cap::kRtsCts));
  EXPECT_FALSE(caps.has(cap::kDtrDsr));
  EXPECT_FALSE(caps.has(cap::kXonXoff));
  EXPECT_EQ(caps.min_baud, 1u);
  EXPECT_EQ(caps.max_baud, 0u);
}

TEST_F(CdcAcmProtocol, OptionalOperationsAreUnsupportedAndSendNothing) {
  transport::FlowControl none;
  EXPECT_EQ(acm.set_flow_control(sink, none), Status::unsupported);
  EXPECT_EQ(acm.purge(sink, true, true), Status::unsupported);
  EXPECT_EQ(acm.set_latency(sink, 1), Status::unsupported);
  transport::ModemStatus status;
  EXPECT_EQ(acm.get_modem_status(sink, status), Status::unsupported);
  EXPECT_TRUE(sink.transcript().empty());
}

TEST_F(CdcAcmProtocol, BulkInDataIsRaw) {
  std::vector<uint8_t> data = {0x01, 0x60, 0x41, 0x00, 0xFF};
  const std::vector<uint8_t> original = data;
  transport::RxReport report;
  EXPECT_EQ(acm.decode_rx(data, report), 5u);
  EXPECT_EQ(data, original);
  EXPECT_FALSE(report.errors.any());
  EXPECT_FALSE(report.modem_valid);
  EXPECT_EQ(report.malformed, 0u);
  EXPECT_EQ(acm.decode_rx({}, report), 0u);
}

// --- through SerialPort ---------------------------------------------------------

TEST(CdcAcmSerialPort, ActivateSendsLineThenModemControl) {
  CdcAcm acm;
  RecordingSink sink;
  transport::SerialPort port;
  ASSERT_EQ(port.attach(acm, sink, cdc_config()), Status::ok);
  ASSERT_EQ(
      port.program_uart(115200, 8, transport::pd::kHalfStopBitsOne, transport::pd::kParityNone),
      Status::ok);
  ASSERT_EQ(port.program_mcr(true, true), Status::ok);
  EXPECT_TRUE(sink.transcript().empty());  // nothing before HwActivate
  ASSERT_EQ(port.activate(), Status::ok);
  expect_transcript(sink, {set_coding({0x00, 0xC2, 0x01, 0x00, 0x00, 0x00, 0x08}),
                           get_coding({}),
                           {0x21, 0x22, 0x0003, kInterface, 0, {}}});
  sink.clear();
  // A chip without flow control accepts "no flow control".
  EXPECT_EQ(port.program_flow(0, 0x11, 0x13), Status::ok);
  EXPECT_TRUE(sink.transcript().empty());
  ASSERT_EQ(port.deactivate(), Status::ok);
  expect_transcript(sink, {{0x21, 0x22, 0x0000, kInterface, 0, {}}});
}

}  // namespace
