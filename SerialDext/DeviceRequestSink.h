// DeviceRequestSink: transport's ControlSink over DeviceRequest: the interface's,
// the way Apple's serial dexts send vendor and class requests (docs/driverkit-reference.md §1.6),
// or the device's, for a driver that holds the device's session.
#pragma once

#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <USBDriverKit/IOUSBHostDevice.h>
#include <USBDriverKit/IOUSBHostInterface.h>

#include "transport/control.hpp"

class DeviceRequestSink final : public transport::ControlSink {
 public:
  // Apple's FTDI dext waits 5000 ms for a control request (docs/driverkit-reference.md §1.6).
  static constexpr uint32_t kTimeoutMs = 5000;
  // Largest data stage a chip protocol uses (CDC line coding: 7 bytes).
  static constexpr uint64_t kBufferBytes = 64;

  kern_return_t attach(IOUSBHostInterface* interface);
  // Requests through IOUSBHostDevice::DeviceRequest on behalf of `client`, which
  // has the device open.
  kern_return_t attach(IOUSBHostDevice* device, IOService* client);
  void detach();

  transport::Status control(const transport::ControlRequest& request, std::span<uint8_t> data,
                            uint16_t& transferred) override;

 private:
  IOUSBHostInterface* interface_ = nullptr;
  IOUSBHostDevice* device_ = nullptr;
  IOService* client_ = nullptr;
  IOBufferMemoryDescriptor* buffer_ = nullptr;
  uint8_t* bytes_ = nullptr;
};
