#include "sim/raw_bulk.hpp"

#include <chrono>
#include <span>

namespace sim {

namespace {
constexpr auto kFrame = std::chrono::milliseconds(1);  // full-speed USB frame
}

void pump_out_to_uart(Endpoint& out, UartPort& port) {
  while (out.out_waiting()) {
    const std::span<const uint8_t> packet = out.out_packet();
    if (packet.size() > port.tx_space()) {
      return;  // NAK until the FIFO has room for the packet
    }
    port.tx_write(packet);
    port.counters().usb_out_bytes += packet.size();
    out.consume_out_packet();
  }
}

void RawBulkIn::send(size_t n) {
  port_.rx_copy(0, packet_.data(), n);  // raw data: the errors went to the other endpoint
  port_.rx_consume(n);
  if (in_.send_packet(std::span<const uint8_t>(packet_.data(), n))) {
    port_.counters().usb_in_bytes += n;
    ++port_.counters().usb_in_packets;
  } else {
    port_.counters().usb_in_lost_bytes += n;
  }
}

void RawBulkIn::pump() {
  while (in_.in_waiting()) {
    const size_t level = port_.rx_level();
    if (level >= packet_.size()) {
      send(packet_.size());
      continue;
    }
    if (frame_due_ && (level > 0 || in_.in_filled() > 0)) {
      send(level);  // end of the frame: a short (or zero-length) packet
      continue;
    }
    break;
  }
  frame_due_ = false;
  if (in_.in_waiting() && (port_.rx_level() > 0 || in_.in_filled() > 0) && frame_timer_ == 0) {
    const auto frame_ns = std::chrono::duration_cast<SimDuration>(kFrame).count();
    const SimTime next((bus_.now().count() / frame_ns + 1) * frame_ns);
    frame_timer_ = bus_.schedule_at(next, [this] {  // one pointer: no allocation
      frame_timer_ = 0;
      frame_due_ = true;
      pump();
    });
  }
}

}  // namespace sim
