// DeviceRequestSink: transport's ControlSink over IOUSBHostInterface::DeviceRequest,
// the way Apple's serial dexts send vendor and class requests (docs/driverkit-reference.md §1.6).
#pragma once

#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <USBDriverKit/IOUSBHostInterface.h>

#include "transport/control.hpp"

class DeviceRequestSink final : public transport::ControlSink {
 public:
  // Apple's FTDI dext waits 5000 ms for a control request (docs/driverkit-reference.md §1.6).
  static constexpr uint32_t kTimeoutMs = 5000;
  // Largest data stage a chip protocol uses (CDC line coding: 7 bytes).
  static constexpr uint64_t kBufferBytes = 64;

  kern_return_t attach(IOUSBHostInterface* interface);
  void detach();

  transport::Status control(const transport::ControlRequest& request, std::span<uint8_t> data,
                            uint16_t& transferred) override;

 private:
  IOUSBHostInterface* interface_ = nullptr;
  IOBufferMemoryDescriptor* buffer_ = nullptr;
  uint8_t* bytes_ = nullptr;
};
