// hostkit: IOTimerDispatchSource (DriverKit), a one-shot timer on a dispatch
// queue. WakeAtTime schedules the handler (an OSAction made by a
// CreateAction<Method> whose method is TYPE(IOTimerDispatchSource::TimerOccurred));
// it runs on the queue, with the time it fired, if the source is enabled then
// and has not been cancelled. A new WakeAtTime replaces the pending one.
// Timebases: kIOTimerClockMonotonicRaw (clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW),
// ns) and kIOTimerClockMachAbsoluteTime (mach_absolute_time(); hostkit's ticks
// are nanoseconds); the others are kIOReturnUnsupported here.
#pragma once

#include <stdint.h>

#include <functional>

#include "DriverKit/IODispatchQueue.h"
#include "DriverKit/OSAction.h"
#include "DriverKit/OSObject.h"

enum {
  kIOTimerClockUptimeRaw = 0x88,
  kIOTimerClockMonotonicRaw = 0x84,
  kIOTimerClockRealTime = 0x80,
  kIOTimerClockWallTime = 0x80,
  kIOTimerClockMachAbsoluteTime = 0xC8,
  kIOTimerClockMachContinuousTime = 0xC4,
};

typedef std::function<void()> IODispatchSourceCancelHandler;

class IOTimerDispatchSource final : public OSObject {
  HOSTKIT_METACLASS(IOTimerDispatchSource)

 public:
  static kern_return_t Create(IODispatchQueue* queue, IOTimerDispatchSource** source);
  kern_return_t SetHandler(OSAction* action);
  kern_return_t WakeAtTime(uint64_t options, uint64_t deadline, uint64_t leeway);
  kern_return_t SetEnable(bool enable);
  kern_return_t Cancel(IODispatchSourceCancelHandler handler);
  void free() override;

 private:
  void fire(uint64_t generation, uint64_t options);

  IODispatchQueue* queue_ = nullptr;  // retained
  OSAction* handler_ = nullptr;       // retained
  uint64_t generation_ = 0;           // a wake that no longer matches was replaced
  bool enabled_ = false;
  bool cancelled_ = false;
};
