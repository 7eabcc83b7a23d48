// A dext has no RTTI on a Mac: OSDynamicCast (OSMetaClass) works, dynamic_cast does not.
// EXPECT: 'dynamic_cast' not permitted with '-fno-rtti'
#include <DriverKit/DriverKit.h>

IOService* as_service(OSObject* object) {
#ifdef HOSTKIT_COMPILE_FAIL
  return dynamic_cast<IOService*>(object);
#else
  return OSDynamicCast(IOService, object);
#endif
}
