#include <DriverKit/DriverKit.h>

#include "HostkitSerialTestDriver.h"
#include "hostkit_test_driver.hpp"

using hostkit_test::driver_log;

struct HostkitSerialTestDriver_IVars {
  int completions;
};

bool HostkitSerialTestDriver::init() {
  if (!super::init()) {
    return false;
  }
  ivars = IONewZero(HostkitSerialTestDriver_IVars, 1);
  return ivars != nullptr;
}

void HostkitSerialTestDriver::free() {
  IOSafeDeleteNULL(ivars, HostkitSerialTestDriver_IVars, 1);
  super::free();
}

kern_return_t HostkitSerialTestDriver::Start_Impl(IOService* provider) {
  driver_log().record("SerialStart");
  return Start(provider, SUPERDISPATCH);
}

void HostkitSerialTestDriver::Completed_Impl(OSAction* action, IOReturn status, uint32_t actual,
                                             uint64_t) {
  ++ivars->completions;
  const auto* tag = static_cast<const uint32_t*>(action->GetReference());
  driver_log().record("Completed tag " + std::to_string(*tag) + " status " +
                      std::to_string(status) + " bytes " + std::to_string(actual));
}

void HostkitSerialTestDriver::Ticked_Impl(OSAction*, uint64_t) {
  driver_log().record("Ticked");
}
