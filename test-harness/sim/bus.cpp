#include "sim/bus.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sim {

namespace {

// A TimerId is (sequence << kSlotBits) | slot.
constexpr unsigned kSlotBits = 24;
constexpr uint64_t kSlotMask = (uint64_t{1} << kSlotBits) - 1;
// Work items one run_ready() call runs before it gives the executor back.
constexpr int kRunBatch = 256;

// The timer heap's order: a min-heap on (at, seq) through std::*_heap.
struct Later {
  bool operator()(const auto& a, const auto& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

}  // namespace

SimTime from_seconds(double seconds) {
  return SimTime(static_cast<int64_t>(std::ceil(seconds * 1e9 - 1e-6)));
}

SteadyClock::SteadyClock() : epoch_(std::chrono::steady_clock::now()) {}

SimTime SteadyClock::now() const {
  return std::chrono::duration_cast<SimTime>(std::chrono::steady_clock::now() - epoch_);
}

Bus::Task::~Task() {
  bus_.remove_task(this);
}

void Bus::Task::wake() {
  bus_.enqueue_task(this);
}

Bus::Bus(ClockMode mode) : mode_(mode) {
  if (mode == ClockMode::manual) {
    clock_ = std::make_unique<ManualClock>();
  } else {
    clock_ = std::make_unique<SteadyClock>();
  }
  std::promise<std::thread::id> started;
  auto id = started.get_future();
  thread_ = std::thread([this, &started] {
    started.set_value(std::this_thread::get_id());
    loop();
  });
  thread_id_ = id.get();
}

Bus::Bus(BusExecutor& executor)
    : mode_(ClockMode::real), executor_(&executor), clock_(std::make_unique<SteadyClock>()) {}

Bus::~Bus() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  if (executor_ != nullptr) {
    // A run_ready() already queued on the executor finds stop_ set and returns.
    if (!executor_->on_executor_thread()) {
      executor_->barrier();
    }
    return;
  }
  thread_.join();
}

void Bus::notify_locked() {
  if (executor_ != nullptr) {
    request_run_locked();
  } else {
    cv_.notify_one();
  }
}

void Bus::request_run_locked() {
  if (!run_requested_ && !stop_) {
    run_requested_ = true;
    executor_->request_run();
  }
}

void Bus::post(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  queue_.push_back(Item{std::move(fn), nullptr});
  notify_locked();
}

void Bus::enqueue_task(Task* task) {
  // A task is woken, run and removed on the bus thread alone, so queued_ only
  // changes there: a wake of a task already queued (most of them: a device
  // wakes its pump per packet) needs no lock.
  if (task->queued_) {
    return;
  }
  std::lock_guard lock(mu_);
  task->queued_ = true;
  queue_.push_back(Item{{}, task});
  notify_locked();
}

void Bus::remove_task(Task* task) {
  std::lock_guard lock(mu_);
  if (!task->queued_) {
    return;
  }
  queue_.for_each([task](Item& item) {
    if (item.task == task) {
      item.task = nullptr;  // left as an empty item; the loop skips it
    }
  });
  task->queued_ = false;
}

Bus::TimerId Bus::schedule_at(SimTime at, std::function<void()> fn) {
  std::lock_guard lock(mu_);
  uint32_t slot = 0;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    if (slot > kSlotMask) {
      throw std::length_error("sim::Bus: too many timers");
    }
    slots_.emplace_back();
  }
  const uint64_t seq = next_seq_++;
  const TimerId id = (seq << kSlotBits) | slot;
  slots_[slot] = TimerSlot{std::move(fn), id};
  ++live_timers_;
  heap_.push_back(TimerEntry{at.count(), seq, id});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  if (executor_ != nullptr) {
    // Outside run_ready() nobody would re-arm the executor's timer for this one.
    if (!in_run_ && at.count() < armed_at_) {
      request_run_locked();
    }
  } else {
    cv_.notify_one();
  }
  return id;
}

void Bus::cancel(TimerId& id) {
  if (id == 0) {
    return;
  }
  std::lock_guard lock(mu_);
  const uint64_t slot = id & kSlotMask;
  if (slot < slots_.size() && slots_[slot].id == id) {
    slots_[slot] = TimerSlot{};
    free_slots_.push_back(static_cast<uint32_t>(slot));
    --live_timers_;
    // Stale heap entries are skipped when they come up; when they pile up
    // (timers re-armed far ahead), the heap is rebuilt without them.
    if (heap_.size() > 64 && heap_.size() > 4 * live_timers_) {
      std::erase_if(heap_, [this](const TimerEntry& e) {
        const uint64_t s = e.id & kSlotMask;
        return slots_[s].id != e.id;
      });
      std::make_heap(heap_.begin(), heap_.end(), Later{});
    }
  }
  id = 0;
}

void Bus::drop_cancelled_locked() const {
  while (!heap_.empty() && slots_[heap_.front().id & kSlotMask].id != heap_.front().id) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

SimDuration Bus::granularity() const {
  return mode_ == ClockMode::manual ? SimDuration(0) : std::chrono::microseconds(250);
}

bool Bus::runnable_locked() const {
  if (!queue_.empty()) {
    return true;
  }
  drop_cancelled_locked();
  return !heap_.empty() && heap_.front().at <= clock_->now().count();
}

bool Bus::run_one(std::unique_lock<std::mutex>& lock) {
  if (!queue_.empty()) {
    Item item = std::move(queue_.front());
    queue_.pop_front();
    Task* task = item.task;
    if (task != nullptr) {
      task->queued_ = false;
    }
    executing_ = true;
    lock.unlock();
    if (task != nullptr) {
      task->fn_();
    } else if (item.fn) {
      item.fn();
    }
    item.fn = nullptr;  // destroy captures off the lock
    lock.lock();
    executing_ = false;
    return true;
  }
  drop_cancelled_locked();
  if (!heap_.empty() && heap_.front().at <= clock_->now().count()) {
    const TimerId id = heap_.front().id;
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
    const uint64_t slot = id & kSlotMask;
    std::function<void()> fn = std::move(slots_[slot].fn);
    slots_[slot] = TimerSlot{};
    free_slots_.push_back(static_cast<uint32_t>(slot));
    --live_timers_;
    executing_ = true;
    lock.unlock();
    fn();
    fn = nullptr;
    lock.lock();
    executing_ = false;
    return true;
  }
  return false;
}

void Bus::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop_) {
      return;
    }
    if (run_one(lock)) {
      continue;
    }
    idle_cv_.notify_all();
    drop_cancelled_locked();
    if (mode_ == ClockMode::real && !heap_.empty()) {
      auto* steady = static_cast<SteadyClock*>(clock_.get());
      cv_.wait_until(lock, steady->to_real(SimTime(heap_.front().at)));
    } else {
      cv_.wait(lock);
    }
  }
}

void Bus::run_ready() {
  std::unique_lock lock(mu_);
  run_requested_ = false;
  if (stop_) {
    return;
  }
  in_run_ = true;
  if (armed_at_ <= clock_->now().count()) {
    armed_at_ = INT64_MAX;  // the executor's timer has fired (or is about to: harmless)
  }
  int budget = kRunBatch;
  while (budget-- > 0 && !stop_ && run_one(lock)) {
  }
  in_run_ = false;
  if (stop_) {
    return;
  }
  if (runnable_locked()) {
    request_run_locked();  // the batch ran out: let the executor's other work in first
  } else {
    drop_cancelled_locked();
    const int64_t next = heap_.empty() ? INT64_MAX : heap_.front().at;
    // Only an earlier deadline re-arms: a timer pushed later (a latency timer
    // restarted per packet) lets the armed one fire early once, and the run
    // then arms the real one.
    if (next < armed_at_) {
      armed_at_ = next;
      auto* steady = static_cast<SteadyClock*>(clock_.get());
      executor_->request_run_at(steady->to_real(SimTime(next)));
    }
  }
  idle_cv_.notify_all();
}

void Bus::leave_executor() {
  if (executor_ == nullptr || executor_->on_executor_thread()) {
    throw std::logic_error("sim::Bus::leave_executor needs a bus on an executor, called off it");
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;  // a run_ready() still queued on the executor returns at once
  }
  executor_->barrier();
  std::promise<std::thread::id> started;
  auto id = started.get_future();
  {
    std::lock_guard lock(mu_);
    stop_ = false;
    executor_ = nullptr;
    run_requested_ = false;
    armed_at_ = INT64_MAX;
  }
  thread_ = std::thread([this, &started] {
    started.set_value(std::this_thread::get_id());
    loop();
  });
  thread_id_ = id.get();
}

void Bus::run_until_idle() {
  if (on_bus_thread()) {
    throw std::logic_error("sim::Bus::run_until_idle called on the bus thread");
  }
  std::unique_lock lock(mu_);
  notify_locked();
  idle_cv_.wait(lock, [this] { return stop_ || (!executing_ && !runnable_locked()); });
}

std::optional<SimTime> Bus::next_timer() const {
  std::lock_guard lock(mu_);
  drop_cancelled_locked();
  if (heap_.empty()) {
    return std::nullopt;
  }
  return SimTime(heap_.front().at);
}

void Bus::advance(SimDuration d) {
  advance_to(now() + d);
}

void Bus::advance_to(SimTime target) {
  if (mode_ != ClockMode::manual) {
    throw std::logic_error("sim::Bus::advance needs ClockMode::manual");
  }
  if (on_bus_thread()) {
    throw std::logic_error("sim::Bus::advance called on the bus thread");
  }
  auto* manual = static_cast<ManualClock*>(clock_.get());
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.notify_one();
    idle_cv_.wait(lock, [this] { return stop_ || (!executing_ && !runnable_locked()); });
    if (stop_) {
      return;
    }
    drop_cancelled_locked();
    if (!heap_.empty() && heap_.front().at <= target.count()) {
      const SimTime next(heap_.front().at);
      if (next > manual->now()) {
        manual->set(next);
      }
      continue;
    }
    if (manual->now() < target) {
      manual->set(target);
      continue;
    }
    return;
  }
}

}  // namespace sim
