// SpscRing: a single-producer / single-consumer byte ring over caller storage.
//
// Index scheme: `head_` (written only by the producer) and `tail_` (written only
// by the consumer) run freely over uint32_t and are reduced modulo the capacity
// on use. The capacity is a power of two, so the reduction is a mask and the
// wrap of the free-running counters at 2^32 is harmless.
//
//     used  = head - tail          (0 .. capacity; no slot is wasted)
//     free  = capacity - used
//     empty : head == tail         full : head - tail == capacity
//
//     storage:  [....tail######head.......]     # = bytes readable
//     wrapped:  [####head.........tail#####]
//
// The producer publishes bytes with a release store of head after writing them;
// the consumer loads head with acquire before reading them (and symmetrically
// for tail), so the ring is safe across two threads. Overflow policy: writes
// never overwrite; write() returns how many bytes fitted and the caller decides
// what to do with the rest. clear() belongs to the consumer (it drops what is
// readable, as a flush does).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace transport {

class SpscRing {
 public:
  SpscRing() = default;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // storage.size() must be a non-zero power of two no larger than 2^31. Returns
  // false otherwise, and the ring is then unusable: capacity 0, empty, every
  // span empty, write() and read() move nothing. Either way it starts empty.
  // Not thread-safe: call before use.
  bool attach(std::span<uint8_t> storage) {
    // Both counters restart, also on rejection: stale counters over capacity 0
    // would make free_space() huge and write_span() point past a null base.
    head_.store(0, std::memory_order_relaxed);
    tail_.store(0, std::memory_order_relaxed);
    const size_t n = storage.size();
    if (n == 0 || n > (size_t{1} << 31) || (n & (n - 1)) != 0) {
      data_ = nullptr;
      capacity_ = 0;
      return false;
    }
    data_ = storage.data();
    capacity_ = static_cast<uint32_t>(n);
    return true;
  }

  uint32_t capacity() const { return capacity_; }
  uint32_t size() const {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }
  uint32_t free_space() const { return capacity_ - size(); }
  bool empty() const { return size() == 0; }

  // --- producer side ---

  // Contiguous writable region starting at head (may be shorter than free_space()
  // when the free region wraps).
  std::span<uint8_t> write_span() {
    const uint32_t head = head_.load(std::memory_order_relaxed);
    const uint32_t tail = tail_.load(std::memory_order_acquire);
    const uint32_t free = capacity_ - (head - tail);
    const uint32_t start = head & (capacity_ - 1);
    return {data_ + start, std::min(free, capacity_ - start)};
  }
  // Publishes n bytes written into write_span(); n must not exceed its size.
  void commit_write(uint32_t n) {
    head_.store(head_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  // Copies as much of `bytes` as fits; returns the count. At most 2^32 - 1
  // bytes per call (what the count can say), even while the consumer drains.
  uint32_t write(std::span<const uint8_t> bytes) {
    const size_t total = std::min<size_t>(bytes.size(), UINT32_MAX);
    uint32_t done = 0;
    while (done < total) {
      const std::span<uint8_t> span = write_span();
      if (span.empty()) {
        break;
      }
      const auto n = static_cast<uint32_t>(std::min<size_t>(span.size(), total - done));
      std::memcpy(span.data(), bytes.data() + done, n);
      commit_write(n);
      done += n;
    }
    return done;
  }

  // --- consumer side ---

  // Contiguous readable region starting at tail.
  std::span<const uint8_t> read_span() const {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    const uint32_t head = head_.load(std::memory_order_acquire);
    const uint32_t used = head - tail;
    const uint32_t start = tail & (capacity_ - 1);
    return {data_ + start, std::min(used, capacity_ - start)};
  }
  // Releases n bytes read from read_span(); n must not exceed its size.
  void commit_read(uint32_t n) {
    tail_.store(tail_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  // Copies up to out.size() bytes out; returns the count. At most 2^32 - 1
  // bytes per call (what the count can say), even while the producer refills.
  uint32_t read(std::span<uint8_t> out) {
    const size_t total = std::min<size_t>(out.size(), UINT32_MAX);
    uint32_t done = 0;
    while (done < total) {
      const std::span<const uint8_t> span = read_span();
      if (span.empty()) {
        break;
      }
      const auto n = static_cast<uint32_t>(std::min<size_t>(span.size(), total - done));
      std::memcpy(out.data() + done, span.data(), n);
      commit_read(n);
      done += n;
    }
    return done;
  }
  // Drops everything readable now; returns the count.
  uint32_t clear() {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    const uint32_t head = head_.load(std::memory_order_acquire);
    tail_.store(head, std::memory_order_release);
    return head - tail;
  }

 private:
  uint8_t* data_ = nullptr;
  uint32_t capacity_ = 0;
  std::atomic<uint32_t> head_{0};  // producer-owned
  std::atomic<uint32_t> tail_{0};  // consumer-owned
};

}  // namespace transport
