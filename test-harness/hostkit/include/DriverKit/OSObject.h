// hostkit: OSObject, the reference-counted root of every DriverKit class.
//
// DriverKit dispatches "message" methods (Start, Stop, every Hw*) through the
// iig-generated _Dispatch and reaches a superclass implementation with
// SUPERDISPATCH. hostkit models that with one virtual Name_Impl per message and
// a Name(args..., OSDispatchMethod supermethod = nullptr) front door: called
// plainly it dispatches virtually; called with SUPERDISPATCH it runs the named
// class's own implementation. The _Impl methods are protected, as in the headers
// Apple's iig generates. The generator (test-harness/hostkit/iig/) emits the
// same pair for every message a driver's .iig overrides.
//
// Casting is OSMetaClass-based, as in DriverKit (OSDynamicCast is
// OSMetaClassBase::safeMetaCast, not dynamic_cast): every class names its
// metaclass with HOSTKIT_METACLASS, and the generator does so for driver
// classes. A driver's translation units are built without RTTI.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "DriverKit/IOReturn.h"

class OSObject;
class OSMetaClass;
typedef kern_return_t (*OSDispatchMethod)(OSObject* self, void* message);

#define SUPERDISPATCH ((OSDispatchMethod)&super::_Dispatch)

namespace hostkit {
// Aborts the process when a driver method runs off the driver's queue: the
// DriverKit contract every driver relies on (single-threaded per driver).
void assert_on_driver_queue(const char* method);
}  // namespace hostkit

// One per class: its name and its superclass's metaclass.
class OSMetaClass {
 public:
  constexpr OSMetaClass(const char* name, const OSMetaClass* superclass)
      : name_(name), superclass_(superclass) {}
  const char* getClassName() const { return name_; }
  const OSMetaClass* getSuperClass() const { return superclass_; }

 private:
  const char* name_;
  const OSMetaClass* superclass_;
};

class OSMetaClassBase {
 public:
  virtual const OSMetaClass* getMetaClass() const = 0;
  virtual void retain() const = 0;
  virtual void release() const = 0;
  virtual bool isEqualTo(const OSMetaClassBase* object) const { return object == this; }

  // `object` if its class is `target` or derives from it, else nullptr.
  static const OSMetaClassBase* safeMetaCast(const OSMetaClassBase* object,
                                             const OSMetaClass* target);

 protected:
  virtual ~OSMetaClassBase() = default;
};

// Declares a class's metaclass inside its body; define it with HOSTKIT_METACLASS_DEFINE.
#define HOSTKIT_METACLASS(Class)                     \
 public:                                             \
  static const OSMetaClass gMetaClass;               \
  const OSMetaClass* getMetaClass() const override { \
    return &gMetaClass;                              \
  }                                                  \
                                                     \
 private:
#define HOSTKIT_METACLASS_DEFINE(Class, Super) \
  const OSMetaClass Class::gMetaClass(#Class, &Super::gMetaClass)

// Declares a message method in a hostkit base class `Class`:
//   HOSTKIT_MESSAGE(IOService, kern_return_t, Start, (provider), IOService* provider);
// expands to the public front door Start(provider, supermethod = nullptr) and
// the protected virtual Start_Impl(provider) that subclasses override.
#define HOSTKIT_MESSAGE(Class, ReturnType, Name, CallArgs, ...)                        \
 public:                                                                               \
  ReturnType Name(__VA_ARGS__ __VA_OPT__(, ) OSDispatchMethod supermethod = nullptr) { \
    if (supermethod != nullptr) {                                                      \
      return Class::Name##_Impl CallArgs;                                              \
    }                                                                                  \
    hostkit::assert_on_driver_queue(#Class "::" #Name);                                \
    return Name##_Impl CallArgs;                                                       \
  }                                                                                    \
                                                                                       \
 protected:                                                                            \
  virtual ReturnType Name##_Impl(__VA_ARGS__)

class OSObject : public OSMetaClassBase {
  HOSTKIT_METACLASS(OSObject)

 public:
  OSObject() = default;
  OSObject(const OSObject&) = delete;
  OSObject& operator=(const OSObject&) = delete;

  // LOCALONLY in OSObject.iig: plain C++ calls, super::init() / super::free().
  virtual bool init() { return true; }
  virtual void free() {}

  void retain() const override { refcount_.fetch_add(1, std::memory_order_relaxed); }
  void release() const override;
  uint32_t retainCount() const { return refcount_.load(std::memory_order_relaxed); }

  // Objects live in zeroed IOMallocZero memory, as kernel and DriverKit objects
  // do; freeing them goes through IOFree with the size (no global new/delete).
  static void* operator new(size_t size);
  static void operator delete(void* memory, size_t size);

  // The dispatch entry SUPERDISPATCH names; hostkit only uses its address as a flag.
  static kern_return_t _Dispatch(OSObject*, void*) { return kIOReturnUnsupported; }

 protected:
  ~OSObject() override = default;

 private:
  mutable std::atomic<uint32_t> refcount_{1};
};

// OSTypeAlloc(Class): a new object with one reference; call init() next.
#define OSTypeAlloc(Class) (new Class())

#define OSTypeID(Class) (&Class::gMetaClass)
// DriverKit's OSDynamicCast goes through OSMetaClassBase::safeMetaCast, so it
// works only on OSMetaClassBase objects and needs no RTTI.
#define OSDynamicCast(Class, object) \
  ((Class*)OSMetaClassBase::safeMetaCast((object), OSTypeID(Class)))

// IMPL(Class, Name) names the implementation of a message method; Apple
// prefers writing Name_Impl(args) directly (OSObject.iig), and both work here.
#define IMPL(classname, name) classname::name##_Impl(classname##_##name##_Args)
