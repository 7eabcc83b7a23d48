// hostkit: OSObject, the reference-counted root of every DriverKit class.
//
// DriverKit dispatches "message" methods (Start, Stop, every Hw*) through the
// iig-generated _Dispatch and reaches a superclass implementation with
// SUPERDISPATCH. hostkit models that with one virtual Name_Impl per message and
// a Name(args..., OSDispatchMethod supermethod = nullptr) front door: called
// plainly it dispatches virtually; called with SUPERDISPATCH it runs the named
// class's own implementation. The generator (test-harness/hostkit/iig/) emits the
// same pair for every message a driver's .iig overrides.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "DriverKit/IOReturn.h"

class OSObject;
typedef kern_return_t (*OSDispatchMethod)(OSObject* self, void* message);

#define SUPERDISPATCH ((OSDispatchMethod)&super::_Dispatch)

namespace hostkit {
// Aborts the process when a driver method runs off the driver's queue: the
// DriverKit contract every driver relies on (single-threaded per driver).
void assert_on_driver_queue(const char* method);
}  // namespace hostkit

// Declares a message method in a hostkit base class `Class`:
//   HOSTKIT_MESSAGE(IOService, kern_return_t, Start, (provider), IOService* provider);
// expands to the front door Start(provider, supermethod = nullptr) and the
// virtual Start_Impl(provider) that subclasses override.
#define HOSTKIT_MESSAGE(Class, ReturnType, Name, CallArgs, ...)                        \
  ReturnType Name(__VA_ARGS__ __VA_OPT__(, ) OSDispatchMethod supermethod = nullptr) { \
    if (supermethod != nullptr) {                                                      \
      return Class::Name##_Impl CallArgs;                                              \
    }                                                                                  \
    hostkit::assert_on_driver_queue(#Class "::" #Name);                                \
    return Name##_Impl CallArgs;                                                       \
  }                                                                                    \
  virtual ReturnType Name##_Impl(__VA_ARGS__)

class OSObject {
 public:
  OSObject() = default;
  OSObject(const OSObject&) = delete;
  OSObject& operator=(const OSObject&) = delete;

  virtual bool init() { return true; }
  virtual void free() {}

  void retain() const { refcount_.fetch_add(1, std::memory_order_relaxed); }
  void release() const;
  uint32_t retainCount() const { return refcount_.load(std::memory_order_relaxed); }

  // The dispatch entry SUPERDISPATCH names; hostkit only uses its address as a flag.
  static kern_return_t _Dispatch(OSObject*, void*) { return kIOReturnUnsupported; }

 protected:
  virtual ~OSObject() = default;

 private:
  mutable std::atomic<uint32_t> refcount_{1};
};

// OSTypeAlloc(Class): a new object with one reference; call init() next.
#define OSTypeAlloc(Class) (new Class())

// DriverKit implements OSDynamicCast with OSMetaClass; hostkit uses RTTI.
#define OSDynamicCast(Class, object) (dynamic_cast<Class*>(object))

template <typename T>
inline void OSSafeReleaseNULLImpl(T*& object) {
  if (object != nullptr) {
    object->release();
    object = nullptr;
  }
}
#define OSSafeReleaseNULL(object) OSSafeReleaseNULLImpl(object)

// IMPL(Class, Name) names the implementation of a message method; Apple
// prefers writing Name_Impl(args) directly (OSObject.iig), and both work here.
#define IMPL(classname, name) classname::name##_Impl(classname##_##name##_Args)
