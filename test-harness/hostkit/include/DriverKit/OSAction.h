// hostkit: OSAction, the completion object of an asynchronous call. DriverKit
// creates it with the iig-generated CreateAction<Method>() and delivers the
// completion on the target's queue; hostkit stores the callback directly.
#pragma once

#include <functional>

#include "DriverKit/OSObject.h"

class OSAction final : public OSObject {
  HOSTKIT_METACLASS(OSAction)

 public:
  using Callback =
      std::function<void(IOReturn status, uint32_t actualByteCount, uint64_t completionTimestamp)>;
  // hostkit: an action that runs `callback` on the driver queue.
  static OSAction* hostkitCreate(Callback callback);
  void hostkitInvoke(IOReturn status, uint32_t actual, uint64_t timestamp) const;
  void* GetReference() { return reference_; }

 private:
  Callback callback_;
  uint8_t reference_[64] = {};
};
