// BulkInQueue / BulkOutQueue against scripted pipe fakes: in-flight depth,
// Apple's re-arm-only-with-room mode, the completion-status action table,
// parking and ordered draining, the bytes of failed IN transfers delivered,
// one halt counted once however many transfers it fails, recoveries, back-off,
// the consecutive-error limit, stop, partial OUT transfers and purges, several
// OUT transfers in flight and their order after a failure. Expected actions
// come from the table in bulk_pipeline.hpp (after Linux cdc-acm's
// acm_read_bulk_callback).
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "transport/bulk_pipeline.hpp"
#include "transport/ring.hpp"
#include "transport/serial_queue.hpp"

namespace {

using transport::BulkInQueue;
using transport::BulkOutQueue;
using transport::InCompletion;
using transport::InQueueConfig;
using transport::PipeAction;
using transport::SpscRing;
using transport::Status;

// Every Status, so no table below can miss one.
constexpr Status kAllStatuses[] = {
    Status::ok,       Status::unsupported,    Status::invalid_argument, Status::baud_unreachable,
    Status::stall,    Status::timeout,        Status::no_device,        Status::aborted,
    Status::overflow, Status::short_transfer, Status::malformed,        Status::busy,
    Status::no_space, Status::not_open,       Status::io_error,
};
static_assert(std::size(kAllStatuses) == transport::kStatusCount);

// ------------------------------------------------------------ fakes

class FakeInIo final : public transport::InPipeIo {
 public:
  struct Submission {
    uint8_t slot;
    uint8_t* data;
    size_t size;
  };
  Status submit_in(uint8_t slot, std::span<uint8_t> buffer) override {
    ++attempts;
    if (fail_at != 0 && attempts == fail_at) {
      return fail_with;
    }
    submissions.push_back({slot, buffer.data(), buffer.size()});
    return Status::ok;
  }
  std::vector<uint8_t> slots() const {
    std::vector<uint8_t> out;
    for (const Submission& s : submissions) {
      out.push_back(s.slot);
    }
    return out;
  }
  std::vector<Submission> submissions;
  unsigned attempts = 0;
  unsigned fail_at = 0;  // 1-based attempt that fails; 0 = never
  Status fail_with = Status::no_device;
};

class FakeOutIo final : public transport::OutPipeIo {
 public:
  Status submit_out(uint8_t slot, std::span<const uint8_t> data) override {
    ++attempts;
    if (fail_at != 0 && attempts == fail_at) {
      return fail_with;
    }
    slots.push_back(slot);
    pointers.push_back(data.data());
    transfers.emplace_back(data.begin(), data.end());
    return Status::ok;
  }
  std::vector<std::vector<uint8_t>> transfers;
  std::vector<uint8_t> slots;
  std::vector<const uint8_t*> pointers;
  unsigned attempts = 0;
  unsigned fail_at = 0;
  Status fail_with = Status::no_device;
};

std::vector<uint8_t> sequence(size_t n, uint8_t first) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) {
    bytes[i] = static_cast<uint8_t>(first + i);
  }
  return bytes;
}

std::vector<uint8_t> concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) {
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::vector<uint8_t> read_all(SpscRing& ring) {
  std::vector<uint8_t> out(ring.size());
  EXPECT_EQ(ring.read(out), out.size());
  return out;
}

// Slot buffers plus a queue configured over them.
class InFixture : public ::testing::Test {
 protected:
  // depth slots of transfer_size bytes; a guard byte after each catches overruns.
  Status setup(uint8_t depth, uint32_t transfer_size, uint16_t max_packet = 8, bool rearm = false) {
    storage_.assign(static_cast<size_t>(depth) * (transfer_size + 1), 0xCC);
    pointers_.clear();
    for (uint8_t i = 0; i < depth; ++i) {
      pointers_.push_back(storage_.data() + static_cast<size_t>(i) * (transfer_size + 1));
    }
    config_ = InQueueConfig{depth, transfer_size, rearm};
    return queue_.configure(config_, max_packet, pointers_);
  }

  // Completes `slot` with `status` after the device "wrote" `bytes` into it.
  InCompletion arrive(uint8_t slot, Status status, const std::vector<uint8_t>& bytes) {
    std::copy(bytes.begin(), bytes.end(), pointers_[slot]);
    return queue_.complete(slot, status, static_cast<uint32_t>(bytes.size()));
  }

  // Completes `slot` with ok after the device "wrote" `bytes` into it.
  std::span<uint8_t> receive(uint8_t slot, const std::vector<uint8_t>& bytes) {
    const InCompletion done = arrive(slot, Status::ok, bytes);
    EXPECT_EQ(done.action, PipeAction::proceed);
    EXPECT_TRUE(done.completed);
    return done.payload;
  }

  void receive_and_park(uint8_t slot, const std::vector<uint8_t>& bytes) {
    const std::span<uint8_t> payload = receive(slot, bytes);
    EXPECT_TRUE(queue_.park(slot, payload));
  }

  // A failed transfer that carried nothing: the slot is free at once.
  PipeAction fail(uint8_t slot, Status status) {
    const InCompletion done = queue_.complete(slot, status, 0);
    EXPECT_TRUE(done.payload.empty());
    EXPECT_FALSE(done.completed);
    return done.action;
  }

  void expect_guards_intact() {
    for (size_t i = 0; i < pointers_.size(); ++i) {
      EXPECT_EQ(pointers_[i][config_.transfer_size], 0xCC) << "slot " << i;
    }
  }

  std::vector<uint8_t> storage_;
  std::vector<uint8_t*> pointers_;
  InQueueConfig config_{};
  BulkInQueue queue_;
  FakeInIo io_;
};

// ------------------------------------------------------------ action table

TEST(ActionFor, EveryStatus) {
  struct Case {
    Status status;
    PipeAction action;
  };
  constexpr Case kCases[] = {
      {Status::ok, PipeAction::proceed},
      {Status::stall, PipeAction::clear_stall},
      {Status::timeout, PipeAction::back_off},
      {Status::overflow, PipeAction::back_off},
      {Status::io_error, PipeAction::back_off},
      {Status::short_transfer, PipeAction::back_off},
      {Status::malformed, PipeAction::back_off},
      {Status::busy, PipeAction::back_off},
      {Status::no_space, PipeAction::back_off},
      {Status::aborted, PipeAction::stop},
      {Status::no_device, PipeAction::stop},
      {Status::unsupported, PipeAction::stop},
      {Status::invalid_argument, PipeAction::stop},
      {Status::baud_unreachable, PipeAction::stop},
      {Status::not_open, PipeAction::stop},
  };
  ASSERT_EQ(std::size(kCases), static_cast<size_t>(transport::kStatusCount));
  for (const Case& c : kCases) {
    EXPECT_EQ(transport::action_for(c.status), c.action) << transport::to_string(c.status);
  }
  EXPECT_EQ(transport::action_for(static_cast<Status>(99)), PipeAction::stop);
}

TEST(ActionFor, Names) {
  EXPECT_STREQ(transport::to_string(PipeAction::proceed), "proceed");
  EXPECT_STREQ(transport::to_string(PipeAction::clear_stall), "clear_stall");
  EXPECT_STREQ(transport::to_string(PipeAction::back_off), "back_off");
  EXPECT_STREQ(transport::to_string(PipeAction::stop), "stop");
  EXPECT_STREQ(transport::to_string(static_cast<PipeAction>(9)), "unknown");
}

// ------------------------------------------------------------ IN: configure

TEST_F(InFixture, ConfigureAcceptsValidShapes) {
  EXPECT_EQ(setup(1, 8), Status::ok);
  EXPECT_EQ(setup(BulkInQueue::kMaxDepth, 64, 64), Status::ok);
  EXPECT_EQ(setup(4, 512 * 4, 512), Status::ok);
  EXPECT_FALSE(queue_.stopped());
  EXPECT_EQ(queue_.config().depth, 4);
  EXPECT_EQ(queue_.config().transfer_size, 2048u);
}

TEST_F(InFixture, ConfigureRejections) {
  EXPECT_EQ(setup(0, 8), Status::invalid_argument);
  EXPECT_EQ(setup(BulkInQueue::kMaxDepth + 1, 8), Status::invalid_argument);
  EXPECT_EQ(setup(2, 8, /*max_packet=*/0), Status::invalid_argument);
  EXPECT_EQ(setup(2, 0), Status::invalid_argument);
  EXPECT_EQ(setup(2, 12, 8), Status::invalid_argument);  // not a multiple of wMaxPacketSize
  EXPECT_EQ(setup(2, 4, 8), Status::invalid_argument);   // smaller than one packet
}

TEST_F(InFixture, ConfigureRejectsBufferListThatDoesNotMatchDepth) {
  std::vector<uint8_t> a(8), b(8), c(8);
  std::vector<uint8_t*> two = {a.data(), b.data()};
  std::vector<uint8_t*> three = {a.data(), b.data(), c.data()};
  std::vector<uint8_t*> with_null = {a.data(), nullptr, c.data()};
  EXPECT_EQ(queue_.configure({3, 8, false}, 8, two), Status::invalid_argument);
  EXPECT_EQ(queue_.configure({2, 8, false}, 8, three), Status::invalid_argument);
  EXPECT_EQ(queue_.configure({3, 8, false}, 8, with_null), Status::invalid_argument);
  EXPECT_EQ(queue_.configure({3, 8, false}, 8, {}), Status::invalid_argument);
}

TEST_F(InFixture, RejectedConfigurationSubmitsNothing) {
  ASSERT_EQ(setup(2, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  ASSERT_EQ(io_.submissions.size(), 2u);
  // A bad reconfiguration resets everything and leaves the queue stopped.
  EXPECT_EQ(setup(2, 7), Status::invalid_argument);
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.in_flight(), 0);
  EXPECT_EQ(queue_.pump(io_, 1u << 20), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
}

TEST(BulkInQueueFresh, UnconfiguredQueueDoesNothing) {
  BulkInQueue queue;
  FakeInIo io;
  EXPECT_TRUE(queue.stopped());
  EXPECT_EQ(queue.pump(io, 1u << 20), Status::ok);
  EXPECT_TRUE(io.submissions.empty());
  const InCompletion done = queue.complete(0, Status::ok, 8);
  EXPECT_EQ(done.action, PipeAction::stop);
  EXPECT_FALSE(done.completed);
  EXPECT_TRUE(done.payload.empty());
  SpscRing ring;
  EXPECT_EQ(queue.drain(ring), 0u);
  EXPECT_EQ(queue.parked_bytes(), 0u);
}

// ------------------------------------------------------------ IN: depth

TEST_F(InFixture, PumpFillsEverySlotWithItsOwnBuffer) {
  ASSERT_EQ(setup(4, 16), Status::ok);
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);  // room is ignored outside Apple mode
  ASSERT_EQ(io_.submissions.size(), 4u);
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_EQ(io_.submissions[i].slot, i);
    EXPECT_EQ(io_.submissions[i].data, pointers_[i]);
    EXPECT_EQ(io_.submissions[i].size, 16u);
  }
  EXPECT_EQ(queue_.in_flight(), 4);
  EXPECT_EQ(queue_.stats().max_in_flight, 4u);
  // Nothing idle: a second pump submits nothing.
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 4u);
}

TEST_F(InFixture, DepthIsKeptFullInSubmissionOrder) {
  ASSERT_EQ(setup(3, 8), Status::ok);
  SpscRing ring;
  std::vector<uint8_t> ring_storage(256);
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  std::vector<uint8_t> expected;
  // Completions arrive in submission order; each freed slot is re-armed at once.
  for (int round = 0; round < 9; ++round) {
    const uint8_t slot = static_cast<uint8_t>(round % 3);
    const std::vector<uint8_t> bytes =
        sequence(static_cast<size_t>(1 + round % 8), static_cast<uint8_t>(round * 16));
    receive_and_park(slot, bytes);
    expected.insert(expected.end(), bytes.begin(), bytes.end());
    EXPECT_EQ(queue_.drain(ring), bytes.size());
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    EXPECT_EQ(queue_.in_flight(), 3);
  }
  EXPECT_EQ(io_.slots(), (std::vector<uint8_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(read_all(ring), expected);
  EXPECT_EQ(queue_.stats().transfers, 9u);
  EXPECT_EQ(queue_.stats().bytes, expected.size());
  expect_guards_intact();
}

TEST_F(InFixture, ReleasedSlotIsReArmedAfterTheOthers) {
  ASSERT_EQ(setup(4, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive(0, sequence(8, 0));
  queue_.release(0);
  receive(1, sequence(8, 0));
  queue_.release(1);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.slots(), (std::vector<uint8_t>{0, 1, 2, 3, 0, 1}));
  EXPECT_EQ(queue_.in_flight(), 4);
}

TEST_F(InFixture, SubmitErrorStopsTheQueue) {
  ASSERT_EQ(setup(4, 8), Status::ok);
  io_.fail_at = 3;
  io_.fail_with = Status::no_device;
  EXPECT_EQ(queue_.pump(io_, 0), Status::no_device);
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.in_flight(), 2);
  EXPECT_EQ(io_.submissions.size(), 2u);
  // The two in flight still complete and deliver.
  EXPECT_EQ(receive(0, sequence(4, 1)).size(), 4u);
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
}

// ------------------------------------------------------------ IN: Apple mode

TEST_F(InFixture, AppleModeArmsOnlyWithRoom) {
  ASSERT_EQ(setup(1, 64, 64, /*rearm=*/true), Status::ok);
  EXPECT_EQ(queue_.pump(io_, 63), Status::ok);
  EXPECT_TRUE(io_.submissions.empty());
  EXPECT_EQ(queue_.pump(io_, 64), Status::ok);
  ASSERT_EQ(io_.submissions.size(), 1u);
  EXPECT_EQ(io_.submissions[0].size, 64u);

  std::vector<uint8_t> ring_storage(128);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(ring.write(std::vector<uint8_t>(70, 0)), 70u);  // the reader is slow
  receive_and_park(0, sequence(64, 0));
  EXPECT_EQ(queue_.drain(ring), 58u);  // what fits; 6 bytes wait in the slot
  EXPECT_EQ(queue_.parked_bytes(), 6u);
  // Not re-armed while the payload is parked, whatever room is claimed.
  EXPECT_EQ(queue_.pump(io_, 1000), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 1u);
  std::vector<uint8_t> out(100);
  ASSERT_EQ(ring.read(out), 100u);
  EXPECT_EQ(queue_.drain(ring), 6u);
  EXPECT_EQ(ring.free_space(), 94u);
  // A 64-byte read needs 64 bytes of room.
  EXPECT_EQ(queue_.pump(io_, ring.free_space()), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
}

TEST_F(InFixture, AppleModeStopsAtTheRoomForDeeperQueues) {
  ASSERT_EQ(setup(3, 16, 16, /*rearm=*/true), Status::ok);
  EXPECT_EQ(queue_.pump(io_, 47), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);  // 2 x 16 fit in 47, a third does not
  EXPECT_EQ(queue_.in_flight(), 2);
}

TEST_F(InFixture, AppleModeCountsTransfersStillInFlight) {
  // Two 16-byte reads into a ring of 32: after the first lands, the ring has
  // 16 bytes free, but they belong to the read still in flight.
  ASSERT_EQ(setup(2, 16, 16, /*rearm=*/true), Status::ok);
  std::vector<uint8_t> ring_storage(32);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, ring.free_space()), Status::ok);
  ASSERT_EQ(io_.submissions.size(), 2u);

  receive_and_park(0, sequence(16, 0));
  EXPECT_EQ(queue_.drain(ring), 16u);
  EXPECT_EQ(queue_.pump(io_, ring.free_space()), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u) << "slot 0 re-armed into room promised to slot 1";

  receive_and_park(1, sequence(16, 16));
  EXPECT_EQ(queue_.drain(ring), 16u);
  EXPECT_EQ(queue_.parked_bytes(), 0u);  // nothing ever had to wait
  std::vector<uint8_t> out(16);
  ASSERT_EQ(ring.read(out), 16u);
  EXPECT_EQ(queue_.pump(io_, ring.free_space()), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 3u);
}

TEST_F(InFixture, AppleModeCountsParkedAndCompletedPayload) {
  ASSERT_EQ(setup(3, 16, 16, /*rearm=*/true), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 48), Status::ok);
  ASSERT_EQ(io_.submissions.size(), 3u);
  receive_and_park(0, sequence(10, 0));  // parked, not drained yet
  receive(1, sequence(4, 0x20));
  queue_.release(1);  // slot 1 idle; slot 2 still in flight
  // Claimed: 10 parked + 16 in flight = 26. 41 bytes leave 15: too few.
  EXPECT_EQ(queue_.pump(io_, 41), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 3u);
  EXPECT_EQ(queue_.pump(io_, 42), Status::ok);
  ASSERT_EQ(io_.submissions.size(), 4u);
  EXPECT_EQ(io_.submissions[3].slot, 1);
}

// ------------------------------------------------------------ IN: completions

TEST_F(InFixture, CompletionStatusTable) {
  for (const Status s : kAllStatuses) {
    ASSERT_EQ(setup(2, 8), Status::ok);
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    const InCompletion done = queue_.complete(0, s, 5);
    EXPECT_EQ(done.action, transport::action_for(s)) << transport::to_string(s);
    EXPECT_EQ(queue_.in_flight(), 1) << transport::to_string(s);
    // Whatever the status, the 5 bytes that arrived are the owner's.
    EXPECT_TRUE(done.completed) << transport::to_string(s);
    EXPECT_EQ(done.payload.data(), pointers_[0]) << transport::to_string(s);
    EXPECT_EQ(done.payload.size(), 5u) << transport::to_string(s);
    const transport::PipeStats& st = queue_.stats();
    EXPECT_EQ(st.bytes, 5u) << transport::to_string(s);
    EXPECT_EQ(st.fault_bytes, s == Status::ok ? 0u : 5u) << transport::to_string(s);
    EXPECT_EQ(st.discarded_bytes, 0u) << transport::to_string(s);
    EXPECT_EQ(st.babbles, s == Status::overflow ? 1u : 0u) << transport::to_string(s);
    switch (done.action) {
      case PipeAction::proceed:
        EXPECT_EQ(st.transfers, 1u);
        break;
      case PipeAction::clear_stall:
        EXPECT_EQ(st.stalls, 1u);
        EXPECT_EQ(st.transfers, 0u);
        EXPECT_FALSE(queue_.backing_off());
        EXPECT_FALSE(queue_.stopped());
        break;
      case PipeAction::back_off:
        EXPECT_EQ(st.errors, 1u);
        EXPECT_EQ(st.transfers, 0u);
        EXPECT_TRUE(queue_.backing_off());
        EXPECT_FALSE(queue_.stopped());
        break;
      case PipeAction::stop:
        EXPECT_TRUE(queue_.stopped()) << transport::to_string(s);
        break;
    }
  }
}

TEST_F(InFixture, AFailedTransferWithNoBytesFreesItsSlot) {
  for (const Status s : kAllStatuses) {
    if (s == Status::ok) {
      continue;
    }
    ASSERT_EQ(setup(1, 8), Status::ok);
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    (void)fail(0, s);
    queue_.end_back_off();
    if (!queue_.stopped()) {
      ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
      EXPECT_EQ(queue_.in_flight(), 1) << transport::to_string(s);
    }
  }
}

// The bytes a transfer carried before a stall, a babble or an unplug are the
// device's data: they reach the ring in order with what came before and after.
TEST_F(InFixture, BytesOfAFailedTransferAreDeliveredInOrder) {
  for (const Status s : {Status::stall, Status::overflow, Status::timeout, Status::no_device}) {
    ASSERT_EQ(setup(3, 8), Status::ok);
    std::vector<uint8_t> ring_storage(64);
    SpscRing ring;
    ASSERT_TRUE(ring.attach(ring_storage));
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    receive_and_park(0, sequence(8, 0x00));
    const InCompletion cut = arrive(1, s, sequence(6, 0x08));  // a packet and a half, say
    ASSERT_TRUE(cut.completed) << transport::to_string(s);
    ASSERT_EQ(cut.payload.size(), 6u);
    EXPECT_TRUE(queue_.park(1, cut.payload));
    if (cut.action == PipeAction::back_off) {
      queue_.end_back_off();
    }
    if (!queue_.stopped()) {
      receive_and_park(2, sequence(4, 0x0E));
    }
    EXPECT_GT(queue_.drain(ring), 0u);
    const std::vector<uint8_t> expected = queue_.stopped() ? sequence(14, 0) : sequence(18, 0);
    EXPECT_EQ(read_all(ring), expected) << transport::to_string(s);
    EXPECT_EQ(queue_.stats().fault_bytes, 6u);
    EXPECT_EQ(queue_.stats().discarded_bytes, 0u);
  }
}

TEST_F(InFixture, DropFreesACompletedSlotAndCountsItsBytes) {
  ASSERT_EQ(setup(2, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  const InCompletion cut = arrive(0, Status::stall, sequence(7, 0));
  ASSERT_TRUE(cut.completed);
  queue_.drop(0);
  EXPECT_EQ(queue_.stats().discarded_bytes, 7u);
  EXPECT_EQ(queue_.parked_bytes(), 0u);
  queue_.drop(0);  // no longer completed: nothing more
  queue_.drop(1);  // in flight: untouched
  EXPECT_EQ(queue_.stats().discarded_bytes, 7u);
  EXPECT_EQ(queue_.in_flight(), 1);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.in_flight(), 2);
}

// A halt fails every transfer queued on the pipe (assumption 12): the first
// completion asks for one ClearStall; the others, and transfers aborted by
// that ClearStall should a Mac do so, are the same halt and are re-armed.
TEST_F(InFixture, OneHaltIsOneStallHoweverManyTransfersItFails) {
  ASSERT_EQ(setup(4, 8), Status::ok);
  std::vector<uint8_t> ring_storage(64);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  const InCompletion first = arrive(0, Status::stall, sequence(8, 0));
  EXPECT_EQ(first.action, PipeAction::clear_stall);
  EXPECT_TRUE(queue_.park(0, first.payload));
  EXPECT_EQ(queue_.drain(ring), 8u);
  // The owner cleared the halt and pumped: slot 0 goes out in the new era.
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(1, Status::stall), PipeAction::proceed);
  EXPECT_EQ(fail(2, Status::aborted), PipeAction::proceed);
  EXPECT_EQ(fail(3, Status::stall), PipeAction::proceed);
  EXPECT_FALSE(queue_.stopped());
  EXPECT_EQ(queue_.stats().stalls, 1u);
  EXPECT_EQ(queue_.stats().transfers, 0u);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.in_flight(), 4);
  // A stall of a transfer submitted after the clear is a new halt.
  EXPECT_EQ(fail(0, Status::stall), PipeAction::clear_stall);
  EXPECT_EQ(queue_.stats().stalls, 2u);
  // And an abort of one submitted since then stops the pipe (the owner's Abort).
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(0, Status::aborted), PipeAction::stop);
  EXPECT_EQ(read_all(ring), sequence(8, 0));
}

TEST_F(InFixture, AnOkCompletionAfterAFaultIsARecovery) {
  ASSERT_EQ(setup(1, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive(0, sequence(2, 0));
  queue_.release(0);
  EXPECT_EQ(queue_.stats().recoveries, 0u);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(0, Status::stall), PipeAction::clear_stall);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(0, Status::timeout), PipeAction::back_off);
  queue_.end_back_off();
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive(0, sequence(2, 0));  // one recovery for the stall and the error before it
  queue_.release(0);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive(0, sequence(2, 0));
  queue_.release(0);
  EXPECT_EQ(queue_.stats().recoveries, 1u);
  EXPECT_EQ(queue_.stats().transfers, 3u);
}

TEST_F(InFixture, StallRearmsAfterClearing) {
  ASSERT_EQ(setup(2, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(0, Status::stall), PipeAction::clear_stall);
  // The owner clears the halt, then pumps: the slot goes out again.
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.slots(), (std::vector<uint8_t>{0, 1, 0}));
}

TEST_F(InFixture, BackOffSubmitsNothingUntilItEnds) {
  ASSERT_EQ(setup(2, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(0, Status::timeout), PipeAction::back_off);
  EXPECT_TRUE(queue_.backing_off());
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
  // The other transfer may still complete normally during the back-off.
  EXPECT_EQ(receive(1, sequence(3, 0)).size(), 3u);
  queue_.release(1);
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
  queue_.end_back_off();
  EXPECT_FALSE(queue_.backing_off());
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.slots(), (std::vector<uint8_t>{0, 1, 0, 1}));
}

TEST_F(InFixture, ConsecutiveErrorLimitStops) {
  ASSERT_EQ(setup(1, 8), Status::ok);
  for (uint32_t i = 1; i < transport::kMaxConsecutiveErrors; ++i) {
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    ASSERT_EQ(fail(0, Status::io_error), PipeAction::back_off) << i;
    queue_.end_back_off();
  }
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(fail(0, Status::overflow), PipeAction::stop);  // the 16th in a row
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.stats().errors, transport::kMaxConsecutiveErrors);
  queue_.end_back_off();
  const size_t before = io_.submissions.size();
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), before);
}

TEST_F(InFixture, SuccessResetsTheErrorCount) {
  ASSERT_EQ(setup(1, 8), Status::ok);
  for (int block = 0; block < 3; ++block) {
    for (uint32_t i = 1; i < transport::kMaxConsecutiveErrors; ++i) {
      ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
      ASSERT_EQ(fail(0, Status::timeout), PipeAction::back_off);
      queue_.end_back_off();
    }
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    receive(0, sequence(1, 0));
    queue_.release(0);
  }
  EXPECT_FALSE(queue_.stopped());
}

TEST_F(InFixture, StallsDoNotCountAsErrors) {
  ASSERT_EQ(setup(1, 8), Status::ok);
  for (uint32_t i = 0; i < 2 * transport::kMaxConsecutiveErrors; ++i) {
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    ASSERT_EQ(fail(0, Status::stall), PipeAction::clear_stall);
  }
  EXPECT_FALSE(queue_.stopped());
  EXPECT_EQ(queue_.stats().stalls, 2 * transport::kMaxConsecutiveErrors);
  EXPECT_EQ(queue_.stats().errors, 0u);
}

TEST_F(InFixture, StopLetsInFlightTransfersFinish) {
  ASSERT_EQ(setup(3, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  queue_.stop();
  EXPECT_TRUE(queue_.stopped());
  std::vector<uint8_t> ring_storage(64);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  receive_and_park(0, sequence(5, 1));  // data already on its way is still delivered
  EXPECT_EQ(queue_.drain(ring), 5u);
  EXPECT_EQ(fail(1, Status::aborted), PipeAction::stop);  // the owner's Abort()
  EXPECT_EQ(fail(2, Status::aborted), PipeAction::stop);
  EXPECT_EQ(queue_.in_flight(), 0);
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 3u);
  EXPECT_EQ(read_all(ring), sequence(5, 1));
}

TEST_F(InFixture, AbortedAndUnpluggedStop) {
  for (const Status s : {Status::aborted, Status::no_device}) {
    ASSERT_EQ(setup(2, 8), Status::ok);
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    EXPECT_EQ(fail(1, s), PipeAction::stop);
    EXPECT_TRUE(queue_.stopped());
    EXPECT_FALSE(queue_.backing_off());
  }
}

TEST_F(InFixture, CompletionForASlotNotInFlight) {
  auto expect_refused = [](const InCompletion& done) {
    EXPECT_EQ(done.action, PipeAction::stop);
    EXPECT_FALSE(done.completed);
    EXPECT_TRUE(done.payload.empty());
  };
  ASSERT_EQ(setup(2, 8), Status::ok);
  // Idle slot (never submitted).
  expect_refused(queue_.complete(0, Status::ok, 8));
  EXPECT_TRUE(queue_.stopped());

  // Slot index beyond the depth, and one completed twice.
  for (const uint8_t slot : {uint8_t{2}, uint8_t{31}, uint8_t{32}, uint8_t{255}}) {
    ASSERT_EQ(setup(2, 8), Status::ok);
    ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
    expect_refused(queue_.complete(slot, Status::ok, 8));
    EXPECT_TRUE(queue_.stopped());
    EXPECT_EQ(queue_.in_flight(), 2);
  }
  ASSERT_EQ(setup(2, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive(0, sequence(8, 0));
  expect_refused(queue_.complete(0, Status::ok, 8));
  EXPECT_EQ(queue_.in_flight(), 1);
  EXPECT_EQ(queue_.stats().transfers, 1u);
}

TEST_F(InFixture, OverlongCountIsClampedToTheBuffer) {
  ASSERT_EQ(setup(1, 16), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  const InCompletion done = queue_.complete(0, Status::ok, 1000);
  EXPECT_EQ(done.action, PipeAction::proceed);
  EXPECT_EQ(done.payload.data(), pointers_[0]);
  EXPECT_EQ(done.payload.size(), 16u);
  EXPECT_EQ(queue_.stats().bytes, 16u);
}

TEST_F(InFixture, ZeroLengthPacketFreesTheSlot) {
  ASSERT_EQ(setup(1, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  const std::span<uint8_t> payload = receive(0, {});
  EXPECT_TRUE(payload.empty());
  EXPECT_TRUE(queue_.park(0, payload));
  EXPECT_EQ(queue_.parked_bytes(), 0u);
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
}

// ------------------------------------------------------------ IN: parking

TEST_F(InFixture, FullRingParksAndDrainsOldestFirstWithoutLoss) {
  ASSERT_EQ(setup(4, 8), Status::ok);
  std::vector<uint8_t> ring_storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);

  const std::vector<uint8_t> a = sequence(8, 0x10), b = sequence(7, 0x20), c = sequence(8, 0x30),
                             d = sequence(6, 0x40);
  // Completion (and parking) order differs from slot order: 2, 0, 3, 1.
  receive_and_park(2, a);
  receive_and_park(0, b);
  receive_and_park(3, c);
  receive_and_park(1, d);
  EXPECT_EQ(queue_.parked_bytes(), 29u);
  EXPECT_EQ(queue_.drain(ring), 16u);  // a, b and one byte of c
  EXPECT_EQ(queue_.parked_bytes(), 13u);
  // Slots 2 and 0 are free again; 3 and 1 still hold payload and are not re-armed.
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.slots(), (std::vector<uint8_t>{0, 1, 2, 3, 0, 2}));
  EXPECT_EQ(queue_.drain(ring), 0u);  // still full

  std::vector<uint8_t> got = read_all(ring);
  EXPECT_EQ(queue_.drain(ring), 13u);
  EXPECT_EQ(queue_.parked_bytes(), 0u);
  std::vector<uint8_t> rest = read_all(ring);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(got, concat({a, b, c, d}));
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.in_flight(), 4);
  expect_guards_intact();
}

TEST_F(InFixture, DepthFullOfParkedSlotsBackPressures) {
  ASSERT_EQ(setup(3, 8), Status::ok);
  std::vector<uint8_t> ring_storage(4);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  std::vector<uint8_t> sent;
  for (uint8_t slot = 0; slot < 3; ++slot) {
    const std::vector<uint8_t> bytes = sequence(8, static_cast<uint8_t>(slot * 8));
    receive_and_park(slot, bytes);
    sent.insert(sent.end(), bytes.begin(), bytes.end());
  }
  EXPECT_EQ(queue_.drain(ring), 4u);
  EXPECT_EQ(queue_.parked_bytes(), 20u);
  // Every slot still holds payload: nothing is submitted, the device is throttled.
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 3u);
  EXPECT_EQ(queue_.in_flight(), 0);
  std::vector<uint8_t> got;
  for (int i = 0; i < 100 && got.size() < sent.size(); ++i) {
    (void)queue_.drain(ring);
    const std::vector<uint8_t> chunk = read_all(ring);
    got.insert(got.end(), chunk.begin(), chunk.end());
  }
  EXPECT_EQ(got, sent);
}

TEST_F(InFixture, PayloadMovedInsideTheSlotIsWhatDrains) {
  // handleRxPacket may advance the packet pointer and shrink the size (e.g. to
  // skip FTDI's two status bytes): only that part is delivered.
  ASSERT_EQ(setup(2, 16), Status::ok);
  std::vector<uint8_t> ring_storage(64);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  const std::vector<uint8_t> wire = {0x01, 0x60, 'h', 'e', 'l', 'l', 'o'};
  std::span<uint8_t> payload = receive(0, wire);
  EXPECT_TRUE(queue_.park(0, payload.subspan(2)));
  // Payload rewritten in place somewhere in the middle of the buffer.
  std::span<uint8_t> second = receive(1, sequence(16, 0x70));
  EXPECT_TRUE(queue_.park(1, second.subspan(5, 3)));
  EXPECT_EQ(queue_.parked_bytes(), 8u);
  EXPECT_EQ(queue_.drain(ring), 8u);
  EXPECT_EQ(read_all(ring), (std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', 0x75, 0x76, 0x77}));
}

TEST_F(InFixture, ParkOutsideTheSlotDeliversNothingAndCountsTheLoss) {
  ASSERT_EQ(setup(2, 8), Status::ok);
  std::vector<uint8_t> ring_storage(64);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  std::span<uint8_t> p0 = receive(0, sequence(8, 0));
  std::span<uint8_t> p1 = receive(1, sequence(8, 0x40));
  std::vector<uint8_t> elsewhere(8, 0xEE);
  const uint64_t discarded_before = queue_.stats().discarded_bytes;
  EXPECT_FALSE(queue_.park(0, elsewhere));                   // not this slot's memory
  EXPECT_FALSE(queue_.park(1, {p1.data() + 4, size_t{5}}));  // runs one byte past the slot
  (void)p0;
  EXPECT_EQ(queue_.parked_bytes(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes - discarded_before, 8u + 5u);
  EXPECT_EQ(queue_.drain(ring), 0u);
  // Both slots were freed rather than left stuck.
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.in_flight(), 2);
}

TEST_F(InFixture, ParkAndReleaseIgnoreSlotsNotCompleted) {
  ASSERT_EQ(setup(2, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  // Slot 0 is in flight: neither call may free it.
  EXPECT_FALSE(queue_.park(0, {pointers_[0], 4}));
  queue_.release(0);
  EXPECT_FALSE(queue_.park(7, {pointers_[0], 4}));
  queue_.release(7);
  EXPECT_EQ(queue_.in_flight(), 2);
  EXPECT_EQ(queue_.parked_bytes(), 0u);
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
  // Its completion is still accepted afterwards.
  EXPECT_EQ(receive(0, sequence(4, 0)).size(), 4u);
}

TEST_F(InFixture, ReleaseFreesWithoutDelivering) {
  ASSERT_EQ(setup(1, 8), Status::ok);
  std::vector<uint8_t> ring_storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive(0, sequence(8, 0));
  queue_.release(0);
  EXPECT_EQ(queue_.drain(ring), 0u);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(io_.submissions.size(), 2u);
  // Releasing twice is harmless (the slot is in flight again).
  queue_.release(0);
  EXPECT_EQ(queue_.in_flight(), 1);
}

TEST_F(InFixture, DiscardInFlightDropsWhatThoseTransfersBring) {
  ASSERT_EQ(setup(3, 8), Status::ok);
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.discard_in_flight(), 3);
  // One completes with bytes from before the flush, one is aborted after
  // carrying some, one is aborted empty: nothing is delivered, nothing stops.
  InCompletion done = arrive(0, Status::ok, sequence(8, 0));
  EXPECT_FALSE(done.completed);
  EXPECT_TRUE(done.payload.empty());
  EXPECT_EQ(done.action, PipeAction::proceed);
  done = arrive(1, Status::aborted, sequence(3, 0x10));
  EXPECT_FALSE(done.completed);
  EXPECT_EQ(done.action, PipeAction::proceed);
  EXPECT_EQ(fail(2, Status::aborted), PipeAction::proceed);
  EXPECT_FALSE(queue_.stopped());
  EXPECT_EQ(queue_.stats().discarded_bytes, 11u);
  EXPECT_EQ(queue_.in_flight(), 0);
  // The slots re-arm, and what comes now is delivered.
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.in_flight(), 3);
  const std::span<uint8_t> payload = receive(0, sequence(5, 0x40));
  EXPECT_EQ(std::vector<uint8_t>(payload.begin(), payload.end()), sequence(5, 0x40));
  // An abort no flush asked for still stops the queue.
  EXPECT_EQ(fail(1, Status::aborted), PipeAction::stop);
  EXPECT_TRUE(queue_.stopped());
}

TEST_F(InFixture, DiscardParkedDropsEverythingWaiting) {
  ASSERT_EQ(setup(3, 8), Status::ok);
  std::vector<uint8_t> ring_storage(4);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(queue_.pump(io_, 0), Status::ok);
  receive_and_park(0, sequence(8, 0));
  receive_and_park(1, sequence(5, 0x20));
  EXPECT_EQ(queue_.drain(ring), 4u);
  EXPECT_EQ(queue_.discard_parked(), 9u);
  EXPECT_EQ(queue_.parked_bytes(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 9u);
  EXPECT_EQ(queue_.discard_parked(), 0u);
  // The freed slots re-arm; new data follows what was already in the ring.
  EXPECT_EQ(queue_.pump(io_, 0), Status::ok);
  EXPECT_EQ(queue_.in_flight(), 3);
  EXPECT_EQ(read_all(ring), sequence(4, 0));
  receive_and_park(2, sequence(3, 0x90));
  EXPECT_EQ(queue_.drain(ring), 3u);
  EXPECT_EQ(read_all(ring), sequence(3, 0x90));
}

// ------------------------------------------------------------ OUT

class OutFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ring_.attach(ring_storage_));
    storage_.assign(kTransfer + 1, 0xCC);  // the last byte is a guard
    ASSERT_EQ(queue_.configure({storage_.data(), kTransfer}), Status::ok);
  }
  void put(const std::vector<uint8_t>& bytes) { ASSERT_EQ(ring_.write(bytes), bytes.size()); }

  static constexpr uint32_t kTransfer = 32;
  std::vector<uint8_t> ring_storage_ = std::vector<uint8_t>(256);
  SpscRing ring_;
  std::vector<uint8_t> storage_;
  BulkOutQueue queue_;
  FakeOutIo io_;
};

TEST(BulkOutQueueConfigure, EmptyStorageIsRejected) {
  BulkOutQueue queue;
  EXPECT_EQ(queue.configure({}), Status::invalid_argument);
  EXPECT_TRUE(queue.stopped());
  FakeOutIo io;
  std::vector<uint8_t> ring_storage(16);
  SpscRing ring;
  ASSERT_TRUE(ring.attach(ring_storage));
  ASSERT_EQ(ring.write(sequence(4, 0)), 4u);
  EXPECT_EQ(queue.pump(io, ring), 0u);
  EXPECT_TRUE(io.transfers.empty());
  EXPECT_EQ(ring.size(), 4u);
}

TEST_F(OutFixture, EmptyRingSubmitsNothing) {
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_TRUE(io_.transfers.empty());
  EXPECT_FALSE(queue_.busy());
  EXPECT_EQ(queue_.pending(), 0u);
}

TEST_F(OutFixture, TakesFromTheRingAndSubmitsFromTheBufferStart) {
  put(sequence(10, 1));
  EXPECT_EQ(queue_.pump(io_, ring_), 10u);
  EXPECT_TRUE(ring_.empty());  // the ring frees at once
  ASSERT_EQ(io_.transfers.size(), 1u);
  EXPECT_EQ(io_.transfers[0], sequence(10, 1));
  EXPECT_EQ(io_.pointers[0], storage_.data());
  EXPECT_TRUE(queue_.busy());
  EXPECT_EQ(queue_.pending(), 10u);
  // One transfer in flight at a time.
  put(sequence(3, 50));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_EQ(io_.transfers.size(), 1u);
  EXPECT_EQ(queue_.complete(Status::ok, 10), PipeAction::proceed);
  EXPECT_FALSE(queue_.busy());
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.pump(io_, ring_), 3u);
  EXPECT_EQ(io_.transfers[1], sequence(3, 50));
  EXPECT_EQ(queue_.stats().transfers, 1u);
  EXPECT_EQ(queue_.stats().bytes, 10u);
  EXPECT_EQ(queue_.stats().max_in_flight, 1u);
}

TEST_F(OutFixture, MoreThanOneTransferKeepsOrder) {
  const std::vector<uint8_t> data = sequence(100, 0);
  put(data);
  std::vector<uint8_t> sent;
  for (int i = 0; i < 10 && sent.size() < data.size(); ++i) {
    queue_.pump(io_, ring_);
    ASSERT_TRUE(queue_.busy());
    const std::vector<uint8_t>& t = io_.transfers.back();
    EXPECT_LE(t.size(), kTransfer);
    sent.insert(sent.end(), t.begin(), t.end());
    EXPECT_EQ(queue_.complete(Status::ok, static_cast<uint32_t>(t.size())), PipeAction::proceed);
  }
  EXPECT_EQ(sent, data);
  EXPECT_EQ(io_.transfers.size(), 4u);  // 32 + 32 + 32 + 4
  EXPECT_EQ(storage_[kTransfer], 0xCC);
}

TEST_F(OutFixture, PartialCompletionResubmitsTheRestFromTheStart) {
  const std::vector<uint8_t> data = sequence(32, 0x40);
  put(data);
  put(sequence(5, 0xA0));
  ASSERT_EQ(queue_.pump(io_, ring_), 32u);
  EXPECT_EQ(queue_.complete(Status::ok, 20), PipeAction::proceed);
  EXPECT_EQ(queue_.pending(), 12u);
  // The rest goes first, before anything new from the ring, from storage[0].
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  ASSERT_EQ(io_.transfers.size(), 2u);
  EXPECT_EQ(io_.transfers[1], std::vector<uint8_t>(data.begin() + 20, data.end()));
  EXPECT_EQ(io_.pointers[1], storage_.data());
  EXPECT_EQ(ring_.size(), 5u);
  // A second partial of the remainder.
  EXPECT_EQ(queue_.complete(Status::ok, 7), PipeAction::proceed);
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_EQ(io_.transfers[2], std::vector<uint8_t>(data.begin() + 27, data.end()));
  EXPECT_EQ(io_.pointers[2], storage_.data());
  EXPECT_EQ(queue_.complete(Status::ok, 5), PipeAction::proceed);
  EXPECT_EQ(queue_.pump(io_, ring_), 5u);
  EXPECT_EQ(io_.transfers[3], sequence(5, 0xA0));
  EXPECT_EQ(queue_.stats().bytes, 32u);
  EXPECT_EQ(queue_.stats().transfers, 3u);
}

TEST_F(OutFixture, OkWithNothingTakenBacksOffAndEventuallyStops) {
  // An untrusted device that reports success without taking a byte must not be
  // resubmitted forever: each such completion counts as an error.
  put(sequence(8, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 8u);
  for (uint32_t i = 1; i < transport::kMaxConsecutiveErrors; ++i) {
    ASSERT_EQ(queue_.complete(Status::ok, 0), PipeAction::back_off) << i;
    EXPECT_EQ(queue_.pump(io_, ring_), 0u);
    EXPECT_EQ(io_.transfers.size(), i) << "no resubmission while backing off";
    queue_.end_back_off();
    EXPECT_EQ(queue_.pump(io_, ring_), 0u);
    ASSERT_EQ(io_.transfers.size(), i + 1);
    EXPECT_EQ(io_.transfers.back(), sequence(8, 0)) << "the same bytes go again";
  }
  EXPECT_EQ(queue_.complete(Status::ok, 0), PipeAction::stop);
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.stats().errors, transport::kMaxConsecutiveErrors);
  EXPECT_EQ(queue_.stats().discarded_bytes, 8u);
}

TEST_F(OutFixture, OverlongCountIsClamped) {
  put(sequence(8, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 8u);
  EXPECT_EQ(queue_.complete(Status::ok, 5000), PipeAction::proceed);
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().bytes, 8u);
}

TEST_F(OutFixture, StallKeepsUnsentBytesForAfterTheClear) {
  const std::vector<uint8_t> data = sequence(16, 0);
  put(data);
  ASSERT_EQ(queue_.pump(io_, ring_), 16u);
  EXPECT_EQ(queue_.complete(Status::stall, 6), PipeAction::clear_stall);
  EXPECT_EQ(queue_.stats().stalls, 1u);
  EXPECT_EQ(queue_.pending(), 10u);
  EXPECT_FALSE(queue_.stopped());
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);  // no back-off after a stall
  ASSERT_EQ(io_.transfers.size(), 2u);
  EXPECT_EQ(io_.transfers[1], std::vector<uint8_t>(data.begin() + 6, data.end()));
}

TEST_F(OutFixture, BackOffHoldsTheDataUntilItEnds) {
  const std::vector<uint8_t> data = sequence(16, 0);
  put(data);
  ASSERT_EQ(queue_.pump(io_, ring_), 16u);
  EXPECT_EQ(queue_.complete(Status::timeout, 4), PipeAction::back_off);
  EXPECT_EQ(queue_.stats().errors, 1u);
  EXPECT_EQ(queue_.stats().bytes, 4u);  // those 4 did reach the device
  put(sequence(2, 0x90));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_EQ(io_.transfers.size(), 1u);
  queue_.end_back_off();
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  ASSERT_EQ(io_.transfers.size(), 2u);
  EXPECT_EQ(io_.transfers[1], std::vector<uint8_t>(data.begin() + 4, data.end()));
}

TEST_F(OutFixture, CompletionStatusTable) {
  for (const Status s : kAllStatuses) {
    BulkOutQueue queue;
    ASSERT_EQ(queue.configure({storage_.data(), kTransfer}), Status::ok);
    put(sequence(10, 0));
    ASSERT_EQ(queue.pump(io_, ring_), 10u);
    const PipeAction action = queue.complete(s, 3);
    EXPECT_EQ(action, transport::action_for(s)) << transport::to_string(s);
    EXPECT_FALSE(queue.busy());
    if (action == PipeAction::stop) {
      EXPECT_TRUE(queue.stopped()) << transport::to_string(s);
      EXPECT_EQ(queue.pending(), 0u);
      EXPECT_EQ(queue.stats().discarded_bytes, 7u);
    } else {
      EXPECT_FALSE(queue.stopped()) << transport::to_string(s);
      EXPECT_EQ(queue.pending(), 7u);
    }
  }
}

TEST_F(OutFixture, ConsecutiveErrorLimitStopsAndDropsTheRest) {
  put(sequence(20, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 20u);
  for (uint32_t i = 1; i < transport::kMaxConsecutiveErrors; ++i) {
    ASSERT_EQ(queue_.complete(Status::io_error, 0), PipeAction::back_off) << i;
    queue_.end_back_off();
    ASSERT_EQ(queue_.pump(io_, ring_), 0u);
    ASSERT_TRUE(queue_.busy());
  }
  EXPECT_EQ(queue_.complete(Status::io_error, 1), PipeAction::stop);
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 19u);
  put(sequence(1, 0));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
}

TEST_F(OutFixture, SuccessResetsTheErrorCount) {
  for (int block = 0; block < 3; ++block) {
    put(sequence(4, 0));
    ASSERT_EQ(queue_.pump(io_, ring_), 4u);
    for (uint32_t i = 1; i < transport::kMaxConsecutiveErrors; ++i) {
      ASSERT_EQ(queue_.complete(Status::timeout, 0), PipeAction::back_off);
      queue_.end_back_off();
      ASSERT_EQ(queue_.pump(io_, ring_), 0u);
    }
    ASSERT_EQ(queue_.complete(Status::ok, 4), PipeAction::proceed);
  }
  EXPECT_FALSE(queue_.stopped());
}

TEST_F(OutFixture, StopAndAbortedCompletion) {
  put(sequence(12, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 12u);
  queue_.stop();
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.complete(Status::aborted, 2), PipeAction::stop);
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 10u);
  put(sequence(3, 0));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_EQ(io_.transfers.size(), 1u);
}

TEST_F(OutFixture, CompletionWithNothingInFlightStops) {
  EXPECT_EQ(queue_.complete(Status::ok, 4), PipeAction::stop);
  EXPECT_TRUE(queue_.stopped());
}

TEST_F(OutFixture, DiscardWhileIdleDropsTheUnsentRest) {
  put(sequence(16, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 16u);
  ASSERT_EQ(queue_.complete(Status::timeout, 5), PipeAction::back_off);
  EXPECT_EQ(queue_.discard(), 11u);
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 11u);
  EXPECT_EQ(queue_.discard(), 0u);
  queue_.end_back_off();
  put(sequence(3, 0x70));
  EXPECT_EQ(queue_.pump(io_, ring_), 3u);
  EXPECT_EQ(io_.transfers.back(), sequence(3, 0x70));
}

TEST_F(OutFixture, DiscardWhileInFlightDropsTheRestOnCompletion) {
  put(sequence(32, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 32u);
  EXPECT_EQ(queue_.discard(), 0u);  // counted when the transfer completes
  EXPECT_TRUE(queue_.busy());
  EXPECT_EQ(queue_.complete(Status::ok, 5), PipeAction::proceed);
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 27u);
  EXPECT_EQ(queue_.stats().bytes, 5u);
  // The next transfer is new data, not the dropped remainder.
  put(sequence(4, 0xB0));
  EXPECT_EQ(queue_.pump(io_, ring_), 4u);
  EXPECT_EQ(io_.transfers.back(), sequence(4, 0xB0));
  // And the flag does not outlive that one completion.
  EXPECT_EQ(queue_.complete(Status::ok, 1), PipeAction::proceed);
  EXPECT_EQ(queue_.pending(), 3u);
}

TEST_F(OutFixture, SubmitErrorStopsAndDropsWhatWasTaken) {
  io_.fail_at = 1;
  io_.fail_with = Status::no_device;
  put(sequence(9, 0));
  EXPECT_EQ(queue_.pump(io_, ring_), 9u);  // the ring was still freed
  EXPECT_TRUE(queue_.stopped());
  EXPECT_FALSE(queue_.busy());
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 9u);
}

// ------------------------------------------------------------ OUT, several in flight

class DeepOutFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ring_.attach(ring_storage_));
    for (auto& buffer : buffers_) {
      buffer.assign(kSlot + 1, 0xCC);  // the last byte is a guard
      pointers_.push_back(buffer.data());
    }
    ASSERT_EQ(queue_.configure(pointers_, kSlot), Status::ok);
  }
  void put(const std::vector<uint8_t>& bytes) { ASSERT_EQ(ring_.write(bytes), bytes.size()); }
  // The bytes of every transfer submitted, in submission order.
  std::vector<uint8_t> wire() const {
    std::vector<uint8_t> out;
    for (const auto& t : io_.transfers) {
      out.insert(out.end(), t.begin(), t.end());
    }
    return out;
  }

  static constexpr uint32_t kSlot = 16;
  std::vector<uint8_t> ring_storage_ = std::vector<uint8_t>(256);
  SpscRing ring_;
  std::array<std::vector<uint8_t>, 3> buffers_;
  std::vector<uint8_t*> pointers_;
  BulkOutQueue queue_;
  FakeOutIo io_;
};

TEST(BulkOutQueueConfigure, SlotBuffersAreChecked) {
  std::vector<uint8_t> a(8);
  std::vector<uint8_t> b(8);
  uint8_t* two[] = {a.data(), b.data()};
  uint8_t* with_null[] = {a.data(), nullptr};
  std::vector<uint8_t*> too_many(BulkOutQueue::kMaxDepth + 1, a.data());
  BulkOutQueue queue;
  EXPECT_EQ(queue.configure(two, 0), Status::invalid_argument);
  EXPECT_EQ(queue.configure(with_null, 8), Status::invalid_argument);
  EXPECT_EQ(queue.configure(std::span<uint8_t* const>{}, 8), Status::invalid_argument);
  EXPECT_EQ(queue.configure(too_many, 8), Status::invalid_argument);
  EXPECT_TRUE(queue.stopped());
  EXPECT_EQ(queue.configure(two, 8), Status::ok);
  EXPECT_EQ(queue.depth(), 2);
}

TEST_F(DeepOutFixture, FillsEverySlotFromTheRingInOrder) {
  const std::vector<uint8_t> data = sequence(40, 0);
  put(data);
  EXPECT_EQ(queue_.pump(io_, ring_), 40u);
  EXPECT_TRUE(ring_.empty());
  ASSERT_EQ(io_.transfers.size(), 3u);  // 16 + 16 + 8, one per slot
  EXPECT_EQ(io_.slots, (std::vector<uint8_t>{0, 1, 2}));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(io_.pointers[i], buffers_[i].data());
    EXPECT_EQ(buffers_[i][kSlot], 0xCC);
  }
  EXPECT_EQ(wire(), data);
  EXPECT_EQ(queue_.in_flight(), 3);
  EXPECT_EQ(queue_.stats().max_in_flight, 3u);
  // Full: nothing more until a slot frees.
  put(sequence(5, 0x80));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_EQ(queue_.complete(Status::ok, 16), PipeAction::proceed);
  EXPECT_EQ(queue_.pump(io_, ring_), 5u);
  EXPECT_EQ(io_.slots.back(), 0);  // the freed slot is reused
  EXPECT_EQ(io_.transfers.back(), sequence(5, 0x80));
}

TEST_F(DeepOutFixture, AStalledPipeResendsEveryRestInOrderOnceNothingIsInFlight) {
  // A halted endpoint fails every queued transfer (assumption 12): the first
  // with the bytes it had sent, the others with none.
  const std::vector<uint8_t> data = sequence(48, 0);
  put(data);
  ASSERT_EQ(queue_.pump(io_, ring_), 48u);
  EXPECT_EQ(queue_.complete(Status::stall, 6), PipeAction::clear_stall);
  put(sequence(4, 0xE0));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u) << "nothing while transfers are still in flight";
  // The same halt: the owner has cleared it already.
  EXPECT_EQ(queue_.complete(Status::stall, 0), PipeAction::proceed);
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  EXPECT_EQ(queue_.complete(Status::stall, 0), PipeAction::proceed);
  EXPECT_EQ(queue_.pending(), 42u);
  // Now everything left goes again, oldest first, each from its buffer's start,
  // and only then new data.
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  ASSERT_EQ(io_.transfers.size(), 6u);
  EXPECT_EQ(io_.transfers[3], std::vector<uint8_t>(data.begin() + 6, data.begin() + 16));
  EXPECT_EQ(io_.pointers[3], buffers_[0].data());
  EXPECT_EQ(io_.transfers[4], std::vector<uint8_t>(data.begin() + 16, data.begin() + 32));
  EXPECT_EQ(io_.transfers[5], std::vector<uint8_t>(data.begin() + 32, data.end()));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(queue_.complete(Status::ok, 16), PipeAction::proceed);
  }
  EXPECT_EQ(queue_.pump(io_, ring_), 4u);
  EXPECT_EQ(io_.transfers.back(), sequence(4, 0xE0));
  std::vector<uint8_t> delivered(data.begin(), data.begin() + 6);
  for (size_t i = 3; i < io_.transfers.size(); ++i) {
    delivered.insert(delivered.end(), io_.transfers[i].begin(), io_.transfers[i].end());
  }
  EXPECT_EQ(delivered, concat({data, sequence(4, 0xE0)}));
  EXPECT_EQ(queue_.stats().stalls, 1u);
  EXPECT_EQ(queue_.stats().recoveries, 1u);
  EXPECT_EQ(queue_.stats().fault_bytes, 42u);
  EXPECT_EQ(queue_.stats().bytes, 48u);
}

// Should ClearStall abort the pipe's other transfers (assumption 12), their
// aborts are the halt already cleared: the rest goes again, in order.
TEST_F(DeepOutFixture, AbortsAfterTheClearOfAHaltAreThatHalt) {
  const std::vector<uint8_t> data = sequence(48, 0);
  put(data);
  ASSERT_EQ(queue_.pump(io_, ring_), 48u);
  EXPECT_EQ(queue_.complete(Status::stall, 10), PipeAction::clear_stall);
  EXPECT_EQ(queue_.complete(Status::aborted, 0), PipeAction::proceed);
  EXPECT_EQ(queue_.complete(Status::aborted, 0), PipeAction::proceed);
  EXPECT_FALSE(queue_.stopped());
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  ASSERT_EQ(io_.transfers.size(), 6u);
  std::vector<uint8_t> delivered(data.begin(), data.begin() + 10);
  for (size_t i = 3; i < io_.transfers.size(); ++i) {
    delivered.insert(delivered.end(), io_.transfers[i].begin(), io_.transfers[i].end());
  }
  EXPECT_EQ(delivered, data);
  // An abort of a transfer submitted since the clear is the owner's: stop.
  EXPECT_EQ(queue_.complete(Status::aborted, 0), PipeAction::stop);
  EXPECT_EQ(queue_.stats().stalls, 1u);
}

TEST_F(DeepOutFixture, BackOffHoldsEverySlot) {
  put(sequence(32, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 32u);
  EXPECT_EQ(queue_.complete(Status::timeout, 0), PipeAction::back_off);
  EXPECT_EQ(queue_.complete(Status::ok, 16), PipeAction::proceed);
  put(sequence(3, 0x50));
  EXPECT_EQ(queue_.pump(io_, ring_), 0u);
  queue_.end_back_off();
  EXPECT_EQ(queue_.pump(io_, ring_), 3u);
  ASSERT_EQ(io_.transfers.size(), 4u);
  EXPECT_EQ(io_.transfers[2], sequence(16, 0));  // the failed first transfer again
  EXPECT_EQ(io_.transfers[3], sequence(3, 0x50));
}

TEST_F(DeepOutFixture, DiscardDropsWhatWaitsAndWhatIsInFlightOnCompletion) {
  put(sequence(40, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 40u);
  EXPECT_EQ(queue_.complete(Status::stall, 4), PipeAction::clear_stall);
  EXPECT_EQ(queue_.discard(), 12u);  // the first slot's rest; the other two are in flight
  EXPECT_EQ(queue_.complete(Status::stall, 0), PipeAction::proceed);
  EXPECT_EQ(queue_.complete(Status::stall, 0), PipeAction::proceed);
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 36u);
  put(sequence(2, 0x33));
  EXPECT_EQ(queue_.pump(io_, ring_), 2u);
  EXPECT_EQ(io_.transfers.back(), sequence(2, 0x33));
}

TEST_F(DeepOutFixture, StopDropsEverythingUnsent) {
  put(sequence(40, 0));
  ASSERT_EQ(queue_.pump(io_, ring_), 40u);
  EXPECT_EQ(queue_.complete(Status::no_device, 2), PipeAction::stop);
  EXPECT_TRUE(queue_.stopped());
  EXPECT_EQ(queue_.complete(Status::no_device, 0), PipeAction::stop);
  EXPECT_EQ(queue_.complete(Status::no_device, 0), PipeAction::stop);
  EXPECT_EQ(queue_.pending(), 0u);
  EXPECT_EQ(queue_.stats().discarded_bytes, 38u);
  EXPECT_FALSE(queue_.busy());
}

// The TX ring of a driver that owns its data path, read through
// SendReleasedReader: the kernel's view of the ring shows every byte until the
// device took it or it was dropped.
class ReleasedOutFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kernel_.attach(storage_, &pi_, &ci_));
    ASSERT_TRUE(driver_.attach(storage_, &pi_, &ci_));
    for (auto& buffer : buffers_) {
      buffer.assign(kSlot, 0);
      pointers_.push_back(buffer.data());
    }
    ASSERT_EQ(queue_.configure(pointers_, kSlot), Status::ok);
  }
  // What the driver does after every pump and completion.
  uint32_t settle() { return reader_.release_sent(queue_.pending()); }

  static constexpr uint32_t kSlot = 16;
  std::vector<uint8_t> storage_ = std::vector<uint8_t>(128);
  alignas(4) uint32_t pi_ = 0;
  alignas(4) uint32_t ci_ = 0;
  transport::SerialQueue kernel_;  // produces
  transport::SerialQueue driver_;  // consumes
  transport::SendReleasedReader reader_{driver_};
  std::array<std::vector<uint8_t>, 3> buffers_;
  std::vector<uint8_t*> pointers_;
  BulkOutQueue queue_;
  FakeOutIo io_;
};

TEST_F(ReleasedOutFixture, BytesLeaveTheRingOnlyWhenTheDeviceTookThem) {
  ASSERT_EQ(kernel_.write(sequence(40, 0)), 40u);
  EXPECT_EQ(queue_.pump(io_, reader_), 40u);
  EXPECT_EQ(settle(), 0u);
  EXPECT_EQ(kernel_.size(), 40u) << "in flight is still the kernel's to wait for";
  EXPECT_EQ(queue_.complete(Status::ok, 10), PipeAction::proceed);  // short: 6 resent later
  EXPECT_EQ(settle(), 10u);
  EXPECT_EQ(kernel_.size(), 30u);
  EXPECT_EQ(queue_.complete(Status::ok, 16), PipeAction::proceed);
  EXPECT_EQ(queue_.complete(Status::ok, 8), PipeAction::proceed);
  EXPECT_EQ(settle(), 24u);
  EXPECT_EQ(kernel_.size(), 6u);
  EXPECT_EQ(queue_.pump(io_, reader_), 0u);  // the rest of the short one goes again
  EXPECT_EQ(io_.transfers.back(), sequence(6, 10));
  EXPECT_EQ(queue_.complete(Status::ok, 6), PipeAction::proceed);
  EXPECT_EQ(settle(), 6u);
  EXPECT_TRUE(kernel_.empty());
  std::vector<uint8_t> wire;
  for (const auto& t : io_.transfers) {
    wire.insert(wire.end(), t.begin(), t.end());
  }
  EXPECT_EQ(wire, concat({sequence(40, 0), sequence(6, 10)}));
}

TEST_F(ReleasedOutFixture, NewBytesAreReadPastWhatIsInFlight) {
  ASSERT_EQ(kernel_.write(sequence(20, 0)), 20u);
  ASSERT_EQ(queue_.pump(io_, reader_), 20u);
  ASSERT_EQ(kernel_.write(sequence(5, 0x80)), 5u);
  ASSERT_EQ(queue_.pump(io_, reader_), 5u);
  EXPECT_EQ(io_.transfers.back(), sequence(5, 0x80));
  EXPECT_EQ(reader_.taken(), 25u);
}

TEST_F(ReleasedOutFixture, AFlushForgetsWhatWasTakenAndTransfersInFlightReleaseNothingTwice) {
  ASSERT_EQ(kernel_.write(sequence(40, 0)), 40u);
  ASSERT_EQ(queue_.pump(io_, reader_), 40u);
  // TCOFLUSH: the driver empties the ring and the pipeline.
  EXPECT_EQ(driver_.clear(), 40u);
  reader_.forget();
  queue_.discard();
  EXPECT_EQ(queue_.complete(Status::ok, 16), PipeAction::proceed);
  EXPECT_EQ(settle(), 0u);
  ASSERT_EQ(kernel_.write(sequence(4, 0x40)), 4u);
  ASSERT_EQ(queue_.pump(io_, reader_), 4u);
  EXPECT_EQ(queue_.complete(Status::ok, 16), PipeAction::proceed);
  EXPECT_EQ(queue_.complete(Status::ok, 8), PipeAction::proceed);
  EXPECT_EQ(settle(), 0u) << "the new bytes are still in flight";
  EXPECT_EQ(kernel_.size(), 4u);
  EXPECT_EQ(queue_.complete(Status::ok, 4), PipeAction::proceed);
  EXPECT_EQ(settle(), 4u);
  EXPECT_TRUE(kernel_.empty());
}

TEST_F(ReleasedOutFixture, AGoneDeviceReleasesEverythingItDropped) {
  ASSERT_EQ(kernel_.write(sequence(40, 0)), 40u);
  ASSERT_EQ(queue_.pump(io_, reader_), 40u);
  EXPECT_EQ(queue_.complete(Status::no_device, 2), PipeAction::stop);
  EXPECT_EQ(queue_.complete(Status::no_device, 0), PipeAction::stop);
  EXPECT_EQ(queue_.complete(Status::no_device, 0), PipeAction::stop);
  EXPECT_EQ(settle(), 40u);
  EXPECT_TRUE(kernel_.empty()) << "a drain must not wait for a device that is gone";
}

}  // namespace
