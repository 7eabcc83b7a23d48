// A dext is built without exceptions.
// EXPECT: exception handling disabled
#include <DriverKit/DriverKit.h>

kern_return_t check(bool ok) {
#ifdef HOSTKIT_COMPILE_FAIL
  if (!ok) {
    throw ok;
  }
#endif
  return ok ? kIOReturnSuccess : kIOReturnError;
}
