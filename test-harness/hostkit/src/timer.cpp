// hostkit: IOTimerDispatchSource on the driver queue.
#include <DriverKit/DriverKit.h>

#include <time.h>

#include <chrono>
#include <cstring>
#include <memory>

#include "hostkit/driver_queue.hpp"

HOSTKIT_METACLASS_DEFINE(IOTimerDispatchSource, OSObject);

namespace {

bool now_in(uint64_t options, uint64_t& now) {
  if (options == kIOTimerClockMonotonicRaw) {
    now = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW);
    return true;
  }
  if (options == kIOTimerClockMachAbsoluteTime) {
    now = mach_absolute_time();
    return true;
  }
  return false;
}

}  // namespace

kern_return_t IOTimerDispatchSource::Create(IODispatchQueue* queue,
                                            IOTimerDispatchSource** source) {
  if (queue == nullptr || source == nullptr) {
    return kIOReturnBadArgument;
  }
  auto* created = new IOTimerDispatchSource();
  queue->retain();
  created->queue_ = queue;
  *source = created;
  return kIOReturnSuccess;
}

kern_return_t IOTimerDispatchSource::SetHandler(OSAction* action) {
  if (action == nullptr || std::strcmp(action->hostkitType(), kOSActionTypeTimerOccurred) != 0) {
    return kIOReturnBadArgument;  // another TYPE: another message ID
  }
  action->retain();
  OSSafeReleaseNULL(handler_);
  handler_ = action;
  return kIOReturnSuccess;
}

kern_return_t IOTimerDispatchSource::WakeAtTime(uint64_t options, uint64_t deadline, uint64_t) {
  uint64_t now = 0;
  if (!now_in(options, now)) {
    return kIOReturnUnsupported;
  }
  if (cancelled_) {
    return kIOReturnNotPermitted;
  }
  const uint64_t generation = ++generation_;
  const auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::nanoseconds(deadline > now ? deadline - now : 0));
  // The source stays alive until its wake has run (or was dropped with the queue).
  retain();
  std::shared_ptr<IOTimerDispatchSource> holder(
      this, [](IOTimerDispatchSource* self) { self->release(); });
  queue_->hostkitQueue().post_after(
      delay, [holder, generation, options] { holder->fire(generation, options); });
  return kIOReturnSuccess;
}

void IOTimerDispatchSource::fire(uint64_t generation, uint64_t options) {
  uint64_t now = 0;
  if (generation != generation_ || !enabled_ || cancelled_ || handler_ == nullptr ||
      !now_in(options, now)) {
    return;
  }
  handler_->hostkitDeliver<uint64_t>(kOSActionTypeTimerOccurred, now);
}

kern_return_t IOTimerDispatchSource::SetEnable(bool enable) {
  enabled_ = enable;
  return kIOReturnSuccess;
}

kern_return_t IOTimerDispatchSource::Cancel(IODispatchSourceCancelHandler handler) {
  cancelled_ = true;
  ++generation_;
  OSSafeReleaseNULL(handler_);
  if (handler) {
    queue_->hostkitQueue().post(std::move(handler));
  }
  return kIOReturnSuccess;
}

void IOTimerDispatchSource::free() {
  OSSafeReleaseNULL(handler_);
  OSSafeReleaseNULL(queue_);
  OSObject::free();
}
