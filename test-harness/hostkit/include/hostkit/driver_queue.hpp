// DriverQueue: the serial queue of a hostkit "dext process". One thread runs a
// Boost.Asio io_context; every call into a driver object (lifecycle, Hw*, USB
// completions, the tty side's events) is posted here, so drivers see the
// single-threaded world DriverKit gives them.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace hostkit {

class DriverQueue;

// What a USB backend thread holds to deliver a completion to a driver queue.
// It outlives the queue: once the queue has stopped, deliver() runs `dropped`
// instead (on the calling thread), so a late completion releases what it holds
// and never touches a destroyed queue.
class QueueLink {
 public:
  void deliver(std::function<void()> work, const std::function<void()>& dropped);

 private:
  friend class DriverQueue;
  std::mutex mutex_;
  DriverQueue* queue_ = nullptr;
};

class DriverQueue {
 public:
  DriverQueue();
  ~DriverQueue();
  DriverQueue(const DriverQueue&) = delete;
  DriverQueue& operator=(const DriverQueue&) = delete;

  void post(std::function<void()> work);
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
