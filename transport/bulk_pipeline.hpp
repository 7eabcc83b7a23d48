// Bulk pipeline: the data path between USB pipes and the serial rings.
//
//   RX: BulkInQueue keeps up to `depth` bulk-IN transfers in flight, each a
//       multiple of wMaxPacketSize. A finished transfer is decoded in place by
//       its owner (e.g. FTDI status bytes stripped), then parked; parked
//       payload drains into the RX ring oldest first. When the ring is full the
//       payload waits in its slot, the slot is not re-armed, and the device is
//       back-pressured once every slot is parked: nothing is dropped.
//       Apple's IOUserUSBSerial behaviour (one wMaxPacketSize read, re-armed only
//       while the ring has that much room) is the configuration
//       {depth 1, transfer_size = wMaxPacketSize, rearm_only_with_room}.
//   TX: BulkOutQueue takes up to its buffer's size from the TX ring into its own
//       buffer (so the ring frees at once) and keeps one bulk-OUT in flight;
//       bulk OUT stays strictly ordered.
//
// Every completion status maps to exactly one action (action_for):
//
//   status                          action        what the owner does
//   ok                              proceed       use the data, pump again
//   stall                           clear_stall   ClearStall on the pipe, then pump
//   timeout, overflow (babble),     back_off      wait kBackOffMs, end_back_off(), pump
//   io_error, short_transfer, ...                 (kMaxConsecutiveErrors in a row -> stop)
//   aborted, no_device              stop          nothing more on this pipe
//
// I/O is done by the owner through InPipeIo / OutPipeIo (hostkit over
// IOUSBHostPipe, a future IOUserSerial dext, or a test fake). Completions must
// be reported in submission order, on the owner's single queue.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "ring.hpp"
#include "status.hpp"

namespace transport {

enum class PipeAction : uint8_t { proceed, clear_stall, back_off, stop };

const char* to_string(PipeAction action);

// The one status -> action table (see above).
PipeAction action_for(Status completion_status);

inline constexpr uint32_t kBackOffMs = 100;
inline constexpr uint32_t kMaxConsecutiveErrors = 16;

class InPipeIo {
 public:
  // Starts an asynchronous IN transfer filling `buffer`; its completion comes
  // back through BulkInQueue::complete(slot, ...). Returns ok or why not.
  virtual Status submit_in(uint8_t slot, std::span<uint8_t> buffer) = 0;

 protected:
  ~InPipeIo() = default;
};

class OutPipeIo {
 public:
  // Starts an asynchronous OUT transfer of `data`; completion comes back through
  // BulkOutQueue::complete().
  virtual Status submit_out(std::span<const uint8_t> data) = 0;

 protected:
  ~OutPipeIo() = default;
};

struct PipeStats {
  uint64_t transfers = 0;  // completions with ok
  uint64_t bytes = 0;      // IN: bytes of ok completions; OUT: bytes the device
                           // accepted, by any completion (they are never resent)
  uint64_t stalls = 0;
  uint64_t errors = 0;           // completions mapped to back_off
  uint64_t discarded_bytes = 0;  // bytes dropped by purge, a failed transfer or a
                                 // payload park() could not keep
  uint32_t max_in_flight = 0;    // deepest queue reached
};

// What both queues do with a completion: map its status (action_for), count it
// in `stats`, and turn the kMaxConsecutiveErrors-th back_off in a row into stop.
class CompletionCounter {
 public:
  PipeAction count(Status status, PipeStats& stats);
  void end_back_off() { backing_off_ = false; }
  bool backing_off() const { return backing_off_; }

 private:
  uint32_t consecutive_errors_ = 0;
  bool backing_off_ = false;
};

struct InQueueConfig {
  uint8_t depth = 8;           // transfers in flight, 1..BulkInQueue::kMaxDepth
  uint32_t transfer_size = 0;  // bytes per transfer; a non-zero multiple of max_packet
  // Submit a transfer only while `consumer_room` (BulkInQueue::pump) holds its
  // transfer_size on top of what transfers in flight (transfer_size each) and
  // parked payload may still put into the ring, so nothing ever has to park.
  bool rearm_only_with_room = false;
};

class BulkInQueue {
 public:
  static constexpr uint8_t kMaxDepth = 32;

  // One buffer of transfer_size bytes per slot (slot_buffers.size() == depth),
  // each outliving the queue: a dext needs one IOBufferMemoryDescriptor per
  // transfer. invalid_argument on any inconsistency. Resets all state.
  Status configure(const InQueueConfig& config, uint16_t max_packet,
                   std::span<uint8_t* const> slot_buffers);

  // Submits every idle slot (unless stopped, backing off, or — in
  // rearm_only_with_room mode — `consumer_room`, the free space of the ring
  // drain() fills, is short; see InQueueConfig). Returns ok, or the first
  // submit error (the queue then stops; the owner decides what to log).
  Status pump(InPipeIo& io, uint32_t consumer_room);

  // A transfer finished. Returns the action for the pipe. On proceed,
  // `payload` spans the received bytes inside the slot buffer; the owner may
  // rewrite them in place and must then call park() (or release()).
  PipeAction complete(uint8_t slot, Status status, uint32_t bytes, std::span<uint8_t>& payload);

  // Queues the (decoded) payload of a completed slot for drain(). `payload`
  // must lie within the slot buffer. An empty payload frees the slot at once.
  // Returns false when payload bytes were not kept, for the owner to say so: a
  // payload outside the slot buffer (the slot is freed and the bytes counted in
  // discarded_bytes), or a slot that is not completed (left untouched).
  bool park(uint8_t slot, std::span<const uint8_t> payload);

  // Frees a completed slot without delivering anything (in-place consumers).
  void release(uint8_t slot);

  // Moves parked payload, oldest first, into `ring` as room allows; slots that
  // empty become idle. Returns the bytes moved.
  uint32_t drain(SpscRing& ring);

  // Bytes waiting in parked slots.
  uint32_t parked_bytes() const;

  void end_back_off() { counter_.end_back_off(); }
  bool backing_off() const { return counter_.backing_off(); }

  // No more submissions until configure(); in-flight transfers may still complete.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  // Drops parked payload (a flush of the RX side); returns the bytes dropped.
  uint32_t discard_parked();

  uint8_t in_flight() const { return in_flight_; }
  const PipeStats& stats() const { return stats_; }
  const InQueueConfig& config() const { return config_; }

 private:
  enum class SlotState : uint8_t { idle, in_flight, completed, parked };
  struct Slot {
    SlotState state = SlotState::idle;
    uint32_t offset = 0;  // parked payload: [offset, offset + length) of the slot buffer
    uint32_t length = 0;
  };

  std::span<uint8_t> slot_buffer(uint8_t slot) { return {buffers_[slot], config_.transfer_size}; }
  void make_idle(uint8_t slot);

  InQueueConfig config_{};
  std::array<uint8_t*, kMaxDepth> buffers_{};
  std::array<Slot, kMaxDepth> slots_{};
  std::array<uint8_t, kMaxDepth> parked_order_{};  // FIFO of parked slots
  uint8_t parked_head_ = 0;
  uint8_t parked_count_ = 0;
  uint8_t next_submit_ = 0;  // round-robin start, keeps submission order stable
  uint8_t in_flight_ = 0;
  CompletionCounter counter_;
  bool stopped_ = true;
  PipeStats stats_{};
};

class BulkOutQueue {
 public:
  // storage.size() is the largest transfer; it must be non-zero. Every transfer
  // starts at storage[0] (a partial completion moves the unsent rest to the front).
  Status configure(std::span<uint8_t> storage);

  // If no transfer is in flight: resubmits what a partial or failed transfer
  // left, or else moves up to storage.size() bytes from `ring` and submits
  // them. Returns the bytes taken from the ring (the owner then signals free
  // space), or 0. A submit error stops the queue.
  uint32_t pump(OutPipeIo& io, SpscRing& ring);

  // The transfer finished having sent `bytes`. Returns the action; on proceed
  // or clear_stall/back_off, unsent bytes are kept and resubmitted by pump().
  PipeAction complete(Status status, uint32_t bytes);

  // Drops bytes not yet sent (TCOFLUSH). An in-flight transfer is left to
  // finish; its unsent remainder is dropped when it completes. Returns bytes dropped.
  uint32_t discard();

  bool busy() const { return in_flight_; }
  // Bytes accepted from the ring and not yet confirmed sent.
  uint32_t pending() const { return length_ - sent_; }
  void end_back_off() { counter_.end_back_off(); }
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  const PipeStats& stats() const { return stats_; }

 private:
  std::span<uint8_t> storage_{};
  uint32_t length_ = 0;  // bytes in storage_ belonging to the current transfer
  uint32_t sent_ = 0;    // of those, confirmed sent
  bool in_flight_ = false;
  bool discard_on_completion_ = false;
  bool stopped_ = true;
  CompletionCounter counter_;
  PipeStats stats_{};
};

}  // namespace transport
