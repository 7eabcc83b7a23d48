// hostkit: the runtime ("kernel") of one dext process: matching, lifecycle, registry.
#include "hostkit/runtime.hpp"

#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBDriverKit/USBDriverKit.h>
#include <os/log.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "hostkit/usb_device.hpp"
#include "transport/descriptors.hpp"
#include "transport/device_table.hpp"
#include "transport/tty_name.hpp"

#define LOG_PREFIX "hostkit"

namespace hostkit {
namespace {

std::map<std::string, ServiceFactory>& class_registry() {
  static std::map<std::string, ServiceFactory> registry;
  return registry;
}

OSDictionary* new_personality(const char* user_class, const char* provider_class) {
  OSDictionary* personality = OSDictionary::withCapacity(12);
  auto put_string = [personality](const char* key, const char* value) {
    OSString* string = OSString::withCString(value);
    personality->setObject(key, string);
    string->release();
  };
  put_string("IOClass", "IOUserSerial");
  put_string("IOUserClass", user_class);
  put_string("IOProviderClass", provider_class);
  put_string("CFBundleIdentifierKernel", "com.apple.driver.driverkit.serial");
  return personality;
}

void put_number(OSDictionary* personality, const char* key, uint64_t value) {
  OSNumber* number = OSNumber::withNumber(value, 32);
  personality->setObject(key, number);
  number->release();
}

void put_string(OSDictionary* personality, const char* key, const char* value) {
  OSString* string = OSString::withCString(value);
  personality->setObject(key, string);
  string->release();
}

// The entry's tty base name, and for a device without a serial-number string the
// fallback suffix of the port (tools/plistgen writes the same keys).
void put_tty_name(OSDictionary* personality, const transport::DeviceEntry& entry,
                  uint8_t port_index) {
  put_string(personality, "IOTTYBaseName", entry.tty_base_name);
  if (!entry.has_serial_number) {
    char suffix[transport::kTtySuffixMax + 1];
    transport::make_tty_suffix(nullptr, entry.vid, entry.pid, port_index, entry.port_count, suffix);
    put_string(personality, "IOTTYSuffix", suffix);
  }
}

// The personalities that matched: the keys IOKit copies into the service's
// registry properties (the same keys tools/plistgen writes into Info.plist).
OSDictionary* device_personality(const char* user_class,
                                 const transport::usb::DeviceDescriptor& device) {
  OSDictionary* personality = new_personality(user_class, "IOUSBHostDevice");
  put_number(personality, "idVendor", device.vendor_id);
  put_number(personality, "idProduct", device.product_id);
  if (const transport::DeviceEntry* entry =
          transport::find_device(device.vendor_id, device.product_id)) {
    put_tty_name(personality, *entry, 0);
  }
  return personality;
}

OSDictionary* interface_personality(const char* user_class,
                                    const transport::usb::DeviceDescriptor& device,
                                    const transport::usb::Configuration& config,
                                    const transport::usb::Interface& itf) {
  OSDictionary* personality = new_personality(user_class, "IOUSBHostInterface");
  if (const transport::DeviceEntry* entry =
          transport::find_device(device.vendor_id, device.product_id)) {
    put_tty_name(personality, *entry, static_cast<uint8_t>(itf.number - entry->first_interface));
    put_number(personality, "idVendor", device.vendor_id);
    put_number(personality, "idProduct", device.product_id);
    put_number(personality, "bConfigurationValue", config.value);
    put_number(personality, "bInterfaceNumber", itf.number);
  } else {
    put_number(personality, "bInterfaceClass", itf.interface_class);
    put_number(personality, "bInterfaceSubClass", itf.interface_subclass);
  }
  return personality;
}

}  // namespace

const char* to_string(SetPropertiesModel model) {
  return model == SetPropertiesModel::user_service_properties ? "xnu" : "merge";
}

bool parse_set_properties_model(const std::string& text, SetPropertiesModel& model) {
  if (text == "xnu") {
    model = SetPropertiesModel::user_service_properties;
    return true;
  }
  if (text == "merge") {
    model = SetPropertiesModel::kernel_accepts;
    return true;
  }
  return false;
}

uint32_t Runtime::location_for(const UsbDeviceBackend* backend) {
  if (const uint32_t own = backend->location_id(); own != 0) {
    return own;
  }
  std::lock_guard lock(mutex_);
  for (const auto& [known, location] : locations_) {
    if (known == backend) {
      return location;
    }
  }
  // Bus 1, one root port per backend: 0x01100000, 0x01200000, ... as IOKit
  // encodes a locationID (bus in the top byte, then one nibble per hub port).
  const auto location = static_cast<uint32_t>(0x01000000 | ((locations_.size() % 15 + 1) << 20));
  locations_.emplace_back(backend, location);
  return location;
}

void assert_on_driver_queue(const char* method) {
  if (current_queue() == nullptr) {
    std::fprintf(stderr, "hostkit: %s called off the driver queue\n", method);
    std::abort();
  }
}

bool register_class(const char* name, ServiceFactory factory) {
  class_registry()[name] = factory;
  return true;
}

IOService* create_instance(const char* name) {
  const auto it = class_registry().find(name);
  return it == class_registry().end() ? nullptr : it->second();
}

Runtime::Runtime(RuntimeOptions options) : options_(std::move(options)) {}

Runtime::~Runtime() {
  queue_.sync([this] {
    std::lock_guard lock(mutex_);
    for (Attached& attached : attached_) {
      terminate_on_queue(attached);
    }
    attached_.clear();
  });
  queue_.stop();
}

void Runtime::set_serial_observer(SerialFamilyObserver* observer) {
  observer_ = observer;
}

uint64_t Runtime::next_registry_id() {
  return ++registry_ids_;
}

void Runtime::service_registered(IOService*) {}

std::vector<MatchedService> Runtime::attach(std::shared_ptr<UsbDeviceBackend> backend) {
  std::vector<MatchedService> matches;
  auto device = std::make_shared<UsbDevice>(*this, backend, location_for(backend.get()));
  transport::usb::DeviceDescriptor descriptor;
  transport::usb::Configuration config;
  if (transport::usb::parse_device_descriptor(device->device_descriptor(), descriptor) !=
      transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " device descriptor is malformed (%zu bytes); not matched",
           device->device_descriptor().size());
    return matches;
  }
  const transport::Status parsed =
      transport::usb::parse_configuration(device->configuration_descriptor(), config);
  if (parsed != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT,
           LOG_PREFIX " %04x:%04x configuration descriptor is %{public}s (%zu bytes); not matched",
           descriptor.vendor_id, descriptor.product_id, transport::to_string(parsed),
           device->configuration_descriptor().size());
    return matches;
  }

  auto* device_nub = new IOUSBHostDevice(device);
  device_nub->hostkitAttach(*this, nullptr, next_registry_id(), nullptr);
  device->set_device_nub(device_nub);

  Attached attached{device, {}};
  queue_.sync([&] {
    // IOKit matches the device first: a device-level personality (by VID/PID)
    // claims it, exactly as tools/plistgen generates them.
    const transport::DeviceEntry* entry =
        transport::find_device(descriptor.vendor_id, descriptor.product_id);
    if (entry != nullptr) {
      const transport::DriverClass driver_class = class_of(entry->driver_class);
      if (transport::personality_level(entry->family, driver_class) ==
          transport::MatchLevel::device) {
        OSDictionary* personality = device_personality(class_name(driver_class), descriptor);
        MatchedService match = start_service(driver_class, device_nub, personality);
        personality->release();
        match.device_level = true;
        matches.push_back(match);
        if (match.service != nullptr) {
          return;  // claimed: the interfaces appear when its driver configures the device
        }
      }
    }
    // Otherwise the system's composite driver configures the device, keeps its
    // session, and every interface is matched at the interface level.
    device_nub->hostkitHeldByComposite();
    device->configure();
    for (size_t i = 0; i < config.interface_count; ++i) {
      const transport::usb::Interface& itf = config.interfaces[i];
      transport::DriverClass driver_class = transport::DriverClass::usb_serial;
      transport::ChipFamily family = transport::ChipFamily::ftdi;
      if (entry != nullptr) {
        // A VID/PID entry claims the interfaces [first_interface, + port_count).
        if (itf.number < entry->first_interface ||
            itf.number >= entry->first_interface + entry->port_count) {
          continue;
        }
        driver_class = class_of(entry->driver_class);
        family = entry->family;
      } else if (const transport::ClassRule* rule =
                     transport::find_class_rule(itf.interface_class, itf.interface_subclass)) {
        driver_class = class_of(transport::DriverClass::usb_serial);
        family = rule->family;
      } else {
        continue;
      }
      if (transport::personality_level(family, driver_class) != transport::MatchLevel::interface) {
        continue;  // no personality: that class cannot drive it from an interface
      }
      OSDictionary* personality =
          interface_personality(class_name(driver_class), descriptor, config, itf);
      MatchedService match =
          start_service(driver_class, device->interface_nub(itf.number), personality);
      personality->release();
      match.interface_number = itf.number;
      matches.push_back(match);
    }
  });
  attached.services = matches;
  {
    std::lock_guard lock(mutex_);
    attached_.push_back(std::move(attached));
  }
  // Unplug arrives on the backend's thread; termination runs on the queue. The
  // handler may run after this runtime is gone (the backend copies it), so it
  // reaches the queue only through the link that outlives it.
  UsbDeviceBackend* raw = backend.get();
  backend->set_detach_handler(
      [link = queue_.link(), this, raw] { link->deliver([this, raw] { detach(raw); }, [] {}); });
  return matches;
}

transport::DriverClass Runtime::class_of(transport::DriverClass named) const {
  return options_.forced_class.value_or(named);
}

const char* Runtime::class_name(transport::DriverClass driver_class) const {
  return driver_class == transport::DriverClass::serial ? options_.serial_driver_class.c_str()
                                                        : options_.driver_class.c_str();
}

MatchedService Runtime::start_service(transport::DriverClass driver_class, IOService* provider,
                                      OSDictionary* personality) {
  MatchedService match;
  const char* name = class_name(driver_class);
  IOService* service = create_instance(name);
  if (service == nullptr) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " IOUserClass %{public}s is not linked in", name);
    match.start_result = kIOReturnNotFound;
    return match;
  }
  service->hostkitAttach(*this, provider, next_registry_id(), personality);
  service->SetName(name);
  match.start_result = service->init() ? service->Start(provider) : kIOReturnNoMemory;
  if (match.start_result != kIOReturnSuccess) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " %{public}s on %{public}s: Start failed 0x%x", name,
           OSDynamicCast(IOUSBHostDevice, provider) != nullptr ? "the device" : "an interface",
           match.start_result);
    if (auto* serial = OSDynamicCast(IOUserSerial, service);
        serial != nullptr && observer_ != nullptr) {
      observer_->serial_terminating(serial);
    }
    service->release();
  } else {
    match.service = service;
  }
  return match;
}

void Runtime::terminate_on_queue(Attached& attached) {
  attached.device->mark_detached();
  attached.device->backend().set_detach_handler({});
  for (MatchedService& match : attached.services) {
    if (match.service == nullptr) {
      continue;
    }
    if (auto* serial = OSDynamicCast(IOUserSerial, match.service);
        serial != nullptr && observer_ != nullptr) {
      observer_->serial_terminating(serial);
    }
    match.service->Stop(match.service->hostkitProvider());
    match.service->release();
    match.service = nullptr;
  }
  attached.device->release_nubs();
}

void Runtime::detach(UsbDeviceBackend* backend) {
  queue_.sync([this, backend] {
    std::lock_guard lock(mutex_);
    for (auto it = attached_.begin(); it != attached_.end(); ++it) {
      if (&it->device->backend() == backend) {
        terminate_on_queue(*it);
        attached_.erase(it);
        return;
      }
    }
  });
}

std::vector<Runtime::RegistryEntry> Runtime::registry_snapshot() {
  std::vector<RegistryEntry> entries;
  queue_.sync([&] {
    std::lock_guard lock(mutex_);
    for (const Attached& attached : attached_) {
      for (const MatchedService& match : attached.services) {
        if (match.service == nullptr) {
          continue;
        }
        RegistryEntry entry;
        entry.name = match.service->hostkitName();
        entry.interface_number = match.interface_number;
        match.service->CopyProperties(&entry.properties);
        entries.push_back(entry);
      }
    }
  });
  return entries;
}

}  // namespace hostkit
