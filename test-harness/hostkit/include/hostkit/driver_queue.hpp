// DriverQueue: the serial queue of a hostkit "dext process". One thread runs a
// Boost.Asio io_context; every call into a driver object (lifecycle, Hw*, USB
// completions, the tty side's events) is posted here, so drivers see the
// single-threaded world DriverKit gives them.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <thread>

namespace hostkit {

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
  // Lets queued work finish, then joins the thread. Idempotent.
  void stop();

 private:
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
  std::thread::id thread_id_;
};

// The queue of the calling thread, or nullptr when not on a driver queue.
DriverQueue* current_queue();

}  // namespace hostkit
