#include "sim/bus.hpp"

#include <cmath>
#include <stdexcept>

namespace sim {

SimTime from_seconds(double seconds) {
  return SimTime(static_cast<int64_t>(std::ceil(seconds * 1e9 - 1e-6)));
}

SteadyClock::SteadyClock() : epoch_(std::chrono::steady_clock::now()) {}

SimTime SteadyClock::now() const {
  return std::chrono::duration_cast<SimTime>(std::chrono::steady_clock::now() - epoch_);
}

Bus::Task::~Task() {
  if (queued_) {
    bus_.remove_task(this);
  }
}

void Bus::Task::wake() {
  if (!queued_) {
    queued_ = true;
    bus_.enqueue_task(this);
  }
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

Bus::~Bus() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Bus::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Item{std::move(fn), nullptr});
  }
  cv_.notify_one();
}

void Bus::enqueue_task(Task* task) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Item{{}, task});
  }
  cv_.notify_one();
}

void Bus::remove_task(Task* task) {
  std::lock_guard lock(mu_);
  for (auto& item : queue_) {
    if (item.task == task) {
      item.task = nullptr;  // left as an empty item; the loop skips it
    }
  }
}

Bus::TimerId Bus::schedule_at(SimTime at, std::function<void()> fn) {
  std::lock_guard lock(mu_);
  const uint64_t seq = next_seq_++;
  const TimerKey key{at.count(), seq};
  timers_.emplace(key, std::move(fn));
  timer_index_.emplace(seq, key);
  cv_.notify_one();
  return seq;
}

void Bus::cancel(TimerId& id) {
  if (id == 0) {
    return;
  }
  std::lock_guard lock(mu_);
  auto it = timer_index_.find(id);
  if (it != timer_index_.end()) {
    timers_.erase(it->second);
    timer_index_.erase(it);
  }
  id = 0;
}

SimDuration Bus::granularity() const {
  return mode_ == ClockMode::manual ? SimDuration(0) : std::chrono::microseconds(250);
}

bool Bus::runnable_locked() const {
  if (!queue_.empty()) {
    return true;
  }
  return !timers_.empty() && timers_.begin()->first.first <= clock_->now().count();
}

void Bus::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stop_) {
      return;
    }
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
      continue;
    }
    if (!timers_.empty() && timers_.begin()->first.first <= clock_->now().count()) {
      auto node = timers_.extract(timers_.begin());
      timer_index_.erase(node.key().second);
      executing_ = true;
      lock.unlock();
      node.mapped()();
      node.mapped() = nullptr;
      lock.lock();
      executing_ = false;
      continue;
    }
    idle_cv_.notify_all();
    if (mode_ == ClockMode::real && !timers_.empty()) {
      auto* steady = static_cast<SteadyClock*>(clock_.get());
      cv_.wait_until(lock, steady->to_real(SimTime(timers_.begin()->first.first)));
    } else {
      cv_.wait(lock);
    }
  }
}

void Bus::run_until_idle() {
  if (on_bus_thread()) {
    throw std::logic_error("sim::Bus::run_until_idle called on the bus thread");
  }
  std::unique_lock lock(mu_);
  cv_.notify_one();
  idle_cv_.wait(lock, [this] { return stop_ || (!executing_ && !runnable_locked()); });
}

std::optional<SimTime> Bus::next_timer() const {
  std::lock_guard lock(mu_);
  if (timers_.empty()) {
    return std::nullopt;
  }
  return SimTime(timers_.begin()->first.first);
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
    if (!timers_.empty() && timers_.begin()->first.first <= target.count()) {
      const SimTime next(timers_.begin()->first.first);
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
