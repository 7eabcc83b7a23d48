// Vendor bulk device simulator: interfaces of vendor class 0xFF, each a plain
// bulk IN/OUT pair with no chip protocol behind it. The profile we simulate is a
// TETRA radio's PEI port ("tetra-pei"), from the facts we have about it:
// VID 0x0CAD, PID 0x9016, interfaces 0 and 1, both class 0xFF with two bulk
// endpoints each, high speed, no serial-number string.
//
// Our choices where those facts are silent:
//   - subclass and protocol 0x00, bcdDevice 0x0100, bMaxPacketSize0 64, bus
//     powered at 100 mA, manufacturer/product strings naming the simulator;
//   - endpoints 0x81 + i (IN) and 0x01 + i (OUT) on interface i, wMaxPacketSize
//     512 (the only bulk size USB 2.0 §5.8.3 allows at high speed; 64 on a
//     full-speed port, SimOptions::full_speed_port);
//   - the device answers every vendor or class request with STALL: it has none;
//   - IN: a full packet goes as soon as the data is there, a short one at the
//     next (micro)frame boundary (125 µs at high speed, 1 ms at full speed); a
//     zero-length packet ends a transfer that holds only full packets;
//   - OUT: a packet is taken when the far side has room for all of it (NAK
//     until then);
//   - what lies behind each interface is modelled as a UartPort (4 KiB FIFOs
//     each way) so the usual wiring applies: a loopback plug sends what the
//     host writes back on the same interface, a null-modem cable joins
//     interface i of two devices. It is never paced and keeps one fixed format
//     (there is no UART to program), and no modem line is driven.
// SimOptions::serial is ignored: the device has no serial-number string.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/usb_device.hpp"

namespace sim::vendor {

struct Profile {
  const char* name;  // the --sim name
  uint16_t vid;
  uint16_t pid;
  uint16_t bcd_device;
  uint8_t interfaces;  // one bulk pair each, numbered from 0
  bool high_speed;
  const char* product;
};

const Profile* find_profile(std::string_view name);
std::vector<std::string> profile_names();

class VendorBulkDevice final : public SimDevice, private UartPort::Client {
 public:
  VendorBulkDevice(Bus& bus, const Profile& profile, SimOptions options);
  ~VendorBulkDevice() override;

  std::string_view chip() const override { return profile_.name; }
  size_t port_count() const override { return profile_.interfaces; }
  UartPort& port(size_t index) override { return *channels_.at(index)->port; }

 private:
  struct Channel {
    std::unique_ptr<UartPort> port;
    Endpoint* in = nullptr;
    Endpoint* out = nullptr;
    std::unique_ptr<Bus::Task> pump;
    Bus::TimerId frame_timer = 0;
    bool frame_due = false;
  };

  IOReturnValue device_request(const UsbSetup& setup, std::span<uint8_t> data,
                               uint16_t& actual) override;
  void endpoint_activity(Endpoint& ep) override;
  void teardown() override;
  void uart_activity(UartPort& port) override;
  void uart_tx_space(UartPort& port) override;
  void uart_rx_full(UartPort& port) override;
  Channel* channel_of(const UartPort& port);

  void pump(Channel& ch);
  void pump_out(Channel& ch);
  void pump_in(Channel& ch);
  void send_in(Channel& ch, size_t n);
  void arm_frame_timer(Channel& ch);

  const Profile& profile_;
  uint16_t max_packet_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<uint8_t> packet_;
};

}  // namespace sim::vendor
