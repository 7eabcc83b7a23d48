// Runtime: hostkit's "kernel" for one dext process. It owns the driver queue,
// matches attached USB devices against the device table (transport's runtime
// prober, the same table the Info.plist personalities come from: the driver
// class each entry names, matched where transport::personality_level says),
// instantiates the driver class by name, runs its lifecycle on the queue, and
// tells observers (the Linux tty side) when serial services register and
// terminate.
//
// Matching follows IOKit's order: a device-level personality first (it claims
// the device, which then stays unconfigured until its driver configures it);
// otherwise the system's composite driver configures the device and every
// interface is matched against the interface-level personalities.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hostkit/driver_queue.hpp"
#include "hostkit/tuning.hpp"
#include "hostkit/usb_backend.hpp"
#include "transport/device_table.hpp"

class IOService;
class IOUserSerial;
class OSDictionary;

namespace hostkit {

class UsbDevice;

// Class registry: the iig generator's .iig.cpp registers each driver class.
using ServiceFactory = IOService* (*)();
bool register_class(const char* name, ServiceFactory factory);
IOService* create_instance(const char* name);

class SerialFamilyObserver {
 public:
  virtual ~SerialFamilyObserver() = default;
  // A serial service called RegisterService (on the driver queue).
  virtual void serial_registered(IOUserSerial* service) = 0;
  // The service is about to Stop (device gone or runtime shutting down).
  virtual void serial_terminating(IOUserSerial* service) = 0;
};

// What SetProperties does with a dext's dictionary [U] (IOService.h): the two
// behaviours the closed-source kernel IOUserSerial may have.
enum class SetPropertiesModel : uint8_t {
  // xnu's IOService::SetProperties_Impl when the kernel object's setProperties is
  // unsupported: merged into the registry property "IOUserServiceProperties".
  // The BSD client then names the node from the personality and the kernel's
  // defaults, never from the dext's IOTTYBaseName/IOTTYSuffix.
  user_service_properties,
  // The kernel object accepts them: merged at the top level of the registry,
  // where the BSD client reads IOTTYBaseName/IOTTYSuffix.
  kernel_accepts,
};
const char* to_string(SetPropertiesModel model);
// "xnu" / "merge"; false for anything else.
bool parse_set_properties_model(const std::string& text, SetPropertiesModel& model);

struct RuntimeOptions {
  std::string driver_class;  // IOUserClass of the usb-serial class's personalities
  UsbSerialTuning tuning;
  SetPropertiesModel set_properties = SetPropertiesModel::user_service_properties;
  std::string serial_driver_class = {};  // IOUserClass of the serial class's personalities
  // Harness only: every device-table entry names this class instead of its own
  // (an FTDI port on the IOUserSerial class); matching then follows that class.
  std::optional<transport::DriverClass> forced_class = {};
};

// One matched provider of an attached device: an interface, or the device itself.
struct MatchedService {
  uint8_t interface_number = 0;  // of an interface-level match
  bool device_level = false;
  IOService* service = nullptr;  // null when Start failed
  int32_t start_result = 0;
};

class Runtime {
 public:
  explicit Runtime(RuntimeOptions options);
  ~Runtime();  // terminates every attached device, then stops the queue

  DriverQueue& queue() { return queue_; }
  const UsbSerialTuning& tuning() const { return options_.tuning; }
  SetPropertiesModel set_properties_model() const { return options_.set_properties; }
  void set_serial_observer(SerialFamilyObserver* observer);
  SerialFamilyObserver* serial_observer() const { return observer_; }

  // Attaches a device: reads and parses its descriptors, creates the nubs,
  // matches every interface, and starts a driver on each match. Returns the
  // matches (Start results included). A device with malformed descriptors gets
  // no driver and a log line saying why.
  std::vector<MatchedService> attach(std::shared_ptr<UsbDeviceBackend> backend);

  // Terminates the drivers of every attached device whose backend is `backend`
  // (as on unplug): serial clients first, then Stop, then release.
  void detach(UsbDeviceBackend* backend);

  // Registry snapshot: every live service's name and a copy of its properties
  // (called from any thread; runs on the queue).
  struct RegistryEntry {
    std::string name;
    uint8_t interface_number = 0;
    OSDictionary* properties = nullptr;  // retained; caller releases
  };
  std::vector<RegistryEntry> registry_snapshot();

  // hostkit internals used by the IOKit classes.
  uint64_t next_registry_id();
  void service_registered(IOService* service);

 private:
  struct Attached {
    std::shared_ptr<UsbDevice> device;
    std::vector<MatchedService> services;
  };
  // The USB location of a backend: a new one per backend, kept when the same
  // backend is attached again (a replug into the same socket).
  uint32_t location_for(const UsbDeviceBackend* backend);
  void terminate_on_queue(Attached& attached);
  // The class a personality names (RuntimeOptions::forced_class applied), and its IOUserClass.
  transport::DriverClass class_of(transport::DriverClass named) const;
  const char* class_name(transport::DriverClass driver_class) const;
  // Instantiates `driver_class` on `provider` with its personality and starts it.
  MatchedService start_service(transport::DriverClass driver_class, IOService* provider,
                               OSDictionary* personality);

  RuntimeOptions options_;
  DriverQueue queue_;
  SerialFamilyObserver* observer_ = nullptr;
  std::mutex mutex_;  // guards attached_
  std::vector<Attached> attached_;
  uint64_t registry_ids_ = 0x100000100;
  std::vector<std::pair<const UsbDeviceBackend*, uint32_t>> locations_;
};

// Log sink for os_log / IOLog lines (default: stderr).
void set_log_sink(std::function<void(int type, const std::string& line)> sink);

}  // namespace hostkit

#define HOSTKIT_REGISTER_CLASS(Class)            \
  static const bool hostkit_registered_##Class = \
      ::hostkit::register_class(#Class, []() -> IOService* { return new Class(); })
