// DriverKit's IOSafeDeleteNULL is IOFree: a destructor would never run.
// EXPECT: IODelete runs no destructor on DriverKit
#include <DriverKit/DriverKit.h>

struct Holder {
  OSObject* object;
#ifdef HOSTKIT_COMPILE_FAIL
  ~Holder() {
    OSSafeReleaseNULL(object);
  }
#endif
};

void drop(Holder* holder) {
#ifndef HOSTKIT_COMPILE_FAIL
  OSSafeReleaseNULL(holder->object);
#endif
  IOSafeDeleteNULL(holder, Holder, 1);
}
