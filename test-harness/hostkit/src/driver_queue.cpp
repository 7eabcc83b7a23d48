#include "hostkit/driver_queue.hpp"

#include <DriverKit/IOLib.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <future>
#include <memory>

namespace hostkit {
namespace {
thread_local DriverQueue* tls_queue = nullptr;
}

DriverQueue* current_queue() {
  return tls_queue;
}

void QueueLink::deliver(std::function<void()> work, const std::function<void()>& dropped) {
  std::lock_guard lock(mutex_);
  if (queue_ != nullptr) {
    queue_->post(std::move(work));
  } else {
    dropped();
  }
}

void QueueLink::deliver(QueueDelivery* item) {
  std::unique_lock lock(mutex_);
  if (queue_ == nullptr) {
    lock.unlock();
    item->run(false, 0);
    return;
  }
  item->next_ = nullptr;
  if (tail_ != nullptr) {
    tail_->next_ = item;
  } else {
    head_ = item;
  }
  tail_ = item;
  if (inline_drain_ && queue_->on_queue()) {
    return;  // the turn in progress drains it
  }
  post_drain_locked();
}

bool QueueLink::drain() {
  QueueDelivery* item = nullptr;
  {
    std::lock_guard lock(mutex_);
    item = head_;
    head_ = tail_ = nullptr;
    drain_posted_ = false;
  }
  const bool ran = item != nullptr;
  const uint64_t drained_at = ran ? mach_absolute_time() : 0;
  while (item != nullptr) {
    QueueDelivery* next = item->next_;
    item->run(true, drained_at);
    item = next;
  }
  return ran;
}

void QueueLink::set_inline_drain(bool on) {
  std::lock_guard lock(mutex_);
  inline_drain_ = on;
  if (!on && head_ != nullptr && queue_ != nullptr) {
    post_drain_locked();
  }
}

void QueueLink::post_drain_locked() {
  if (!drain_posted_) {
    drain_posted_ = true;
    queue_->post(with_memory(drain_memory_, [link = shared_from_this()] { link->drain(); }));
  }
}

void QueueLink::drop_pending() {
  QueueDelivery* item = nullptr;
  {
    std::lock_guard lock(mutex_);
    item = head_;
    head_ = tail_ = nullptr;
  }
  while (item != nullptr) {
    QueueDelivery* next = item->next_;
    item->run(false, 0);
    item = next;
  }
}

DriverQueue::DriverQueue() : guard_(boost::asio::make_work_guard(context_)) {
  std::promise<std::thread::id> started;
  auto id = started.get_future();
  thread_ = std::thread([this, &started] {
    tls_queue = this;
    started.set_value(std::this_thread::get_id());
    context_.run();
    tls_queue = nullptr;
  });
  thread_id_ = id.get();
  link_->queue_ = this;
}

DriverQueue::~DriverQueue() {
  stop();
}

void DriverQueue::stop() {
  if (!thread_.joinable()) {
    return;
  }
  {
    // From now on late completions are dropped, not posted.
    std::lock_guard lock(link_->mutex_);
    link_->queue_ = nullptr;
  }
  post([this] { cancel_timers(); });
  guard_.reset();
  if (on_queue()) {
    context_.stop();  // cannot join ourselves; the thread ends after this handler
    thread_.detach();
    link_->drop_pending();
    return;
  }
  thread_.join();
  link_->drop_pending();  // what a drain that never ran would have delivered
}

void DriverQueue::sync(const std::function<void()>& work) {
  if (on_queue()) {
    work();
    return;
  }
  std::promise<void> done;
  boost::asio::post(context_, [&] {
    work();
    done.set_value();
  });
  done.get_future().wait();
}

void DriverQueue::post_after(std::chrono::milliseconds delay, std::function<void()> work) {
  auto timer = std::make_shared<boost::asio::steady_timer>(context_, delay);
  {
    std::lock_guard lock(timers_mutex_);
    if (timers_cancelled_) {
      return;
    }
    std::erase_if(timers_, [](const auto& weak) { return weak.expired(); });
    timers_.push_back(timer);
  }
  timer->async_wait([timer, work = std::move(work)](const boost::system::error_code& error) {
    if (!error) {
      work();
    }
  });
}

void DriverQueue::cancel_timers() {
  std::lock_guard lock(timers_mutex_);
  timers_cancelled_ = true;
  for (const auto& weak : timers_) {
    if (const auto timer = weak.lock()) {
      timer->cancel();  // its handler runs now, with operation_aborted, and does nothing
    }
  }
  timers_.clear();
}

bool DriverQueue::on_queue() const {
  return std::this_thread::get_id() == thread_id_;
}

}  // namespace hostkit
