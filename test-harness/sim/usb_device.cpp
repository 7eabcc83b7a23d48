#include "sim/usb_device.hpp"

#include <algorithm>
#include <cstring>

namespace sim {

namespace {

// USB 2.0 Table 9-4 standard request codes and Table 9-5 descriptor types.
constexpr uint8_t kGetStatus = 0x00;
constexpr uint8_t kClearFeature = 0x01;
constexpr uint8_t kSetFeature = 0x03;
constexpr uint8_t kSetAddress = 0x05;
constexpr uint8_t kGetDescriptor = 0x06;
constexpr uint8_t kGetConfiguration = 0x08;
constexpr uint8_t kSetConfiguration = 0x09;
constexpr uint8_t kGetInterface = 0x0A;
constexpr uint8_t kSetInterface = 0x0B;
constexpr uint8_t kDescDevice = 0x01;
constexpr uint8_t kDescConfiguration = 0x02;
constexpr uint8_t kDescString = 0x03;
constexpr uint16_t kFeatureEndpointHalt = 0x0000;

uint16_t copy_out(std::span<uint8_t> data, const std::vector<uint8_t>& bytes) {
  const size_t n = std::min(data.size(), bytes.size());
  if (n != 0) {
    std::memcpy(data.data(), bytes.data(), n);
  }
  return static_cast<uint16_t>(n);
}

}  // namespace

// ======================================================================= Endpoint

Endpoint::Endpoint(SimDevice& device, uint8_t address, uint8_t type, uint16_t max_packet)
    : device_(device), address_(address), type_(type), max_packet_(max_packet) {}

void Endpoint::complete_head(IOReturnValue status) {
  Transfer& t = queue_.front();
  UsbCompletion done = std::move(t.done);
  const auto actual = static_cast<uint32_t>(t.actual);
  queue_.pop_front();
  device_.post_completion(std::move(done), status, actual);
}

void Endpoint::fail_all(IOReturnValue status) {
  while (!queue_.empty()) {
    complete_head(status);
  }
}

bool Endpoint::in_waiting() const {
  return is_in() && !queue_.empty() && device_.bus_room(*this, max_packet_);
}

bool Endpoint::out_waiting() const {
  if (is_in() || queue_.empty()) {
    return false;
  }
  const Transfer& t = queue_.front();
  return device_.bus_room(*this, std::min<size_t>(max_packet_, t.buffer.size() - t.actual));
}

bool Endpoint::send_packet(std::span<const uint8_t> packet) {
  if (queue_.empty() || !is_in()) {
    return false;
  }
  device_.bus_take(*this, packet.size());
  Transfer& t = queue_.front();
  const size_t room = t.buffer.size() - t.actual;
  if (babble_packet_ && babble_skip_ > 0) {
    --babble_skip_;
  } else if (packet.size() > room || babble_packet_) {
    // Babble: the device sent more than the host asked for (or, injected, more
    // than wMaxPacketSize); the packet is lost, the transfer ends in error.
    babble_packet_ = false;
    complete_head(kIOReturnOverrun);
    return false;
  }
  if (!packet.empty()) {
    std::memcpy(t.buffer.data() + t.actual, packet.data(), packet.size());
  }
  t.actual += packet.size();
  if (packet.size() < max_packet_ || t.actual == t.buffer.size()) {
    complete_head(kIOReturnSuccess);
  }
  count_packet();
  return true;
}

void Endpoint::count_packet() {
  if (stalls_left_ == 0 || --stall_countdown_ != 0) {
    return;
  }
  // The endpoint halts (USB 2.0 §8.4.5: it answers STALL until cleared); the
  // transfer in progress ends with what it carried so far, the rest with none.
  --stalls_left_;
  stall_countdown_ = stall_every_;
  halted_ = true;
  fail_all(kIOUSBPipeStalled);
}

void Endpoint::send_injected() {
  while (!injected_.empty() && !queue_.empty()) {
    const std::vector<uint8_t> packet = std::move(injected_.front());
    injected_.pop_front();
    send_packet(packet);
  }
}

std::span<const uint8_t> Endpoint::out_packet() const {
  if (queue_.empty() || is_in()) {
    return {};
  }
  const Transfer& t = queue_.front();
  const size_t n = std::min<size_t>(max_packet_, t.buffer.size() - t.actual);
  return {t.buffer.data() + t.actual, n};
}

void Endpoint::consume_out_packet() {
  if (queue_.empty() || is_in()) {
    return;
  }
  Transfer& t = queue_.front();
  const size_t n = std::min<size_t>(max_packet_, t.buffer.size() - t.actual);
  device_.bus_take(*this, n);
  t.actual += n;
  if (t.actual == t.buffer.size()) {
    complete_head(kIOReturnSuccess);
  }
  count_packet();
}

// ====================================================================== SimDevice

SimDevice::SimDevice(Bus& bus, SimOptions options, UsbSpeed speed)
    : bus_(bus),
      options_(std::move(options)),
      speed_(speed),
      completion_task_(bus, [this] { run_completions(); }) {}

SimDevice::~SimDevice() = default;

void SimDevice::shutdown() {
  bus_.call([this] {
    if (shut_down_) {
      return;
    }
    shut_down_ = true;
    fail_everything(kIOReturnNoDevice);
    teardown();
    bus_.cancel(frame_timer_);
    // The completion task dies with this object: what it has not delivered yet
    // is handed to the bus, so that every transfer still completes exactly once.
    auto pending = std::make_shared<std::vector<Completion>>();
    while (!completions_.empty()) {
      pending->push_back(std::move(completions_.front()));
      completions_.pop_front();
    }
    if (!pending->empty()) {
      bus_.post([pending] {
        for (Completion& c : *pending) {
          c.done(c.status, c.actual);
        }
      });
    }
  });
}

void SimDevice::set_descriptors(std::vector<uint8_t> device, std::vector<uint8_t> configuration,
                                std::vector<std::string> strings) {
  std::lock_guard lock(desc_mu_);
  device_desc_ = std::move(device);
  config_desc_ = std::move(configuration);
  strings_ = std::move(strings);
}

Endpoint& SimDevice::add_endpoint(uint8_t address, uint8_t type, uint16_t max_packet) {
  endpoints_.push_back(std::make_unique<Endpoint>(*this, address, type, max_packet));
  return *endpoints_.back();
}

Endpoint* SimDevice::endpoint(uint8_t address) {
  for (auto& ep : endpoints_) {
    if (ep->address() == address) {
      return ep.get();
    }
  }
  return nullptr;
}

void SimDevice::interrupt_injected(std::vector<uint8_t> /*raw*/) {}

void SimDevice::post_completion(UsbCompletion done, IOReturnValue status, uint32_t actual) {
  transfers_completed_.fetch_add(1, std::memory_order_relaxed);
  if (!done) {
    return;
  }
  // Unpaced, every completion goes at once.
  int64_t ready_at = 0;
  if (options_.paced) {
    if (status == kIOReturnSuccess) {
      ready_at = frame_end();
      arm_frame_timer(ready_at);
    } else {
      // An error goes at once, and so does everything queued before it.
      completions_.for_each([](Completion& c) { c.ready_at = 0; });
    }
  }
  completions_.push_back(Completion{std::move(done), status, actual, ready_at});
  if (ready_at == 0) {
    completion_task_.wake();
  }
}

void SimDevice::run_completions() {
  // Unpaced completions are all due (ready_at 0): no need to read the clock.
  const int64_t now = options_.paced ? bus_.now().count() : 0;
  while (!completions_.empty() && completions_.front().ready_at <= now) {
    Completion c = std::move(completions_.front());
    completions_.pop_front();
    c.done(c.status, c.actual);
  }
}

void SimDevice::set_packet_observer(PacketObserver observer) {
  bus_.call([&] { packet_observer_ = std::move(observer); });
}

// ---------------------------------------------------------------- bus model

int64_t SimDevice::frame_end() const {
  const int64_t frame = timing().frame.count();
  return (bus_.now().count() / frame + 1) * frame;
}

void SimDevice::roll_frame() const {
  const int64_t index = bus_.now().count() / timing().frame.count();
  if (index != frame_index_) {
    frame_index_ = index;
    frame_used_ = 0;
  }
}

bool SimDevice::bus_room(const Endpoint& ep, size_t bytes) const {
  if (!options_.paced) {
    return true;
  }
  const BusTiming& t = timing();
  roll_frame();
  start_frame_count(ep);
  if (frame_used_ + bytes + t.overhead <= t.frame_bytes && within_bulk_share(ep)) {
    return true;
  }
  ep.bus_waiting_ = true;
  ep.refused_frame_ = frame_index_;
  arm_frame_timer(frame_end());
  return false;
}

void SimDevice::start_frame_count(const Endpoint& ep) const {
  if (ep.frame_index_ != frame_index_) {
    ep.frame_index_ = frame_index_;
    ep.frame_time_ = 0;
  }
}

bool SimDevice::within_bulk_share(const Endpoint& ep) const {
  if (ep.type() != kEndpointBulk) {
    return true;
  }
  uint32_t sharing = 1;
  for (const auto& other : endpoints_) {
    if (other.get() != &ep && other->type() == kEndpointBulk && !other->queue_.empty() &&
        other->refused_frame_ >= frame_index_ - 1) {
      ++sharing;
    }
  }
  return ep.frame_time_ < timing().frame_bytes / sharing;
}

void SimDevice::bus_take(const Endpoint& ep, size_t bytes) {
  if (packet_observer_) {
    packet_observer_(ep.address(), bytes, bus_.now());
  }
  if (!options_.paced) {
    return;
  }
  roll_frame();
  const uint32_t time = static_cast<uint32_t>(bytes) + timing().overhead;
  frame_used_ += time;
  start_frame_count(ep);
  ep.frame_time_ += time;
}

void SimDevice::arm_frame_timer(int64_t at) const {
  if (frame_timer_ != 0 && frame_timer_at_ <= at) {
    return;
  }
  bus_.cancel(frame_timer_);
  frame_timer_at_ = at;
  auto* self = const_cast<SimDevice*>(this);
  frame_timer_ = bus_.schedule_at(SimTime(at), [self] {
    self->frame_timer_ = 0;
    self->frame_tick();
  });
}

void SimDevice::frame_tick() {
  if (shut_down_) {
    return;
  }
  // A new frame: completions of the last one reach the host, and endpoints
  // that found no room get another look.
  run_completions();
  if (!completions_.empty()) {
    arm_frame_timer(completions_.front().ready_at);
  }
  if (detached_) {
    return;
  }
  for (auto& ep : endpoints_) {
    if (ep->bus_waiting_) {
      ep->bus_waiting_ = false;
      endpoint_activity(*ep);
    }
  }
}

void SimDevice::fail_everything(IOReturnValue status) {
  for (auto& ep : endpoints_) {
    ep->fail_all(status);
  }
}

// ----------------------------------------------------------------- descriptors

std::vector<uint8_t> SimDevice::device_descriptor() {
  if (detached_) {
    return {};
  }
  std::lock_guard lock(desc_mu_);
  return device_override_ ? *device_override_ : device_desc_;
}

std::vector<uint8_t> SimDevice::configuration_descriptor() {
  if (detached_) {
    return {};
  }
  std::lock_guard lock(desc_mu_);
  return config_override_ ? *config_override_ : config_desc_;
}

std::vector<uint8_t> SimDevice::string_descriptor(uint8_t index) {
  if (detached_) {
    return {};
  }
  if (index == 0) {
    return {4, 0x03, 0x09, 0x04};  // LANGID 0x0409, English (United States)
  }
  std::lock_guard lock(desc_mu_);
  if (index > strings_.size() || strings_[index - 1].empty()) {
    return {};
  }
  return usbdesc::string(strings_[index - 1]);
}

void SimDevice::override_descriptors(std::optional<std::vector<uint8_t>> device,
                                     std::optional<std::vector<uint8_t>> configuration) {
  std::lock_guard lock(desc_mu_);
  device_override_ = std::move(device);
  config_override_ = std::move(configuration);
}

// ------------------------------------------------------------------ control

IOReturnValue SimDevice::control(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual) {
  actual = 0;
  if (data.size() != setup.wLength) {
    return kIOReturnBadArgument;
  }
  if (detached_) {
    return kIOReturnNoDevice;
  }
  return bus_.call([&]() -> IOReturnValue {
    if (detached_ || shut_down_) {
      return kIOReturnNoDevice;
    }
    if (stall_next_control_) {
      stall_next_control_ = false;
      return kIOUSBPipeStalled;
    }
    if ((setup.bmRequestType & 0x60) == 0x00) {
      return standard_request(setup, data, actual);
    }
    return device_request(setup, data, actual);
  });
}

IOReturnValue SimDevice::standard_request(const UsbSetup& s, std::span<uint8_t> data,
                                          uint16_t& actual) {
  const uint8_t recipient = s.bmRequestType & 0x1F;
  const bool in = (s.bmRequestType & 0x80) != 0;
  switch (s.bRequest) {
    case kGetDescriptor: {
      if (!in || recipient != 0) {
        return kIOUSBPipeStalled;
      }
      const uint8_t type = static_cast<uint8_t>(s.wValue >> 8);
      const uint8_t index = static_cast<uint8_t>(s.wValue & 0xFF);
      std::vector<uint8_t> bytes;
      if (type == kDescDevice) {
        bytes = device_descriptor();
      } else if (type == kDescConfiguration && index == 0) {
        bytes = configuration_descriptor();
      } else if (type == kDescString) {
        bytes = string_descriptor(index);
      }
      if (bytes.empty()) {
        return kIOUSBPipeStalled;
      }
      actual = copy_out(data, bytes);
      return kIOReturnSuccess;
    }
    case kGetStatus: {
      std::vector<uint8_t> status{0, 0};
      if (recipient == 2) {
        Endpoint* ep = endpoint(static_cast<uint8_t>(s.wIndex & 0xFF));
        if (ep == nullptr && (s.wIndex & 0x7F) != 0) {
          return kIOUSBPipeStalled;
        }
        status[0] = (ep != nullptr && ep->halted()) ? 1 : 0;
      }
      if (!in) {
        return kIOUSBPipeStalled;
      }
      actual = copy_out(data, status);
      return kIOReturnSuccess;
    }
    case kClearFeature:
    case kSetFeature: {
      if (in) {
        return kIOUSBPipeStalled;
      }
      if (recipient == 2 && s.wValue == kFeatureEndpointHalt) {
        const uint8_t address = static_cast<uint8_t>(s.wIndex & 0xFF);
        if ((address & 0x7F) == 0) {
          return kIOReturnSuccess;
        }
        Endpoint* ep = endpoint(address);
        if (ep == nullptr) {
          return kIOUSBPipeStalled;
        }
        if (s.bRequest == kClearFeature) {
          return do_clear_halt(address);
        }
        ep->halted_ = true;
        ep->fail_all(kIOUSBPipeStalled);
        return kIOReturnSuccess;
      }
      return recipient == 0 ? kIOReturnSuccess : kIOUSBPipeStalled;
    }
    case kSetAddress:
      return in ? kIOUSBPipeStalled : kIOReturnSuccess;
    case kGetConfiguration:
      if (!in) {
        return kIOUSBPipeStalled;
      }
      actual = copy_out(data, {configuration_});
      return kIOReturnSuccess;
    case kSetConfiguration:
      if (in || s.wValue > 1) {
        return kIOUSBPipeStalled;
      }
      configuration_ = static_cast<uint8_t>(s.wValue);
      return kIOReturnSuccess;
    case kGetInterface:
      if (!in) {
        return kIOUSBPipeStalled;
      }
      actual = copy_out(data, {0});
      return kIOReturnSuccess;
    case kSetInterface:
      return (in || s.wValue != 0) ? kIOUSBPipeStalled : kIOReturnSuccess;
    default:
      return kIOUSBPipeStalled;
  }
}

// ---------------------------------------------------------------- transfers

IOReturnValue SimDevice::submit(uint8_t address, std::span<uint8_t> buffer, UsbCompletion done) {
  if (detached_) {
    return kIOReturnNoDevice;
  }
  // The endpoint table does not change after construction: look it up here.
  Endpoint* ep = endpoint(address);
  if (ep == nullptr || (ep->is_in() && buffer.empty())) {
    return kIOReturnBadArgument;
  }
  auto queue = [this, ep, buffer, done = std::move(done)]() mutable {
    if (detached_ || shut_down_) {
      post_completion(std::move(done), kIOReturnNoDevice, 0);
      return;
    }
    if (ep->halted_) {
      post_completion(std::move(done), kIOUSBPipeStalled, 0);
      return;
    }
    if (ep->is_in() && ep->babble_ && ep->queue_.empty()) {
      ep->babble_ = false;
      post_completion(std::move(done), kIOReturnOverrun, 0);
      return;
    }
    ep->queue_.push_back(Endpoint::Transfer{buffer, std::move(done), 0});
    ep->send_injected();
    endpoint_activity(*ep);
  };
  if (bus_.on_bus_thread()) {
    // On the bus thread (a bus that runs on the driver's queue) the transfer is
    // queued now; the device looks at it in a later turn (endpoint_activity
    // wakes a task), so nothing completes inside submit().
    queue();
  } else {
    bus_.post(std::move(queue));
  }
  return kIOReturnSuccess;
}

void SimDevice::abort(uint8_t address) {
  bus_.call([&] {
    if (Endpoint* ep = endpoint(address)) {
      ep->fail_all(kIOReturnAborted);
    }
  });
}

IOReturnValue SimDevice::do_clear_halt(uint8_t address) {
  if ((address & 0x7F) == 0) {
    return kIOReturnSuccess;
  }
  Endpoint* ep = endpoint(address);
  if (ep == nullptr) {
    return kIOReturnBadArgument;
  }
  ep->halted_ = false;
  ep->send_injected();
  endpoint_activity(*ep);
  return kIOReturnSuccess;
}

IOReturnValue SimDevice::clear_halt(uint8_t address) {
  if (detached_) {
    return kIOReturnNoDevice;
  }
  return bus_.call([&]() -> IOReturnValue {
    if (detached_ || shut_down_) {
      return kIOReturnNoDevice;
    }
    return do_clear_halt(address);
  });
}

void SimDevice::set_detach_handler(std::function<void()> handler) {
  bus_.call([&] {
    detach_handler_ = std::move(handler);
    if (detached_ && !detach_handler_ran_ && detach_handler_) {
      detach_handler_ran_ = true;
      bus_.post(std::move(detach_handler_));
    }
  });
}

// ---------------------------------------------------------------- faults

void SimDevice::unplug() {
  bus_.call([this] {
    if (detached_) {
      return;
    }
    detached_ = true;
    fail_everything(kIOReturnNoDevice);
    // Queued after the completions above, so it runs after them.
    if (detach_handler_ && !detach_handler_ran_) {
      detach_handler_ran_ = true;
      bus_.post(std::move(detach_handler_));
    }
  });
}

void SimDevice::stall(uint8_t address) {
  bus_.call([&] {
    if ((address & 0x7F) == 0) {
      stall_next_control_ = true;
      return;
    }
    if (Endpoint* ep = endpoint(address)) {
      ep->halted_ = true;
      ep->fail_all(kIOUSBPipeStalled);
    }
  });
}

void SimDevice::inject_babble(uint8_t address) {
  bus_.call([&] {
    Endpoint* ep = endpoint(address);
    if (ep == nullptr || !ep->is_in()) {
      return;
    }
    if (!ep->queue_.empty()) {
      ep->complete_head(kIOReturnOverrun);
    } else {
      ep->babble_ = true;
    }
  });
}

void SimDevice::stall_after(uint8_t address, uint32_t packets, uint32_t times) {
  bus_.call([&] {
    if (Endpoint* ep = endpoint(address); ep != nullptr && packets > 0) {
      ep->stall_every_ = packets;
      ep->stall_countdown_ = packets;
      ep->stalls_left_ = times;
    }
  });
}

void SimDevice::inject_babbling_packet(uint8_t address, uint32_t after_packets) {
  bus_.call([&] {
    Endpoint* ep = endpoint(address);
    if (ep != nullptr && ep->is_in()) {
      ep->babble_packet_ = true;
      ep->babble_skip_ = after_packets;
    }
  });
}

bool SimDevice::inject_in_packet(uint8_t address, std::vector<uint8_t> raw) {
  return bus_.call([&] {
    Endpoint* ep = endpoint(address);
    if (ep == nullptr || !ep->is_in() || raw.size() > ep->max_packet()) {
      return false;
    }
    ep->injected_.push_back(std::move(raw));
    if (!ep->halted_) {
      ep->send_injected();
    }
    return true;
  });
}

void SimDevice::inject_interrupt(std::vector<uint8_t> raw) {
  bus_.call([&] {
    if (!detached_ && !shut_down_) {
      interrupt_injected(std::move(raw));
    }
  });
}

// ======================================================================= usbdesc

namespace usbdesc {

namespace {
void put16(std::vector<uint8_t>& v, uint16_t x) {
  v.push_back(static_cast<uint8_t>(x & 0xFF));
  v.push_back(static_cast<uint8_t>(x >> 8));
}
}  // namespace

std::vector<uint8_t> device(uint16_t bcd_usb, uint8_t device_class, uint8_t subclass,
                            uint8_t protocol, uint8_t max_packet0, uint16_t vid, uint16_t pid,
                            uint16_t bcd_device, uint8_t i_manufacturer, uint8_t i_product,
                            uint8_t i_serial) {
  std::vector<uint8_t> d{18, kDescDevice};
  put16(d, bcd_usb);
  d.push_back(device_class);
  d.push_back(subclass);
  d.push_back(protocol);
  d.push_back(max_packet0);
  put16(d, vid);
  put16(d, pid);
  put16(d, bcd_device);
  d.push_back(i_manufacturer);
  d.push_back(i_product);
  d.push_back(i_serial);
  d.push_back(1);  // bNumConfigurations
  return d;
}

ConfigBuilder::ConfigBuilder(uint8_t attributes, uint8_t max_power_2ma) {
  // bLength, bDescriptorType, wTotalLength, bNumInterfaces, bConfigurationValue,
  // iConfiguration, bmAttributes, bMaxPower
  bytes_ = {9, kDescConfiguration, 0, 0, 0, 1, 0, attributes, max_power_2ma};
}

ConfigBuilder& ConfigBuilder::interface(uint8_t number, uint8_t num_endpoints, uint8_t cls,
                                        uint8_t subclass, uint8_t protocol, uint8_t i_interface) {
  bytes_.insert(bytes_.end(),
                {9, 0x04, number, 0, num_endpoints, cls, subclass, protocol, i_interface});
  ++interfaces_;
  return *this;
}

ConfigBuilder& ConfigBuilder::endpoint(uint8_t address, uint8_t attributes, uint16_t max_packet,
                                       uint8_t interval) {
  bytes_.insert(bytes_.end(), {7, 0x05, address, attributes});
  put16(bytes_, max_packet);
  bytes_.push_back(interval);
  return *this;
}

ConfigBuilder& ConfigBuilder::raw(std::initializer_list<uint8_t> bytes) {
  bytes_.insert(bytes_.end(), bytes);
  return *this;
}

std::vector<uint8_t> ConfigBuilder::finish() const {
  std::vector<uint8_t> out = bytes_;
  out[2] = static_cast<uint8_t>(out.size() & 0xFF);
  out[3] = static_cast<uint8_t>(out.size() >> 8);
  out[4] = interfaces_;
  return out;
}

std::vector<uint8_t> string(std::string_view text) {
  const size_t n = std::min<size_t>(text.size(), 126);
  std::vector<uint8_t> d{static_cast<uint8_t>(2 + 2 * n), kDescString};
  for (size_t i = 0; i < n; ++i) {
    d.push_back(static_cast<uint8_t>(text[i]));
    d.push_back(0);
  }
  return d;
}

}  // namespace usbdesc

}  // namespace sim
