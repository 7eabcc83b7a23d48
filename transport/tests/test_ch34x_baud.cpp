// CH34x baud-rate encoder: literal encodings worked out by hand from the generator formula
// (docs/usb-serial-reference.md §4.4: rate = 48 MHz / (2^(12 - 3 ps - fact) * div),
// register value (256 - div) << 8 | fact << 2 | ps, BIT(7) above version 0x27), the register
// values Linux's original hard-coded table had, and an independent brute force over every
// setting the chip accepts that the encoder's choice and verdict are checked against.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "transport/chip_protocol.hpp"
#include "transport/chips/ch34x.hpp"
#include "transport/device_table.hpp"

namespace {

using transport::ChipVariant;
using transport::Status;
using transport::chips::ch34x::BaudEncoding;
using transport::chips::ch34x::ChipTraits;
using transport::chips::ch34x::encode_baud;

constexpr ChipTraits kCurrent{0x31, false};  // a current part: BIT(7), LCR
constexpr ChipTraits kOld{0x27, false};      // BIT(7) stays clear
constexpr ChipTraits kClone{0x31, true};     // limited prescaler

// ---- The test's own model of the generator, from the reference formula ----

struct Setting {
  unsigned ps, fact, div;
  uint64_t divider() const { return (uint64_t{1} << (12 - 3 * ps - fact)) * div; }
};

// Every setting the chip accepts: div 2..256 with fact 0, 9..256 with fact 1; a limited clone
// only fact 0 below ps 3 (ch341.c CH341_QUIRK_LIMITED_PRESCALER).
std::vector<Setting> settings(bool limited) {
  std::vector<Setting> all;
  for (unsigned ps = 0; ps < 4; ++ps) {
    for (unsigned fact = 0; fact < 2; ++fact) {
      if (limited && fact == 1 && ps < 3) {
        continue;
      }
      for (unsigned div = fact ? 9 : 2; div <= 256; ++div) {
        all.push_back({ps, fact, div});
      }
    }
  }
  return all;
}

// The register value the chip reads back as (ps, fact, div).
Setting decode_register(uint16_t value) {
  Setting s;
  s.ps = value & 0x3;
  s.fact = (value >> 2) & 0x1;
  const unsigned reg13 = value >> 8;
  s.div = reg13 == 0 ? 256 : 256 - reg13;
  return s;
}

// |48 MHz / divider - rate| compared across settings as |48e6 - rate * divider| / divider.
struct Best {
  unsigned __int128 error = 0;  // |48e6 - rate * divider|
  uint64_t divider = 0;
};

Best brute_force(uint32_t rate, bool limited) {
  Best best;
  for (const Setting& s : settings(limited)) {
    const unsigned __int128 product = static_cast<unsigned __int128>(rate) * s.divider();
    const unsigned __int128 err =
        product > 48'000'000 ? product - 48'000'000 : 48'000'000 - product;
    if (best.divider == 0 || err * best.divider < best.error * s.divider()) {
      best = {err, s.divider()};
    }
  }
  return best;
}

bool within_3_percent(const Best& b, uint32_t rate) {
  return b.error * 1000 <= static_cast<unsigned __int128>(rate) * b.divider * 30;
}

// ---- Literal encodings ----

struct Literal {
  uint32_t rate;
  ChipTraits traits;
  uint16_t w_index;  // the WRITE_REG 0x1312 wIndex
  uint32_t actual;   // rounded
  Status status;
};

void PrintTo(const Literal& l, std::ostream* os) {
  *os << l.rate << " Bd, version 0x" << std::hex << int{l.traits.version}
      << (l.traits.limited_prescaler ? " (clone)" : "");
}

class Ch34xBaudLiteral : public ::testing::TestWithParam<Literal> {};

TEST_P(Ch34xBaudLiteral, Encodes) {
  const Literal& l = GetParam();
  for (const ChipVariant variant : {ChipVariant::ch340, ChipVariant::ch341a}) {
    const BaudEncoding e = encode_baud(variant, l.traits, l.rate);
    EXPECT_EQ(e.status, l.status);
    EXPECT_EQ(e.requested, l.rate);
    EXPECT_EQ(e.w_index, l.w_index) << std::hex << e.w_index;
    EXPECT_EQ(e.actual_baud, l.actual);
    const Setting s = decode_register(e.w_index);
    EXPECT_EQ(s.ps, e.prescaler);
    EXPECT_EQ(s.fact, e.fact);
    EXPECT_EQ(s.div, e.divisor);
    EXPECT_EQ(s.divider(), e.clock_divider);
  }
}

// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Table, Ch34xBaudLiteral,
    ::testing::Values(
        // Linux's original hard-coded table (reference §4.4), without BIT(7) on version 0x27:
        // 2400 -> 0xD901, 4800 -> 0x6402, 9600 -> 0xB202, 19200 -> 0xD902, 38400 -> 0x6403,
        // 115200 -> 0xCC03.
        Literal{2400, kOld, 0xD901, 2404, Status::ok},      // 48e6 / (512 * 39)
        Literal{4800, kOld, 0x6402, 4808, Status::ok},      // 48e6 / (64 * 156)
        Literal{9600, kOld, 0xB202, 9615, Status::ok},      // 48e6 / (64 * 78)
        Literal{19200, kOld, 0xD902, 19231, Status::ok},    // 48e6 / (64 * 39)
        Literal{38400, kOld, 0x6403, 38462, Status::ok},    // 48e6 / (8 * 156)
        Literal{115200, kOld, 0xCC03, 115385, Status::ok},  // 48e6 / (8 * 52)
        // The same with BIT(7) (versions above 0x27).
        Literal{9600, kCurrent, 0xB282, 9615, Status::ok},
        Literal{115200, kCurrent, 0xCC83, 115385, Status::ok},
        Literal{9600, ChipTraits{0x28, false}, 0xB282, 9615, Status::ok},
        // 921600: fact 1, div 13 -> 923 077 Bd; 0xF387 as in WCH's driver and Linux.
        Literal{921600, kCurrent, 0xF387, 923077, Status::ok},
        // Ties between settings of one rate: fact 0 wins (250000 = 48e6 / (8 * 24) also as
        // ps 2, div 3 and as fact 1, div 48: the larger ps, then fact 0).
        Literal{250000, kCurrent, 0xE883, 250000, Status::ok},
        Literal{1000000, kCurrent, 0xFA83, 1000000, Status::ok},  // 8 * 6, not 4 * 12
        // Rates Linux's greedy search misses: 48e6 / (4 * 9).
        Literal{1333333, kCurrent, 0xF787, 1333333, Status::ok},
        // The ends: 46 Bd is closest at div 255 (45.96 Bd); 2 MBd = 48e6 / (8 * 3).
        Literal{46, kCurrent, 0x0180, 46, Status::ok},
        Literal{2000000, kCurrent, 0xFD83, 2000000, Status::ok},
        Literal{1500000, kCurrent, 0xFC83, 1500000, Status::ok},
        // 3 % edges around 1.5 MBd and 2 MBd (no other setting is near).
        Literal{1456311, kCurrent, 0xFC83, 1500000, Status::ok},
        Literal{1456310, kCurrent, 0xFC83, 1500000, Status::baud_unreachable},
        Literal{1546391, kCurrent, 0xFC83, 1500000, Status::ok},
        Literal{1546392, kCurrent, 0xFC83, 1500000, Status::baud_unreachable},
        Literal{1941748, kCurrent, 0xFD83, 2000000, Status::ok},
        Literal{1941747, kCurrent, 0xFD83, 2000000, Status::baud_unreachable},
        Literal{1800000, kCurrent, 0xFD83, 2000000, Status::baud_unreachable},
        // Outside the data sheets' range: refused even when a setting is exact.
        Literal{45, kCurrent, 0x0080, 46, Status::baud_unreachable},        // below 46 Bd
        Literal{2000001, kCurrent, 0xFD83, 2000000, Status::baud_unreachable},
        Literal{3000000, kCurrent, 0xFE83, 3000000, Status::baud_unreachable},  // 8 * 2
        Literal{4000000, kCurrent, 0xFE83, 3000000, Status::baud_unreachable},
        Literal{0xFFFFFFFF, kCurrent, 0xFE83, 3000000, Status::baud_unreachable},
        // Limited clones: fact 1 only at ps 3. 23077 = 48e6 / (32 * 65) needs ps 2, fact 1;
        // the clone gets 48e6 / (64 * 33) = 22727 Bd (1.5 % off). 110 Bd likewise.
        Literal{23077, kCurrent, 0xBF86, 23077, Status::ok},
        Literal{23077, kClone, 0xDF82, 22727, Status::ok},
        Literal{110, kCurrent, 0x2B84, 110, Status::ok},  // 48e6 / (2048 * 213)
        Literal{110, kClone, 0x9580, 110, Status::ok},    // 48e6 / (4096 * 107) = 109.5
        Literal{921600, kClone, 0xF387, 923077, Status::ok}));  // ps 3 may keep fact 1
// clang-format on

TEST(Ch34xBaud, ZeroAndForeignVariantsAreInvalid) {
  EXPECT_EQ(encode_baud(ChipVariant::ch340, kCurrent, 0).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::ft232r, kCurrent, 9600).status, Status::invalid_argument);
  EXPECT_EQ(encode_baud(ChipVariant::cdc_acm, kCurrent, 9600).status, Status::invalid_argument);
  EXPECT_FALSE(encode_baud(ChipVariant::ch340, kCurrent, 0).has_divisor());
}

TEST(Ch34xBaud, RangeComesFromTheDataSheets) {
  EXPECT_EQ(transport::chips::ch34x::min_baud(), 46u);  // 48e6 / 2^20 = 45.78
  EXPECT_EQ(transport::chips::ch34x::max_baud(ChipVariant::ch340), 2'000'000u);
  EXPECT_EQ(transport::chips::ch34x::max_baud(ChipVariant::ch341a), 2'000'000u);
  EXPECT_EQ(transport::chips::ch34x::max_baud(ChipVariant::ft232r), 0u);
}

// Every rate from 40 to 5000 Bd, then a sweep to 3.1 MBd, on a current part and on a clone:
// the encoder's setting is one of the closest the chip has, its verdict is the 3 % rule on
// that setting inside [46, 2 000 000], and the exact rate it reports is that setting's.
TEST(Ch34xBaud, ClosestSettingAndVerdictAgreeWithBruteForce) {
  std::vector<uint32_t> rates;
  for (uint32_t r = 40; r <= 5000; ++r) {
    rates.push_back(r);
  }
  for (uint32_t r = 5001; r <= 3'100'000; r += 997) {
    rates.push_back(r);
  }
  for (const ChipTraits traits : {kCurrent, kClone}) {
    for (const uint32_t rate : rates) {
      SCOPED_TRACE(testing::Message() << rate << (traits.limited_prescaler ? " clone" : ""));
      const BaudEncoding e = encode_baud(ChipVariant::ch340, traits, rate);
      const Best best = brute_force(rate, traits.limited_prescaler);
      const Setting s = decode_register(e.w_index);
      ASSERT_EQ(s.divider(), e.clock_divider);
      ASSERT_TRUE(!traits.limited_prescaler || s.fact == 0 || s.ps == 3);
      // Same error as the best (cross-multiplied, exact).
      const unsigned __int128 product = static_cast<unsigned __int128>(rate) * s.divider();
      const unsigned __int128 err =
          product > 48'000'000 ? product - 48'000'000 : 48'000'000 - product;
      ASSERT_TRUE(err * best.divider == best.error * s.divider());
      const bool in_range = rate >= 46 && rate <= 2'000'000;
      ASSERT_EQ(e.status,
                in_range && within_3_percent(best, rate) ? Status::ok : Status::baud_unreachable);
      ASSERT_EQ(e.actual_baud, (48'000'000 + s.divider() / 2) / s.divider());
      ASSERT_EQ(e.actual_millibaud, (48'000'000'000ull + s.divider() / 2) / s.divider());
    }
  }
}

}  // namespace
