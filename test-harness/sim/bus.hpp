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
//
// A real-clock bus can also run on a host's thread instead of its own (a
// BusExecutor: the bridge's driver queue in unpaced mode), so that the
// simulator and the driver take turns on one thread instead of waking each
// other per transfer. The bus's own semantics do not change: posted work and
// timers still run in order, one at a time, on "the bus thread".
//
// Steady state allocates nothing: the work queue and the timer heap keep their
// capacity, a Task wake is a queue entry, and a timer's callback is stored in a
// std::function, which holds captures of up to two pointers without the heap.
#pragma once

#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

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

// The thread a real-clock bus runs on when it has no thread of its own.
class BusExecutor {
 public:
  // Any thread: call bus.run_ready() soon, on the executor's thread. The bus
  // asks at most once until run_ready() has started.
  virtual void request_run() = 0;
  // Executor thread: call bus.run_ready() at (or after) `at`; replaces the
  // previous request of this kind.
  virtual void request_run_at(std::chrono::steady_clock::time_point at) = 0;
  virtual bool on_executor_thread() const = 0;
  // Any thread but the executor's: returns once everything the executor had
  // queued before the call has run (the bus's destructor needs it).
  virtual void barrier() = 0;
  virtual ~BusExecutor() = default;
};

// A FIFO of T that keeps its capacity: pushing allocates only when it has
// never held that many items before.
template <class T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }
  T& operator[](size_t i) { return items_[wrap(head_ + i)]; }
  const T& operator[](size_t i) const { return items_[wrap(head_ + i)]; }
  void push_back(T value) {
    if (size_ == items_.size()) {
      grow();
    }
    items_[wrap(head_ + size_)] = std::move(value);
    ++size_;
  }
  void pop_front() {
    items_[head_] = T{};
    head_ = wrap(head_ + 1);
    --size_;
  }
  template <class F>
  void for_each(F&& f) {
    for (size_t i = 0; i < size_; ++i) {
      f(items_[wrap(head_ + i)]);
    }
  }

 private:
  size_t wrap(size_t i) const { return i >= items_.size() ? i - items_.size() : i; }
  void grow() {
    std::vector<T> bigger(items_.empty() ? 16 : items_.size() * 2);
    for (size_t i = 0; i < size_; ++i) {
      bigger[i] = std::move(items_[wrap(head_ + i)]);
    }
    items_ = std::move(bigger);
    head_ = 0;
  }
  std::vector<T> items_;
  size_t head_ = 0;
  size_t size_ = 0;
};

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
  // A real-clock bus without a thread of its own: it runs on `executor`'s
  // thread, which must outlive it.
  explicit Bus(BusExecutor& executor);
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  ClockMode mode() const { return mode_; }
  SimTime now() const { return clock_->now(); }
  bool on_bus_thread() const {
    return executor_ != nullptr ? executor_->on_executor_thread()
                                : std::this_thread::get_id() == thread_id_;
  }

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

  // Executor mode only, from a thread other than the executor's: moves the bus
  // onto a thread of its own (before the executor goes away), keeping its work.
  void leave_executor();

  // Executor mode only, on the executor's thread: runs what is runnable now
  // (a bounded batch; it asks to be called again when more is left) and asks
  // for the next timer.
  void run_ready();
  // Work is runnable now (any thread).
  bool has_ready_work() const {
    std::lock_guard lock(mu_);
    return runnable_locked();
  }

 private:
  struct Item {
    std::function<void()> fn;
    Task* task = nullptr;
  };
  // A timer in the heap; `id` is checked against its slot, so entries of
  // cancelled timers are skipped when they come up.
  struct TimerEntry {
    int64_t at = 0;
    uint64_t seq = 0;  // ties fire in scheduling order
    TimerId id = 0;
  };
  struct TimerSlot {
    std::function<void()> fn;
    TimerId id = 0;  // 0: free
  };

  void loop();
  bool runnable_locked() const;
  // Runs one queued item or one due timer (dropping the lock meanwhile); false if none.
  bool run_one(std::unique_lock<std::mutex>& lock);
  void enqueue_task(Task* task);
  void remove_task(Task* task);
  void drop_cancelled_locked() const;  // pops stale heap entries off the top
  void request_run_locked();           // executor mode: ask for run_ready() once
  void notify_locked();                // wakes whoever runs the bus

  const ClockMode mode_;
  BusExecutor* executor_ = nullptr;
  std::unique_ptr<Clock> clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // wakes the bus thread
  std::condition_variable idle_cv_;  // wakes run_until_idle / advance
  RingQueue<Item> queue_;
  mutable std::vector<TimerEntry> heap_;  // min-heap on (at, seq)
  std::vector<TimerSlot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_timers_ = 0;
  uint64_t next_seq_ = 1;
  bool executing_ = false;
  bool stop_ = false;
  bool run_requested_ = false;    // executor mode: run_ready() is on its way
  bool in_run_ = false;           // executor mode: inside run_ready()
  int64_t armed_at_ = INT64_MAX;  // executor mode: the timer request in force
  std::thread::id thread_id_;
  std::thread thread_;
};

}  // namespace sim
