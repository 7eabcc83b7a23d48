// hostkit: USBSerialDriverKit's IOUserUSBSerial.
//
// Like Apple's class it owns the USB data path: HwActivate opens the provider
// interface and its pipes and starts the reads, TxDataAvailable and
// RxFreeSpaceAvailable are final, and each finished bulk-IN transfer passes
// through handleRxPacket before its bytes reach the RX ring; interrupt-IN
// transfers go to handleInterruptPacket. The data path is transport's bulk
// pipeline (transport/bulk_pipeline.hpp) with the depth set by
// hostkit::UsbSerialTuning; `apple_rx` reproduces Apple's one-wMaxPacketSize
// read in flight.
//
// Endpoints [U: how Apple's class chooses them is unknown, driverkit-reference
// §1.6 and §7 item 1]: the first bulk IN, bulk OUT and interrupt IN of the
// matched interface, and nothing else: a dext reaches only the interface it
// matched, so a CDC communication interface (no bulk pair of its own) cannot be
// driven by this class, and Start fails with kIOReturnUnsupported.
#pragma once

#include <memory>

#include "SerialDriverKit/IOUserSerial.h"

namespace hostkit {
struct UsbSerialDataPath;
}

class IOUserUSBSerial : public IOUserSerial {
  HOSTKIT_METACLASS(IOUserUSBSerial)

 public:
  // LOCALONLY in the SDK's .iig [P: SwifterKit's generated .iig]: plain C++
  // calls on the dext's side, made by the framework for every finished transfer.
  virtual void handleRxPacket(uint8_t*& packet, uint32_t& size);
  virtual void handleInterruptPacket(const uint8_t* packet, uint32_t size);

  // hostkit: the kernel discards what it had queued for transmission (TCOFLUSH):
  // the framework, which consumes the TX ring, empties it and drops what it
  // took from it and has not sent. [U] Apple's IOUserUSBSerial does this
  // inside the kernel.
  void hostkitDiscardTx();
  // hostkit: the kernel discards what the device sent and the client has not read
  // (TCIFLUSH): besides the RX ring, the payload parked in read slots while the
  // ring was full. [U] Apple's IOUserUSBSerial does this inside the kernel.
  void hostkitDiscardRx();
  // hostkit: the data path's counters, as registry-style properties.
  OSDictionary* hostkitCopyDataPathStatistics() const;
  void free() override;
  // "usbserial-" + the device's USB serial string, or, without one, its
  // locationID >> 16 in hex [P: ioreg of AppleUSBSLCOM / AppleUSBCHCOM].
  void hostkitKernelTtyName(char* base, size_t base_size, char* suffix,
                            size_t suffix_size) const override;

 protected:
  ~IOUserUSBSerial() override;
  kern_return_t Start_Impl(IOService* provider) override;
  kern_return_t Stop_Impl(IOService* provider) override;
  // The framework maps the rings it runs the data path on.
  kern_return_t ConnectQueues_Impl(IOBufferMemoryDescriptor** ifmd, IOMemoryDescriptor** rxqmd,
                                   IOMemoryDescriptor** txqmd, IOMemoryDescriptor* in_rxqmd,
                                   IOMemoryDescriptor* in_txqmd, uint32_t in_rxqoffset,
                                   uint32_t in_txqoffset, uint8_t in_rxqlogsz,
                                   uint8_t in_txqlogsz) override;
  kern_return_t DisconnectQueues_Impl() override;
  kern_return_t HwActivate_Impl() override;
  kern_return_t HwDeactivate_Impl() override;
  void TxDataAvailable_Impl() final;
  void RxFreeSpaceAvailable_Impl() final;

 private:
  friend struct hostkit::UsbSerialDataPath;
  std::shared_ptr<hostkit::UsbSerialDataPath> path_;
};
