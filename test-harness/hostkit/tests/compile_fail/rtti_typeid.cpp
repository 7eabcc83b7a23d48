// A dext has no RTTI on a Mac: typeid does not compile there.
// EXPECT: cannot use 'typeid' with '-fno-rtti'
#include <DriverKit/DriverKit.h>

#include <typeinfo>

bool is_service(OSObject* object) {
#ifdef HOSTKIT_COMPILE_FAIL
  return typeid(*object) == typeid(IOService);
#else
  return OSDynamicCast(IOService, object) != nullptr;
#endif
}
