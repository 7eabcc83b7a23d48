// hostkit: IOUSBHostPipe (SDK header signatures, docs/driverkit-reference.md §2.5).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "DriverKit/IOMemoryDescriptor.h"
#include "DriverKit/OSAction.h"
#include "DriverKit/OSObject.h"

class IOService;
namespace hostkit {
class UsbDevice;
}

class IOUSBHostPipe final : public OSObject {
  HOSTKIT_METACLASS(IOUSBHostPipe)

 public:
  // Queues a transfer; `completion` runs on the driver queue with the status and
  // byte count. Timeouts other than 0 are not modelled by hostkit.
  kern_return_t AsyncIO(IOMemoryDescriptor* dataBuffer, uint32_t dataBufferLength,
                        OSAction* completion, uint32_t completionTimeoutMs);
  // Completes every queued transfer with `withError` (kIOReturnAborted).
  kern_return_t Abort(IOOptionBits options, kern_return_t withError, IOService* forClient);
  // Clears a halt; withRequest also sends CLEAR_FEATURE(ENDPOINT_HALT) to the device.
  kern_return_t ClearStall(bool withRequest);

  IOUSBHostPipe(std::shared_ptr<hostkit::UsbDevice> device, uint8_t address, uint16_t maxPacket);
  uint8_t hostkitAddress() const { return address_; }
  uint16_t hostkitMaxPacketSize() const { return max_packet_; }

 private:
  // One transfer in flight: the completion to deliver and what it holds. Kept
  // in a pool per pipe, so a transfer allocates nothing once the pool has grown
  // to the most transfers ever in flight.
  struct PendingIo;
  PendingIo* take_pending();
  void give_back(PendingIo* io);

  std::shared_ptr<hostkit::UsbDevice> device_;
  uint8_t address_;
  uint16_t max_packet_;
  std::mutex pool_mutex_;
  std::vector<std::unique_ptr<PendingIo>> pool_;
  std::vector<PendingIo*> free_;
};
