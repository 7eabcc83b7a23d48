// hostkit: OSAction (xnu iokit/DriverKit/OSAction.iig), the completion object of
// an asynchronous call: a target object and one of its methods declared with
// TYPE(Class::Method). DriverKit makes actions only through the iig-generated
// CreateAction<Method>(referenceSize, &action); hostkit's generator emits the
// same, bound to the driver and the method. The action retains its target until
// it is cancelled or freed; GetReference() is referenceSize zeroed bytes (null
// for 0). Completions are delivered on the driver queue, through the target
// method's message front door, and never after Cancel.
#pragma once

#include <stddef.h>

#include <cstring>
#include <functional>
#include <tuple>

#include "DriverKit/OSObject.h"

typedef std::function<void()> OSActionCancelHandler;

class OSAction final : public OSObject {
  HOSTKIT_METACLASS(OSAction)

 public:
  void* GetReference() { return reference_; }
  // Cancels all callbacks: none is delivered afterwards, the target is released,
  // and `handler` runs on the driver queue after any callback in progress.
  kern_return_t Cancel(OSActionCancelHandler handler);
  void free() override;

  // hostkit. How a delivery reaches its target: `invoke` unpacks the arguments
  // (a std::tuple of the TYPE method's parameters after the action) and calls the
  // target's method.
  using Invoker = void (*)(OSAction* action, const void* arguments);
  // The generated CreateAction<Method>: `type` names the TYPE ("IOUSBHostPipe::CompleteAsyncIO").
  static kern_return_t hostkitCreate(const char* type, OSObject* target, size_t referenceSize,
                                     Invoker invoke, OSAction** action);
  // For hostkit's own framework code (IOUserUSBSerial's data path): an action of
  // type IOUSBHostPipe::CompleteAsyncIO that runs `callback`.
  using IoCallback =
      std::function<void(IOReturn status, uint32_t actualByteCount, uint64_t completionTimestamp)>;
  static OSAction* hostkitCreateIo(IoCallback callback);

  const char* hostkitType() const { return type_; }
  // The same TYPE: usually the same literal, so the pointers compare first.
  bool hostkitIsType(const char* type) const {
    return type == type_ || std::strcmp(type, type_) == 0;
  }
  OSObject* hostkitTarget() const { return target_; }
  bool hostkitCancelled() const { return cancelled_; }
  // Delivers a completion now (the caller is on the driver queue). A cancelled
  // action drops it; an action of another type is a hostkit bug and aborts.
  template <typename... Args>
  void hostkitDeliver(const char* type, Args... arguments) {
    const std::tuple<Args...> packed(arguments...);
    deliver(type, &packed);
  }

 private:
  void deliver(const char* type, const void* arguments);

  const char* type_ = "";
  OSObject* target_ = nullptr;  // retained until Cancel or free
  Invoker invoke_ = nullptr;
  IoCallback callback_;  // hostkitCreateIo only
  void* reference_ = nullptr;
  size_t reference_size_ = 0;
  bool cancelled_ = false;
};

// The TYPEs hostkit's classes deliver.
#define kOSActionTypeCompleteAsyncIO "IOUSBHostPipe::CompleteAsyncIO"
#define kOSActionTypeTimerOccurred "IOTimerDispatchSource::TimerOccurred"
