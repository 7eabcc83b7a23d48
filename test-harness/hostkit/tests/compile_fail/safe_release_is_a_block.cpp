// DriverKit's OSSafeReleaseNULL is a braced block: `if (x) OSSafeReleaseNULL(o); else`
// does not compile there.
// EXPECT: 'else' without a previous 'if'
#include <DriverKit/DriverKit.h>

void drop(OSObject*& object, bool keep) {
#ifdef HOSTKIT_COMPILE_FAIL
  if (!keep)
    OSSafeReleaseNULL(object);
  else
    object->retain();
#else
  if (!keep) {
    OSSafeReleaseNULL(object);
  } else {
    object->retain();
  }
#endif
}
