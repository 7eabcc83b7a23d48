#include "sim/vendor_bulk.hpp"

#include <chrono>

namespace sim::vendor {

namespace {

// The TETRA radio PEI port: VID/PID, two interfaces and high speed are the device's facts;
// bcdDevice and the product string are our choices (see the header).
constexpr Profile kProfiles[] = {
    {"tetra-pei", 0x0CAD, 0x9016, 0x0100, 2, true, "TETRA radio PEI (simulated)"},
};

constexpr uint8_t kVendorClass = 0xFF;       // USB class code "vendor specific"
constexpr uint8_t kConfigAttributes = 0x80;  // bus powered
constexpr uint8_t kMaxPower2mA = 50;         // 100 mA
constexpr size_t kFifoSize = 4096;
constexpr auto kMicroframe = std::chrono::microseconds(125);  // high speed (USB 2.0 §8.4.3.1)
constexpr auto kFrame = std::chrono::milliseconds(1);         // full speed

uint8_t in_address(size_t interface) {
  return static_cast<uint8_t>(0x81 + interface);
}
uint8_t out_address(size_t interface) {
  return static_cast<uint8_t>(0x01 + interface);
}

}  // namespace

const Profile* find_profile(std::string_view name) {
  for (const Profile& p : kProfiles) {
    if (name == p.name) {
      return &p;
    }
  }
  return nullptr;
}

std::vector<std::string> profile_names() {
  std::vector<std::string> names;
  for (const Profile& p : kProfiles) {
    names.emplace_back(p.name);
  }
  return names;
}

VendorBulkDevice::VendorBulkDevice(Bus& bus, const Profile& profile, SimOptions options)
    : SimDevice(bus, options,
                (profile.high_speed && !options.full_speed_port) ? UsbSpeed::high : UsbSpeed::full),
      profile_(profile) {
  max_packet_ = speed() == UsbSpeed::high ? 512 : 64;
  usbdesc::ConfigBuilder config(kConfigAttributes, kMaxPower2mA);
  for (uint8_t i = 0; i < profile.interfaces; ++i) {
    config.interface(i, 2, kVendorClass, 0x00, 0x00, 0)
        .endpoint(in_address(i), kEndpointBulk, max_packet_, 0)
        .endpoint(out_address(i), kEndpointBulk, max_packet_, 0);
  }
  // iSerialNumber 0: no serial-number string, whatever SimOptions::serial says.
  set_descriptors(usbdesc::device(0x0200, 0, 0, 0, 64, options.vid.value_or(profile.vid),
                                  options.pid.value_or(profile.pid), profile.bcd_device, 1, 2, 0),
                  config.finish(), {"USBSerialBridge", profile.product});
  packet_.resize(max_packet_);

  bus.call([&] {
    for (uint8_t i = 0; i < profile.interfaces; ++i) {
      auto ch = std::make_unique<Channel>();
      std::string name = std::string(profile.name) + ":" + static_cast<char>('A' + i);
      ch->port =
          std::make_unique<UartPort>(bus, UartPort::Config{name, kFifoSize, kFifoSize, false},
                                     static_cast<UartPort::Client*>(this));
      ch->port->set_format(LineFormat{});
      ch->in = &add_endpoint(in_address(i), kEndpointBulk, max_packet_);
      ch->out = &add_endpoint(out_address(i), kEndpointBulk, max_packet_);
      Channel* raw = ch.get();
      ch->pump = std::make_unique<Bus::Task>(bus, [this, raw] { pump(*raw); });
      channels_.push_back(std::move(ch));
    }
  });
}

VendorBulkDevice::~VendorBulkDevice() {
  shutdown();
}

void VendorBulkDevice::teardown() {
  for (auto& ch : channels_) {
    bus().cancel(ch->frame_timer);
    ch->pump.reset();
    ch->port.reset();
  }
}

IOReturnValue VendorBulkDevice::device_request(const UsbSetup& setup, std::span<uint8_t>,
                                               uint16_t& actual) {
  // Counted on the interface the request names (wIndex low byte), else on the first.
  const size_t interface = setup.wIndex & 0xFF;
  UartPort& p = *channels_[interface < channels_.size() ? interface : 0]->port;
  ++p.counters().control_requests;
  ++p.counters().stalled_requests;
  actual = 0;
  return kIOUSBPipeStalled;
}

VendorBulkDevice::Channel* VendorBulkDevice::channel_of(const UartPort& port) {
  for (auto& ch : channels_) {
    if (ch->port.get() == &port) {
      return ch.get();
    }
  }
  return nullptr;
}

void VendorBulkDevice::endpoint_activity(Endpoint& ep) {
  for (auto& ch : channels_) {
    if (ch->in == &ep || ch->out == &ep) {
      ch->pump->wake();
    }
  }
}

void VendorBulkDevice::uart_activity(UartPort& port) {
  if (Channel* ch = channel_of(port)) {
    port.take_error_events();  // nothing to report them with: no status channel
    port.take_overrun();
    pump(*ch);
  }
}

void VendorBulkDevice::uart_tx_space(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch != nullptr && !detached() && ch->out->out_waiting()) {
    pump_out(*ch);
  }
}

void VendorBulkDevice::uart_rx_full(UartPort& port) {
  Channel* ch = channel_of(port);
  if (ch != nullptr && !detached()) {
    pump_in(*ch);
  }
}

void VendorBulkDevice::pump(Channel& ch) {
  if (detached()) {
    return;
  }
  pump_out(ch);
  pump_in(ch);
}

void VendorBulkDevice::pump_out(Channel& ch) {
  UartPort& p = *ch.port;
  while (ch.out->out_waiting()) {
    auto packet = ch.out->out_packet();
    if (packet.size() > p.tx_space()) {
      return;  // NAK
    }
    p.tx_write(packet);
    p.counters().usb_out_bytes += packet.size();
    ch.out->consume_out_packet();
  }
}

void VendorBulkDevice::send_in(Channel& ch, size_t n) {
  UartPort& p = *ch.port;
  p.rx_copy(0, packet_.data(), n);
  p.rx_consume(n);
  if (ch.in->send_packet(std::span<const uint8_t>(packet_.data(), n))) {
    p.counters().usb_in_bytes += n;
    ++p.counters().usb_in_packets;
  } else {
    p.counters().usb_in_lost_bytes += n;
  }
}

void VendorBulkDevice::pump_in(Channel& ch) {
  UartPort& p = *ch.port;
  while (ch.in->in_waiting()) {
    const size_t level = p.rx_level();
    if (level >= max_packet_) {
      send_in(ch, max_packet_);
      continue;
    }
    if (ch.frame_due && (level > 0 || ch.in->in_filled() > 0)) {
      // The (micro)frame ends: what is there goes as a short packet (a
      // zero-length one ends a transfer that holds only full packets).
      send_in(ch, level);
      continue;
    }
    break;
  }
  ch.frame_due = false;
  if (ch.in->in_waiting() && (p.rx_level() > 0 || ch.in->in_filled() > 0)) {
    arm_frame_timer(ch);
  }
}

void VendorBulkDevice::arm_frame_timer(Channel& ch) {
  if (ch.frame_timer != 0) {
    return;
  }
  Bus& b = bus();
  const auto frame = std::chrono::duration_cast<SimDuration>(
                         speed() == UsbSpeed::high ? SimDuration(kMicroframe) : SimDuration(kFrame))
                         .count();
  const SimTime next((b.now().count() / frame + 1) * frame);
  Channel* raw = &ch;
  ch.frame_timer = b.schedule_at(next, [this, raw] {
    raw->frame_timer = 0;
    raw->frame_due = true;
    pump_in(*raw);
  });
}

}  // namespace sim::vendor
