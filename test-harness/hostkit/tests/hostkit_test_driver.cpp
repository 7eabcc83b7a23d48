#include <DriverKit/DriverKit.h>

#include "HostkitTestDriver.h"
#include "hostkit_test_driver.hpp"

namespace hostkit_test {
DriverLog& driver_log() {
  static DriverLog log;
  return log;
}
}  // namespace hostkit_test

using hostkit_test::driver_log;

// Plain data: IONewZero gives zeroed memory and runs no constructor.
struct HostkitTestDriver_IVars {
  int starts;
};

bool HostkitTestDriver::init() {
  if (!super::init()) {
    return false;
  }
  ivars = IONewZero(HostkitTestDriver_IVars, 1);
  return ivars != nullptr;
}

void HostkitTestDriver::free() {
  IOSafeDeleteNULL(ivars, HostkitTestDriver_IVars, 1);
  super::free();
}

kern_return_t HostkitTestDriver::Start_Impl(IOService* provider) {
  driver_log().record("Start");
  ++ivars->starts;
  const kern_return_t result = Start(provider, SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    return result;
  }
  return RegisterService();
}

kern_return_t IMPL(HostkitTestDriver, Stop) {
  driver_log().record("Stop");
  return Stop(provider, SUPERDISPATCH);
}

kern_return_t HostkitTestDriver::HwActivate_Impl() {
  driver_log().record("HwActivate");
  return HwActivate(SUPERDISPATCH);
}

kern_return_t HostkitTestDriver::HwDeactivate_Impl() {
  driver_log().record("HwDeactivate");
  return HwDeactivate(SUPERDISPATCH);
}

kern_return_t HostkitTestDriver::HwResetFIFO_Impl(bool tx, bool rx) {
  driver_log().record("HwResetFIFO");
  // IOUserSerial's own HwResetFIFO answers kIOReturnUnsupported in hostkit.
  driver_log().reset_fifo_super_result = HwResetFIFO(tx, rx, SUPERDISPATCH);
  return kIOReturnSuccess;
}

kern_return_t HostkitTestDriver::HwProgramMCR_Impl(bool dtr, bool rts) {
  driver_log().record(std::string("HwProgramMCR ") + (dtr ? "1" : "0") + (rts ? "1" : "0"));
  return kIOReturnSuccess;
}

void HostkitTestDriver::handleRxPacket(uint8_t*& packet, uint32_t& size) {
  if (driver_log().strip_first_byte && size > 0) {
    ++packet;
    --size;
  }
  if (driver_log().point_elsewhere) {
    static uint8_t own_buffer[] = {'x', 'y'};
    packet = own_buffer;
    size = sizeof own_buffer;
  }
}
