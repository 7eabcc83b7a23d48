// Bus: the one thread and the one clock shared by every simulated device and wire.
//
// All device, UART and wire logic runs on the bus thread. Public entry points
// called from other threads are marshalled onto it: call() posts and waits for
// the answer, post() only queues. Completions of USB transfers run on the bus
// thread too, in the order they were queued.
//
// Time comes from a Clock. With ClockMode::real it follows std::chrono::
// steady_clock; with ClockMode::manual it only moves when a test calls
// advance()/advance_to(), which fires every timer in time order (and runs
// everything they post) before moving on, so a test asserts on simulated time
// and never sleeps.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace sim {

// Simulated time: nanoseconds since the bus was created.
using SimDuration = std::chrono::nanoseconds;
using SimTime = std::chrono::nanoseconds;

constexpr double to_seconds(SimTime t) {
  return static_cast<double>(t.count()) * 1e-9;
}
SimTime from_seconds(double seconds);  // rounds up to the next nanosecond

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SimTime now() const = 0;
};

// std::chrono::steady_clock, zero at construction.
class SteadyClock final : public Clock {
 public:
  SteadyClock();
  SimTime now() const override;
  std::chrono::steady_clock::time_point to_real(SimTime t) const { return epoch_ + t; }

 private:
  std::chrono::steady_clock::time_point epoch_;
};

// Moves only when told to (the Bus does it in advance()).
class ManualClock final : public Clock {
 public:
  SimTime now() const override { return SimTime(now_.load()); }
  void set(SimTime t) { now_.store(t.count()); }

 private:
  std::atomic<int64_t> now_{0};
};

enum class ClockMode { real, manual };

class Bus {
 public:
  // A deferred, coalescing piece of work owned by a bus-thread object: wake()
  // queues it at most once until it has run. Create, wake and destroy it on the
  // bus thread; destroying a queued Task removes it from the queue.
  class Task {
   public:
    Task(Bus& bus, std::function<void()> fn) : bus_(bus), fn_(std::move(fn)) {}
    ~Task();
    Task(const Task&) = delete;
    Task& operator=(const Task&) = delete;
    void wake();

   private:
    friend class Bus;
    Bus& bus_;
    std::function<void()> fn_;
    bool queued_ = false;
  };

  // A timer handle; 0 means "no timer".
  using TimerId = uint64_t;

  explicit Bus(ClockMode mode = ClockMode::real);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  ClockMode mode() const { return mode_; }
  SimTime now() const { return clock_->now(); }
  bool on_bus_thread() const { return std::this_thread::get_id() == thread_id_; }

  // Queues `fn` to run on the bus thread (any thread).
  void post(std::function<void()> fn);

  // Runs `fn` on the bus thread and returns its result; inline when already on it.
  template <class F>
  auto call(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if (on_bus_thread()) {
      return fn();
    }
    std::packaged_task<R()> task(std::forward<F>(fn));
    auto future = task.get_future();
    post([&task] { task(); });
    return future.get();
  }

  // Timers (bus thread only). The callback runs on the bus thread at or after `at`.
  TimerId schedule_at(SimTime at, std::function<void()> fn);
  void cancel(TimerId& id);  // safe with 0 and with a timer that already ran; zeroes `id`

  // The smallest useful timer spacing: 0 in manual mode (exact event times),
  // a few hundred microseconds in real mode (work is batched per wake-up).
  SimDuration granularity() const;

  // Blocks (not on the bus thread) until nothing is runnable now: no posted
  // work, no due timer and nothing executing.
  void run_until_idle();

  // Manual clock only (std::logic_error otherwise, and on the bus thread):
  // moves time forward, firing every timer up to the target in time order.
  void advance(SimDuration d);
  void advance_to(SimTime t);
  // The time of the earliest pending timer, if any (any thread).
  std::optional<SimTime> next_timer() const;

 private:
  struct Item {
    std::function<void()> fn;
    Task* task = nullptr;
  };
  using TimerKey = std::pair<int64_t, uint64_t>;  // (time ns, sequence)

  void loop();
  bool runnable_locked() const;
  void enqueue_task(Task* task);
  void remove_task(Task* task);

  const ClockMode mode_;
  std::unique_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the bus thread
  std::condition_variable idle_cv_;  // wakes run_until_idle / advance
  std::deque<Item> queue_;
  std::map<TimerKey, std::function<void()>> timers_;
  std::map<TimerId, TimerKey> timer_index_;
  uint64_t next_seq_ = 1;
  bool executing_ = false;
  bool stop_ = false;
  std::thread::id thread_id_;
  std::thread thread_;
};

}  // namespace sim
