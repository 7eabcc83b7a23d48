// org_usbserialbridge_SerialDriver: the IOUserUSBSerial class. Apple's framework
// owns the pipes and the data path; this class hands every Hw* call and every
// packet to the shared body (SerialPortBody.h), which does all the rest.

#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>
#include <os/log.h>

#include <new>

#include "SerialPortBody.h"
#include "org_usbserialbridge_SerialDriver.h"

namespace {
constexpr const char* kClassName = "SerialDriver";
}

// Constructed with placement new in init() and destroyed in free(): DriverKit's
// IONewZero is raw zeroed memory, which would leave the vtables of the sink and
// the chip protocols null and every member initialiser unapplied.
struct org_usbserialbridge_SerialDriver_IVars {
  IOUSBHostInterface* interface = nullptr;  // the provider; valid until Stop
  SerialPortBody body{kClassName};
  OSAction* statistics_action = nullptr;
};

bool org_usbserialbridge_SerialDriver::init() {
  if (!super::init()) {
    return false;
  }
  void* memory = IOMallocZero(sizeof(org_usbserialbridge_SerialDriver_IVars));
  if (memory == nullptr) {
    return false;
  }
  ivars = new (memory) org_usbserialbridge_SerialDriver_IVars();
  return true;
}

void org_usbserialbridge_SerialDriver::free() {
  if (ivars != nullptr) {
    ivars->~org_usbserialbridge_SerialDriver_IVars();
    IOFree(ivars, sizeof(org_usbserialbridge_SerialDriver_IVars));
    ivars = nullptr;
  }
  super::free();
}

kern_return_t org_usbserialbridge_SerialDriver::Start_Impl(IOService* provider) {
  kern_return_t result = Start(provider, SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "Start: IOUserUSBSerial::Start failed 0x%x", result);
    return result;
  }
  ivars->interface = OSDynamicCast(IOUSBHostInterface, provider);
  if (ivars->interface == nullptr) {
    DEXT_LOG(kClassName, "Start: provider is not an IOUSBHostInterface");
    Stop(provider, SUPERDISPATCH);
    return kIOReturnNoDevice;
  }
  result = ivars->body.sink().attach(ivars->interface);
  if (result == kIOReturnSuccess) {
    result = CreateActionStatisticsDue(0, &ivars->statistics_action);
  }
  if (result == kIOReturnSuccess) {
    result = ivars->body.start(this, ivars->interface, ivars->statistics_action);
  }
  if (result != kIOReturnSuccess) {
    Stop_Impl(provider);
    return result;
  }
  return RegisterService();
}

kern_return_t org_usbserialbridge_SerialDriver::Stop_Impl(IOService* provider) {
  ivars->body.stop();
  if (ivars->statistics_action != nullptr) {
    ivars->statistics_action->Cancel(nullptr);  // it holds a reference on this driver
    OSSafeReleaseNULL(ivars->statistics_action);
  }
  return Stop(provider, SUPERDISPATCH);
}

kern_return_t org_usbserialbridge_SerialDriver::HwActivate_Impl() {
  // The chip first, then the framework's channel, as the IOUserSerial class
  // opens the chip before it arms a read: opening resets the chip's FIFOs where
  // the chip can (FTDI, CP210x), so the first read the framework arms cannot
  // return what the chip received while the port was closed. Control requests
  // need nothing HwActivate sets up (docs/driverkit-assumptions.md item 16).
  const kern_return_t opened = ivars->body.activate();
  if (opened != kIOReturnSuccess) {
    ivars->body.publish_statistics();
    return opened;
  }
  const kern_return_t result = HwActivate(SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    DEXT_LOG(kClassName, "HwActivate: IOUserUSBSerial::HwActivate failed 0x%x", result);
    (void)ivars->body.deactivate();
  }
  ivars->body.publish_statistics();
  return result;
}

kern_return_t org_usbserialbridge_SerialDriver::HwDeactivate_Impl() {
  (void)ivars->body.deactivate();
  ivars->body.publish_statistics();
  return HwDeactivate(SUPERDISPATCH);
}

kern_return_t org_usbserialbridge_SerialDriver::HwResetFIFO_Impl(bool tx, bool rx) {
  return ivars->body.reset_fifo(tx, rx);
}

kern_return_t org_usbserialbridge_SerialDriver::HwSendBreak_Impl(bool sendBreak) {
  return ivars->body.send_break(sendBreak);
}

kern_return_t org_usbserialbridge_SerialDriver::HwGetModemStatus_Impl(bool* cts, bool* dsr,
                                                                      bool* ri, bool* dcd) {
  return ivars->body.modem_status(cts, dsr, ri, dcd);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramUART_Impl(uint32_t baudRate,
                                                                   uint8_t nDataBits,
                                                                   uint8_t nHalfStopBits,
                                                                   uint8_t parity) {
  return ivars->body.program_uart(baudRate, nDataBits, nHalfStopBits, parity);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramBaudRate_Impl(uint32_t baudRate) {
  return ivars->body.program_baud(baudRate);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramMCR_Impl(bool dtr, bool rts) {
  return ivars->body.program_mcr(dtr, rts);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramLatencyTimer_Impl(uint32_t latency) {
  return ivars->body.program_latency(latency);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramFlowControl_Impl(uint32_t arg, uint8_t xon,
                                                                          uint8_t xoff) {
  return ivars->body.program_flow(arg, xon, xoff);
}

// [U] The framework's pipes are not ours: their halts, errors and any byte the
// framework drops never reach this class, which counts only what it is handed
// (docs/driverkit-assumptions.md item 44).
void org_usbserialbridge_SerialDriver::handleRxPacket(uint8_t*& packet, uint32_t& size) {
  size = ivars->body.rx_transfer({packet, size});
  ivars->body.publish_statistics_now_and_then();
}

void org_usbserialbridge_SerialDriver::StatisticsDue_Impl(OSAction*, uint64_t) {
  ivars->body.publish_statistics_due();
}

void org_usbserialbridge_SerialDriver::handleInterruptPacket(const uint8_t* packet, uint32_t size) {
  ivars->body.interrupt_transfer({packet, size});
  ivars->body.publish_statistics_now_and_then();
}
