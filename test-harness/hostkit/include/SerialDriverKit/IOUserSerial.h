// hostkit: SerialDriverKit's IOUserSerial, with the kernel side merged in.
//
// On macOS the kernel's IOUserSerial (com.apple.driver.driverkit.serial) and
// IOSerialBSDClient own the rings and the tty; the dext implements the Hw*
// methods. In hostkit this class also plays the kernel: ConnectQueues makes the
// shared memory of the queue protocol (docs/driverkit-reference.md §1.2, §1.4) -- the control
// block (ifmd, a SerialPortInterface) and the two rings (rxqmd, txqmd; 16 KiB
// each by default, or the caller's buffers) -- and hands the caller a reference
// to each; the kernel side and the driver map them and move the indices
// (hostkit::SerialRings, transport/serial_queue.hpp). The D->K calls
// (RxDataAvailable, TxFreeSpaceAvailable, SetModemStatus, RxError) reach the
// attached hostkit::SerialClient (the Linux tty side).
//
// Hw* defaults: whether Apple's base classes do anything is unknown [U]
// (docs/driverkit-reference.md §1.2); hostkit's return kIOReturnUnsupported so a missing
// override is loud. HwActivate/HwDeactivate succeed.
#pragma once

#include <stddef.h>

#include "DriverKit/IOBufferMemoryDescriptor.h"
#include "DriverKit/IOService.h"

namespace hostkit {
class SerialClient;
}  // namespace hostkit

class IOUserSerial : public IOService {
  HOSTKIT_METACLASS(IOUserSerial)

 public:
  IOUserSerial();
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, ConnectQueues,
                  (ifmd, rxqmd, txqmd, in_rxqmd, in_txqmd, in_rxqoffset, in_txqoffset, in_rxqlogsz,
                   in_txqlogsz),
                  IOBufferMemoryDescriptor** ifmd, IOMemoryDescriptor** rxqmd,
                  IOMemoryDescriptor** txqmd, IOMemoryDescriptor* in_rxqmd,
                  IOMemoryDescriptor* in_txqmd, uint32_t in_rxqoffset, uint32_t in_txqoffset,
                  uint8_t in_rxqlogsz, uint8_t in_txqlogsz);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, DisconnectQueues, ());
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwActivate, ());
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwDeactivate, ());
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwResetFIFO, (tx, rx), bool tx, bool rx);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwSendBreak, (sendBreak), bool sendBreak);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwGetModemStatus, (cts, dsr, ri, dcd), bool* cts,
                  bool* dsr, bool* ri, bool* dcd);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwProgramUART,
                  (baudRate, nDataBits, nHalfStopBits, parity), uint32_t baudRate,
                  uint8_t nDataBits, uint8_t nHalfStopBits, uint8_t parity);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwProgramBaudRate, (baudRate), uint32_t baudRate);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwProgramMCR, (dtr, rts), bool dtr, bool rts);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwProgramLatencyTimer, (latency), uint32_t latency);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, HwProgramFlowControl, (arg, xon, xoff), uint32_t arg,
                  uint8_t xon, uint8_t xoff);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, SetModemStatus, (cts, dsr, ri, dcd), bool cts,
                  bool dsr, bool ri, bool dcd);
  HOSTKIT_MESSAGE(IOUserSerial, kern_return_t, RxError,
                  (overrun, gotBreak, framingError, parityError), bool overrun, bool gotBreak,
                  bool framingError, bool parityError);
  HOSTKIT_MESSAGE(IOUserSerial, void, RxDataAvailable, ());
  HOSTKIT_MESSAGE(IOUserSerial, void, TxFreeSpaceAvailable, ());
  HOSTKIT_MESSAGE(IOUserSerial, void, TxDataAvailable, ());
  HOSTKIT_MESSAGE(IOUserSerial, void, RxFreeSpaceAvailable, ());

 public:
  // The kernel names the port for the BSD client here (hostkitKernelTtyName).
  kern_return_t RegisterService() override;

  // hostkit: the kernel side.
  void hostkitSetClient(hostkit::SerialClient* client) { client_ = client; }
  hostkit::SerialClient* hostkitClient() const { return client_; }
  void free() override;
  // The name the kernel object gives the port when the registry has no
  // IOTTYBaseName / IOTTYSuffix at its top level [P: ioreg of shipping dexts]:
  // a plain IOUserSerial is "serial-" + its registry ID in hex.
  virtual void hostkitKernelTtyName(char* base, size_t base_size, char* suffix,
                                    size_t suffix_size) const;

 protected:
  ~IOUserSerial() override;

 private:
  void release_queues();

  hostkit::SerialClient* client_ = nullptr;
  // What ConnectQueues made (or was given), until DisconnectQueues.
  IOBufferMemoryDescriptor* ifmd_ = nullptr;
  IOMemoryDescriptor* rxqmd_ = nullptr;
  IOMemoryDescriptor* txqmd_ = nullptr;
};
