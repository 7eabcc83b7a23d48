// DriverQueue: the serial queue of a hostkit "dext process". One thread runs a
// Boost.Asio io_context; every call into a driver object (lifecycle, Hw*, USB
// completions, the tty side's events) is posted here, so drivers see the
// single-threaded world DriverKit gives them.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <type_traits>
#include <vector>

namespace hostkit {

class DriverQueue;

// Memory for the asio operations of one call site that has at most two in
// flight (a post coalesced by a flag; a timer wait, and the cancelled one
// before it): asio takes an operation's memory from the handler's
// allocator_type, so such a site allocates nothing once running. Bigger or
// further operations fall back to the heap.
class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;
  void* allocate(size_t size) {
    for (Slot& slot : slots_) {
      bool expected = false;
      if (size <= sizeof slot.bytes && slot.used.compare_exchange_strong(expected, true)) {
        return slot.bytes;
      }
    }
    return ::operator new(size);
  }
  void deallocate(void* pointer) {
    for (Slot& slot : slots_) {
      if (pointer == slot.bytes) {
        slot.used.store(false);
        return;
      }
    }
    ::operator delete(pointer);
  }

 private:
  struct Slot {
    alignas(std::max_align_t) unsigned char bytes[256];
    std::atomic<bool> used{false};
  };
  Slot slots_[2];
};

template <class T>
class HandlerAllocator {
 public:
  using value_type = T;
  explicit HandlerAllocator(HandlerMemory* memory) : memory_(memory) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) : memory_(other.memory()) {}  // NOLINT
  HandlerMemory* memory() const { return memory_; }
  T* allocate(size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
  void deallocate(T* pointer, size_t) { memory_->deallocate(pointer); }
  friend bool operator==(const HandlerAllocator& a, const HandlerAllocator& b) {
    return a.memory_ == b.memory_;
  }
  friend bool operator!=(const HandlerAllocator& a, const HandlerAllocator& b) { return !(a == b); }

 private:
  HandlerMemory* memory_;
};

// A handler whose asio operation lives in `memory`.
template <class F>
struct MemoryHandler {
  HandlerMemory* memory;
  F fn;
  using allocator_type = HandlerAllocator<void>;
  allocator_type get_allocator() const { return allocator_type(memory); }
  template <class... Args>
  void operator()(Args&&... args) {
    fn(std::forward<Args>(args)...);
  }
};

template <class F>
MemoryHandler<std::decay_t<F>> with_memory(HandlerMemory& memory, F&& fn) {
  return {&memory, std::forward<F>(fn)};
}

// The same for an owner that may go while its operations are still queued (a
// port's tty side, torn down on the queue): the handler keeps the memory alive.
// asio moves a handler out of its operation before it frees the operation, so
// the memory outlives that free.
template <class F>
struct SharedMemoryHandler {
  std::shared_ptr<HandlerMemory> memory;
  F fn;
  using allocator_type = HandlerAllocator<void>;
  allocator_type get_allocator() const { return allocator_type(memory.get()); }
  template <class... Args>
  void operator()(Args&&... args) {
    fn(std::forward<Args>(args)...);
  }
};

template <class F>
SharedMemoryHandler<std::decay_t<F>> with_memory(const std::shared_ptr<HandlerMemory>& memory,
                                                 F&& fn) {
  return {memory, std::forward<F>(fn)};
}

// A piece of work a device hands to the driver queue without allocating: a
// node its owner keeps alive until run() has been called, exactly once.
class QueueDelivery {
 public:
  // On the driver queue with delivered == true and drained_at, the
  // mach_absolute_time() at which the queue took this batch of deliveries (one
  // clock read per batch, not per transfer); or, once the queue has stopped, on
  // the delivering thread with delivered == false and drained_at 0 (release
  // what you hold, touch no driver).
  virtual void run(bool delivered, uint64_t drained_at) = 0;

 protected:
  ~QueueDelivery() = default;

 private:
  friend class QueueLink;
  QueueDelivery* next_ = nullptr;
};

// What a USB backend thread holds to deliver a completion to a driver queue.
// It outlives the queue: once the queue has stopped, deliver() runs `dropped`
// instead (on the calling thread), so a late completion releases what it holds
// and never touches a destroyed queue.
class QueueLink : public std::enable_shared_from_this<QueueLink> {
 public:
  void deliver(std::function<void()> work, const std::function<void()>& dropped);
  // Queues `item` behind every delivery before it; one wake of the queue runs
  // all that arrived meanwhile. Steady state allocates nothing.
  void deliver(QueueDelivery* item);
  // On the queue: runs what deliver() queued (its posted handler calls this);
  // true if it ran anything.
  bool drain();
  // On the queue: while on, deliveries made on the queue's own thread are only
  // queued, for the caller to drain() in the same turn (a device that runs on
  // the queue's thread: its completions then cost no extra wake). Turning it
  // off posts a drain for whatever is left.
  void set_inline_drain(bool on);

 private:
  friend class DriverQueue;
  void drop_pending();
  void post_drain_locked();  // one drain in flight at a time (mutex_ held)
  std::mutex mutex_;
  DriverQueue* queue_ = nullptr;
  QueueDelivery* head_ = nullptr;
  QueueDelivery* tail_ = nullptr;
  bool drain_posted_ = false;
  bool inline_drain_ = false;
  HandlerMemory drain_memory_;  // the one drain handler in flight
};

class DriverQueue {
 public:
  DriverQueue();
  ~DriverQueue();
  DriverQueue(const DriverQueue&) = delete;
  DriverQueue& operator=(const DriverQueue&) = delete;

  // Any callable; the handler is kept in asio's operation, whose memory asio
  // recycles per thread, so posting from the queue to itself does not allocate.
  template <class F>
  void post(F&& work) {
    boost::asio::post(context_, std::forward<F>(work));
  }
  // Runs `work` on the queue and waits for it; runs inline when already on the queue.
  void sync(const std::function<void()>& work);
  // Runs `work` on the queue after `delay`.
  void post_after(std::chrono::milliseconds delay, std::function<void()> work);
  bool on_queue() const;
  boost::asio::io_context& context() { return context_; }
  const std::shared_ptr<QueueLink>& link() const { return link_; }
  // Lets posted work finish, drops the work of post_after timers still waiting
  // (it would come after the end of the process), then joins the thread.
  // Idempotent.
  void stop();

 private:
  void cancel_timers();

  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::thread::id thread_id_;
  std::shared_ptr<QueueLink> link_ = std::make_shared<QueueLink>();
  std::mutex timers_mutex_;
  std::vector<std::weak_ptr<boost::asio::steady_timer>> timers_;  // post_after's
  bool timers_cancelled_ = false;
};

// The queue of the calling thread, or nullptr when not on a driver queue.
DriverQueue* current_queue();

}  // namespace hostkit
