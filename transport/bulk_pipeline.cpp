#include "bulk_pipeline.hpp"

#include <algorithm>
#include <cstring>

namespace transport {

const char* to_string(PipeAction action) {
  switch (action) {
    case PipeAction::proceed:
      return "proceed";
    case PipeAction::clear_stall:
      return "clear_stall";
    case PipeAction::back_off:
      return "back_off";
    case PipeAction::stop:
      return "stop";
  }
  return "unknown";
}

PipeAction action_for(Status completion_status) {
  switch (completion_status) {
    case Status::ok:
      return PipeAction::proceed;
    case Status::stall:
      return PipeAction::clear_stall;
    case Status::aborted:
    case Status::no_device:
      return PipeAction::stop;
    // Transient or device-side trouble: cool down and retry (cdc-acm does the
    // same for -EPROTO/-EOVERFLOW, "cooling babbling device").
    case Status::timeout:
    case Status::overflow:
    case Status::short_transfer:
    case Status::malformed:
    case Status::busy:
    case Status::no_space:
    case Status::io_error:
      return PipeAction::back_off;
    // Host-side refusals cannot get better by retrying.
    case Status::unsupported:
    case Status::invalid_argument:
    case Status::baud_unreachable:
    case Status::not_open:
      return PipeAction::stop;
  }
  return PipeAction::stop;
}

PipeAction CompletionCounter::count(Status status, uint32_t era, PipeStats& stats) {
  PipeAction action = action_for(status);
  // The rest of a halt already cleared: the stall completions of the other
  // transfers it failed, and aborts of transfers submitted before the clear.
  if (era != era_ && (status == Status::stall || status == Status::aborted)) {
    return PipeAction::proceed;
  }
  if (action == PipeAction::proceed) {
    consecutive_errors_ = 0;
    ++stats.transfers;
    if (faulted_) {
      ++stats.recoveries;
      faulted_ = false;
    }
  } else if (action == PipeAction::clear_stall) {
    ++stats.stalls;
    ++era_;
    faulted_ = true;
  } else if (action == PipeAction::back_off) {
    ++stats.errors;
    if (status == Status::overflow) {
      ++stats.babbles;
    }
    faulted_ = true;
    if (++consecutive_errors_ >= kMaxConsecutiveErrors) {
      action = PipeAction::stop;
    } else {
      backing_off_ = true;
    }
  }
  return action;
}

// ---------------------------------------------------------------- BulkInQueue

Status BulkInQueue::configure(const InQueueConfig& config, uint16_t max_packet,
                              std::span<uint8_t* const> slot_buffers) {
  *this = BulkInQueue{};
  if (config.depth == 0 || config.depth > kMaxDepth || max_packet == 0 ||
      config.transfer_size == 0 || config.transfer_size % max_packet != 0 ||
      slot_buffers.size() != config.depth) {
    return Status::invalid_argument;
  }
  for (uint8_t i = 0; i < config.depth; ++i) {
    if (slot_buffers[i] == nullptr) {
      return Status::invalid_argument;
    }
    buffers_[i] = slot_buffers[i];
  }
  config_ = config;
  idle_ = config.depth;
  stopped_ = false;
  return Status::ok;
}

Status BulkInQueue::pump(InPipeIo& io, uint32_t consumer_room) {
  // Called after every completion, mostly with one slot to submit or none: it
  // returns as soon as no idle slot is left.
  if (stopped_ || counter_.backing_off() || idle_ == 0) {
    return Status::ok;
  }
  // In rearm_only_with_room mode, room the consumer has is already promised to
  // every transfer that may still reach the ring: those in flight or completed
  // (up to transfer_size each) and the payload parked in slots.
  uint64_t room = consumer_room;
  if (config_.rearm_only_with_room) {
    uint64_t claimed = 0;
    for (uint8_t i = 0; i < config_.depth; ++i) {
      const Slot& s = slots_[i];
      claimed += s.state == SlotState::parked ? s.length
                 : s.state == SlotState::idle ? 0
                                              : config_.transfer_size;
    }
    room = room > claimed ? room - claimed : 0;
  }
  uint8_t slot = next_submit_;
  for (uint8_t n = 0; n < config_.depth && idle_ > 0; ++n, slot = next_slot(slot)) {
    if (slots_[slot].state != SlotState::idle) {
      continue;
    }
    if (config_.rearm_only_with_room && room < config_.transfer_size) {
      break;
    }
    const Status status = io.submit_in(slot, slot_buffer(slot));
    if (status != Status::ok) {
      stopped_ = true;
      return status;
    }
    slots_[slot].state = SlotState::in_flight;
    slots_[slot].era = counter_.era();
    ++in_flight_;
    --idle_;
    stats_.max_in_flight = std::max<uint32_t>(stats_.max_in_flight, in_flight_);
    next_submit_ = next_slot(slot);
    if (config_.rearm_only_with_room) {
      room -= config_.transfer_size;
    }
  }
  return Status::ok;
}

InCompletion BulkInQueue::complete(uint8_t slot, Status status, uint32_t bytes) {
  InCompletion done;
  if (slot >= config_.depth || slots_[slot].state != SlotState::in_flight) {
    // A completion we did not ask for: the owner's bookkeeping is broken. Stop
    // rather than corrupt the stream.
    stopped_ = true;
    return done;
  }
  --in_flight_;
  const uint32_t length = std::min(bytes, config_.transfer_size);
  if (slots_[slot].flushed) {
    // Bytes from before an input flush: dropped, and the abort that ended the
    // transfer is the flush's own.
    done.action = status == Status::aborted ? PipeAction::proceed
                                            : counter_.count(status, slots_[slot].era, stats_);
    if (done.action == PipeAction::stop) {
      stopped_ = true;
    }
    stats_.bytes += length;
    stats_.discarded_bytes += length;
    make_idle(slot);
    return done;
  }
  done.action = counter_.count(status, slots_[slot].era, stats_);
  if (done.action == PipeAction::stop) {
    stopped_ = true;
  }
  stats_.bytes += length;
  if (status != Status::ok) {
    stats_.fault_bytes += length;
  }
  if (status == Status::ok || length > 0) {
    slots_[slot].state = SlotState::completed;
    slots_[slot].length = length;
    done.payload = slot_buffer(slot).first(length);
    done.completed = true;
  } else {
    make_idle(slot);
  }
  return done;
}

bool BulkInQueue::park(uint8_t slot, std::span<const uint8_t> payload) {
  if (slot >= config_.depth || slots_[slot].state != SlotState::completed) {
    return payload.empty();
  }
  const std::span<uint8_t> buffer = slot_buffer(slot);
  const uint8_t* begin = buffer.data();
  if (payload.empty()) {
    make_idle(slot);
    return true;
  }
  if (payload.data() < begin || payload.data() + payload.size() > begin + buffer.size()) {
    stats_.discarded_bytes += payload.size();
    make_idle(slot);
    return false;
  }
  slots_[slot].state = SlotState::parked;
  slots_[slot].offset = static_cast<uint32_t>(payload.data() - begin);
  slots_[slot].length = static_cast<uint32_t>(payload.size());
  parked_order_[(parked_head_ + parked_count_) % kMaxDepth] = slot;
  ++parked_count_;
  return true;
}

void BulkInQueue::release(uint8_t slot) {
  if (slot < config_.depth && slots_[slot].state == SlotState::completed) {
    make_idle(slot);
  }
}

void BulkInQueue::drop(uint8_t slot) {
  if (slot < config_.depth && slots_[slot].state == SlotState::completed) {
    stats_.discarded_bytes += slots_[slot].length;
    make_idle(slot);
  }
}

uint32_t BulkInQueue::drain_into(uint32_t (*write)(void*, std::span<const uint8_t>), void* ring) {
  uint32_t moved = 0;
  while (parked_count_ > 0) {
    const uint8_t slot = parked_order_[parked_head_];
    Slot& s = slots_[slot];
    const uint32_t n = write(ring, slot_buffer(slot).subspan(s.offset, s.length));
    moved += n;
    s.offset += n;
    s.length -= n;
    if (s.length != 0) {
      break;  // ring full: the rest waits here
    }
    parked_head_ = static_cast<uint8_t>((parked_head_ + 1) % kMaxDepth);
    --parked_count_;
    make_idle(slot);
  }
  return moved;
}

uint32_t BulkInQueue::parked_bytes() const {
  uint32_t total = 0;
  for (uint8_t i = 0; i < parked_count_; ++i) {
    total += slots_[parked_order_[(parked_head_ + i) % kMaxDepth]].length;
  }
  return total;
}

uint32_t BulkInQueue::discard_parked() {
  const uint32_t dropped = parked_bytes();
  while (parked_count_ > 0) {
    make_idle(parked_order_[parked_head_]);
    parked_head_ = static_cast<uint8_t>((parked_head_ + 1) % kMaxDepth);
    --parked_count_;
  }
  stats_.discarded_bytes += dropped;
  return dropped;
}

uint8_t BulkInQueue::discard_in_flight() {
  uint8_t marked = 0;
  for (uint8_t i = 0; i < config_.depth; ++i) {
    if (slots_[i].state == SlotState::in_flight) {
      slots_[i].flushed = true;
      ++marked;
    }
  }
  return marked;
}

void BulkInQueue::make_idle(uint8_t slot) {
  if (slots_[slot].state != SlotState::idle) {
    ++idle_;
  }
  slots_[slot] = Slot{};
}

// --------------------------------------------------------------- BulkOutQueue

Status BulkOutQueue::configure(std::span<uint8_t> storage) {
  *this = BulkOutQueue{};
  if (storage.empty() || storage.size() > UINT32_MAX) {
    return Status::invalid_argument;
  }
  uint8_t* const buffer = storage.data();
  return configure(std::span<uint8_t* const>(&buffer, 1), static_cast<uint32_t>(storage.size()));
}

Status BulkOutQueue::configure(std::span<uint8_t* const> slot_buffers, uint32_t slot_size) {
  *this = BulkOutQueue{};
  if (slot_buffers.empty() || slot_buffers.size() > kMaxDepth || slot_size == 0) {
    return Status::invalid_argument;
  }
  for (size_t i = 0; i < slot_buffers.size(); ++i) {
    if (slot_buffers[i] == nullptr) {
      return Status::invalid_argument;
    }
    buffers_[i] = slot_buffers[i];
  }
  depth_ = static_cast<uint8_t>(slot_buffers.size());
  slot_size_ = slot_size;
  stopped_ = false;
  return Status::ok;
}

uint32_t BulkOutQueue::pending() const {
  uint32_t total = 0;
  for (uint8_t p = 0; p < used_; ++p) {
    const Slot& s = slots_[slot_at(p)];
    total += s.length - s.sent;
  }
  return total;
}

Status BulkOutQueue::submit(OutPipeIo& io, uint8_t slot) {
  Slot& s = slots_[slot];
  if (s.sent != 0) {
    // What a partial or failed transfer left moves to the front: every
    // transfer starts at its buffer's first byte.
    std::memmove(buffers_[slot], buffers_[slot] + s.sent, s.length - s.sent);
    s.length -= s.sent;
    s.sent = 0;
  }
  const Status status = io.submit_out(slot, {buffers_[slot], s.length});
  if (status == Status::ok) {
    s.in_flight = true;
    s.era = counter_.era();
    ++in_flight_;
    stats_.max_in_flight = std::max<uint32_t>(stats_.max_in_flight, in_flight_);
  }
  return status;
}

void BulkOutQueue::free_finished() {
  while (used_ > 0 && !slots_[head_].in_flight && slots_[head_].sent == slots_[head_].length) {
    slots_[head_] = Slot{};
    head_ = static_cast<uint8_t>((head_ + 1) % depth_);
    --used_;
  }
}

uint32_t BulkOutQueue::drop_idle() {
  uint32_t dropped = 0;
  for (uint8_t p = 0; p < used_; ++p) {
    Slot& s = slots_[slot_at(p)];
    if (s.in_flight) {
      s.discard_on_completion = true;
    } else {
      dropped += s.length - s.sent;
      s.sent = s.length;
    }
  }
  free_finished();
  stats_.discarded_bytes += dropped;
  return dropped;
}

uint32_t BulkOutQueue::pump_from(OutPipeIo& io, uint32_t (*read)(void*, std::span<uint8_t>),
                                 void* ring) {
  if (stopped_ || counter_.backing_off()) {
    return 0;
  }
  bool resend = false;
  for (uint8_t p = 0; p < used_; ++p) {
    const Slot& s = slots_[slot_at(p)];
    resend = resend || (!s.in_flight && s.sent < s.length);
  }
  if (resend) {
    if (in_flight_ > 0) {
      return 0;  // the rest goes only after everything sent before it
    }
    for (uint8_t p = 0; p < used_; ++p) {
      const uint8_t slot = slot_at(p);
      const uint32_t rest = slots_[slot].length - slots_[slot].sent;
      if (rest == 0) {
        continue;
      }
      if (submit(io, slot) != Status::ok) {
        stopped_ = true;
        drop_idle();
        return 0;
      }
      stats_.fault_bytes += rest;
    }
  }
  uint32_t taken = 0;
  while (used_ < depth_) {
    const uint8_t slot = slot_at(used_);
    const uint32_t n = read(ring, {buffers_[slot], slot_size_});
    if (n == 0) {
      break;
    }
    taken += n;
    slots_[slot] = Slot{n, 0, false, false};
    ++used_;
    if (submit(io, slot) != Status::ok) {
      stopped_ = true;
      drop_idle();
      break;
    }
  }
  return taken;
}

PipeAction BulkOutQueue::complete(Status status, uint32_t bytes) {
  uint8_t slot = 0;
  bool found = false;
  for (uint8_t p = 0; p < used_ && !found; ++p) {
    slot = slot_at(p);
    found = slots_[slot].in_flight;
  }
  if (!found) {
    stopped_ = true;
    return PipeAction::stop;
  }
  Slot& s = slots_[slot];
  s.in_flight = false;
  --in_flight_;
  const uint32_t accepted = std::min(bytes, s.length - s.sent);
  s.sent += accepted;
  stats_.bytes += accepted;
  // A device that "completes" an OUT transfer without taking a byte would be
  // resubmitted forever; it is an error like any other, and backs off.
  if (status == Status::ok && accepted == 0 && s.sent < s.length) {
    status = Status::short_transfer;
  }
  const PipeAction action = counter_.count(status, s.era, stats_);
  if (s.discard_on_completion) {
    stats_.discarded_bytes += s.length - s.sent;
    s.sent = s.length;
    s.discard_on_completion = false;
  }
  if (action == PipeAction::stop) {
    stopped_ = true;
  }
  // A stopped queue keeps nothing it has not sent.
  if (action == PipeAction::stop) {
    drop_idle();
  } else {
    free_finished();
  }
  return action;
}

uint32_t BulkOutQueue::discard() {
  return drop_idle();
}

}  // namespace transport
