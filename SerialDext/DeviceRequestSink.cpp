#include "DeviceRequestSink.h"

#include <DriverKit/IOLib.h>

#include <cstring>

#include "transport/kern_status.hpp"

kern_return_t DeviceRequestSink::attach(IOUSBHostInterface* interface) {
  detach();
  const kern_return_t result =
      interface->CreateIOBuffer(kIOMemoryDirectionInOut, kBufferBytes, &buffer_);
  if (result != kIOReturnSuccess) {
    return result;
  }
  IOAddressSegment range{};
  buffer_->GetAddressRange(&range);
  bytes_ = reinterpret_cast<uint8_t*>(range.address);
  interface_ = interface;
  return kIOReturnSuccess;
}

kern_return_t DeviceRequestSink::attach(IOUSBHostDevice* device, IOService* client) {
  detach();
  const kern_return_t result =
      device->CreateIOBuffer(kIOMemoryDirectionInOut, kBufferBytes, &buffer_);
  if (result != kIOReturnSuccess) {
    return result;
  }
  IOAddressSegment range{};
  buffer_->GetAddressRange(&range);
  bytes_ = reinterpret_cast<uint8_t*>(range.address);
  device_ = device;
  client_ = client;
  return kIOReturnSuccess;
}

void DeviceRequestSink::detach() {
  OSSafeReleaseNULL(buffer_);
  bytes_ = nullptr;
  interface_ = nullptr;
  device_ = nullptr;
  client_ = nullptr;
}

transport::Status DeviceRequestSink::control(const transport::ControlRequest& request,
                                             std::span<uint8_t> data, uint16_t& transferred) {
  transferred = 0;
  if (interface_ == nullptr && device_ == nullptr) {
    return transport::Status::not_open;
  }
  if (data.size() != request.wLength || data.size() > kBufferBytes) {
    return transport::Status::invalid_argument;
  }
  if (!request.is_in() && !data.empty()) {
    std::memcpy(bytes_, data.data(), data.size());
  }
  IOMemoryDescriptor* data_buffer = request.wLength != 0 ? buffer_ : nullptr;
  const kern_return_t result =
      interface_ != nullptr
          ? interface_->DeviceRequest(request.bmRequestType, request.bRequest, request.wValue,
                                      request.wIndex, request.wLength, data_buffer, &transferred,
                                      kTimeoutMs)
          : device_->DeviceRequest(client_, request.bmRequestType, request.bRequest, request.wValue,
                                   request.wIndex, request.wLength, data_buffer, &transferred,
                                   kTimeoutMs);
  if (request.is_in() && result == kIOReturnSuccess) {
    transferred = transferred > data.size() ? static_cast<uint16_t>(data.size()) : transferred;
    std::memcpy(data.data(), bytes_, transferred);
  }
  return transport::kern::to_status(result);
}
