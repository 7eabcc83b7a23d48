// hostkit: SerialDriverKit's SerialPortInterface, the control block of the rings
// IOUserSerial shares between the kernel and the dext (driverkit.md §1.4). The
// field names are the SDK's as third-party dexts use them [P]; the layout is
// unknown [U], so code must name fields and never assume offsets. hostkit puts
// each index pair and the geometry on a 128-byte line of its own, the layout a
// private header dump suggests.
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

  alignas(128) mutable uint32_t rxPI;
  mutable uint32_t rxCI;
  alignas(128) mutable uint32_t txPI;
  mutable uint32_t txCI;
  alignas(128) uint32_t rxqoffset;
  uint32_t txqoffset;
  uint8_t rxqlogsz;
  uint8_t txqlogsz;
};

}  // namespace driverkit::serial
