// hostkit: IOUSBHostDevice (docs/driverkit-reference.md §2.4), the subset a serial driver reaches
// through IOUSBHostInterface::CopyDevice.
#pragma once

#include <memory>

#include "DriverKit/IOService.h"
#include "USBDriverKit/AppleUSBDescriptorParsing.h"

namespace hostkit {
class UsbDevice;
}

class IOUSBHostDevice final : public IOService {
  HOSTKIT_METACLASS(IOUSBHostDevice)

 public:
  const IOUSBDeviceDescriptor* CopyDeviceDescriptor();
  const IOUSBConfigurationDescriptor* CopyConfigurationDescriptor(uint8_t index);
  const IOUSBStringDescriptor* CopyStringDescriptor(uint8_t index);

  explicit IOUSBHostDevice(std::shared_ptr<hostkit::UsbDevice> device) : device_(device) {}
  const std::shared_ptr<hostkit::UsbDevice>& hostkitDevice() const { return device_; }

 private:
  std::shared_ptr<hostkit::UsbDevice> device_;
};
