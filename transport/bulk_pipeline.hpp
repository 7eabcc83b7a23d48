// Bulk pipeline: the data path between USB pipes and the serial rings.
//
//   RX: BulkInQueue keeps up to `depth` bulk-IN transfers in flight, each a
//       multiple of wMaxPacketSize. A finished transfer is decoded in place by
//       its owner (e.g. FTDI status bytes stripped), then parked; parked
//       payload drains into the RX ring oldest first. When the ring is full the
//       payload waits in its slot, the slot is not re-armed, and the device is
//       back-pressured once every slot is parked: nothing is dropped. A transfer
//       that ends with an error (a stall, a babble, an unplug) hands over the
//       bytes that arrived before the fault like any other: they are the
//       device's data, already on the host.
//       Apple's IOUserUSBSerial behaviour (one wMaxPacketSize read, re-armed only
//       while the ring has that much room) is the configuration
//       {depth 1, transfer_size = wMaxPacketSize, rearm_only_with_room}.
//   TX: BulkOutQueue takes up to a slot buffer's size from the TX ring into the
//       slot (so the ring frees at once) and keeps up to `depth` bulk-OUT
//       transfers in flight, one per slot (hostkit's IOUserUSBSerial: 1; the
//       IOUserSerial dext: several). Bulk OUT stays strictly ordered: after a
//       transfer fails, nothing new is submitted until every transfer in flight
//       has completed, then the unsent rest of each goes again, oldest first.
//       That relies on the pipe failing every queued transfer once one has failed
//       (a halted endpoint does: docs/driverkit-assumptions.md, item 12).
//
// The rings are any type with SpscRing's write()/read(): transport's SpscRing,
// or the SerialQueue views of the rings IOUserSerial shares with the kernel.
//
// Every completion status maps to exactly one action (action_for):
//
//   status                          action        what the owner does
//   ok                              proceed       pump again
//   stall                           clear_stall   ClearStall on the pipe, then pump
//   timeout, overflow (babble),     back_off      wait kBackOffMs, end_back_off(), pump
//   io_error, short_transfer, ...                 (kMaxConsecutiveErrors in a row -> stop)
//   aborted, no_device              stop          nothing more on this pipe
//
// One halt fails every transfer queued on the pipe, so one stall arrives as
// several completions. Only the first asks for clear_stall; the others, and an
// abort of a transfer submitted before that ClearStall [U: whether ClearStall
// aborts the pipe's other transfers, item 12], belong to the halt already
// cleared: they come back as proceed and their slots are simply re-armed.
//
// I/O is done by the owner through InPipeIo / OutPipeIo (hostkit over
// IOUSBHostPipe, the IOUserSerial dext, or a test fake). Completions must
// be reported in submission order, on the owner's single queue.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "device_table.hpp"
#include "ring.hpp"
#include "status.hpp"

namespace transport {

enum class PipeAction : uint8_t { proceed, clear_stall, back_off, stop };

const char* to_string(PipeAction action);

// The one status -> action table (see above).
PipeAction action_for(Status completion_status);

inline constexpr uint32_t kBackOffMs = 100;
inline constexpr uint32_t kMaxConsecutiveErrors = 16;

// How the IOUserSerial driver class (SerialDext/) runs its pipes: transfers in
// flight each way and their size in wMaxPacketSize units. Linux cdc-acm keeps
// 16 reads of 2 packets in flight; usb-serial-for-android users needed 8-32
// queued reads at 921600 Bd (docs/field-notes.md §4, §10). Writes are several,
// so the bulk-OUT pipe never waits for the driver between two transfers.
inline constexpr uint16_t kPacketsPerRead = 16;
// kPacketsPerRead where every burst of the family's bulk IN ends in a short
// packet, else one: a read of several packets would hold a burst that ends on a
// full packet until more data came (bulk_in_bursts_end_short, device_table.hpp).
constexpr uint16_t packets_per_read(ChipFamily family) {
  return bulk_in_bursts_end_short(family) ? kPacketsPerRead : 1;
}
// Reads of several packets: 8 in flight, 128 packets. Reads of one packet: a
// transfer completes at the end of the (micro)frame it moved in, so a frame can
// carry only as many IN packets as reads are waiting at its start; a full-speed
// frame has room for 19 bulk packets of 64 bytes (USB 2.0 §5.8.4, the bus model
// in test-harness/sim), so 24 one-packet reads leave none of them unused.
inline constexpr uint8_t kMaxReadsInFlight = 24;
constexpr uint8_t reads_in_flight(ChipFamily family) {
  return bulk_in_bursts_end_short(family) ? 8 : kMaxReadsInFlight;
}
inline constexpr uint8_t kWritesInFlight = 4;
inline constexpr uint16_t kPacketsPerWrite = 16;

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
  // Starts an asynchronous OUT transfer of `data`, which starts at the first
  // byte of slot `slot`'s buffer; completion comes back through
  // BulkOutQueue::complete() (in submission order).
  virtual Status submit_out(uint8_t slot, std::span<const uint8_t> data) = 0;

 protected:
  ~OutPipeIo() = default;
};

struct PipeStats {
  uint64_t transfers = 0;    // completions with ok
  uint64_t bytes = 0;        // IN: bytes the transfers carried, whatever their status (all
                             // handed to the owner); OUT: bytes the device accepted, by any
                             // completion (they are never resent)
  uint64_t stalls = 0;       // halts: the first stall completion after the last ClearStall
                             // (the other transfers one halt fails are not counted again)
  uint64_t errors = 0;       // completions mapped to back_off
  uint64_t babbles = 0;      // of those, overflow: the device sent more than the transfer could
                             // take; the packet that overflowed is lost, and nothing on the host
                             // can say how many bytes it held
  uint64_t recoveries = 0;   // ok completions that followed a stall or an error: the pipe
                             // carried data again
  uint64_t fault_bytes = 0;  // IN: bytes carried by transfers that ended with an error (the
                             // owner's, as any payload); OUT: bytes sent again after a
                             // transfer failed or came back short
  uint64_t discarded_bytes = 0;  // bytes dropped by a purge, a stopped pipe, drop(), or a
                                 // payload park() could not keep
  uint32_t max_in_flight = 0;    // deepest queue reached
};

// What both queues do with a completion: map its status (action_for), count it
// in `stats`, tell a new halt from the rest of one already cleared, and turn the
// kMaxConsecutiveErrors-th back_off in a row into stop.
class CompletionCounter {
 public:
  // `era`: era() when the transfer was submitted.
  PipeAction count(Status status, uint32_t era, PipeStats& stats);
  void end_back_off() { backing_off_ = false; }
  bool backing_off() const { return backing_off_; }
  // Changes at every clear_stall: a transfer submitted before belongs to the
  // halt that was cleared.
  uint32_t era() const { return era_; }

 private:
  uint32_t consecutive_errors_ = 0;
  uint32_t era_ = 0;
  bool backing_off_ = false;
  bool faulted_ = false;  // a stall or an error since the last ok completion
};

// A finished IN transfer, as BulkInQueue::complete hands it to the owner.
struct InCompletion {
  PipeAction action = PipeAction::stop;  // what to do with the pipe
  // The bytes the transfer carried, inside the slot buffer, whatever its status:
  // a transfer cut short by a stall, a babble or an unplug keeps what arrived
  // before the fault.
  std::span<uint8_t> payload;
  // The slot holds `payload` until the owner calls park() (or release() or
  // drop()): set for every ok completion and every failed one that carried
  // bytes. Otherwise the slot is free again.
  bool completed = false;
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

  // A transfer finished with `status` after the device sent `bytes`. Returns the
  // action for the pipe and, while `completed`, the payload: the owner may
  // rewrite it in place (decode) and then calls park() (or release()/drop()).
  [[nodiscard]] InCompletion complete(uint8_t slot, Status status, uint32_t bytes);

  // Queues the (decoded) payload of a completed slot for drain(). `payload`
  // must lie within the slot buffer. An empty payload frees the slot at once.
  // Returns false when payload bytes were not kept, for the owner to say so: a
  // payload outside the slot buffer (the slot is freed and the bytes counted in
  // discarded_bytes), or a slot that is not completed (left untouched).
  bool park(uint8_t slot, std::span<const uint8_t> payload);

  // Frees a completed slot without delivering anything (in-place consumers).
  void release(uint8_t slot);
  // Frees a completed slot and counts what it held in discarded_bytes (an owner
  // that throws a payload away says so).
  void drop(uint8_t slot);

  // Moves parked payload, oldest first, into `ring` as room allows; slots that
  // empty become idle. Returns the bytes moved.
  template <typename Ring>
  uint32_t drain(Ring& ring) {
    return drain_into(
        [](void* r, std::span<const uint8_t> bytes) { return static_cast<Ring*>(r)->write(bytes); },
        &ring);
  }

  // Bytes waiting in parked slots.
  uint32_t parked_bytes() const;

  void end_back_off() { counter_.end_back_off(); }
  bool backing_off() const { return counter_.backing_off(); }

  // No more submissions until configure(); in-flight transfers may still complete.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  // Drops parked payload (a flush of the RX side); returns the bytes dropped.
  uint32_t discard_parked();
  // A flush of the RX side for the transfers in flight, which may hold bytes the
  // device sent before it: whatever they carry when they complete is dropped
  // (counted in discarded_bytes) and their slots come free; an abort that ends
  // them (the owner aborts the pipe) is not an error. Returns how many there are.
  uint8_t discard_in_flight();

  uint8_t in_flight() const { return in_flight_; }
  const PipeStats& stats() const { return stats_; }
  const InQueueConfig& config() const { return config_; }

 private:
  enum class SlotState : uint8_t { idle, in_flight, completed, parked };
  struct Slot {
    SlotState state = SlotState::idle;
    uint32_t era = 0;     // CompletionCounter::era() at submission
    uint32_t offset = 0;  // completed or parked payload: [offset, offset + length) of the buffer
    uint32_t length = 0;
    bool flushed = false;  // in flight at discard_in_flight(): its bytes are dropped
  };

  std::span<uint8_t> slot_buffer(uint8_t slot) { return {buffers_[slot], config_.transfer_size}; }
  uint8_t next_slot(uint8_t slot) const {
    return slot + 1 == config_.depth ? 0 : static_cast<uint8_t>(slot + 1);
  }
  void make_idle(uint8_t slot);
  uint32_t drain_into(uint32_t (*write)(void*, std::span<const uint8_t>), void* ring);

  InQueueConfig config_{};
  std::array<uint8_t*, kMaxDepth> buffers_{};
  std::array<Slot, kMaxDepth> slots_{};
  std::array<uint8_t, kMaxDepth> parked_order_{};  // FIFO of parked slots
  uint8_t parked_head_ = 0;
  uint8_t parked_count_ = 0;
  uint8_t next_submit_ = 0;  // round-robin start, keeps submission order stable
  uint8_t in_flight_ = 0;
  uint8_t idle_ = 0;  // slots in SlotState::idle
  CompletionCounter counter_;
  bool stopped_ = true;
  PipeStats stats_{};
};

class BulkOutQueue {
 public:
  static constexpr uint8_t kMaxDepth = 32;

  // One transfer in flight, from `storage` (its size is the largest transfer;
  // non-zero). Every transfer starts at storage[0] (what a partial or failed
  // transfer left moves to the front).
  Status configure(std::span<uint8_t> storage);
  // Up to slot_buffers.size() (1..kMaxDepth) transfers in flight, each from its
  // own buffer of slot_size bytes (a dext needs one IOBufferMemoryDescriptor per
  // transfer); the buffers outlive the queue. invalid_argument on any
  // inconsistency. Resets all state.
  Status configure(std::span<uint8_t* const> slot_buffers, uint32_t slot_size);

  // Submits what it can, in order: when nothing is in flight, first the unsent
  // rest of every transfer that failed or completed short, then new data; new
  // data moves from `ring` into each free slot (up to slot_size bytes) and is
  // submitted at once. Nothing is submitted while a failed transfer waits for
  // the others in flight, while backing off, or when stopped. Returns the bytes
  // taken from the ring (the owner then signals free space), or 0. A submit
  // error stops the queue and drops what it holds.
  template <typename Ring>
  uint32_t pump(OutPipeIo& io, Ring& ring) {
    return pump_from(
        io, [](void* r, std::span<uint8_t> out) { return static_cast<Ring*>(r)->read(out); },
        &ring);
  }

  // The oldest transfer in flight finished having sent `bytes`. Returns the
  // action; unless it is stop, the unsent rest is kept and sent again by pump(),
  // from where the transfer stopped.
  PipeAction complete(Status status, uint32_t bytes);

  // Drops bytes not yet sent (TCOFLUSH). A transfer in flight is left to
  // finish; its unsent remainder is dropped when it completes. Returns the bytes
  // dropped now.
  uint32_t discard();

  bool busy() const { return in_flight_ > 0; }
  uint8_t in_flight() const { return in_flight_; }
  uint8_t depth() const { return depth_; }
  // Bytes accepted from the ring and not yet confirmed sent.
  uint32_t pending() const;
  void end_back_off() { counter_.end_back_off(); }
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  const PipeStats& stats() const { return stats_; }

 private:
  struct Slot {
    uint32_t length = 0;  // bytes of the current transfer in the slot buffer
    uint32_t sent = 0;    // of those, confirmed sent
    uint32_t era = 0;     // CompletionCounter::era() at submission
    bool in_flight = false;
    bool discard_on_completion = false;
  };

  uint32_t pump_from(OutPipeIo& io, uint32_t (*read)(void*, std::span<uint8_t>), void* ring);
  Status submit(OutPipeIo& io, uint8_t slot);
  // Drops the unsent bytes of every slot not in flight (those in flight drop
  // theirs when they complete); returns the bytes dropped now.
  uint32_t drop_idle();
  // Frees the slots at the head whose bytes have all been sent.
  void free_finished();
  uint8_t slot_at(uint8_t position) const {
    return static_cast<uint8_t>((head_ + position) % depth_);
  }

  std::array<uint8_t*, kMaxDepth> buffers_{};
  uint32_t slot_size_ = 0;
  uint8_t depth_ = 0;
  std::array<Slot, kMaxDepth> slots_{};
  uint8_t head_ = 0;  // oldest slot in use
  uint8_t used_ = 0;  // slots in use, in submission order from head_
  uint8_t in_flight_ = 0;
  bool stopped_ = true;
  CompletionCounter counter_;
  PipeStats stats_{};
};

}  // namespace transport
