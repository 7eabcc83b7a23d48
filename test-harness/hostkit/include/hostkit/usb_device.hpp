// UsbDevice: hostkit's view of one attached USB device, shared by its
// IOUSBHostDevice, IOUSBHostInterface and IOUSBHostPipe objects.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "hostkit/usb_backend.hpp"
#include "transport/descriptors.hpp"

class IOUSBHostDevice;
class IOUSBHostInterface;

namespace hostkit {

class Runtime;

class UsbDevice : public std::enable_shared_from_this<UsbDevice> {
 public:
  UsbDevice(Runtime& runtime, std::shared_ptr<UsbDeviceBackend> backend, uint32_t location_id);
  ~UsbDevice();

  Runtime& runtime() { return runtime_; }
  UsbDeviceBackend& backend() { return *backend_; }
  // The descriptors read once at attach (untrusted; parse before use).
  const std::vector<uint8_t>& device_descriptor() const { return device_descriptor_; }
  const std::vector<uint8_t>& configuration_descriptor() const { return configuration_descriptor_; }
  uint32_t location_id() const { return location_id_; }
  bool detached() const { return detached_.load(); }
  void mark_detached() { detached_.store(true); }

  // The nubs. The device nub is made by Runtime::attach; the interface nubs when
  // the device is configured (by the composite driver at attach, or by a
  // device-level driver's SetConfiguration). Not retained by callers.
  IOUSBHostDevice* device_nub() const { return device_nub_; }
  IOUSBHostInterface* interface_nub(uint8_t number) const;
  void set_device_nub(IOUSBHostDevice* device) { device_nub_ = device; }
  // Creates the interface nubs of the (only) configuration, once.
  void configure();
  const std::vector<IOUSBHostInterface*>& interface_nubs() const { return interfaces_; }
  void release_nubs();

 private:
  Runtime& runtime_;
  std::shared_ptr<UsbDeviceBackend> backend_;
  std::vector<uint8_t> device_descriptor_;
  std::vector<uint8_t> configuration_descriptor_;
  uint32_t location_id_;
  std::atomic<bool> detached_{false};
  IOUSBHostDevice* device_nub_ = nullptr;
  std::vector<IOUSBHostInterface*> interfaces_;
  bool configured_ = false;
};

}  // namespace hostkit
