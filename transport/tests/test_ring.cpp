// SpscRing: every boundary of the contract in ring.hpp (empty, full, exact fit,
// wrap, split spans, over-long writes and reads, clear, the free-running
// counters crossing 2^32, attach rejections) and a two-thread stress run.
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "transport/ring.hpp"

namespace {

using transport::SpscRing;

std::vector<uint8_t> sequence(size_t n, uint8_t first = 0) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>(first + i);
  }
  return bytes;
}

std::vector<uint8_t> read_all(SpscRing& ring) {
  std::vector<uint8_t> out(ring.size());
  EXPECT_EQ(ring.read(out), out.size());
  return out;
}

// Reserved address space that is never touched (or only a few pages of it), so
// attach() can be shown spans of 2 GiB and more without using memory.
class Reservation {
 public:
  explicit Reservation(size_t bytes, bool writable = false) : size_(bytes) {
    void* p = mmap(nullptr, bytes, writable ? PROT_READ | PROT_WRITE : PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    base_ = p == MAP_FAILED ? nullptr : static_cast<uint8_t*>(p);
  }
  ~Reservation() {
    if (base_ != nullptr) {
      munmap(base_, size_);
    }
  }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;
  uint8_t* data() const { return base_; }

 private:
  uint8_t* base_ = nullptr;
  size_t size_;
};

// ------------------------------------------------------------------ attach

TEST(RingAttach, PowersOfTwoAreAccepted) {
  std::vector<uint8_t> storage(4096);
  for (size_t n = 1; n <= storage.size(); n *= 2) {
    SpscRing ring;
    ASSERT_TRUE(ring.attach({storage.data(), n})) << n;
    EXPECT_EQ(ring.capacity(), n);
    EXPECT_EQ(ring.size(), 0u);
    EXPECT_EQ(ring.free_space(), n);
    EXPECT_TRUE(ring.empty());
  }
}

TEST(RingAttach, ZeroAndNonPowersOfTwoAreRejected) {
  std::vector<uint8_t> storage(4096);
  for (const size_t n : {0, 3, 5, 6, 7, 12, 100, 1000, 4095}) {
    SpscRing ring;
    EXPECT_FALSE(ring.attach({storage.data(), n})) << n;
    EXPECT_EQ(ring.capacity(), 0u) << n;
  }
}

TEST(RingAttach, RejectedRingIsUnusable) {
  std::vector<uint8_t> storage(64);
  SpscRing ring;
  ASSERT_TRUE(ring.attach({storage.data(), 16}));
  const std::vector<uint8_t> bytes = sequence(8);
  ASSERT_EQ(ring.write(bytes), 8u);
  // A failed re-attach leaves nothing usable behind, not the old storage.
  EXPECT_FALSE(ring.attach({storage.data(), 24}));
  EXPECT_EQ(ring.capacity(), 0u);
  EXPECT_EQ(ring.free_space(), 0u);
  EXPECT_TRUE(ring.write_span().empty());
  EXPECT_TRUE(ring.read_span().empty());
  EXPECT_EQ(ring.write(bytes), 0u);
  std::vector<uint8_t> out(8);
  EXPECT_EQ(ring.read(out), 0u);
}

TEST(RingAttach, NeverAttachedRingIsEmptyAndRefusesBytes) {
  SpscRing ring;
  EXPECT_EQ(ring.capacity(), 0u);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.write(sequence(4)), 0u);
  std::vector<uint8_t> out(4);
  EXPECT_EQ(ring.read(out), 0u);
  EXPECT_EQ(ring.clear(), 0u);
}

TEST(RingAttach, ReattachStartsEmpty) {
  std::vector<uint8_t> storage(32);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(20)), 20u);
  ASSERT_TRUE(ring.attach({storage.data(), 16}));
  EXPECT_EQ(ring.capacity(), 16u);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.write_span().size(), 16u);
  EXPECT_EQ(ring.write_span().data(), storage.data());
}

TEST(RingAttach, TwoGiBIsTheLargestCapacity) {
  constexpr size_t kTwoGiB = size_t{1} << 31;
  Reservation space(kTwoGiB, /*writable=*/true);
  ASSERT_NE(space.data(), nullptr);
  SpscRing ring;
  ASSERT_TRUE(ring.attach({space.data(), kTwoGiB}));
  EXPECT_EQ(ring.capacity(), 0x8000'0000u);
  EXPECT_EQ(ring.free_space(), 0x8000'0000u);

  // Fill it completely (the bytes themselves are never touched).
  ASSERT_EQ(ring.write_span().size(), kTwoGiB);
  ring.commit_write(0x8000'0000u);
  EXPECT_EQ(ring.size(), 0x8000'0000u);
  EXPECT_EQ(ring.free_space(), 0u);
  EXPECT_FALSE(ring.empty());
  EXPECT_TRUE(ring.write_span().empty());
  EXPECT_EQ(ring.read_span().size(), kTwoGiB);
  EXPECT_EQ(ring.clear(), 0x8000'0000u);
  EXPECT_TRUE(ring.empty());
}

TEST(RingAttach, MoreThanTwoGiBIsRejected) {
  constexpr size_t kFourGiB = size_t{1} << 32;
  Reservation space(kFourGiB + 4096);
  ASSERT_NE(space.data(), nullptr);
  for (const size_t n : {kFourGiB, kFourGiB + 4096, (size_t{1} << 31) + 4096}) {
    SpscRing ring;
    EXPECT_FALSE(ring.attach({space.data(), n})) << n;
    EXPECT_EQ(ring.capacity(), 0u) << n;
  }
}

// ------------------------------------------------------------ empty / full

TEST(Ring, EmptyRing) {
  std::vector<uint8_t> storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  EXPECT_TRUE(ring.read_span().empty());
  std::vector<uint8_t> out(4, 0x55);
  EXPECT_EQ(ring.read(out), 0u);
  EXPECT_EQ(out, std::vector<uint8_t>(4, 0x55));
  EXPECT_EQ(ring.clear(), 0u);
  EXPECT_EQ(ring.write_span().size(), 16u);
}

TEST(Ring, ExactFitFillsWithoutWastingASlot) {
  std::vector<uint8_t> storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  const std::vector<uint8_t> bytes = sequence(16, 1);
  EXPECT_EQ(ring.write(bytes), 16u);
  EXPECT_EQ(ring.size(), 16u);
  EXPECT_EQ(ring.free_space(), 0u);
  EXPECT_FALSE(ring.empty());
  EXPECT_TRUE(ring.write_span().empty());
  EXPECT_EQ(ring.write(bytes), 0u);
  EXPECT_EQ(read_all(ring), bytes);
  EXPECT_TRUE(ring.empty());
}

TEST(Ring, WriteLargerThanFreeTakesWhatFits) {
  std::vector<uint8_t> storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(5)), 5u);
  const std::vector<uint8_t> big = sequence(40, 100);
  EXPECT_EQ(ring.write(big), 11u);
  EXPECT_EQ(ring.size(), 16u);
  std::vector<uint8_t> expected = sequence(5);
  expected.insert(expected.end(), big.begin(), big.begin() + 11);
  EXPECT_EQ(read_all(ring), expected);
}

TEST(Ring, ReadLargerThanUsedReturnsWhatIsThere) {
  std::vector<uint8_t> storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(6, 10)), 6u);
  std::vector<uint8_t> out(32, 0xFF);
  EXPECT_EQ(ring.read(out), 6u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 6), sequence(6, 10));
  EXPECT_EQ(out[6], 0xFF);  // nothing past the count is written
  EXPECT_TRUE(ring.empty());
}

TEST(Ring, ZeroLengthWriteAndRead) {
  std::vector<uint8_t> storage(8);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  EXPECT_EQ(ring.write({}), 0u);
  EXPECT_EQ(ring.read({}), 0u);
  EXPECT_TRUE(ring.empty());
}

// ------------------------------------------------------------------ wrap

TEST(Ring, WrapSplitsTheSpans) {
  std::vector<uint8_t> storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(12)), 12u);
  std::vector<uint8_t> out(10);
  ASSERT_EQ(ring.read(out), 10u);
  // head = 12, tail = 10: free is [12,16) then [0,10).
  std::span<uint8_t> w = ring.write_span();
  EXPECT_EQ(w.data(), storage.data() + 12);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(ring.free_space(), 14u);

  const std::vector<uint8_t> bytes = sequence(9, 50);
  EXPECT_EQ(ring.write(bytes), 9u);  // 4 at the end, 5 at the front
  EXPECT_EQ(ring.size(), 11u);
  EXPECT_EQ(storage[15], 53);
  EXPECT_EQ(storage[0], 54);
  EXPECT_EQ(storage[4], 58);

  // Readable is [10,16) then [0,5).
  std::span<const uint8_t> r = ring.read_span();
  EXPECT_EQ(r.data(), storage.data() + 10);
  EXPECT_EQ(r.size(), 6u);
  std::vector<uint8_t> expected = {10, 11};
  expected.insert(expected.end(), bytes.begin(), bytes.end());
  EXPECT_EQ(read_all(ring), expected);
}

TEST(Ring, SpanApiAcrossTheEnd) {
  std::vector<uint8_t> storage(8);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(6)), 6u);
  std::vector<uint8_t> sink(6);
  ASSERT_EQ(ring.read(sink), 6u);  // head = tail = 6

  std::span<uint8_t> first = ring.write_span();
  ASSERT_EQ(first.size(), 2u);
  first[0] = 0xA0;
  first[1] = 0xA1;
  ring.commit_write(2);
  std::span<uint8_t> second = ring.write_span();
  ASSERT_EQ(second.size(), 6u);
  EXPECT_EQ(second.data(), storage.data());
  second[0] = 0xA2;
  ring.commit_write(1);
  EXPECT_EQ(ring.size(), 3u);

  std::span<const uint8_t> r1 = ring.read_span();
  ASSERT_EQ(r1.size(), 2u);
  EXPECT_EQ(r1[0], 0xA0);
  EXPECT_EQ(r1[1], 0xA1);
  ring.commit_read(1);  // partial commit of a span
  std::span<const uint8_t> r2 = ring.read_span();
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0], 0xA1);
  ring.commit_read(1);
  std::span<const uint8_t> r3 = ring.read_span();
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_EQ(r3.data(), storage.data());
  EXPECT_EQ(r3[0], 0xA2);
  ring.commit_read(1);
  EXPECT_TRUE(ring.empty());
}

TEST(Ring, FullWhenWrapped) {
  std::vector<uint8_t> storage(8);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(5)), 5u);
  std::vector<uint8_t> out(5);
  ASSERT_EQ(ring.read(out), 5u);
  const std::vector<uint8_t> bytes = sequence(8, 0x40);
  EXPECT_EQ(ring.write(bytes), 8u);
  EXPECT_EQ(ring.free_space(), 0u);
  EXPECT_TRUE(ring.write_span().empty());
  EXPECT_EQ(ring.read_span().size(), 3u);  // [5,8) before the wrap
  EXPECT_EQ(read_all(ring), bytes);
}

TEST(Ring, ClearDropsReadableAndKeepsPosition) {
  std::vector<uint8_t> storage(8);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));
  ASSERT_EQ(ring.write(sequence(7)), 7u);
  EXPECT_EQ(ring.clear(), 7u);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.free_space(), 8u);
  EXPECT_EQ(ring.clear(), 0u);
  // Writing continues where the producer was: 1 byte to the end, then the front.
  EXPECT_EQ(ring.write_span().data(), storage.data() + 7);
  const std::vector<uint8_t> bytes = sequence(8, 0x80);
  EXPECT_EQ(ring.write(bytes), 8u);
  EXPECT_EQ(read_all(ring), bytes);
}

// The free-running counters cross 2^32 after 4 GiB have passed through the
// ring. Get there through the public API: commit whole-ring chunks (the bytes
// are irrelevant to the bookkeeping), then push real data across the wrap.
class RingNearWrap : public ::testing::Test {
 protected:
  static constexpr uint32_t kCapacity = 1u << 16;

  void SetUp() override {
    storage_.assign(kCapacity, 0);
    ASSERT_TRUE(ring_.attach(storage_));
  }

  // Advances both counters by `total` bytes without data.
  void advance(uint64_t total) {
    while (total > 0) {
      const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(total, kCapacity));
      ASSERT_GE(ring_.write_span().size(), n);
      ring_.commit_write(n);
      ASSERT_EQ(ring_.read_span().size(), n);
      ring_.commit_read(n);
      total -= n;
    }
    ASSERT_TRUE(ring_.empty());
  }

  std::vector<uint8_t> storage_;
  SpscRing ring_;
};

TEST_F(RingNearWrap, CountersWrapAtTwoToThe32) {
  // head = tail = 2^32 - 5, at storage offset kCapacity - 5.
  advance((uint64_t{1} << 32) - 5);
  EXPECT_EQ(ring_.write_span().data(), storage_.data() + kCapacity - 5);
  EXPECT_EQ(ring_.write_span().size(), 5u);

  const std::vector<uint8_t> bytes = sequence(12, 0x30);
  EXPECT_EQ(ring_.write(bytes), 12u);  // head passes 2^32 (now 7)
  EXPECT_EQ(ring_.size(), 12u);
  EXPECT_EQ(ring_.free_space(), kCapacity - 12);
  EXPECT_EQ(ring_.read_span().size(), 5u);
  EXPECT_EQ(read_all(ring_), bytes);  // tail passes 2^32 too
  EXPECT_TRUE(ring_.empty());
  EXPECT_EQ(ring_.write_span().data(), storage_.data() + 7);
}

TEST_F(RingNearWrap, FullAcrossTheCounterWrap) {
  advance((uint64_t{1} << 32) - 100);
  // head wraps past 2^32 while tail has not: head - tail must still be the capacity.
  const std::vector<uint8_t> bytes = sequence(kCapacity, 7);
  EXPECT_EQ(ring_.write(bytes), kCapacity);
  EXPECT_EQ(ring_.size(), kCapacity);
  EXPECT_EQ(ring_.free_space(), 0u);
  EXPECT_EQ(ring_.write(bytes), 0u);
  std::vector<uint8_t> out(60);
  ASSERT_EQ(ring_.read(out), 60u);  // tail still below 2^32
  EXPECT_EQ(ring_.size(), kCapacity - 60);
  EXPECT_EQ(ring_.free_space(), 60u);
  EXPECT_EQ(out, std::vector<uint8_t>(bytes.begin(), bytes.begin() + 60));
  std::vector<uint8_t> rest = read_all(ring_);
  EXPECT_EQ(rest, std::vector<uint8_t>(bytes.begin() + 60, bytes.end()));
}

TEST_F(RingNearWrap, ClearAcrossTheCounterWrap) {
  advance((uint64_t{1} << 32) - 3);
  ASSERT_EQ(ring_.write(sequence(10)), 10u);
  EXPECT_EQ(ring_.clear(), 10u);
  EXPECT_TRUE(ring_.empty());
  EXPECT_EQ(ring_.free_space(), kCapacity);
}

// ------------------------------------------------------------ two threads

// The byte at stream position i; period 251 (prime) so it never lines up with
// the power-of-two ring and chunk sizes.
uint8_t stream_byte(uint64_t i) {
  return static_cast<uint8_t>((i % 251) ^ (i >> 20));
}

TEST(RingStress, TwoThreads256MiBPatternChecked) {
  constexpr uint64_t kTotal = uint64_t{256} << 20;
  std::vector<uint8_t> storage(1u << 12);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(storage));

  std::atomic<bool> consumer_ok{true};
  std::atomic<uint64_t> first_bad{0};

  std::thread producer([&] {
    std::vector<uint8_t> chunk(3000);
    uint64_t produced = 0;
    uint32_t round = 0;
    while (produced < kTotal) {
      ++round;
      if (round % 2 == 0) {
        // The copying API, with chunk sizes that wander.
        const size_t want = std::min<uint64_t>(1 + (round * 37) % chunk.size(), kTotal - produced);
        for (size_t i = 0; i < want; ++i) {
          chunk[i] = stream_byte(produced + i);
        }
        size_t done = 0;
        while (done < want) {
          done += ring.write({chunk.data() + done, want - done});
          if (done < want) {
            std::this_thread::yield();
          }
        }
        produced += want;
      } else {
        // The zero-copy API.
        std::span<uint8_t> span = ring.write_span();
        if (span.empty()) {
          std::this_thread::yield();
          continue;
        }
        const size_t n = std::min<uint64_t>(span.size(), kTotal - produced);
        for (size_t i = 0; i < n; ++i) {
          span[i] = stream_byte(produced + i);
        }
        ring.commit_write(static_cast<uint32_t>(n));
        produced += n;
      }
    }
  });

  std::vector<uint8_t> chunk(2500);
  uint64_t consumed = 0;
  uint32_t round = 0;
  while (consumed < kTotal && consumer_ok.load(std::memory_order_relaxed)) {
    ++round;
    if (round % 3 == 0) {
      const size_t want = 1 + (round * 53) % chunk.size();
      const uint32_t n = ring.read({chunk.data(), want});
      if (n == 0) {
        std::this_thread::yield();
        continue;
      }
      for (uint32_t i = 0; i < n; ++i) {
        if (chunk[i] != stream_byte(consumed + i)) {
          first_bad = consumed + i;
          consumer_ok = false;
          break;
        }
      }
      consumed += n;
    } else {
      std::span<const uint8_t> span = ring.read_span();
      if (span.empty()) {
        std::this_thread::yield();
        continue;
      }
      for (size_t i = 0; i < span.size(); ++i) {
        if (span[i] != stream_byte(consumed + i)) {
          first_bad = consumed + i;
          consumer_ok = false;
          break;
        }
      }
      ring.commit_read(static_cast<uint32_t>(span.size()));
      consumed += span.size();
    }
    if (ring.size() > ring.capacity()) {
      consumer_ok = false;  // no ASSERT here: the producer thread must still be joined
    }
  }
  if (!consumer_ok) {
    // Let the producer finish: drain whatever it still pushes.
    while (consumed < kTotal) {
      consumed += ring.clear();
      std::this_thread::yield();
    }
  }
  producer.join();
  EXPECT_TRUE(consumer_ok) << "first wrong byte at stream offset " << first_bad.load();
  EXPECT_EQ(consumed, kTotal);
  EXPECT_TRUE(ring.empty());
}

}  // namespace
