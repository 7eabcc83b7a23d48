// hostkit: IOUSBHostDevice (docs/driverkit-reference.md §2.4; Apple's USBDriverKit pages).
//
// A driver matched on an interface reaches the device through
// IOUSBHostInterface::CopyDevice and may read its descriptors. Everything that
// acts on the device belongs to the driver that opened it (a session): Open /
// Close, SetConfiguration, the interface iterator (CreateInterfaceIterator,
// CopyInterface, DestroyInterfaceIterator) and DeviceRequest(forClient, ...).
// A device matched at the interface level is held by the system's composite
// driver, which configured it, so nobody else can open it [U: whether
// AppleUSBHostCompositeDevice keeps its session is unknown; the strict pick].
// A device a driver claimed at the device level stays unconfigured, with no
// interfaces, until that driver calls SetConfiguration.
#pragma once

#include <memory>
#include <vector>

#include "DriverKit/IOBufferMemoryDescriptor.h"
#include "DriverKit/IOService.h"
#include "USBDriverKit/AppleUSBDescriptorParsing.h"

namespace hostkit {
class UsbDevice;
}
class IOUSBHostInterface;

class IOUSBHostDevice final : public IOService {
  HOSTKIT_METACLASS(IOUSBHostDevice)

 public:
  kern_return_t Open(IOService* forClient, IOOptionBits options, uintptr_t arg);
  kern_return_t Close(IOService* forClient, IOOptionBits options);
  const IOUSBDeviceDescriptor* CopyDeviceDescriptor();
  const IOUSBConfigurationDescriptor* CopyConfigurationDescriptor(uint8_t index);
  const IOUSBStringDescriptor* CopyStringDescriptor(uint8_t index);
  // Selects a configuration and creates its interfaces. matchInterfaces = true
  // (matching them against personalities) is not modelled: kIOReturnUnsupported.
  kern_return_t SetConfiguration(uint8_t bConfigurationValue, bool matchInterfaces);
  kern_return_t CreateInterfaceIterator(uintptr_t* ref);
  // The next interface (retained; the caller releases it), or NULL after the last.
  kern_return_t CopyInterface(uintptr_t ref, IOUSBHostInterface** interface);
  kern_return_t DestroyInterfaceIterator(uintptr_t ref);
  kern_return_t DeviceRequest(IOService* forClient, uint8_t bmRequestType, uint8_t bRequest,
                              uint16_t wValue, uint16_t wIndex, uint16_t wLength,
                              IOMemoryDescriptor* dataBuffer, uint16_t* bytesTransferred,
                              uint32_t completionTimeoutMs);
  kern_return_t CreateIOBuffer(IOOptionBits options, uint64_t capacity,
                               IOBufferMemoryDescriptor** buffer);

  explicit IOUSBHostDevice(std::shared_ptr<hostkit::UsbDevice> device) : device_(device) {}
  const std::shared_ptr<hostkit::UsbDevice>& hostkitDevice() const { return device_; }
  // The client holding the device's session (the composite driver: this object).
  IOService* hostkitOpener() const { return opener_; }
  // hostkit (the runtime): the system's composite driver configured the device
  // and keeps its session.
  void hostkitHeldByComposite() { opener_ = this; }

 private:
  std::shared_ptr<hostkit::UsbDevice> device_;
  IOService* opener_ = nullptr;
  // Open iterators: the position of each (the next interface index).
  std::vector<std::pair<uintptr_t, size_t>> iterators_;
  uintptr_t next_iterator_ = 1;
};
