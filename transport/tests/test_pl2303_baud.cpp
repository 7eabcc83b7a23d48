// PL2303 rate encoding, from tables: which rates go directly, which as divisors, the exact
// bytes of worked examples, every boundary of every type, and a sweep showing that each
// divisor chosen is the closest one the type can make.
//
// Facts (Linux pl2303.c, restated from its pl2303_encode_baud_rate*):
//   direct rates: 75 150 300 600 1200 1800 2400 3600 4800 7200 9600 14400 19200 28800 38400
//     57600 115200 230400 460800 614400 921600 1228800 2457600 3000000 6000000;
//   standard divisor (H, HX, HXD): rate = 384 MHz / (m * 4^e), m 1..511, e 0..7;
//     bytes: [0] m & 0xFF, [1] e << 1 | m >> 8, [2] 0, [3] 0x80;
//   alternative divisor (TA, TB): rate = 384 MHz / (m * 2^e), m 1..2047, e 0..15;
//     bytes: [0] m & 0xFF, [1] (e & ~1) << 4 | m >> 8, [2] e & 1, [3] 0x80;
//   maxima: H 1 228 800, HX 6 M, TA 6 M, HXD 12 M, TB 12 M, G series (HXN) 12 M; the G
//     series has no divisor mode and takes every rate directly.
// The expected bytes below were worked out by hand from these formulas.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "transport/chip_protocol.hpp"
#include "transport/chips/pl2303.hpp"

namespace {

using transport::ChipVariant;
using transport::Status;
using transport::chips::pl2303::BaudEncoding;
using transport::chips::pl2303::BaudMode;
using transport::chips::pl2303::encode_baud;
using transport::chips::pl2303::max_baud;
using transport::chips::pl2303::min_baud;
using Field = std::array<uint8_t, 4>;

constexpr uint64_t kBaseline = 384'000'000;
constexpr uint32_t kDirect[] = {75,      150,     300,     600,    1200,   1800,   2400,
                                3600,    4800,    7200,    9600,   14400,  19200,  28800,
                                38400,   57600,   115200,  230400, 460800, 614400, 921600,
                                1228800, 2457600, 3000000, 6000000};

struct Type {
  ChipVariant variant;
  const char* name;
  uint32_t max;
  bool alt;           // TA/TB encoding
  bool has_divisors;  // all but the G series
};
constexpr Type kTypes[] = {
    {ChipVariant::pl2303_h, "h", 1'228'800, false, true},
    {ChipVariant::pl2303_hx, "hx", 6'000'000, false, true},
    {ChipVariant::pl2303_hxd, "hxd", 12'000'000, false, true},
    {ChipVariant::pl2303_ta, "ta", 6'000'000, true, true},
    {ChipVariant::pl2303_tb, "tb", 12'000'000, true, true},
    {ChipVariant::pl2303_hxn, "hxn", 12'000'000, false, false},
};

Field le32(uint32_t v) {
  return {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v >> 16),
          static_cast<uint8_t>(v >> 24)};
}

// The divisor the chip reads from a divisor field (independent of the encoder).
uint64_t divisor_of(const Field& f, bool alt) {
  if (alt) {
    const uint64_t m = f[0] | ((f[1] & 0x07u) << 8);
    const unsigned e = ((f[1] >> 4) & 0x0Eu) | (f[2] & 0x01u);
    return m << e;
  }
  const uint64_t m = f[0] | ((f[1] & 0x01u) << 8);
  const unsigned e = (f[1] >> 1) & 0x07u;
  return m << (2 * e);
}

double rate_of(uint64_t divisor) {
  return static_cast<double>(kBaseline) / static_cast<double>(divisor);
}

// ------------------------------------------------------------ limits

TEST(Pl2303Baud, LimitsPerType) {
  // 384e6 / (511 * 16384) = 45.866 -> 46; 384e6 / (2047 * 32768) = 5.725 -> 6.
  EXPECT_EQ(min_baud(ChipVariant::pl2303_h), 46u);
  EXPECT_EQ(min_baud(ChipVariant::pl2303_hx), 46u);
  EXPECT_EQ(min_baud(ChipVariant::pl2303_hxd), 46u);
  EXPECT_EQ(min_baud(ChipVariant::pl2303_ta), 6u);
  EXPECT_EQ(min_baud(ChipVariant::pl2303_tb), 6u);
  EXPECT_EQ(min_baud(ChipVariant::pl2303_hxn), 75u);
  for (const Type& t : kTypes) {
    EXPECT_EQ(max_baud(t.variant), t.max) << t.name;
  }
  EXPECT_EQ(min_baud(ChipVariant::ft232r), 0u);
  EXPECT_EQ(max_baud(ChipVariant::cdc_acm), 0u);
}

TEST(Pl2303Baud, InvalidRequests) {
  EXPECT_EQ(encode_baud(ChipVariant::pl2303_hx, 0).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cdc_acm, 9600).status, Status::invalid_argument);
}

// ------------------------------------------------------------ direct rates

TEST(Pl2303Baud, TableRatesGoDirectlyUpToTheTypesMaximum) {
  for (const Type& t : kTypes) {
    for (const uint32_t rate : kDirect) {
      SCOPED_TRACE(std::string(t.name) + " " + std::to_string(rate));
      const BaudEncoding e = encode_baud(t.variant, rate);
      if (rate > t.max) {
        EXPECT_EQ(e.status, Status::baud_unreachable);  // never clamped to the maximum
        continue;
      }
      ASSERT_EQ(e.status, Status::ok);
      EXPECT_EQ(e.mode, BaudMode::direct);
      EXPECT_EQ(e.field, le32(rate));
      EXPECT_EQ(e.actual_baud, rate);
      EXPECT_EQ(e.actual_millibaud, uint64_t{rate} * 1000);
      EXPECT_EQ(e.divisor, 0u);
    }
  }
}

// A type with divisors never sends a direct value outside the table: the chip would run at
// 9600 without a word.
TEST(Pl2303Baud, RatesOutsideTheTableAreNeverSentDirectly) {
  for (const Type& t : kTypes) {
    if (!t.has_divisors) {
      continue;
    }
    for (const uint32_t rate : {110u, 134u, 200u, 250u, 31250u, 56000u, 74880u, 76800u, 100000u,
                                128000u, 153600u, 250000u, 256000u, 500000u, 1000000u}) {
      SCOPED_TRACE(std::string(t.name) + " " + std::to_string(rate));
      const BaudEncoding e = encode_baud(t.variant, rate);
      ASSERT_EQ(e.status, Status::ok);
      EXPECT_EQ(e.mode, t.alt ? BaudMode::alt_divisor : BaudMode::divisor);
      EXPECT_EQ(e.field[3] & 0x80, 0x80);
      EXPECT_EQ(divisor_of(e.field, t.alt), e.divisor);
    }
  }
}

TEST(Pl2303Baud, GSeriesTakesEveryRateDirectly) {
  for (const uint32_t rate :
       {75u, 76u, 110u, 9600u, 56000u, 250000u, 1000000u, 1234567u, 11'999'999u, 12'000'000u}) {
    const BaudEncoding e = encode_baud(ChipVariant::pl2303_hxn, rate);
    ASSERT_EQ(e.status, Status::ok) << rate;
    EXPECT_EQ(e.mode, BaudMode::direct);
    EXPECT_EQ(e.field, le32(rate));
    EXPECT_EQ(e.actual_baud, rate);
  }
  EXPECT_EQ(encode_baud(ChipVariant::pl2303_hxn, 74).status, Status::baud_unreachable);
  EXPECT_EQ(encode_baud(ChipVariant::pl2303_hxn, 50).status, Status::baud_unreachable);
  EXPECT_EQ(encode_baud(ChipVariant::pl2303_hxn, 12'000'001).status, Status::baud_unreachable);
}

// ------------------------------------------------------------ worked examples

struct Example {
  ChipVariant variant;
  uint32_t baud;
  Field field;
  uint64_t divisor;
  uint32_t actual;
};

// clang-format off
const Example kExamples[] = {
    // 110 standard: 384e6/110 = 3490909; e = 7: /16384 = 213.07 -> m 213 (110.035; 214 gives
    // 109.52). Bytes D5, 7 << 1 = 0E.
    {ChipVariant::pl2303_hx, 110, {0xD5, 0x0E, 0x00, 0x80}, 213u << 14, 110},
    // 250000: e = 1, m = 384 exactly. 384 = 0x180: [0] 0x80, [1] 1 << 1 | 1 = 0x03.
    {ChipVariant::pl2303_hx, 250000, {0x80, 0x03, 0x00, 0x80}, 1536, 250000},
    // 56000: 6857.14; e = 2 (x16): 428.57; 429 gives 55944.06 (0.100 %), 428 56074.77
    // (0.134 %): 429 = 0x1AD -> AD, 2 << 1 | 1 = 05. (Linux's truncation would take 428.)
    {ChipVariant::pl2303_hxd, 56000, {0xAD, 0x05, 0x00, 0x80}, 429u << 4, 55944},
    // 1 000 000 on the H: m = 384 at e = 0 -> exact. 384 = 0x180: [1] 0 << 1 | 1 = 0x01.
    {ChipVariant::pl2303_h, 1000000, {0x80, 0x01, 0x00, 0x80}, 384, 1000000},
    // 12 MBd on the HXD and TB (not in the direct table): divisor 32 at e = 0.
    {ChipVariant::pl2303_hxd, 12000000, {0x20, 0x00, 0x00, 0x80}, 32, 12000000},
    {ChipVariant::pl2303_tb, 12000000, {0x20, 0x00, 0x00, 0x80}, 32, 12000000},
    // 110 alternative: e = 11 (x2048): 1704.55; 1705 gives 109.971 (0.026 %), 1704 110.035
    // (0.032 %). 1705 = 0x6A9 -> A9, (10 << 4) | 6 = A6, e & 1 = 01. (Windows' driver sends
    // A8 A6 01 80 for 110, i.e. m 1704: the same layout.)
    {ChipVariant::pl2303_ta, 110, {0xA9, 0xA6, 0x01, 0x80}, 1705u << 11, 110},
    // 250000 alternative: 1536 fits 11 bits at e = 0: 0x600 -> 00, 06.
    {ChipVariant::pl2303_tb, 250000, {0x00, 0x06, 0x00, 0x80}, 1536, 250000},
    // Lowest rates. 46 standard: e = 7: 509.5; 510 gives 45.956 (0.096 %), 509 46.046
    // (0.100 %): 510 = 0x1FE -> FE, 7 << 1 | 1 = 0F. 6 alternative: e = 15: 1953.1 -> 1953
    // (6.0004) = 0x7A1 -> A1, (14 << 4) | 7 = E7, 15 & 1 = 01.
    {ChipVariant::pl2303_hx, 46, {0xFE, 0x0F, 0x00, 0x80}, 510u << 14, 46},
    {ChipVariant::pl2303_tb, 6, {0xA1, 0xE7, 0x01, 0x80}, 1953u << 15, 6},
};
// clang-format on

TEST(Pl2303Baud, WorkedExamples) {
  for (const Example& x : kExamples) {
    SCOPED_TRACE(std::to_string(static_cast<int>(x.variant)) + " " + std::to_string(x.baud));
    const BaudEncoding e = encode_baud(x.variant, x.baud);
    ASSERT_EQ(e.status, Status::ok);
    EXPECT_EQ(e.field, x.field);
    EXPECT_EQ(e.divisor, x.divisor);
    EXPECT_EQ(e.actual_baud, x.actual);
  }
}

// ------------------------------------------------------------ boundaries

struct Boundary {
  ChipVariant variant;
  uint32_t baud;
  Status status;
};

// clang-format off
const Boundary kBoundaries[] = {
    // Below the slowest divisor: refused (46 is the rounded rate of the largest divisor).
    {ChipVariant::pl2303_hx, 45, Status::baud_unreachable},
    {ChipVariant::pl2303_hx, 46, Status::ok},
    {ChipVariant::pl2303_h, 45, Status::baud_unreachable},
    {ChipVariant::pl2303_hxd, 46, Status::ok},
    {ChipVariant::pl2303_ta, 5, Status::baud_unreachable},
    {ChipVariant::pl2303_ta, 6, Status::ok},
    {ChipVariant::pl2303_tb, 1, Status::baud_unreachable},
    // Above the maximum: refused, never clamped.
    {ChipVariant::pl2303_h, 1'228'800, Status::ok},
    {ChipVariant::pl2303_h, 1'228'801, Status::baud_unreachable},
    {ChipVariant::pl2303_hx, 6'000'000, Status::ok},
    {ChipVariant::pl2303_hx, 6'000'001, Status::baud_unreachable},
    {ChipVariant::pl2303_ta, 6'000'001, Status::baud_unreachable},
    {ChipVariant::pl2303_hxd, 12'000'001, Status::baud_unreachable},
    {ChipVariant::pl2303_tb, 12'000'001, Status::baud_unreachable},
    {ChipVariant::pl2303_tb, 4'000'000'000u, Status::baud_unreachable},
};
// clang-format on

TEST(Pl2303Baud, Boundaries) {
  for (const Boundary& b : kBoundaries) {
    EXPECT_EQ(encode_baud(b.variant, b.baud).status, b.status)
        << static_cast<int>(b.variant) << " " << b.baud;
  }
}

// Just below a type's maximum, the divisor at the maximum is allowed (it is not faster than
// the type) and anything faster is not.
TEST(Pl2303Baud, NeverFasterThanTheType) {
  // H: 1 228 799 is not in the table; 384e6/1228799 = 312.5: m 312 would be 1 230 769 Bd,
  // faster than the H's 1 228 800, so 313 (1 226 837 Bd) it is.
  const BaudEncoding h = encode_baud(ChipVariant::pl2303_h, 1'228'799);
  ASSERT_EQ(h.status, Status::ok);
  EXPECT_EQ(h.divisor, 313u);
  EXPECT_EQ(h.actual_baud, 1'226'837u);
  // HX at 5 990 000: m 64 (6 000 000, 0.17 %) beats m 65 (5 907 692, 1.4 %) and equals the max.
  const BaudEncoding hx = encode_baud(ChipVariant::pl2303_hx, 5'990'000);
  ASSERT_EQ(hx.status, Status::ok);
  EXPECT_EQ(hx.divisor, 64u);
  EXPECT_EQ(hx.actual_baud, 6'000'000u);
  for (const Type& t : kTypes) {
    for (uint32_t rate = t.max - 200'000; rate <= t.max; rate += 997) {
      const BaudEncoding e = encode_baud(t.variant, rate);
      ASSERT_EQ(e.status, Status::ok) << t.name << " " << rate;
      EXPECT_LE(e.actual_millibaud, uint64_t{t.max} * 1000) << t.name << " " << rate;
    }
  }
}

// ------------------------------------------------------------ sweep

// For rates across every type's range: the chosen divisor is the closest of all the type's
// valid divisors (brute force over every mantissa and exponent), the bytes decode to it, the
// reported rates are its rate, and it is within 3 %. Also shows that with these encoders
// every rate from min_baud to max_baud is reachable.
TEST(Pl2303Baud, SweepChoosesTheClosestDivisor) {
  std::vector<uint32_t> rates;
  for (uint32_t r = 6; r < 2000; r += r < 46 ? 3 : 7) {
    rates.push_back(r);
  }
  for (uint64_t r = 2000; r <= 12'000'000; r = r * 21 / 20 + 1) {
    rates.push_back(static_cast<uint32_t>(r));
  }
  for (const Type& t : kTypes) {
    if (!t.has_divisors) {
      continue;
    }
    // Every divisor value the type can express, below the rate cap.
    std::vector<uint64_t> divisors;
    const unsigned e_max = t.alt ? 15 : 7;
    const uint64_t m_max = t.alt ? 2047 : 511;
    for (unsigned e = 0; e <= e_max; ++e) {
      for (uint64_t m = 1; m <= m_max; ++m) {
        const uint64_t d = m << (t.alt ? e : 2 * e);
        if (kBaseline <= uint64_t{t.max} * d) {
          divisors.push_back(d);
        }
      }
    }
    for (const uint32_t rate : rates) {
      if (rate < min_baud(t.variant) || rate > t.max) {
        continue;
      }
      SCOPED_TRACE(std::string(t.name) + " " + std::to_string(rate));
      const BaudEncoding e = encode_baud(t.variant, rate);
      ASSERT_EQ(e.status, Status::ok);
      if (e.mode == BaudMode::direct) {
        continue;  // a table rate
      }
      EXPECT_EQ(divisor_of(e.field, t.alt), e.divisor);
      const double chosen = std::abs(rate_of(e.divisor) - rate);
      double best = 1e300;
      for (const uint64_t d : divisors) {
        best = std::min(best, std::abs(rate_of(d) - rate));
      }
      EXPECT_LE(chosen, best * (1 + 1e-12));  // the closest, exactly
      EXPECT_LE(chosen, rate * 0.03);
      EXPECT_NEAR(static_cast<double>(e.actual_millibaud) / 1000.0, rate_of(e.divisor), 0.0006);
      EXPECT_EQ(e.actual_baud, static_cast<uint32_t>(rate_of(e.divisor) + 0.5));
    }
  }
}

}  // namespace
