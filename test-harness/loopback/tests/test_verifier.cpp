// The verifier: first-error offset, wrong / lost / extra counts, and that the way the
// received bytes are split into reads never changes the answer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <vector>

#include <boost/crc.hpp>

#include "pattern.hpp"
#include "verifier.hpp"

namespace {

using loopback::Verifier;
using loopback::VerifyResult;

std::vector<uint8_t> stream(uint64_t offset, size_t n) {
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    out[i] = loopback::pattern_byte(offset + i);
  }
  return out;
}

// Feeds `data` in pieces of `piece` bytes.
VerifyResult feed_in_pieces(const std::vector<uint8_t>& data, uint64_t total, size_t piece,
                            uint64_t sent) {
  Verifier v(total);
  for (size_t pos = 0; pos < data.size(); pos += piece) {
    const size_t n = std::min(piece, data.size() - pos);
    v.feed(std::span<const uint8_t>(data.data() + pos, n));
  }
  return v.finish(sent);
}

uint32_t crc32_of(const std::vector<uint8_t>& data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

TEST(Verifier, CleanStreamVerifiesEveryByte) {
  const size_t total = 100000;
  const std::vector<uint8_t> data = stream(0, total);
  for (const size_t piece : {1UL, 7UL, 4096UL, 65536UL, 100000UL}) {
    const VerifyResult r = feed_in_pieces(data, total, piece, total);
    EXPECT_EQ(r.received, total);
    EXPECT_EQ(r.verified, total);
    EXPECT_EQ(r.wrong, 0U);
    EXPECT_FALSE(r.first_error.has_value());
    EXPECT_EQ(r.lost, 0U);
    EXPECT_EQ(r.extra, 0U);
    EXPECT_TRUE(r.clean());
    EXPECT_EQ(r.crc32, crc32_of(data)) << "piece " << piece;
  }
}

TEST(Verifier, CrcIsTheStandardCrc32) {
  // The CRC-32 check value: "123456789" -> 0xCBF43926 (IEEE 802.3 / zlib CRC-32).
  constexpr std::string_view kCheck = "123456789";
  Verifier v(kCheck.size());
  v.feed(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(kCheck.data()), kCheck.size()));
  EXPECT_EQ(v.finish(kCheck.size()).crc32, 0xCBF43926U);
}

TEST(Verifier, OneCorruptByteIsFoundAtItsOffsetWhateverTheChunking) {
  const size_t total = 200;
  for (const uint64_t bad : {0ULL, 6ULL, 7ULL, 13ULL, 14ULL, 199ULL}) {
    std::vector<uint8_t> data = stream(0, total);
    data[bad] ^= 0x5A;
    for (const size_t piece : {1UL, 7UL, 14UL, 200UL}) {
      const VerifyResult r = feed_in_pieces(data, total, piece, total);
      ASSERT_TRUE(r.first_error.has_value());
      EXPECT_EQ(r.first_error->offset, bad) << "piece " << piece;
      EXPECT_EQ(r.first_error->expected, loopback::pattern_byte(bad));
      EXPECT_EQ(r.first_error->actual, static_cast<uint8_t>(loopback::pattern_byte(bad) ^ 0x5A));
      EXPECT_EQ(r.wrong, 1U);
      EXPECT_EQ(r.verified, total - 1);
      EXPECT_EQ(r.lost, 0U);
      EXPECT_EQ(r.extra, 0U);
      EXPECT_FALSE(r.clean());
    }
  }
}

TEST(Verifier, FirstErrorIsTheEarliestOfSeveral) {
  const size_t total = 5000;
  std::vector<uint8_t> data = stream(0, total);
  data[4000] ^= 0x01;
  data[1234] ^= 0x80;
  data[4999] ^= 0xFF;
  const VerifyResult r = feed_in_pieces(data, total, 333, total);
  ASSERT_TRUE(r.first_error.has_value());
  EXPECT_EQ(r.first_error->offset, 1234U);
  EXPECT_EQ(r.wrong, 3U);
  EXPECT_EQ(r.verified, total - 3);
}

TEST(Verifier, ErrorPastTheInternalSliceIsFound) {
  // The verifier compares in 64 KiB slices; an error just past a slice inside one big read.
  const size_t total = 200000;
  std::vector<uint8_t> data = stream(0, total);
  data[65536 + 1] ^= 0x10;
  const VerifyResult r = feed_in_pieces(data, total, total, total);
  ASSERT_TRUE(r.first_error.has_value());
  EXPECT_EQ(r.first_error->offset, 65537U);
  EXPECT_EQ(r.wrong, 1U);
}

TEST(Verifier, MissingTailIsLost) {
  const size_t total = 10000;
  const std::vector<uint8_t> data = stream(0, total - 123);
  const VerifyResult r = feed_in_pieces(data, total, 1000, total);
  EXPECT_EQ(r.received, total - 123);
  EXPECT_EQ(r.verified, total - 123);
  EXPECT_EQ(r.wrong, 0U);
  EXPECT_EQ(r.lost, 123U);
  EXPECT_EQ(r.extra, 0U);
  EXPECT_FALSE(r.clean());
}

TEST(Verifier, LossIsCountedAgainstWhatWasSent) {
  // The writer got only 6000 of 10000 out (flow control held it): 5900 came back.
  const size_t total = 10000;
  const VerifyResult r = feed_in_pieces(stream(0, 5900), total, 512, 6000);
  EXPECT_EQ(r.sent, 6000U);
  EXPECT_EQ(r.lost, 100U);
  EXPECT_EQ(r.extra, 0U);
}

TEST(Verifier, BytesBeyondTheTotalAreExtraNotWrong) {
  const size_t total = 1000;
  std::vector<uint8_t> data = stream(0, total);
  for (uint8_t junk : {0x00, 0xFF, 0x11, 0x13, 0x7E}) {
    data.push_back(junk);
  }
  const VerifyResult r = feed_in_pieces(data, total, 64, total);
  EXPECT_EQ(r.received, total + 5);
  EXPECT_EQ(r.verified, total);
  EXPECT_EQ(r.wrong, 0U);
  EXPECT_EQ(r.extra, 5U);
  EXPECT_EQ(r.lost, 0U);
  EXPECT_EQ(r.crc32, crc32_of(data));  // the CRC covers every byte received
}

TEST(Verifier, DroppedByteInMidStreamShiftsTheRest) {
  // Byte 10 never arrives: position i >= 10 receives pattern byte i + 1.
  const size_t total = 3000;
  std::vector<uint8_t> data = stream(0, total);
  data.erase(data.begin() + 10);
  uint64_t expected_wrong = 0;
  std::optional<uint64_t> expected_first;
  for (uint64_t i = 10; i < total - 1; ++i) {
    if (loopback::pattern_byte(i) != loopback::pattern_byte(i + 1)) {
      ++expected_wrong;
      if (!expected_first) {
        expected_first = i;
      }
    }
  }
  const VerifyResult r = feed_in_pieces(data, total, 100, total);
  ASSERT_TRUE(r.first_error.has_value());
  EXPECT_EQ(r.first_error->offset, *expected_first);
  EXPECT_EQ(r.wrong, expected_wrong);
  EXPECT_EQ(r.lost, 1U);
  EXPECT_EQ(r.extra, 0U);
}

TEST(Verifier, RandomSplitsGiveTheSameResultAsOneFeed) {
  const size_t total = 50000;
  std::vector<uint8_t> data = stream(0, total);
  data[17] ^= 1;
  data[40000] ^= 2;
  data.push_back(0xAB);  // one extra
  const VerifyResult whole = feed_in_pieces(data, total, data.size(), total);

  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    Verifier v(total);
    size_t pos = 0;
    while (pos < data.size()) {
      const size_t n = std::min<size_t>(data.size() - pos, 1 + rng() % 3000);
      v.feed(std::span<const uint8_t>(data.data() + pos, n));
      v.feed({});  // an empty read changes nothing
      pos += n;
    }
    const VerifyResult r = v.finish(total);
    EXPECT_EQ(r.received, whole.received);
    EXPECT_EQ(r.verified, whole.verified);
    EXPECT_EQ(r.wrong, whole.wrong);
    EXPECT_EQ(r.first_error->offset, whole.first_error->offset);
    EXPECT_EQ(r.extra, whole.extra);
    EXPECT_EQ(r.crc32, whole.crc32);
  }
  EXPECT_EQ(whole.wrong, 2U);
  EXPECT_EQ(whole.first_error->offset, 17U);
  EXPECT_EQ(whole.extra, 1U);
}

TEST(Verifier, NothingReceived) {
  Verifier v(4096);
  const VerifyResult r = v.finish(4096);
  EXPECT_EQ(r.received, 0U);
  EXPECT_EQ(r.verified, 0U);
  EXPECT_EQ(r.lost, 4096U);
  EXPECT_EQ(r.crc32, 0U);  // CRC-32 of the empty message
}

}  // namespace
