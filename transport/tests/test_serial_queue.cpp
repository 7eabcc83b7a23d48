// SerialQueue: both index conventions at every boundary (empty, full, wrap,
// split spans, clear), what each side stores in the shared indices, peer indices
// out of range, attach rejections, and a two-thread run per convention.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "transport/serial_queue.hpp"

namespace {

using transport::QueueIndexing;
using transport::SerialQueue;

std::vector<uint8_t> sequence(size_t n, uint8_t first = 0) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>(first + i);
  }
  return bytes;
}

// The two sides of one ring over shared indices, as the kernel and the dext see it.
struct SharedRing {
  explicit SharedRing(size_t size, QueueIndexing indexing) : bytes(size) {
    EXPECT_TRUE(producer.attach(bytes, &pi, &ci, indexing));
    EXPECT_TRUE(consumer.attach(bytes, &pi, &ci, indexing));
  }
  std::vector<uint8_t> bytes;
  alignas(4) uint32_t pi = 0;
  alignas(4) uint32_t ci = 0;
  SerialQueue producer;
  SerialQueue consumer;
};

class BothConventions : public ::testing::TestWithParam<QueueIndexing> {};

INSTANTIATE_TEST_SUITE_P(Indexing, BothConventions,
                         ::testing::Values(QueueIndexing::masked, QueueIndexing::free_running),
                         [](const ::testing::TestParamInfo<QueueIndexing>& param_info) {
                           return param_info.param == QueueIndexing::masked ? "masked"
                                                                            : "free_running";
                         });

TEST(SerialQueueIndexing, CapacityIsOneLessWhenMasked) {
  SharedRing masked(16, QueueIndexing::masked);
  SharedRing free_running(16, QueueIndexing::free_running);
  EXPECT_EQ(masked.producer.capacity(), 15u);
  EXPECT_EQ(free_running.producer.capacity(), 16u);
  EXPECT_EQ(masked.producer.write(sequence(20)), 15u);
  EXPECT_EQ(free_running.producer.write(sequence(20)), 16u);
  EXPECT_EQ(masked.producer.free_space(), 0u);
  EXPECT_EQ(free_running.producer.free_space(), 0u);
}

TEST(SerialQueueIndexing, MaskedIndicesStayBelowTheSizeAndFreeRunningOnesCount) {
  SharedRing masked(16, QueueIndexing::masked);
  SharedRing free_running(16, QueueIndexing::free_running);
  for (int round = 0; round < 5; ++round) {
    std::vector<uint8_t> out(10);
    ASSERT_EQ(masked.producer.write(sequence(10)), 10u);
    ASSERT_EQ(masked.consumer.read(out), 10u);
    ASSERT_EQ(free_running.producer.write(sequence(10)), 10u);
    ASSERT_EQ(free_running.consumer.read(out), 10u);
  }
  EXPECT_EQ(masked.pi, 50u % 16);
  EXPECT_EQ(masked.ci, 50u % 16);
  EXPECT_EQ(free_running.pi, 50u);
  EXPECT_EQ(free_running.ci, 50u);
}

TEST(SerialQueueIndexing, FreeRunningIndicesWrapAtTwoToThe32) {
  SharedRing ring(16, QueueIndexing::free_running);
  ring.pi = ring.ci = UINT32_MAX - 3;
  ASSERT_EQ(ring.producer.write(sequence(10, 7)), 10u);
  EXPECT_EQ(ring.pi, 6u);
  EXPECT_EQ(ring.consumer.size(), 10u);
  std::vector<uint8_t> out(10);
  ASSERT_EQ(ring.consumer.read(out), 10u);
  EXPECT_EQ(out, sequence(10, 7));
}

TEST_P(BothConventions, BytesComeOutInOrderAcrossTheWrap) {
  SharedRing ring(16, GetParam());
  std::vector<uint8_t> all;
  std::vector<uint8_t> got;
  uint8_t next = 0;
  for (int round = 0; round < 40; ++round) {
    const auto chunk = sequence(static_cast<size_t>(round % 7 + 3), next);
    const uint32_t n = ring.producer.write(chunk);
    all.insert(all.end(), chunk.begin(), chunk.begin() + n);
    next = static_cast<uint8_t>(next + n);
    std::vector<uint8_t> out(static_cast<size_t>(round % 5 + 1));
    out.resize(ring.consumer.read(out));
    got.insert(got.end(), out.begin(), out.end());
  }
  std::vector<uint8_t> rest(ring.consumer.size());
  ring.consumer.read(rest);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, all);
}

TEST_P(BothConventions, SpansSplitWhereTheRingWraps) {
  SharedRing ring(16, GetParam());
  ASSERT_EQ(ring.producer.write(sequence(12)), 12u);
  std::vector<uint8_t> out(12);
  ASSERT_EQ(ring.consumer.read(out), 12u);
  // Producer and consumer now sit at 12: the free region wraps.
  EXPECT_EQ(ring.producer.write_span().size(), 4u);
  ASSERT_EQ(ring.producer.write(sequence(8, 100)), 8u);
  EXPECT_EQ(ring.consumer.read_span().size(), 4u);
  EXPECT_EQ(ring.consumer.read_span()[0], 100);
  std::vector<uint8_t> back(8);
  ASSERT_EQ(ring.consumer.read(back), 8u);
  EXPECT_EQ(back, sequence(8, 100));
}

TEST_P(BothConventions, EmptyRingHasNothingToRead) {
  SharedRing ring(8, GetParam());
  EXPECT_TRUE(ring.consumer.empty());
  EXPECT_TRUE(ring.consumer.read_span().empty());
  std::vector<uint8_t> out(4);
  EXPECT_EQ(ring.consumer.read(out), 0u);
  EXPECT_EQ(ring.ci, 0u);
}

TEST_P(BothConventions, AFullRingTakesNothingMore) {
  SharedRing ring(8, GetParam());
  const uint32_t capacity = ring.producer.capacity();
  ASSERT_EQ(ring.producer.write(sequence(capacity)), capacity);
  EXPECT_TRUE(ring.producer.write_span().empty());
  EXPECT_EQ(ring.producer.write(sequence(1)), 0u);
  EXPECT_EQ(ring.consumer.size(), capacity);
}

TEST_P(BothConventions, ClearFreesEverythingReadableAndOnlyMovesTheConsumerIndex) {
  SharedRing ring(16, GetParam());
  ASSERT_EQ(ring.producer.write(sequence(9)), 9u);
  const uint32_t pi = ring.pi;
  EXPECT_EQ(ring.consumer.clear(), 9u);
  EXPECT_EQ(ring.pi, pi);
  EXPECT_EQ(ring.ci, pi);
  EXPECT_TRUE(ring.consumer.empty());
  EXPECT_EQ(ring.producer.free_space(), ring.producer.capacity());
}

TEST_P(BothConventions, PeekCopiesFromAnOffsetAcrossTheWrapAndFreesNothing) {
  SharedRing ring(16, GetParam());
  ASSERT_EQ(ring.producer.write(sequence(12)), 12u);
  std::vector<uint8_t> skip(10);
  ASSERT_EQ(ring.consumer.read(skip), 10u);
  ASSERT_EQ(ring.producer.write(sequence(10, 12)), 10u);  // 12 readable: 10..21, wrapping
  const uint32_t ci = ring.ci;
  std::vector<uint8_t> out(8);
  EXPECT_EQ(ring.consumer.peek(3, out), 8u);
  EXPECT_EQ(out, sequence(8, 13));
  EXPECT_EQ(ring.ci, ci);
  EXPECT_EQ(ring.consumer.size(), 12u);
  out.assign(8, 0);
  EXPECT_EQ(ring.consumer.peek(9, out), 3u);  // only 3 readable past offset 9
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 3), sequence(3, 19));
  EXPECT_EQ(ring.consumer.peek(12, out), 0u);
  EXPECT_EQ(ring.consumer.peek(40, out), 0u);
}

TEST_P(BothConventions, EachSideStoresOnlyItsOwnIndex) {
  SharedRing ring(16, GetParam());
  ASSERT_EQ(ring.producer.write(sequence(5)), 5u);
  EXPECT_EQ(ring.ci, 0u);
  std::vector<uint8_t> out(3);
  ASSERT_EQ(ring.consumer.read(out), 3u);
  EXPECT_EQ(ring.pi, 5u);
  EXPECT_EQ(ring.ci, 3u);
}

TEST_P(BothConventions, AnIndexThePeerCorruptedNeverReachesOutsideTheRing) {
  SharedRing ring(16, GetParam());
  ring.pi = 0xDEADBEEF;  // a broken producer
  const std::span<const uint8_t> span = ring.consumer.read_span();
  EXPECT_LE(span.size(), 16u);
  EXPECT_GE(span.data(), ring.bytes.data());
  EXPECT_LE(span.data() + span.size(), ring.bytes.data() + ring.bytes.size());
  EXPECT_LE(ring.consumer.size(), 16u);
  ring.pi = 0;
  ring.ci = 0x7777777;  // a broken consumer
  const std::span<uint8_t> free = ring.producer.write_span();
  EXPECT_LE(free.size(), 16u);
  EXPECT_GE(free.data(), ring.bytes.data());
  EXPECT_LE(free.data() + free.size(), ring.bytes.data() + ring.bytes.size());
}

TEST(SerialQueueAttach, RejectsWhatIsNotAPowerOfTwoOrHasNoIndices) {
  std::vector<uint8_t> twelve(12);
  std::vector<uint8_t> sixteen(16);
  alignas(4) uint32_t indices[3] = {};
  SerialQueue queue;
  EXPECT_FALSE(queue.attach(twelve, &indices[0], &indices[1]));
  EXPECT_FALSE(queue.attach({}, &indices[0], &indices[1]));
  EXPECT_FALSE(queue.attach(sixteen, nullptr, &indices[1]));
  EXPECT_FALSE(queue.attach(sixteen, &indices[0], nullptr));
  auto* misaligned =
      reinterpret_cast<uint32_t*>(reinterpret_cast<uint8_t*>(&indices[0]) + 1);  // never read
  EXPECT_FALSE(queue.attach(sixteen, misaligned, &indices[1]));
  EXPECT_FALSE(queue.attached());
  EXPECT_EQ(queue.capacity(), 0u);
  EXPECT_TRUE(queue.write_span().empty());
  EXPECT_TRUE(queue.read_span().empty());
  EXPECT_EQ(queue.write(sequence(4)), 0u);
  EXPECT_EQ(queue.clear(), 0u);
  EXPECT_TRUE(queue.attach(sixteen, &indices[0], &indices[1]));
}

TEST(SerialQueueIndexing, TheProcessWidePickParsesAndDefaultsToMasked) {
  EXPECT_EQ(transport::serial_queue_indexing(), QueueIndexing::masked);
  QueueIndexing parsed = QueueIndexing::masked;
  EXPECT_TRUE(transport::parse_queue_indexing("free-running", parsed));
  EXPECT_EQ(parsed, QueueIndexing::free_running);
  EXPECT_TRUE(transport::parse_queue_indexing("masked", parsed));
  EXPECT_EQ(parsed, QueueIndexing::masked);
  EXPECT_FALSE(transport::parse_queue_indexing("free_running", parsed));
  EXPECT_FALSE(transport::parse_queue_indexing(nullptr, parsed));
  EXPECT_STREQ(transport::to_string(QueueIndexing::free_running), "free-running");
  transport::set_serial_queue_indexing(QueueIndexing::free_running);
  SerialQueue queue;
  std::vector<uint8_t> ring(8);
  alignas(4) uint32_t pi = 0;
  alignas(4) uint32_t ci = 0;
  ASSERT_TRUE(queue.attach(ring, &pi, &ci));
  EXPECT_EQ(queue.indexing(), QueueIndexing::free_running);
  transport::set_serial_queue_indexing(QueueIndexing::masked);
}

TEST_P(BothConventions, TwoThreadsMoveAMebibyteInOrder) {
  SharedRing ring(4096, GetParam());
  constexpr size_t kTotal = 1 << 20;
  std::thread producer([&] {
    size_t sent = 0;
    while (sent < kTotal) {
      const std::span<uint8_t> span = ring.producer.write_span();
      if (span.empty()) {
        std::this_thread::yield();
        continue;
      }
      const size_t n = std::min(span.size(), kTotal - sent);
      for (size_t i = 0; i < n; ++i) {
        span[i] = static_cast<uint8_t>((sent + i) * 7);
      }
      ring.producer.commit_write(static_cast<uint32_t>(n));
      sent += n;
    }
  });
  size_t received = 0;
  bool in_order = true;
  while (received < kTotal) {
    const std::span<const uint8_t> span = ring.consumer.read_span();
    if (span.empty()) {
      std::this_thread::yield();
      continue;
    }
    for (size_t i = 0; i < span.size(); ++i) {
      in_order = in_order && span[i] == static_cast<uint8_t>((received + i) * 7);
    }
    ring.consumer.commit_read(static_cast<uint32_t>(span.size()));
    received += span.size();
  }
  producer.join();
  EXPECT_TRUE(in_order);
}

}  // namespace
