// hostkit: SerialDriverKit's SerialPortInterface, the control block of the rings
// IOUserSerial shares between the kernel and the dext (docs/driverkit-reference.md §1.4). The
// field names are the SDK's as third-party dexts use them [P]; the layout is
// unknown [U], so code must name fields and never assume offsets. hostkit puts
// each index pair and the geometry 128 bytes apart, the layout a private header
// dump suggests (padding, not alignment: the block only needs 4-byte alignment).
//
// rxPI/rxCI: the RX ring's producer (driver) and consumer (kernel) indices;
// txPI/txCI: the TX ring's producer (kernel) and consumer (driver) indices.
// What the indices count is transport/serial_queue.hpp's business.
#pragma once

#include <stdint.h>

namespace driverkit::serial {

struct SerialPortInterface {
  // [U] The SDK's value is unknown; hostkit refuses larger rings in ConnectQueues.
  static const uint8_t kSerialQueueLogSizeMax = 16;

  mutable uint32_t rxPI;
  mutable uint32_t rxCI;
  uint32_t hostkit_reserved_rx[30];
  mutable uint32_t txPI;
  mutable uint32_t txCI;
  uint32_t hostkit_reserved_tx[30];
  uint32_t rxqoffset;
  uint32_t txqoffset;
  uint8_t rxqlogsz;
  uint8_t txqlogsz;
  uint8_t hostkit_reserved_geometry[118];
};

}  // namespace driverkit::serial
