// SerialQueue: one direction of the rings IOUserSerial shares between the
// kernel and the dext (SerialDriverKit's SerialPortInterface, docs/driverkit-reference.md §1.4),
// seen from one side.
//
// The ring bytes live in the memory ConnectQueues hands out (rxqmd / txqmd); the
// two indices of each ring live in the control block (ifmd): rxPI/rxCI, txPI/txCI.
// The producer writes bytes, then publishes them by moving its index (PI); the
// consumer reads them, then frees them by moving its index (CI). RX: the driver
// produces, the kernel consumes. TX: the kernel produces, the driver consumes.
// Each side stores only its own index (release) and loads the other's (acquire).
//
// What the indices count is not documented by Apple [U]. This file is the one
// place that decides it, for the driver and for hostkit's kernel side alike
// (docs/driverkit-assumptions.md, "Ring index convention"):
//
//   masked        the indices are positions in [0, size); one byte stays empty
//                 so that full and empty differ (used = (PI - CI) & mask, a ring
//                 of 2^n bytes holds 2^n - 1). SwifterKit's serial runtime and
//                 OpenCH34xSer use this [P]. The default.
//   free_running  the indices count bytes forever, wrapping at 2^32
//                 (used = PI - CI, every byte usable).
//
// Both sides must use the same convention; serial_queue_indexing() holds the one
// in force for the process. On a Mac it is whatever the kernel uses, so the
// driver uses the default; hostkit can switch both of its sides to the other
// candidate, and the tests run both.
//
// The peer is untrusted: an index it stores is reduced (masked) or clamped
// (free-running) before use, so nothing is ever read or written outside the ring.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace transport {

enum class QueueIndexing : uint8_t { masked, free_running };

const char* to_string(QueueIndexing indexing);
// "masked" / "free-running"; false for anything else.
bool parse_queue_indexing(const char* text, QueueIndexing& out);

// The convention both sides of every ring in this process use. Default: masked.
QueueIndexing serial_queue_indexing();
// hostkit only (a harness switching both of its sides to a candidate); call it
// before any ring is attached.
void set_serial_queue_indexing(QueueIndexing indexing);

class SerialQueue {
 public:
  // ring.size() must be a non-zero power of two no larger than 2^31, and both
  // index pointers non-null and 4-byte aligned. Returns false otherwise (the
  // queue is then unusable: capacity 0, every span empty). Does not touch the
  // indices: they belong to the control block (ConnectQueues zeroes them).
  bool attach(std::span<uint8_t> ring, uint32_t* producer_index, uint32_t* consumer_index,
              QueueIndexing indexing = serial_queue_indexing()) {
    const size_t n = ring.size();
    detach();
    if (n == 0 || n > (size_t{1} << 31) || (n & (n - 1)) != 0 || producer_index == nullptr ||
        consumer_index == nullptr || reinterpret_cast<uintptr_t>(producer_index) % 4 != 0 ||
        reinterpret_cast<uintptr_t>(consumer_index) % 4 != 0) {
      return false;
    }
    data_ = ring.data();
    size_ = static_cast<uint32_t>(n);
    producer_ = producer_index;
    consumer_ = consumer_index;
    indexing_ = indexing;
    return true;
  }
  void detach() {
    data_ = nullptr;
    size_ = 0;
    producer_ = nullptr;
    consumer_ = nullptr;
  }
  bool attached() const { return data_ != nullptr; }
  QueueIndexing indexing() const { return indexing_; }

  // Bytes the ring can hold: size - 1 (masked) or size (free-running).
  uint32_t capacity() const {
    return size_ == 0 ? 0 : indexing_ == QueueIndexing::masked ? size_ - 1 : size_;
  }
  // Bytes readable now (either side may ask).
  uint32_t size() const { return size_ == 0 ? 0 : used(load(producer_), load(consumer_)); }
  uint32_t free_space() const { return capacity() - size(); }
  bool empty() const { return size() == 0; }

  // --- producer side ---

  // The contiguous writable region at the producer index (shorter than
  // free_space() when the free region wraps).
  std::span<uint8_t> write_span() {
    if (size_ == 0) {
      return {};
    }
    const uint32_t pi = own(producer_);
    const uint32_t free = capacity() - used(pi, load(consumer_));
    const uint32_t start = pi & (size_ - 1);
    return {data_ + start, std::min(free, size_ - start)};
  }
  // Publishes n bytes written into write_span(); n must not exceed its size.
  void commit_write(uint32_t n) { store(producer_, advance(own(producer_), n)); }
  // Copies as much of `bytes` as fits; returns the count.
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

  // The contiguous readable region at the consumer index.
  std::span<const uint8_t> read_span() const {
    if (size_ == 0) {
      return {};
    }
    const uint32_t ci = own(consumer_);
    const uint32_t readable = used(load(producer_), ci);
    const uint32_t start = ci & (size_ - 1);
    return {data_ + start, std::min(readable, size_ - start)};
  }
  // Frees n bytes read from read_span(); n must not exceed its size.
  void commit_read(uint32_t n) { store(consumer_, advance(own(consumer_), n)); }
  // Copies up to out.size() bytes out; returns the count.
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
  // Copies up to out.size() readable bytes starting `offset` bytes past the
  // consumer index, freeing nothing; returns the count (0 when offset reaches
  // past what is readable).
  uint32_t peek(uint32_t offset, std::span<uint8_t> out) const {
    const uint32_t readable = size();
    if (offset >= readable) {
      return 0;
    }
    const auto n = static_cast<uint32_t>(std::min<size_t>(out.size(), readable - offset));
    const uint32_t start = (own(consumer_) + offset) & (size_ - 1);
    const uint32_t first = std::min(n, size_ - start);
    std::memcpy(out.data(), data_ + start, first);
    std::memcpy(out.data() + first, data_, n - first);
    return n;
  }
  // Drops everything readable now (a flush); returns the count.
  uint32_t clear() {
    if (size_ == 0) {
      return 0;
    }
    const uint32_t dropped = size();
    commit_read(dropped);
    return dropped;
  }

 private:
  static uint32_t load(const uint32_t* index) {
    return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(index)).load(std::memory_order_acquire);
  }
  static void store(uint32_t* index, uint32_t value) {
    std::atomic_ref<uint32_t>(*index).store(value, std::memory_order_release);
  }
  // This side's own index: only this side writes it.
  uint32_t own(const uint32_t* index) const {
    const uint32_t value =
        std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(index)).load(std::memory_order_relaxed);
    return indexing_ == QueueIndexing::masked ? value & (size_ - 1) : value;
  }
  // Readable bytes between a producer and a consumer index, never more than the
  // ring can hold, whatever the peer stored.
  uint32_t used(uint32_t pi, uint32_t ci) const {
    if (indexing_ == QueueIndexing::masked) {
      return (pi - ci) & (size_ - 1);
    }
    return std::min(pi - ci, size_);
  }
  uint32_t advance(uint32_t index, uint32_t n) const {
    return indexing_ == QueueIndexing::masked ? (index + n) & (size_ - 1) : index + n;
  }

  uint8_t* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t* producer_ = nullptr;
  uint32_t* consumer_ = nullptr;
  QueueIndexing indexing_ = QueueIndexing::masked;
};

// The TX ring as a driver that runs its own bulk-OUT pipeline reads it: bytes
// leave the ring (the consumer index moves) only once they are sent or dropped,
// not when they are copied into a transfer. The kernel sees nothing but the
// ring, so its drain and its last close then wait for bytes still on their way
// to the device (docs/driverkit-assumptions.md item 43).
class SendReleasedReader {
 public:
  explicit SendReleasedReader(SerialQueue& ring) : ring_(ring) {}

  // What BulkOutQueue::pump reads through: the next bytes not yet taken, left
  // in the ring.
  uint32_t read(std::span<uint8_t> out) {
    const uint32_t n = ring_.peek(taken_, out);
    taken_ += n;
    return n;
  }
  // `unsent`: the bytes the pipeline still holds (BulkOutQueue::pending()), the
  // newest of what was taken. Frees the rest of what was taken; returns the
  // count freed (the owner then signals free space).
  uint32_t release_sent(uint32_t unsent) {
    if (taken_ <= unsent) {
      return 0;
    }
    const uint32_t done = taken_ - unsent;
    ring_.commit_read(done);
    taken_ = unsent;
    return done;
  }
  // The ring was emptied (a flush); what was taken went with it.
  void forget() { taken_ = 0; }
  uint32_t taken() const { return taken_; }

 private:
  SerialQueue& ring_;
  uint32_t taken_ = 0;  // read into transfers, still in the ring
};

}  // namespace transport
