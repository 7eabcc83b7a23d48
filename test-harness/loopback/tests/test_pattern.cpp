// The pattern: its first words are SplitMix64's published reference outputs, any offset can
// be computed on its own, and fill_pattern() agrees with a sequential generator written
// independently here.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "pattern.hpp"

namespace {

// An independent, sequential SplitMix64 (state advanced by the golden gamma, then mixed),
// transcribed from the algorithm's definition rather than from pattern.hpp.
class SequentialSplitMix64 {
 public:
  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z;
  }

 private:
  uint64_t state_ = 0;  // seed 0
};

std::vector<uint8_t> sequential_stream(size_t n) {
  SequentialSplitMix64 gen;
  std::vector<uint8_t> out;
  out.reserve(n + 8);
  while (out.size() < n) {
    uint64_t w = gen.next();
    for (int b = 0; b < 8; ++b) {
      out.push_back(static_cast<uint8_t>(w & 0xFF));
      w >>= 8;
    }
  }
  out.resize(n);
  return out;
}

TEST(Pattern, FirstWordsAreSplitMix64ReferenceOutputsForSeedZero) {
  // The first outputs of Vigna's splitmix64.c seeded with 0 (also xoshiro's seeding values).
  EXPECT_EQ(loopback::pattern_word(0), 0xE220A8397B1DCDAFULL);
  EXPECT_EQ(loopback::pattern_word(1), 0x6E789E6AA1B965F4ULL);
  EXPECT_EQ(loopback::pattern_word(2), 0x06C45D188009454FULL);
  EXPECT_EQ(loopback::pattern_word(3), 0xF88BB8A8724C81ECULL);
}

TEST(Pattern, StreamStartsWithTheDocumentedBytes) {
  // The sixteen bytes printed in --help: the first two words, little-endian.
  constexpr std::array<uint8_t, 16> kStart = {0xAF, 0xCD, 0x1D, 0x7B, 0x39, 0xA8, 0x20, 0xE2,
                                              0xF4, 0x65, 0xB9, 0xA1, 0x6A, 0x9E, 0x78, 0x6E};
  for (size_t i = 0; i < kStart.size(); ++i) {
    EXPECT_EQ(loopback::pattern_byte(i), kStart[i]) << "offset " << i;
  }
}

TEST(Pattern, AddressableBytesMatchASequentialGenerator) {
  const size_t n = 1 << 20;
  const std::vector<uint8_t> expected = sequential_stream(n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(loopback::pattern_byte(i), expected[i]) << "offset " << i;
  }
}

TEST(Pattern, FillMatchesByteByByteAtEveryAlignmentAndLength) {
  const std::vector<uint8_t> expected = sequential_stream(256);
  for (uint64_t offset = 0; offset < 24; ++offset) {
    for (size_t length = 0; length <= 41; ++length) {
      std::vector<uint8_t> out(length, 0x55);
      loopback::fill_pattern(offset, out);
      for (size_t i = 0; i < length; ++i) {
        ASSERT_EQ(out[i], expected[offset + i]) << "offset " << offset << " length " << length;
      }
    }
  }
}

TEST(Pattern, FarOffsetsNeedNoHistory) {
  // Word k is mix((k + 1) * gamma) by definition, so a far word can be checked by stepping
  // the sequential generator's state directly to k * gamma.
  const uint64_t k = (1ULL << 40) + 12345;
  uint64_t z = (k + 1) * 0x9E3779B97F4A7C15ULL;
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ULL;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBULL;
  z ^= z >> 31;
  std::vector<uint8_t> out(8);
  loopback::fill_pattern(k * 8, out);
  for (int b = 0; b < 8; ++b) {
    EXPECT_EQ(out[static_cast<size_t>(b)], static_cast<uint8_t>(z >> (8 * b)));
    EXPECT_EQ(loopback::pattern_byte(k * 8 + static_cast<uint64_t>(b)),
              static_cast<uint8_t>(z >> (8 * b)));
  }
}

TEST(Pattern, IsDeterministic) {
  std::vector<uint8_t> a(10000);
  std::vector<uint8_t> b(10000);
  loopback::fill_pattern(777, a);
  loopback::fill_pattern(777, b);
  EXPECT_EQ(a, b);
}

TEST(Pattern, EveryByteValueOccursEarly) {
  // XON (0x11), XOFF (0x13) and every other value are exercised within the first 4 KiB, so a
  // driver that strips or rewrites any value fails even a short run.
  std::set<uint8_t> seen;
  for (uint64_t i = 0; i < 4096; ++i) {
    seen.insert(loopback::pattern_byte(i));
  }
  EXPECT_EQ(seen.size(), 256U);
}

TEST(Pattern, ShiftedStreamsDisagreeAlmostEverywhere) {
  // A counter modulo 256 repeats after 256 bytes, hiding a loss of exactly 256 bytes; this
  // pattern does not. Shifted copies should agree only by chance (about 1 in 256).
  for (const uint64_t shift : {1ULL, 8ULL, 256ULL, 4096ULL}) {
    size_t same = 0;
    for (uint64_t i = 0; i < 65536; ++i) {
      same += loopback::pattern_byte(i) == loopback::pattern_byte(i + shift) ? 1 : 0;
    }
    EXPECT_LT(same, 65536U / 64) << "shift " << shift;
  }
}

}  // namespace
