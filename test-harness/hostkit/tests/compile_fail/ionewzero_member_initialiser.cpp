// DriverKit's IONewZero is IOMallocZero: a member initialiser is never applied.
// EXPECT: IONew/IONewZero return raw memory on DriverKit
#include <DriverKit/DriverKit.h>

#ifdef HOSTKIT_COMPILE_FAIL
struct Settings {
  uint32_t baud = 9600;
};
#else
struct Settings {
  uint32_t baud;
};
#endif

Settings* make_settings() {
  return IONewZero(Settings, 1);
}
