#include "hostkit/driver_queue.hpp"

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
    return;
  }
  thread_.join();
}

void DriverQueue::post(std::function<void()> work) {
  boost::asio::post(context_, std::move(work));
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
