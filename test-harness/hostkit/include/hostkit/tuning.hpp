// UsbSerialTuning: how hostkit's IOUserUSBSerial runs its data path.
#pragma once

#include <cstdint>

namespace hostkit {

struct UsbSerialTuning {
  // Apple's IOUserUSBSerial: one wMaxPacketSize read in flight, re-armed only while
  // the RX ring has that much room (docs/field-notes.md §1.1, [RE]). The default,
  // because hostkit must never be more forgiving than the Mac: a test that passes
  // on the framework's data path must pass with the shallowest one reported
  // (docs/driverkit-assumptions.md item 3).
  bool apple_rx = true;
  // The other candidate (apple_rx false, --deep-framework-rx): bulk-IN transfers
  // kept in flight and their size in wMaxPacketSize units. Linux cdc-acm keeps
  // 16 x 2 packets; usb-serial-for-android users needed 8-32 queued reads at
  // 921600 Bd (docs/field-notes.md §4, §10).
  uint8_t rx_depth = 8;
  uint16_t rx_packets_per_transfer = 16;
  // What the framework does with the bytes of a bulk-IN transfer that ends with
  // an error (a stall, a babble, an unplug) [U]: hand them to handleRxPacket like
  // any other (false, our pipeline's way), or drop them and count them in
  // RxDiscardedBytes (true), as Linux's usb-serial and cdc-acm drivers drop them.
  bool discard_failed_rx = false;
  // Largest bulk-OUT transfer, in wMaxPacketSize units (cdc-acm: 20).
  uint16_t tx_packets_per_transfer = 32;
  // RX and TX ring size: the framework default (docs/driverkit-reference.md §1.2).
  uint32_t ring_bytes = 16384;
};

}  // namespace hostkit
