// UsbDeviceBackend: the seam between hostkit's USBDriverKit classes and a USB
// device: a chip simulator (test-harness/sim), or later a real device via libusb.
//
// Contract (every implementation):
//   - Thread safety: every method may be called from any thread.
//   - Completions of submit() run on the backend's own thread, exactly once per
//     accepted transfer, and transfers on one endpoint complete in the order
//     they were submitted (as USB pipes do).
//   - Results are IOReturn values (hostkit/ioreturn.hpp): kIOReturnSuccess,
//     kIOUSBPipeStalled, kIOReturnAborted, kIOReturnNoDevice, kIOReturnOverrun
//     (babble), kIOUSBTransactionTimeout.
//   - IN transfers complete when a short packet arrives or the buffer is full
//     (USB 2.0 §5.8.3); the buffer length is a multiple of wMaxPacketSize.
//   - The caller keeps `buffer` alive until the completion has run.
//   - After the device is detached, every call fails with kIOReturnNoDevice and
//     pending transfers complete with kIOReturnNoDevice.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace hostkit {

using IOReturnValue = int32_t;

struct UsbSetup {
  uint8_t bmRequestType = 0;
  uint8_t bRequest = 0;
  uint16_t wValue = 0;
  uint16_t wIndex = 0;
  uint16_t wLength = 0;
};

enum class UsbSpeed : uint8_t { full, high };

using UsbCompletion = std::function<void(IOReturnValue status, uint32_t actual)>;

class UsbDeviceBackend {
 public:
  virtual ~UsbDeviceBackend() = default;

  // Descriptors exactly as the device returns them: untrusted bytes, possibly
  // malformed on purpose (fault injection).
  virtual std::vector<uint8_t> device_descriptor() = 0;
  virtual std::vector<uint8_t> configuration_descriptor() = 0;
  // The raw string descriptor (bLength, 0x03, UTF-16LE); empty when the device
  // has none at that index (a real device STALLs the request).
  virtual std::vector<uint8_t> string_descriptor(uint8_t index) = 0;

  virtual UsbSpeed speed() const = 0;

  // The device's USB locationID (bus and port path, as IOKit shows it), which
  // stays the same when a device is unplugged and plugged into the same socket.
  // 0: let the runtime assign one (kept for as long as this backend object lives).
  virtual uint32_t location_id() const { return 0; }

  // A synchronous control transfer on endpoint 0. data.size() == setup.wLength.
  // `actual` receives the bytes moved in the data stage.
  virtual IOReturnValue control(const UsbSetup& setup, std::span<uint8_t> data,
                                uint16_t& actual) = 0;

  // Queues a bulk or interrupt transfer on `endpoint` (bEndpointAddress, bit 7 =
  // IN). Returns kIOReturnSuccess when accepted; `done` then runs later.
  virtual IOReturnValue submit(uint8_t endpoint, std::span<uint8_t> buffer, UsbCompletion done) = 0;

  // Completes every queued transfer on the endpoint with kIOReturnAborted.
  virtual void abort(uint8_t endpoint) = 0;

  // Clears the endpoint's halt (CLEAR_FEATURE(ENDPOINT_HALT)) and its data toggle.
  virtual IOReturnValue clear_halt(uint8_t endpoint) = 0;

  // `handler` runs once, on the backend thread, when the device is detached
  // (after pending transfers have completed with kIOReturnNoDevice).
  virtual void set_detach_handler(std::function<void()> handler) = 0;
};

}  // namespace hostkit
