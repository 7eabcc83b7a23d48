#include "bridge.hpp"

#include "transport/device_table.hpp"

#include <DriverKit/DriverKit.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <stdexcept>

#include "common/json_writer.hpp"
#include "hostkit/ioreturn.hpp"

#ifndef USBSERIAL_DRIVER_CLASS
#define USBSERIAL_DRIVER_CLASS "org_usbserialbridge_SerialDriver"
#endif
#ifndef USBSERIAL_SERIAL_DRIVER_CLASS
#define USBSERIAL_SERIAL_DRIVER_CLASS "org_usbserialbridge_SerialPortDriver"
#endif
#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif

namespace bridge {
namespace {

void write_object(hostutil::JsonWriter& json, const OSObject* object);

void write_dictionary(hostutil::JsonWriter& json, const OSDictionary* dictionary) {
  json.begin_object();
  if (dictionary != nullptr) {
    dictionary->hostkitForEach([&json](const char* key, OSObject* value) {
      json.key(key);
      write_object(json, value);
    });
  }
  json.end_object();
}

void write_object(hostutil::JsonWriter& json, const OSObject* object) {
  auto* mutable_object = const_cast<OSObject*>(object);
  if (auto* string = OSDynamicCast(OSString, mutable_object)) {
    json.value(string->getCStringNoCopy());
  } else if (auto* number = OSDynamicCast(OSNumber, mutable_object)) {
    json.value(number->unsigned64BitValue());
  } else if (auto* boolean = OSDynamicCast(OSBoolean, mutable_object)) {
    json.value(boolean->isTrue());
  } else if (auto* dictionary = OSDynamicCast(OSDictionary, mutable_object)) {
    write_dictionary(json, dictionary);
  } else {
    json.null();
  }
}

void write_sim_port(hostutil::JsonWriter& json, const sim::PortSnapshot& p) {
  json.begin_object();
  json.field("name", p.name);
  json.field("paced", p.paced);
  json.key("line").begin_object();
  json.field("baud", p.line.baud);
  json.field("data_bits", static_cast<unsigned>(p.line.data_bits));
  json.field("parity", sim::to_string(p.line.parity));
  json.field("stop_bits", sim::to_string(p.line.stop_bits));
  json.end_object();
  json.field("garbled", p.garbled);
  json.field("baud_invalid", p.chip.baud_invalid);
  json.field("format_invalid", p.chip.format_invalid);
  json.field("baud_encoded", static_cast<uint64_t>(p.chip.baud_encoded));
  json.field("latency_ms", static_cast<unsigned>(p.chip.latency_ms));
  json.field("bitmode", static_cast<unsigned>(p.chip.bitmode));
  json.field("flow", static_cast<unsigned>(p.flow));
  json.field("xon", static_cast<unsigned>(p.xon));
  json.field("xoff", static_cast<unsigned>(p.xoff));
  json.field("dtr", p.dtr);
  json.field("rts", p.rts);
  json.field("break_on", p.break_on);
  json.field("cts", p.cts);
  json.field("dsr", p.dsr);
  json.field("ri", p.ri);
  json.field("dcd", p.dcd);
  json.key("counters").begin_object();
  json.field("tx_line_bytes", p.counters.tx_line_bytes);
  json.field("rx_line_bytes", p.counters.rx_line_bytes);
  json.field("usb_in_bytes", p.counters.usb_in_bytes);
  json.field("usb_in_lost_bytes", p.counters.usb_in_lost_bytes);
  json.field("usb_out_bytes", p.counters.usb_out_bytes);
  json.field("usb_in_packets", p.counters.usb_in_packets);
  json.field("framing_errors", p.counters.framing_errors);
  json.field("parity_errors", p.counters.parity_errors);
  json.field("overruns", p.counters.overruns);
  json.field("breaks", p.counters.breaks);
  json.field("invalid_settings", p.counters.invalid_settings);
  json.field("control_requests", p.counters.control_requests);
  json.field("stalled_requests", p.counters.stalled_requests);
  json.end_object();
  json.end_object();
}

void write_port(hostutil::JsonWriter& json, const tty::PortInfo& port, int device) {
  json.begin_object();
  json.field("name", port.name);
  json.field("callout", port.callout_path);
  json.field("dialin", port.dialin_path);
  json.field("pts", port.pts_path);
  json.field("device", device);
  json.field("interface", static_cast<unsigned>(port.interface_number));
  json.field("active", port.active);
  json.key("line").begin_object();
  json.field("baud", static_cast<uint64_t>(port.line.baud));
  json.field("data_bits", static_cast<unsigned>(port.line.data_bits));
  json.field("half_stop_bits", static_cast<unsigned>(port.line.half_stop_bits));
  json.field("parity", static_cast<unsigned>(port.line.parity));
  json.field("flow", static_cast<uint64_t>(port.line.flow));
  json.field("xon", static_cast<unsigned>(port.line.xon));
  json.field("xoff", static_cast<unsigned>(port.line.xoff));
  json.end_object();
  json.key("modem").begin_object();
  json.field("dtr", port.dtr);
  json.field("rts", port.rts);
  json.field("cts", port.cts);
  json.field("dsr", port.dsr);
  json.field("ri", port.ri);
  json.field("dcd", port.dcd);
  json.end_object();
  json.field("output_held", port.output_held);
  json.field("last_refusal", port.last_refusal);
  const tty::PortCounters& c = port.counters;
  json.key("counters").begin_object();
  json.field("bytes_to_device", c.bytes_to_device);
  json.field("bytes_to_client", c.bytes_to_client);
  json.field("publications", c.publications);
  json.field("opens", c.opens);
  json.field("refused_opens", c.refused_opens);
  json.field("termios_changes", c.termios_changes);
  json.field("refused_changes", c.refused_changes);
  json.field("flushes", c.flushes);
  json.field("bytes_to_client_at_input_flush", c.bytes_to_client_at_input_flush);
  json.field("shim_requests", c.shim_requests);
  json.field("closing_discards", c.closing_discards);
  json.field("overruns", c.overruns);
  json.field("breaks", c.breaks);
  json.field("framing_errors", c.framing_errors);
  json.field("parity_errors", c.parity_errors);
  json.end_object();
  json.key("registry");
  write_dictionary(json, port.properties.get());
  json.key("driver");
  write_dictionary(json, port.driver_properties.get());
  json.key("data_path");
  write_dictionary(json, port.data_path.get());
  json.end_object();
}

}  // namespace

// The driver queue as the bus's thread.
class QueueBusExecutor final : public sim::BusExecutor {
 public:
  explicit QueueBusExecutor(hostkit::DriverQueue& queue) : queue_(queue), timer_(queue.context()) {}
  void set_bus(sim::Bus* bus) { bus_ = bus; }
  // The bus asks for one run at a time, and re-arms its timer rarely: the
  // operations live in fixed memory. Inside a turn, a request only asks for
  // another round of the turn.
  void request_run() override {
    // in_turn_ belongs to the queue's thread: read it only there.
    if (queue_.on_queue() && in_turn_) {
      again_ = true;
      return;
    }
    queue_.post(hostkit::with_memory(run_memory_, [this] { turn(); }));
  }
  void request_run_at(std::chrono::steady_clock::time_point at) override {
    timer_.expires_at(at);
    timer_.async_wait(
        hostkit::with_memory(timer_memory_, [this](const boost::system::error_code& error) {
          if (!error) {
            turn();
          }
        }));
  }
  bool on_executor_thread() const override { return queue_.on_queue(); }

  // One turn: the simulator runs, then the driver gets the completions it
  // produced, and again while either has more (bounded, so that the tty side
  // and everything else queued get the thread in between). The completions
  // still reach the driver on its queue, never inside its own calls.
  void turn() {
    if (bus_ == nullptr) {
      return;
    }
    hostkit::QueueLink& link = *queue_.link();
    in_turn_ = true;
    link.set_inline_drain(true);
    bool more = false;
    for (int round = 0; round < kRoundsPerTurn && bus_ != nullptr; ++round) {
      again_ = false;
      bus_->run_ready();
      const bool delivered = link.drain();
      more = again_ || (bus_ != nullptr && bus_->has_ready_work());
      if (!delivered && !more) {
        break;
      }
    }
    link.set_inline_drain(false);
    in_turn_ = false;
    if (more && bus_ != nullptr) {
      request_run();
    }
  }
  void barrier() override {
    queue_.sync([this] {
      timer_.cancel();
      bus_ = nullptr;
    });
  }

 private:
  hostkit::DriverQueue& queue_;
  boost::asio::steady_timer timer_;
  hostkit::HandlerMemory run_memory_;
  hostkit::HandlerMemory timer_memory_;
  sim::Bus* bus_ = nullptr;
  bool in_turn_ = false;
  bool again_ = false;
  static constexpr int kRoundsPerTurn = 16;
};

Bridge::Bridge(BridgeOptions options) : options_(std::move(options)) {
  if (options_.chips.empty() || options_.chips.size() > 2) {
    throw std::runtime_error("give one simulated adapter, or two for a null-modem cable");
  }
  if (options_.chips.size() == 2 && options_.wiring == Wiring::loopback) {
    options_.wiring = Wiring::null_modem;
  }
  if (options_.wiring == Wiring::null_modem && options_.chips.size() != 2) {
    throw std::runtime_error("a null-modem cable needs two adapters");
  }
  // Both sides of every ring (the tty side and the driver) use one convention.
  transport::set_serial_queue_indexing(options_.queue_indexing);
  runtime_ = std::make_unique<hostkit::Runtime>(
      hostkit::RuntimeOptions{USBSERIAL_DRIVER_CLASS, options_.tuning, options_.set_properties,
                              USBSERIAL_SERIAL_DRIVER_CLASS, options_.driver_class});
  // A throw leaves no destructor to run: the same teardown, or the devices
  // would wait for a bus whose queue thread went with the runtime.
  try {
    if (options_.sim.paced) {
      bus_ = std::make_unique<sim::Bus>(sim::ClockMode::real);
    } else {
      auto executor = std::make_unique<QueueBusExecutor>(runtime_->queue());
      bus_ = std::make_unique<sim::Bus>(*executor);
      executor->set_bus(bus_.get());
      executor_ = std::move(executor);
    }
    for (size_t i = 0; i < options_.chips.size(); ++i) {
      devices_.push_back(make_device(i));
      attached_.push_back(false);
    }
    for (size_t i = 0; i < devices_.size(); ++i) {
      wire(i);
    }
    family_ = std::make_unique<tty::SerialFamily>(*runtime_, options_.run_dir, options_.ports);
    for (size_t i = 0; i < devices_.size(); ++i) {
      attach(i);
    }
    size_t expected_ports = 0;
    for (const auto& device : devices_) {
      expected_ports += device->port_count();
    }
    if (family_->ports().size() != expected_ports) {
      throw std::runtime_error("not every port was published (see the log above)");
    }
  } catch (...) {
    shut_down();
    throw;
  }
}

std::shared_ptr<sim::SimDevice> Bridge::make_device(size_t index) {
  sim::SimOptions sim_options = options_.sim;
  sim_options.serial =
      index < options_.serials.size() ? options_.serials[index] : "SIM" + std::to_string(index + 1);
  std::unique_ptr<sim::SimDevice> device =
      sim::make_device(options_.chips[index], *bus_, sim_options);
  if (!device) {
    std::string known;
    for (const std::string& name : sim::chip_names()) {
      known += " " + name;
    }
    throw std::runtime_error("unknown chip '" + options_.chips[index] + "' (known:" + known + ")");
  }
  return device;
}

void Bridge::wire(size_t index) {
  sim::SimDevice& device = *devices_[index];
  if (options_.wiring == Wiring::loopback || options_.wiring == Wiring::modem_loopback) {
    for (size_t p = 0; p < device.port_count(); ++p) {
      if (options_.wiring == Wiring::modem_loopback) {
        sim::connect_modem_loopback(device.port(p));
      } else {
        sim::connect_loopback(device.port(p));
      }
    }
  } else if (options_.wiring == Wiring::null_modem) {
    sim::SimDevice& peer = *devices_[1 - index];
    const size_t pairs = std::min(device.port_count(), peer.port_count());
    for (size_t p = 0; p < pairs; ++p) {
      sim::connect_null_modem(device.port(p), peer.port(p));
    }
  }
}

void Bridge::attach(size_t index) {
  const std::vector<hostkit::MatchedService> matches = runtime_->attach(devices_[index]);
  attached_[index] = true;
  if (matches.empty()) {
    const transport::VariantInfo* variant = transport::find_variant(options_.chips[index].c_str());
    const bool unreachable =
        variant != nullptr && options_.driver_class.has_value() &&
        transport::personality_level(variant->family, *options_.driver_class) ==
            transport::MatchLevel::none;
    throw std::runtime_error(
        "no driver matched the simulated " + options_.chips[index] +
        (unreachable ? ": the " + std::string(transport::to_string(*options_.driver_class)) +
                           " driver class has no personality for it: its bulk pair is in a "
                           "second interface, which an IOUserUSBSerial dext cannot reach "
                           "(docs/cdc-acm.md)"
                     : std::string()));
  }
  for (const hostkit::MatchedService& match : matches) {
    if (match.start_result != kIOReturnSuccess) {
      char code[16];
      std::snprintf(code, sizeof code, "0x%08x", static_cast<uint32_t>(match.start_result));
      throw std::runtime_error("the driver did not start on " + options_.chips[index] +
                               " interface " + std::to_string(match.interface_number) + ": " +
                               code);
    }
  }
}

Bridge::~Bridge() {
  shut_down();
}

void Bridge::shut_down() {
  for (size_t i = 0; i < devices_.size(); ++i) {
    if (attached_[i]) {
      runtime_->detach(devices_[i].get());
    }
  }
  family_.reset();
  if (executor_ && bus_) {
    bus_->leave_executor();  // the queue's thread goes with the runtime
  }
  runtime_.reset();
  devices_.clear();
  retired_.clear();
  bus_.reset();
  executor_.reset();
}

std::vector<tty::PortInfo> Bridge::ports() {
  return family_->ports();
}

std::vector<std::string> Bridge::callout_paths() {
  std::vector<std::string> paths;
  for (const tty::PortInfo& port : ports()) {
    paths.push_back(port.callout_path);
  }
  return paths;
}

namespace {

std::string device_name(size_t device, const std::string& chip) {
  return "device " + std::to_string(device) + " (" + chip + ")";
}

}  // namespace

void Bridge::unplug(size_t device) {
  if (device >= devices_.size()) {
    throw std::invalid_argument("no device " + std::to_string(device));
  }
  if (!attached_[device]) {
    throw std::invalid_argument(device_name(device, options_.chips[device]) +
                                " is already unplugged");
  }
  // The simulator completes pending transfers with kIOReturnNoDevice and posts
  // the detach handler, which would terminate the drivers on the runtime's queue
  // later. Termination is finished here, after those completions, so that when
  // the control socket answers, the ports are gone (their ptys hung up).
  devices_[device]->unplug();
  runtime_->detach(devices_[device].get());
  attached_[device] = false;
}

void Bridge::replug(size_t device) {
  if (device >= devices_.size()) {
    throw std::invalid_argument("no device " + std::to_string(device));
  }
  if (attached_[device]) {
    throw std::invalid_argument(device_name(device, options_.chips[device]) +
                                " is plugged in (unplug it first)");
  }
  // Finish the old adapter's termination now rather than when its detach notification
  // reaches the queue, so its ports are gone before the new ones are published.
  runtime_->detach(devices_[device].get());
  sim::SimDevice& old = *devices_[device];
  for (size_t p = 0; p < old.port_count(); ++p) {
    sim::disconnect(old.port(p));
  }
  retired_.push_back(std::move(devices_[device]));
  devices_[device] = make_device(device);
  wire(device);
  attach(device);
}

void Bridge::stall(size_t device, uint8_t endpoint) {
  if (device >= devices_.size()) {
    throw std::invalid_argument("no device " + std::to_string(device));
  }
  if (!attached_[device]) {
    throw std::invalid_argument(device_name(device, options_.chips[device]) + " is unplugged");
  }
  const std::vector<uint8_t> known = endpoints(device);
  if (std::find(known.begin(), known.end(), endpoint) == known.end()) {
    std::string list;
    for (const uint8_t address : known) {
      char text[8];
      std::snprintf(text, sizeof text, " 0x%02x", address);
      list += text;
    }
    char text[8];
    std::snprintf(text, sizeof text, "0x%02x", endpoint);
    throw std::invalid_argument(device_name(device, options_.chips[device]) + " has no endpoint " +
                                text + " (it has" + list + ")");
  }
  devices_[device]->stall(endpoint);
}

std::vector<uint8_t> Bridge::endpoints(size_t device) {
  // USB 2.0 §9.6.6: an endpoint descriptor is bLength 7, bDescriptorType 5, then
  // bEndpointAddress.
  constexpr uint8_t kEndpointDescriptor = 5;
  std::vector<uint8_t> addresses{0x00};
  const std::vector<uint8_t> config = devices_.at(device)->configuration_descriptor();
  size_t at = 0;
  while (at + 2 <= config.size() && config[at] >= 2) {
    if (config[at + 1] == kEndpointDescriptor && config[at] >= 7 && at + 3 <= config.size()) {
      addresses.push_back(config[at + 2]);
    }
    at += config[at];
  }
  return addresses;
}

std::string Bridge::status_json() {
  hostutil::JsonWriter json;
  json.begin_object();
  json.field("version", USBSERIAL_VERSION);
  json.field("run_dir", options_.run_dir.string());
  json.key("devices").begin_array();
  for (size_t i = 0; i < devices_.size(); ++i) {
    sim::SimDevice& device = *devices_[i];
    json.begin_object();
    json.field("index", static_cast<unsigned>(i));
    json.field("chip", std::string(device.chip()));
    json.field("attached", !device.detached());
    json.key("ports").begin_array();
    for (size_t p = 0; p < device.port_count(); ++p) {
      write_sim_port(json, device.port(p).snapshot());
    }
    json.end_array();
    json.end_object();
  }
  json.end_array();
  json.key("ports").begin_array();
  for (const tty::PortInfo& port : ports()) {
    int device_index = -1;
    for (size_t i = 0; i < devices_.size(); ++i) {
      if (port.backend == static_cast<const hostkit::UsbDeviceBackend*>(devices_[i].get())) {
        device_index = static_cast<int>(i);
      }
    }
    write_port(json, port, device_index);
  }
  json.end_array();
  json.end_object();
  return json.str();
}

}  // namespace bridge
