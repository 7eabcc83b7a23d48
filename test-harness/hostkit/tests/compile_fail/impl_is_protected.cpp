// iig's generated headers keep Name_Impl protected: callers use the message front door.
// EXPECT: is protected within this context
#include <DriverKit/DriverKit.h>

#include "HostkitTestDriver.h"

kern_return_t activate(HostkitTestDriver* driver) {
#ifdef HOSTKIT_COMPILE_FAIL
  return driver->HwActivate_Impl();
#else
  return driver->HwActivate();
#endif
}
