// The bulk pipes of a chip whose bulk IN carries the received line bytes as they
// are, with line errors and modem changes reported on another endpoint (CDC-ACM,
// PL2303): OUT packets go to the UART's TX FIFO whole, and NAK while it has no
// room for one; IN sends full packets at once and what is left at the next 1 ms
// frame boundary as a short packet, a zero-length one ending a transfer that
// holds only full packets (our choice: neither chip documents its receive
// timeout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/bus.hpp"
#include "sim/port.hpp"
#include "sim/usb_device.hpp"

namespace sim {

// OUT: moves the head transfer's packets into `port`'s TX FIFO while a whole one fits.
void pump_out_to_uart(Endpoint& out, UartPort& port);

// IN, on the bus thread, from `port`'s RX FIFO to `in`; destroyed (which
// cancels its frame timer) before the port and the endpoint go.
class RawBulkIn {
 public:
  RawBulkIn(Bus& bus, Endpoint& in, UartPort& port)
      : bus_(bus), in_(in), port_(port), packet_(in.max_packet()) {}
  ~RawBulkIn() { bus_.cancel(frame_timer_); }
  RawBulkIn(const RawBulkIn&) = delete;
  RawBulkIn& operator=(const RawBulkIn&) = delete;
  void pump();

 private:
  void send(size_t n);

  Bus& bus_;
  Endpoint& in_;
  UartPort& port_;
  std::vector<uint8_t> packet_;
  Bus::TimerId frame_timer_ = 0;
  bool frame_due_ = false;
};

}  // namespace sim
