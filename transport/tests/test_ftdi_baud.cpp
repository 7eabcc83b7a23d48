// FTDI baud-rate encoder: literal encodings worked out by hand from AN232B-05 / AN_120 and
// docs/usb-serial-reference.md §2.4, plus an independent brute-force search over every
// valid divisor that the encoder's choice is checked against.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "transport/chip_protocol.hpp"
#include "transport/chips/ftdi.hpp"
#include "transport/device_table.hpp"

namespace {

using transport::ChipVariant;
using transport::Status;
using transport::chips::ftdi::BaudEncoding;
using transport::chips::ftdi::encode_baud;

constexpr std::array<ChipVariant, 7> kFtdiVariants = {
    ChipVariant::ft232bm, ChipVariant::ft232r,  ChipVariant::ft_x,   ChipVariant::ft2232c,
    ChipVariant::ft232h,  ChipVariant::ft2232h, ChipVariant::ft4232h};

// ---- The test's own model of the chip, written from the reference, not from ftdi.cpp ----

bool is_h_series(ChipVariant v) {
  return v == ChipVariant::ft232h || v == ChipVariant::ft2232h || v == ChipVariant::ft4232h;
}

// Datasheet maxima (reference §2.4 "Max rates").
uint32_t datasheet_max(ChipVariant v) {
  return is_h_series(v) ? 12'000'000u : 3'000'000u;
}

// Our policy: 12 MHz (120 MHz / 10) on the H series at >= 1200 Bd, else 48 MHz / 16.
uint64_t reference_for(ChipVariant v, uint32_t rate) {
  return is_h_series(v) && rate >= 1200 ? 12'000'000u : 3'000'000u;
}

// Channel in the low byte of wIndex: reference §2.1 table (Linux >= 6.3).
uint8_t channel_of(ChipVariant v, uint8_t port_index) {
  switch (v) {
    case ChipVariant::ft232bm:
    case ChipVariant::ft232r:
      return 0;
    case ChipVariant::ft_x:
    case ChipVariant::ft232h:
      return 1;
    default:
      return static_cast<uint8_t>(1 + port_index);
  }
}

// Every valid divisor, in eighths: 1.0 (8), 1.5 (12) and n + f/8 for n = 2..16383.
const std::vector<uint32_t>& valid_divisors() {
  static const std::vector<uint32_t> all = [] {
    std::vector<uint32_t> v = {8, 12};
    for (uint32_t n = 2; n <= 16383; ++n) {
      for (uint32_t f = 0; f < 8; ++f) {
        v.push_back(n * 8 + f);
      }
    }
    return v;
  }();
  return all;
}

bool is_valid_divisor(uint32_t d8) {
  return d8 == 8 || d8 == 12 || (d8 >= 16 && d8 <= 131071);
}

// Decodes an encoded divisor the way the chip reads it (AN232B-05): bits 0-13 integer,
// bits 14-16 sub-integer code (000 = 0, 001 = .5, 010 = .25, 011 = .125, 100 = .375,
// 101 = .625, 110 = .75, 111 = .875), bit 17 the H-series 12 MHz select; 0 and 1 are the
// specials 1.0 and 1.5. Returns eighths, or 0 for a pattern the chip does not allow.
uint32_t chip_divisor_eighths(uint32_t encoded) {
  const uint32_t low17 = encoded & 0x1FFFF;
  if (low17 == 0) {
    return 8;
  }
  if (low17 == 1) {
    return 12;
  }
  static constexpr uint32_t kEighthsOfCode[8] = {0, 4, 2, 1, 3, 5, 6, 7};
  const uint32_t n = low17 & 0x3FFF;
  const uint32_t code = (low17 >> 14) & 7;
  if (n < 2) {
    return 0;  // 1.125 .. 1.875 (other than the 1.5 special) and 0.x are not allowed
  }
  return n * 8 + kEighthsOfCode[code];
}

struct Expected {
  Status status;
  uint64_t reference;
  std::vector<uint32_t> closest;  // every divisor with the minimal rate error (ties)
};

// Brute force: the rate of d8 is reference*8/d8; error |reference*8/d8 - rate| compared
// exactly as |reference*8 - rate*d8| / d8 with 128-bit cross-multiplication.
Expected brute_force(ChipVariant v, uint32_t rate) {
  const uint64_t reference = reference_for(v, rate);
  const unsigned __int128 num = static_cast<unsigned __int128>(reference) * 8;
  unsigned __int128 best_err = 0;
  uint32_t best_d = 0;
  std::vector<uint32_t> ties;
  for (const uint32_t d : valid_divisors()) {
    const unsigned __int128 prod = static_cast<unsigned __int128>(rate) * d;
    const unsigned __int128 err = num > prod ? num - prod : prod - num;
    if (best_d == 0 || err * best_d < best_err * d) {
      best_err = err;
      best_d = d;
      ties = {d};
    } else if (err * best_d == best_err * d) {
      ties.push_back(d);
    }
  }
  // 3 %: |actual - rate| <= 0.03 * rate  <=>  err * 1000 <= 30 * rate * d.
  const bool within = best_err * 1000 <= static_cast<unsigned __int128>(30) * rate * best_d;
  // The smallest reachable rate is 3 MHz / 16383.875 = 183.107 Bd -> 183 at bit/s resolution.
  const bool in_range = rate >= 183 && rate <= datasheet_max(v);
  return {in_range && within ? Status::ok : Status::baud_unreachable, reference, ties};
}

std::string label(ChipVariant v, uint32_t rate) {
  return std::string(transport::variant_info(v).name) + " @ " + std::to_string(rate);
}

// Checks one encoding against the model: status, closest divisor, validity, packing, rates.
void check_against_model(ChipVariant v, uint8_t port_index, uint32_t rate) {
  SCOPED_TRACE(label(v, rate));
  const BaudEncoding got = encode_baud(v, port_index, rate);
  const Expected want = brute_force(v, rate);
  ASSERT_EQ(got.status, want.status);
  EXPECT_EQ(got.requested, rate);
  ASSERT_TRUE(got.has_divisor());
  EXPECT_EQ(got.reference_hz, want.reference);
  EXPECT_NE(std::find(want.closest.begin(), want.closest.end(), got.divisor_eighths),
            want.closest.end())
      << "picked " << got.divisor_eighths << "/8, closest is " << want.closest.front() << "/8";
  // The encoded value is what the chip decodes, and it must be a valid divisor.
  EXPECT_LT(got.encoded, 1u << 18);
  EXPECT_EQ(chip_divisor_eighths(got.encoded), got.divisor_eighths);
  EXPECT_TRUE(is_valid_divisor(chip_divisor_eighths(got.encoded)));
  EXPECT_EQ((got.encoded >> 17) & 1, want.reference == 12'000'000 ? 1u : 0u);
  // Request split (Linux change_speed).
  EXPECT_EQ(got.w_value, got.encoded & 0xFFFF);
  const uint8_t channel = channel_of(v, port_index);
  const uint32_t high = got.encoded >> 16;
  EXPECT_EQ(got.w_index, channel == 0 ? high : ((high << 8) | channel));
  // Actual rate, rounded to bit/s and to milli-bit/s.
  const uint64_t num = want.reference * 8;
  const uint32_t d = got.divisor_eighths;
  EXPECT_EQ(got.actual_baud, (num + d / 2) / d);
  EXPECT_EQ(got.actual_millibaud, (num * 1000 + d / 2) / d);
}

// 40+ rates from 50 Bd to 12 MBd: classic, odd and boundary rates.
const std::vector<uint32_t> kRates = {
    50,       75,       110,      134,     150,     180,     182,     183,     184,     200,
    300,      600,      732,      733,     734,     1199,    1200,    1201,    1800,    2400,
    4800,     7200,     9600,     14400,   19200,   28800,   31250,   38400,   56000,   57600,
    74880,    76800,    100000,   115200,  128000,  153600,  230400,  250000,  256000,  460800,
    500000,   576000,   921600,   1000000, 1152000, 1228800, 1500000, 1843200, 2000000, 2500000,
    2900000,  2912622,  3000000,  3000001, 3500000, 4000000, 4800000, 6000000, 7000000, 8000000,
    10000000, 12000000, 12000001, 13000000};

TEST(FtdiBaudModel, EveryVariantEveryRateMatchesBruteForce) {
  ASSERT_GE(kRates.size(), 40u);
  for (const ChipVariant v : kFtdiVariants) {
    for (const uint32_t rate : kRates) {
      check_against_model(v, 0, rate);
    }
  }
}

TEST(FtdiBaudModel, LaterPortsOfMultiPortParts) {
  for (const uint32_t rate : kRates) {
    check_against_model(ChipVariant::ft2232c, 1, rate);
    check_against_model(ChipVariant::ft2232h, 1, rate);
    check_against_model(ChipVariant::ft4232h, 2, rate);
    check_against_model(ChipVariant::ft4232h, 3, rate);
  }
}

// Every rate from 1.4 MBd to 3.1 MBd in 1 kBd steps: the region where Linux sends invalid
// sub-integer divisors (1.125..1.875 except 1.5) for ~1.55..2.82 MBd on 3 MHz parts.
TEST(FtdiBaudSweep, NeverProducesAnInvalidDivisor) {
  for (const ChipVariant v : kFtdiVariants) {
    for (uint32_t rate = 1'400'000; rate <= 3'100'000; rate += 1000) {
      SCOPED_TRACE(label(v, rate));
      const BaudEncoding got = encode_baud(v, 0, rate);
      ASSERT_TRUE(got.status == Status::ok || got.status == Status::baud_unreachable);
      ASSERT_TRUE(got.has_divisor());
      const uint32_t d8 = chip_divisor_eighths(got.encoded);
      ASSERT_TRUE(is_valid_divisor(d8)) << std::hex << got.encoded;
      EXPECT_EQ(d8, got.divisor_eighths);
      if (got.status == Status::ok) {
        EXPECT_TRUE(transport::baud_within_tolerance(rate, got.actual_baud));
        EXPECT_LE(rate, datasheet_max(v));
      }
      if (!is_h_series(v)) {
        // On 3 MHz parts only 3 MBd (1.0), 2 MBd (1.5) and <= 1.5 MBd (>= 2.0) exist.
        EXPECT_TRUE(d8 == 8 || d8 == 12 || d8 >= 16) << d8;
      }
    }
  }
}

// ---- Literal encodings, worked out by hand from AN232B-05 (divisor = 3 MHz / rate, or
// 12 MHz / rate with bit 17 on the H series; fraction eighths -> code {0,3,2,4,1,5,6,7}) ----

struct Literal {
  ChipVariant variant;
  uint8_t port_index;
  uint32_t rate;
  uint16_t w_value;
  uint16_t w_index;
  uint32_t actual_baud;
};

void PrintTo(const Literal& l, std::ostream* os) {
  *os << transport::variant_info(l.variant).name << " port " << int{l.port_index} << " @ "
      << l.rate;
}

class FtdiBaudLiteral : public ::testing::TestWithParam<Literal> {};

TEST_P(FtdiBaudLiteral, Encodes) {
  const Literal& l = GetParam();
  const BaudEncoding got = encode_baud(l.variant, l.port_index, l.rate);
  ASSERT_EQ(got.status, Status::ok) << transport::to_string(got.status);
  EXPECT_EQ(got.w_value, l.w_value) << std::hex << got.w_value;
  EXPECT_EQ(got.w_index, l.w_index) << std::hex << got.w_index;
  EXPECT_EQ(got.actual_baud, l.actual_baud);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(ThreeMHzChannel0, FtdiBaudLiteral, ::testing::Values(
    // FT232R (channel 0: wIndex = encoded >> 16, unshifted).
    Literal{ChipVariant::ft232r, 0, 300, 0x2710, 0x0000, 300},          // 10000
    Literal{ChipVariant::ft232r, 0, 1200, 0x09C4, 0x0000, 1200},        // 2500
    Literal{ChipVariant::ft232r, 0, 2400, 0x04E2, 0x0000, 2400},        // 1250
    Literal{ChipVariant::ft232r, 0, 4800, 0x0271, 0x0000, 4800},        // 625
    Literal{ChipVariant::ft232r, 0, 9600, 0x4138, 0x0000, 9600},        // 312.5 (AN232B-05)
    Literal{ChipVariant::ft232r, 0, 19200, 0x809C, 0x0000, 19200},      // 156.25
    Literal{ChipVariant::ft232r, 0, 38400, 0xC04E, 0x0000, 38400},      // 78.125
    Literal{ChipVariant::ft232r, 0, 57600, 0xC034, 0x0000, 57554},      // 52.125
    Literal{ChipVariant::ft232r, 0, 115200, 0x001A, 0x0000, 115385},    // 26
    Literal{ChipVariant::ft232r, 0, 230400, 0x000D, 0x0000, 230769},    // 13
    Literal{ChipVariant::ft232r, 0, 250000, 0x000C, 0x0000, 250000},    // 12
    Literal{ChipVariant::ft232r, 0, 460800, 0x4006, 0x0000, 461538},    // 6.5
    Literal{ChipVariant::ft232r, 0, 500000, 0x0006, 0x0000, 500000},    // 6
    Literal{ChipVariant::ft232r, 0, 921600, 0x8003, 0x0000, 923077},    // 3.25
    Literal{ChipVariant::ft232r, 0, 1000000, 0x0003, 0x0000, 1000000},  // 3
    Literal{ChipVariant::ft232r, 0, 1152000, 0x4002, 0x0001, 1142857},  // 2.625: code 5 -> bit 16
    Literal{ChipVariant::ft232r, 0, 1500000, 0x0002, 0x0000, 1500000},  // 2
    Literal{ChipVariant::ft232r, 0, 2000000, 0x0001, 0x0000, 2000000},  // 1.5 special
    Literal{ChipVariant::ft232r, 0, 3000000, 0x0000, 0x0000, 3000000},  // 1.0 special
    Literal{ChipVariant::ft232r, 0, 183, 0xFFFF, 0x0001, 183},          // 16383.875 = 0x1FFFF
    Literal{ChipVariant::ft232r, 0, 733, 0x8FFC, 0x0001, 733},          // 4092.75: code 6
    Literal{ChipVariant::ft232bm, 0, 9600, 0x4138, 0x0000, 9600},
    Literal{ChipVariant::ft232bm, 0, 38400, 0xC04E, 0x0000, 38400}));

INSTANTIATE_TEST_SUITE_P(ThreeMHzChannelled, FtdiBaudLiteral, ::testing::Values(
    // FT-X (channel 1): the divisor's bit 16 moves to wIndex bit 8 (Linux >= 5.11 / 6.3).
    Literal{ChipVariant::ft_x, 0, 9600, 0x4138, 0x0001, 9600},
    Literal{ChipVariant::ft_x, 0, 1152000, 0x4002, 0x0101, 1142857},
    Literal{ChipVariant::ft_x, 0, 183, 0xFFFF, 0x0101, 183},
    Literal{ChipVariant::ft_x, 0, 3000000, 0x0000, 0x0001, 3000000},
    // FT2232C/D port A (1) and port B (2).
    Literal{ChipVariant::ft2232c, 0, 38400, 0xC04E, 0x0001, 38400},
    Literal{ChipVariant::ft2232c, 1, 38400, 0xC04E, 0x0002, 38400},
    Literal{ChipVariant::ft2232c, 1, 1152000, 0x4002, 0x0102, 1142857}));

INSTANTIATE_TEST_SUITE_P(HSeries, FtdiBaudLiteral, ::testing::Values(
    // FT232H (channel 1), 12 MHz path: bit 17 -> wIndex bit 9.
    Literal{ChipVariant::ft232h, 0, 12000000, 0x0000, 0x0201, 12000000},  // 1.0 special
    Literal{ChipVariant::ft232h, 0, 8000000, 0x0001, 0x0201, 8000000},    // 1.5 special
    Literal{ChipVariant::ft232h, 0, 6000000, 0x0002, 0x0201, 6000000},
    Literal{ChipVariant::ft232h, 0, 4000000, 0x0003, 0x0201, 4000000},
    Literal{ChipVariant::ft232h, 0, 3000000, 0x0004, 0x0201, 3000000},
    Literal{ChipVariant::ft232h, 0, 2500000, 0x8004, 0x0301, 2526316},    // 4.75: code 6
    Literal{ChipVariant::ft232h, 0, 2000000, 0x0006, 0x0201, 2000000},
    Literal{ChipVariant::ft232h, 0, 1152000, 0x000A, 0x0301, 1156627},    // 10.375: code 4
    Literal{ChipVariant::ft232h, 0, 1000000, 0x000C, 0x0201, 1000000},
    Literal{ChipVariant::ft232h, 0, 115200, 0xC068, 0x0201, 115246},      // 104.125: code 3
    Literal{ChipVariant::ft232h, 0, 9600, 0x04E2, 0x0201, 9600},          // 1250
    Literal{ChipVariant::ft232h, 0, 1200, 0x2710, 0x0201, 1200},          // 10000
    // Below 1200 Bd the 3 MHz path without bit 17 (as Linux).
    Literal{ChipVariant::ft232h, 0, 1199, 0xC9C6, 0x0001, 1199},          // 2502.125
    Literal{ChipVariant::ft232h, 0, 300, 0x2710, 0x0001, 300},
    Literal{ChipVariant::ft232h, 0, 733, 0x8FFC, 0x0101, 733},
    // FT2232H port B (2), FT4232H port C (3) and port D (4).
    Literal{ChipVariant::ft2232h, 1, 3000000, 0x0004, 0x0202, 3000000},
    Literal{ChipVariant::ft2232h, 1, 9600, 0x04E2, 0x0202, 9600},
    Literal{ChipVariant::ft4232h, 2, 12000000, 0x0000, 0x0203, 12000000},
    Literal{ChipVariant::ft4232h, 2, 9600, 0x04E2, 0x0203, 9600},
    Literal{ChipVariant::ft4232h, 3, 2500000, 0x8004, 0x0304, 2526316}));
// clang-format on

// ---- Refusals ----

struct Refusal {
  ChipVariant variant;
  uint32_t rate;
};

void PrintTo(const Refusal& r, std::ostream* os) {
  *os << transport::variant_info(r.variant).name << " @ " << r.rate;
}

class FtdiBaudUnreachable : public ::testing::TestWithParam<Refusal> {};

TEST_P(FtdiBaudUnreachable, IsAnErrorNeverAFallback) {
  const BaudEncoding got = encode_baud(GetParam().variant, 0, GetParam().rate);
  EXPECT_EQ(got.status, Status::baud_unreachable);
  // Never the 9600 fallback Linux uses.
  EXPECT_NE(got.actual_baud, 9600u);
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(All, FtdiBaudUnreachable, ::testing::Values(
    Refusal{ChipVariant::ft232r, 50},        // below 183.1 Bd
    Refusal{ChipVariant::ft232r, 182},
    Refusal{ChipVariant::ft232h, 182},       // the H series use 3 MHz down there too
    Refusal{ChipVariant::ft232r, 2500000},   // between 2 MBd (1.5) and 3 MBd (1.0): +-20 %
    Refusal{ChipVariant::ft_x, 2500000},
    Refusal{ChipVariant::ft2232c, 1750000},  // 1.5 MBd and 2 MBd both > 3 % away
    Refusal{ChipVariant::ft232r, 3000001},   // above the 3 MBd maximum
    Refusal{ChipVariant::ft232r, 4000000},
    Refusal{ChipVariant::ft232h, 7000000},   // 6 MBd and 8 MBd both 14 % away
    Refusal{ChipVariant::ft4232h, 12000001}, // above the 12 MBd maximum
    Refusal{ChipVariant::ft2232h, 4294967295u}));
// clang-format on

TEST(FtdiBaud, ThreePercentBoundary) {
  // 3 MBd (divisor 1.0) serves requests down to 3e6 / 1.03 = 2912621.4 Bd.
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 2912622).status, Status::ok);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 2912621).status, Status::baud_unreachable);
  // 2 MBd (1.5) serves 2e6/1.03 = 1941747.6 .. 2e6/0.97 = 2061855.6.
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 1941748).status, Status::ok);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 1941747).status, Status::baud_unreachable);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 2061855).status, Status::ok);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 2061856).status, Status::baud_unreachable);
}

TEST(FtdiBaud, InvalidArguments) {
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 0).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cdc_acm, 0, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 1, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::ft2232h, 2, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::ft4232h, 4, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(static_cast<ChipVariant>(200), 0, 9600).status, Status::invalid_argument);
  EXPECT_FALSE(encode_baud(ChipVariant::ft232r, 0, 0).has_divisor());
}

TEST(FtdiBaud, LimitsAndChannels) {
  using namespace transport::chips::ftdi;
  EXPECT_EQ(min_baud(), 183u);  // 24 000 000 / 131071 = 183.107
  for (const ChipVariant v : kFtdiVariants) {
    EXPECT_EQ(max_baud(v), datasheet_max(v));
    for (uint8_t port = 0; port < transport::variant_info(v).port_count; ++port) {
      EXPECT_EQ(channel_for(v, port), channel_of(v, port));
    }
  }
  EXPECT_EQ(channel_for(ChipVariant::ft4232h, 2), 3);
  EXPECT_EQ(channel_for(ChipVariant::ft232h, 0), 1);
  EXPECT_EQ(channel_for(ChipVariant::ft232r, 0), 0);
}

TEST(FtdiBaud, ExactRateInMilliBaud) {
  // 57600 on 3 MHz: 3e6 / 52.125 = 57553.956 Bd.
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 57600).actual_millibaud, 57553957u);
  // 2.5 MBd on 12 MHz: 12e6 / 4.75 = 2526315.789 Bd.
  EXPECT_EQ(encode_baud(ChipVariant::ft232h, 0, 2500000).actual_millibaud, 2526315789u);
  // 183 Bd: 24e6 / 131071 = 183.1069 Bd.
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 0, 183).actual_millibaud, 183107u);
}

}  // namespace
