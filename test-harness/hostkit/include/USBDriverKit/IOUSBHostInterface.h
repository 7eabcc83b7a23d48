// hostkit: IOUSBHostInterface (SDK header signatures, docs/driverkit-reference.md §2.3).
#pragma once

#include <memory>

#include "DriverKit/IOBufferMemoryDescriptor.h"
#include "DriverKit/IOService.h"
#include "USBDriverKit/AppleUSBDescriptorParsing.h"
#include "USBDriverKit/IOUSBHostDevice.h"
#include "USBDriverKit/IOUSBHostPipe.h"

namespace hostkit {
class UsbDevice;
}

class IOUSBHostInterface final : public IOService {
  HOSTKIT_METACLASS(IOUSBHostInterface)

 public:
  kern_return_t Open(IOService* forClient, IOOptionBits options, uint8_t* arg);
  kern_return_t Close(IOService* forClient, IOOptionBits options);
  const IOUSBConfigurationDescriptor* CopyConfigurationDescriptor();
  // Points into `configDescriptor`; do not free.
  const IOUSBInterfaceDescriptor* GetInterfaceDescriptor(
      const IOUSBConfigurationDescriptor* configDescriptor);
  const IOUSBStringDescriptor* CopyStringDescriptor(uint8_t index);
  kern_return_t CopyPipe(uint8_t address, IOUSBHostPipe** pipe);
  kern_return_t CopyDevice(IOUSBHostDevice** device);
  kern_return_t CreateIOBuffer(IOOptionBits options, uint64_t capacity,
                               IOBufferMemoryDescriptor** buffer);
  kern_return_t DeviceRequest(uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue,
                              uint16_t wIndex, uint16_t wLength, IOMemoryDescriptor* dataBuffer,
                              uint16_t* bytesTransferred, uint32_t completionTimeoutMs);

  IOUSBHostInterface(std::shared_ptr<hostkit::UsbDevice> device, uint8_t number);
  uint8_t hostkitNumber() const { return number_; }
  const std::shared_ptr<hostkit::UsbDevice>& hostkitDevice() const { return device_; }

 private:
  std::shared_ptr<hostkit::UsbDevice> device_;
  uint8_t number_;
  IOService* opener_ = nullptr;
};
