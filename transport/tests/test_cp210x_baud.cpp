// CP210x rates, per part, at every boundary. Expected values worked out by hand from:
//   AN205 Table 1 (CP2102/3, CP2105 SCI, CP2108 below 1 MBd): the chip runs at one of 29
//     rates, and a rate of the table sent as itself runs exactly; so the nearest table rate
//     is what must be sent (4804 -> 4800, where the chip's own ranges would give 7200);
//   the CP2104 / CP2102N data sheets (CP2104, CP2105 ECI, CP2102N):
//     divider = round(48 MHz / (2 x prescale x request)), prescale 4 up to 365 Bd, else 1;
//     actual = 48 MHz / (2 x prescale x divider);
//   the ranges of Linux cp210x_init_max_speed (300 .. 921600 / 2 M / 3 M, SCI 2400 .. 921600);
//   our policy: out-of-range requests go to the nearest end, then 3 % of the request.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "transport/chips/cp210x.hpp"

namespace {

using transport::ChipVariant;
using transport::Status;
using transport::chips::cp210x::BaudEncoding;
using transport::chips::cp210x::encode_baud;
using transport::chips::cp210x::RateRule;

struct Case {
  ChipVariant variant;
  uint8_t port;
  uint32_t requested;
  Status status;
  uint32_t sent;    // SET_BAUDRATE value (also checked for refused rates: what would go)
  uint32_t actual;  // rounded
};

std::string label(const Case& c) {
  return std::string(transport::variant_info(c.variant).name) + " port " + std::to_string(c.port) +
         " at " + std::to_string(c.requested);
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << label(c);
}

class Cp210xBaud : public ::testing::TestWithParam<Case> {};

TEST_P(Cp210xBaud, Encodes) {
  const Case& c = GetParam();
  const BaudEncoding e = encode_baud(c.variant, c.port, c.requested);
  EXPECT_EQ(e.status, c.status);
  EXPECT_EQ(e.requested, c.requested);
  EXPECT_EQ(e.sent, c.sent);
  EXPECT_EQ(e.actual_baud, c.actual);
}

constexpr auto kOk = Status::ok;
constexpr auto kNo = Status::baud_unreachable;

// clang-format off
INSTANTIATE_TEST_SUITE_P(Cp2102An205, Cp210xBaud, ::testing::Values(
    Case{ChipVariant::cp2102, 0, 291, kNo, 300, 300},         // up to 300: 3.09 % off
    Case{ChipVariant::cp2102, 0, 292, kOk, 300, 300},         // 2.74 %
    Case{ChipVariant::cp2102, 0, 299, kOk, 300, 300},
    Case{ChipVariant::cp2102, 0, 300, kOk, 300, 300},
    Case{ChipVariant::cp2102, 0, 301, kOk, 300, 300},         // AN205's ranges: 600
    Case{ChipVariant::cp2102, 0, 1200, kOk, 1200, 1200},
    Case{ChipVariant::cp2102, 0, 4803, kOk, 4800, 4800},      // row 4800 ends at 4803
    Case{ChipVariant::cp2102, 0, 4804, kOk, 4800, 4800},      // AN205's ranges: 7200
    Case{ChipVariant::cp2102, 0, 9320, kNo, 9600, 9600},      // 280 / 9320 = 3.004 %
    Case{ChipVariant::cp2102, 0, 9321, kOk, 9600, 9600},      // 279 / 9321 = 2.993 %
    Case{ChipVariant::cp2102, 0, 9600, kOk, 9600, 9600},
    Case{ChipVariant::cp2102, 0, 9612, kOk, 9600, 9600},
    Case{ChipVariant::cp2102, 0, 9613, kOk, 9600, 9600},      // AN205's ranges: 14400
    Case{ChipVariant::cp2102, 0, 31250, kNo, 28800, 28800},   // MIDI: 7.8 % from 28800
    Case{ChipVariant::cp2102, 0, 74880, kOk, 76800, 76800},   // 2.56 %
    Case{ChipVariant::cp2102, 0, 115200, kOk, 115200, 115200},
    Case{ChipVariant::cp2102, 0, 117028, kOk, 115200, 115200},
    Case{ChipVariant::cp2102, 0, 117029, kOk, 115200, 115200},
    Case{ChipVariant::cp2102, 0, 118762, kOk, 115200, 115200},  // 115200 / 0.97 = 118762.9
    Case{ChipVariant::cp2102, 0, 118763, kNo, 115200, 115200},
    Case{ChipVariant::cp2102, 0, 124271, kNo, 128000, 128000},  // 128000 / 1.03 = 124271.8
    Case{ChipVariant::cp2102, 0, 124272, kOk, 128000, 128000},
    Case{ChipVariant::cp2102, 0, 250000, kOk, 250000, 250000},
    Case{ChipVariant::cp2102, 0, 256000, kOk, 256000, 256000},
    Case{ChipVariant::cp2102, 0, 460800, kOk, 460800, 460800},
    Case{ChipVariant::cp2102, 0, 921600, kOk, 921600, 921600},
    Case{ChipVariant::cp2102, 0, 950103, kOk, 921600, 921600},  // 921600 / 0.97 = 950103.1
    Case{ChipVariant::cp2102, 0, 950104, kNo, 921600, 921600},
    Case{ChipVariant::cp2102, 0, 1000000, kNo, 921600, 921600},  // the default table's answer
    Case{ChipVariant::cp2102, 0, 3000000, kNo, 921600, 921600},
    Case{ChipVariant::cp210x, 0, 9612, kOk, 9600, 9600},      // unknown part: the same table
    Case{ChipVariant::cp210x, 0, 1000000, kNo, 921600, 921600}));

INSTANTIATE_TEST_SUITE_P(Cp2102nDivider, Cp210xBaud, ::testing::Values(
    Case{ChipVariant::cp2102n, 0, 110, kNo, 300, 300},
    Case{ChipVariant::cp2102n, 0, 291, kNo, 300, 300},
    Case{ChipVariant::cp2102n, 0, 292, kOk, 300, 300},        // brought up to 300
    Case{ChipVariant::cp2102n, 0, 300, kOk, 300, 300},        // prescale 4, divider 20000
    Case{ChipVariant::cp2102n, 0, 365, kOk, 365, 365},        // prescale 4, divider 16438
    Case{ChipVariant::cp2102n, 0, 366, kOk, 366, 366},        // prescale 1, divider 65574
    Case{ChipVariant::cp2102n, 0, 9600, kOk, 9600, 9600},     // divider 2500
    Case{ChipVariant::cp2102n, 0, 31250, kOk, 31250, 31250},  // divider 768
    Case{ChipVariant::cp2102n, 0, 76800, kOk, 76800, 76677},  // 312.5 rounds up to 313
    Case{ChipVariant::cp2102n, 0, 115200, kOk, 115200, 115385},  // divider 208
    Case{ChipVariant::cp2102n, 0, 128000, kOk, 128000, 127660},  // 187.5 rounds up to 188
    Case{ChipVariant::cp2102n, 0, 921600, kOk, 921600, 923077},  // divider 26
    Case{ChipVariant::cp2102n, 0, 1000000, kOk, 1000000, 1000000},
    Case{ChipVariant::cp2102n, 0, 2500000, kNo, 2500000, 2400000},  // divider 10: 4 % off
    Case{ChipVariant::cp2102n, 0, 2700000, kOk, 2700000, 2666667},  // divider 9: 1.2 %
    Case{ChipVariant::cp2102n, 0, 3000000, kOk, 3000000, 3000000},  // divider 8
    Case{ChipVariant::cp2102n, 0, 3092783, kOk, 3000000, 3000000},  // 3 M / 0.97 = 3092783.5
    Case{ChipVariant::cp2102n, 0, 3092784, kNo, 3000000, 3000000},
    Case{ChipVariant::cp2102n, 0, 4000000, kNo, 3000000, 3000000}));

INSTANTIATE_TEST_SUITE_P(Cp2104AndCp2105Eci, Cp210xBaud, ::testing::Values(
    Case{ChipVariant::cp2104, 0, 300, kOk, 300, 300},
    Case{ChipVariant::cp2104, 0, 57600, kOk, 57600, 57554},   // divider 417
    Case{ChipVariant::cp2104, 0, 1843200, kOk, 1843200, 1846154},  // divider 13
    Case{ChipVariant::cp2104, 0, 2000000, kOk, 2000000, 2000000},  // divider 12
    // 24 MHz / 1454630 = 16.499: the chip would round to 16 (1.5 MBd, 3.12 % off), but 17
    // (1411765 Bd, 2.95 %) is closer, so its rate is what is sent.
    Case{ChipVariant::cp2104, 0, 1454630, kOk, 1411765, 1411765},
    Case{ChipVariant::cp2104, 0, 1454545, kOk, 1454545, 1411765},  // 16.500005: the chip picks 17
    Case{ChipVariant::cp2104, 0, 2061855, kOk, 2000000, 2000000},  // 2 M / 0.97 = 2061855.7
    Case{ChipVariant::cp2104, 0, 2061856, kNo, 2000000, 2000000},
    Case{ChipVariant::cp2104, 0, 3000000, kNo, 2000000, 2000000},
    Case{ChipVariant::cp2105, 0, 291, kNo, 300, 300},
    Case{ChipVariant::cp2105, 0, 300, kOk, 300, 300},
    Case{ChipVariant::cp2105, 0, 230400, kOk, 230400, 230769},  // divider 104
    Case{ChipVariant::cp2105, 0, 2000000, kOk, 2000000, 2000000},
    Case{ChipVariant::cp2105, 0, 3000000, kNo, 2000000, 2000000}));

INSTANTIATE_TEST_SUITE_P(Cp2105Sci, Cp210xBaud, ::testing::Values(
    Case{ChipVariant::cp2105, 1, 1200, kNo, 2400, 2400},      // below the SCI port's 2400
    Case{ChipVariant::cp2105, 1, 2330, kNo, 2400, 2400},      // 70 / 2330 = 3.004 %
    Case{ChipVariant::cp2105, 1, 2331, kOk, 2400, 2400},
    Case{ChipVariant::cp2105, 1, 2400, kOk, 2400, 2400},
    Case{ChipVariant::cp2105, 1, 9600, kOk, 9600, 9600},
    Case{ChipVariant::cp2105, 1, 115200, kOk, 115200, 115200},
    Case{ChipVariant::cp2105, 1, 921600, kOk, 921600, 921600},
    Case{ChipVariant::cp2105, 1, 950104, kNo, 921600, 921600},
    Case{ChipVariant::cp2105, 1, 2000000, kNo, 921600, 921600}));

INSTANTIATE_TEST_SUITE_P(Cp2108, Cp210xBaud, ::testing::Values(
    Case{ChipVariant::cp2108, 0, 300, kOk, 300, 300},
    Case{ChipVariant::cp2108, 1, 9612, kOk, 9600, 9600},
    Case{ChipVariant::cp2108, 2, 950103, kOk, 921600, 921600},
    Case{ChipVariant::cp2108, 3, 980000, kOk, 1000000, 1000000},  // 1 MBd is closer than 921600
    Case{ChipVariant::cp2108, 3, 999999, kOk, 1000000, 1000000},
    Case{ChipVariant::cp2108, 3, 1000000, kOk, 1000000, 1000000},  // from 1 MBd: as sent
    Case{ChipVariant::cp2108, 0, 1843200, kOk, 1843200, 1843200},
    Case{ChipVariant::cp2108, 0, 2000000, kOk, 2000000, 2000000},
    Case{ChipVariant::cp2108, 0, 2061855, kOk, 2000000, 2000000},
    Case{ChipVariant::cp2108, 0, 2061856, kNo, 2000000, 2000000}));
// clang-format on

TEST(Cp210xBaudEncoding, DividerDetails) {
  const BaudEncoding low = encode_baud(ChipVariant::cp2102n, 0, 300);
  EXPECT_EQ(low.rule, RateRule::divider);
  EXPECT_EQ(low.prescale, 4u);
  EXPECT_EQ(low.divider, 20000u);
  EXPECT_EQ(low.actual_millibaud, 300000u);
  const BaudEncoding high = encode_baud(ChipVariant::cp2102n, 0, 921600);
  EXPECT_EQ(high.prescale, 1u);
  EXPECT_EQ(high.divider, 26u);
  EXPECT_EQ(high.actual_millibaud, 923076923u);  // 48 MHz / 52
  const BaudEncoding table = encode_baud(ChipVariant::cp2102, 0, 4803);
  EXPECT_EQ(table.rule, RateRule::an205_table);
  EXPECT_EQ(table.divider, 0u);
  EXPECT_EQ(table.actual_millibaud, 4800000u);
}

TEST(Cp210xBaudEncoding, InvalidRequests) {
  EXPECT_EQ(encode_baud(ChipVariant::cp2102, 0, 0).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cp2102n, 0, 0).status, Status::invalid_argument);
  // Ports the part does not have, and variants of other families.
  EXPECT_EQ(encode_baud(ChipVariant::cp2102, 1, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cp2105, 2, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cp2108, 4, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cdc_acm, 0, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(static_cast<ChipVariant>(200), 0, 9600).status, Status::invalid_argument);
}

// Every rate of AN205 Table 1 is sent as itself and reported exactly on the table parts.
TEST(Cp210xBaudEncoding, EveryTableRateIsSentAsItself) {
  // Written out from the application note.
  const uint32_t rates[] = {300,    600,    1200,   1800,   2400,   4000,   4800,   7200,
                            9600,   14400,  16000,  19200,  28800,  38400,  51200,  56000,
                            57600,  64000,  76800,  115200, 128000, 153600, 230400, 250000,
                            256000, 460800, 500000, 576000, 921600};
  for (const uint32_t rate : rates) {
    for (const ChipVariant variant : {ChipVariant::cp2102, ChipVariant::cp2108}) {
      SCOPED_TRACE(std::to_string(rate));
      const BaudEncoding at = encode_baud(variant, 0, rate);
      EXPECT_EQ(at.status, Status::ok);
      EXPECT_EQ(at.sent, rate);
      EXPECT_EQ(at.actual_baud, rate);
      EXPECT_EQ(at.actual_millibaud, uint64_t{rate} * 1000);
    }
  }
}

}  // namespace
