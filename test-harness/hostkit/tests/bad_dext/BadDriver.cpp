// Global operator new is not DriverKit API: SerialDext/check_symbols.sh must refuse it.
#include <DriverKit/DriverKit.h>

#include "BadDriver.h"

struct BadDriver_IVars {
  uint32_t baud;
};

bool BadDriver::init() {
  if (!super::init()) {
    return false;
  }
  ivars = new BadDriver_IVars();
  return true;
}

void BadDriver::free() {
  delete ivars;
  super::free();
}
