// The kernel side of a hostkit IOUserSerial: the rings as a side maps them from
// the descriptors ConnectQueues returns, and the interface the Linux tty side
// (test-harness/tty) implements to hear the driver's D->K calls. Everything here
// runs on the driver queue.
#pragma once

#include <cstdint>

#include "transport/serial_queue.hpp"

class IOBufferMemoryDescriptor;
class IOMemoryDescriptor;
class IOMemoryMap;

namespace hostkit {

// The RX and TX rings of one port, mapped from ConnectQueues' three descriptors
// with DriverKit's own calls (CreateMapping, GetAddress/GetLength) and read
// through SerialPortInterface's fields by name (docs/driverkit-reference.md §1.4). The same
// mapping serves either side: the kernel produces TX and consumes RX, the driver
// (hostkit's IOUserUSBSerial) the other way round. The index convention is
// transport::serial_queue_indexing()'s.
class SerialRings {
 public:
  SerialRings() = default;
  SerialRings(const SerialRings&) = delete;
  SerialRings& operator=(const SerialRings&) = delete;
  ~SerialRings() { unmap(); }

  // kIOReturnSuccess, or why the descriptors do not describe two usable rings
  // (a ring outside its memory, a size that is not a power of two, ...).
  int32_t map(IOBufferMemoryDescriptor* ifmd, IOMemoryDescriptor* rxqmd, IOMemoryDescriptor* txqmd);
  void unmap();
  bool mapped() const { return control_ != nullptr; }

  transport::SerialQueue& rx() { return rx_; }
  transport::SerialQueue& tx() { return tx_; }

 private:
  IOMemoryMap* control_ = nullptr;
  IOMemoryMap* rx_map_ = nullptr;
  IOMemoryMap* tx_map_ = nullptr;
  transport::SerialQueue rx_;
  transport::SerialQueue tx_;
};

class SerialClient {
 public:
  virtual ~SerialClient() = default;
  virtual void rx_data_available() = 0;
  virtual void tx_free_space_available() = 0;
  virtual void modem_status_changed(bool cts, bool dsr, bool ri, bool dcd) = 0;
  virtual void rx_error(bool overrun, bool got_break, bool framing, bool parity) = 0;
};

}  // namespace hostkit
