// hostkit: DriverKit's IOLib.h (allocation, sleeping, logging, mach time).
//
// Allocation is raw, as in the SDK's IOLib.h: IONew/IONewZero are
// IOMalloc/IOMallocZero of sizeof(type) * count and run no constructor;
// IODelete/IOSafeDeleteNULL are IOFree and run no destructor. A type whose
// default construction or destruction does something (a vtable, a member
// initialiser, a non-trivial member) would be left unconstructed on a Mac, so
// hostkit refuses it at compile time: allocate raw memory and construct it with
// placement new instead (and destroy it explicitly).
//
// IOFree must be given the size that was allocated; hostkit aborts when it is
// not (DriverKit's behaviour for a wrong size is unknown [U]).
//
// clock_gettime_nsec_np is not here: on a Mac it comes from <time.h>.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <type_traits>

#include "DriverKit/IOReturn.h"

void IOLog(const char* format, ...) __attribute__((format(printf, 1, 2)));
void* IOMalloc(size_t length) __attribute__((alloc_size(1)));
void* IOMallocZero(size_t length) __attribute__((alloc_size(1)));
void IOFree(void* address, size_t length);
void IOSleep(uint64_t ms);
void IODelay(uint64_t us);
uint64_t mach_absolute_time(void);

namespace hostkit {
template <typename T>
constexpr bool kRawAllocatable =
    std::is_trivially_default_constructible_v<T>&& std::is_trivially_destructible_v<T>;

template <typename T>
T* io_new(size_t count, bool zero) {
  static_assert(kRawAllocatable<T>,
                "IONew/IONewZero return raw memory on DriverKit: no constructor or destructor runs "
                "(vtables stay null, member initialisers are not applied). Use IOMallocZero and "
                "placement new, and destroy explicitly before IOFree.");
  size_t size = 0;
  if (__builtin_mul_overflow(sizeof(T), count, &size)) {
    return nullptr;
  }
  return static_cast<T*>(zero ? IOMallocZero(size) : IOMalloc(size));
}

template <typename T>
void io_delete(T* pointer, size_t count) {
  static_assert(kRawAllocatable<T>, "IODelete runs no destructor on DriverKit");
  size_t size = 0;
  if (!__builtin_mul_overflow(sizeof(T), count, &size)) {
    IOFree(pointer, size);
  }
}
}  // namespace hostkit

#define IONew(type, count) (::hostkit::io_new<type>((count), false))
#define IONewZero(type, count) (::hostkit::io_new<type>((count), true))
#define IODelete(ptr, type, count) (::hostkit::io_delete<type>((ptr), (count)))
#define IOSafeDeleteNULL(ptr, type, count) \
  do {                                     \
    if (NULL != (ptr)) {                   \
      IODelete((ptr), type, count);        \
      (ptr) = NULL;                        \
    }                                      \
  } while (0)

// As the SDK spells it: a braced block, not an expression, so
// `if (x) OSSafeReleaseNULL(o); else ...` fails to compile here as it does there.
#define OSSafeReleaseNULL(o) \
  {                          \
    if (o) {                 \
      (o)->release();        \
      (o) = NULL;            \
    }                        \
  }
