// FTDI divisor decoding, checked against AN232B-05's own examples and an
// independent brute force of its formula: rate = 3 MHz / (n + fraction).
#include <gtest/gtest.h>

#include "sim/ftdi_baud.hpp"

namespace {

using sim::ftdi::decode_divisor;
using sim::ftdi::encoded_divisor;

TEST(FtdiBaud, An232b05Examples) {
  // 9600 Bd on the 3 MHz reference: divisor 312.5 -> 0x138 with code 1 (.5) = 0x4138.
  auto d = decode_divisor(0x4138, false);
  EXPECT_TRUE(d.valid);
  EXPECT_DOUBLE_EQ(d.divisor, 312.5);
  EXPECT_DOUBLE_EQ(d.baud, 9600.0);
  // Specials: 0 -> divisor 1 (3 MBd), 1 -> divisor 1.5 (2 MBd).
  d = decode_divisor(0, false);
  EXPECT_TRUE(d.valid);
  EXPECT_DOUBLE_EQ(d.baud, 3'000'000.0);
  d = decode_divisor(1, false);
  EXPECT_TRUE(d.valid);
  EXPECT_DOUBLE_EQ(d.baud, 2'000'000.0);
  // 115200 -> 26 (3 MHz / 26 = 115384.6).
  d = decode_divisor(26, false);
  EXPECT_DOUBLE_EQ(d.baud, 3'000'000.0 / 26);
}

TEST(FtdiBaud, HClockBitSelectsTwelveMegahertz) {
  auto d = decode_divisor(0x20000, true);  // bit 17, divisor 1
  EXPECT_TRUE(d.valid);
  EXPECT_DOUBLE_EQ(d.reference, 12'000'000.0);
  EXPECT_DOUBLE_EQ(d.baud, 12'000'000.0);
  // 104 + code 3 (.125) with bit 17: 12 MHz / 104.125.
  d = decode_divisor(0x20000 | (3u << 14) | 104u, true);
  EXPECT_TRUE(d.valid);
  EXPECT_DOUBLE_EQ(d.baud, 12'000'000.0 / 104.125);
  // Without bit 17 an H part uses 3 MHz.
  d = decode_divisor(0x4138, true);
  EXPECT_DOUBLE_EQ(d.baud, 9600.0);
  // Bit 17 on a part without the 120 MHz clock is invalid.
  d = decode_divisor(0x20000 | 26u, false);
  EXPECT_FALSE(d.valid);
}

TEST(FtdiBaud, SubIntegerDivisorsBelowTwoAreInvalidExceptOneAndAHalf) {
  // n = 1 with codes 2..7: 1.25, 1.125, 1.375, 1.625, 1.75, 1.875.
  for (uint32_t code = 2; code < 8; ++code) {
    const auto d = decode_divisor((code << 14) | 1u, false);
    EXPECT_FALSE(d.valid) << code;
    // FT232BM measurement: these all came out as 2 MBd.
    EXPECT_DOUBLE_EQ(d.baud, 2'000'000.0);
  }
  // n = 1, code 1: 1 + .5 = 1.5, which is allowed.
  EXPECT_TRUE(decode_divisor((1u << 14) | 1u, false).valid);
  // n = 0 with a fraction: below 1.
  for (uint32_t code = 1; code < 8; ++code) {
    EXPECT_FALSE(decode_divisor(code << 14, false).valid) << code;
  }
}

TEST(FtdiBaud, BruteForceAgainstTheFormula) {
  // Independent restatement of AN232B-05's code table, in decimal.
  const double fraction[8] = {0.0, 0.5, 0.25, 0.125, 0.375, 0.625, 0.75, 0.875};
  for (uint32_t n = 2; n < 16384; ++n) {
    for (uint32_t code = 0; code < 8; ++code) {
      const auto d = decode_divisor((code << 14) | n, false);
      ASSERT_TRUE(d.valid);
      ASSERT_DOUBLE_EQ(d.baud, 3'000'000.0 / (n + fraction[code])) << n << " " << code;
      const auto h = decode_divisor(0x20000 | (code << 14) | n, true);
      ASSERT_DOUBLE_EQ(h.baud, 12'000'000.0 / (n + fraction[code])) << n << " " << code;
    }
  }
}

TEST(FtdiBaud, WhereTheHighBitsTravel) {
  // FT232BM/FT232R: wIndex bits 1..0 are divisor bits 17..16.
  EXPECT_EQ(encoded_divisor(0x4002, 0x0001, false), 0x14002u);
  // Channelised parts: wIndex bits 9..8, channel in the low byte.
  EXPECT_EQ(encoded_divisor(0xC068, 0x0201, true), 0x2C068u);
  EXPECT_EQ(encoded_divisor(0x4002, 0x0101, true), 0x14002u);
  // The pre-5.11 Linux FT-X request (wIndex = 0x0001, unshifted): the chip reads
  // channel 1 and loses the fraction MSB.
  EXPECT_EQ(encoded_divisor(0x4002, 0x0001, true), 0x4002u);
}

}  // namespace
