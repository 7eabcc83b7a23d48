// Bridge: the real driver (SerialDext compiled against hostkit) on simulated
// adapters, published as ptys. One object holds the whole stack:
//
//   sim::Bus + SimDevices (loopback plug or null-modem cable)
//     -> hostkit::Runtime (matching, the dext's lifecycle, IOUserUSBSerial data path)
//     -> tty::SerialFamily (a pty per port under <run-dir>/cu.usbserial-<suffix>)
//
// usbserial-bridge wraps it in a process; tests and benchmarks use it in-process.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hostkit/runtime.hpp"
#include "sim/sim.hpp"
#include "transport/device_table.hpp"
#include "transport/serial_queue.hpp"
#include "tty/bsd_client.hpp"

namespace bridge {

// modem_loopback: the fully wired test plug (DTR also drives RI).
enum class Wiring { loopback, null_modem, none, modem_loopback };

struct BridgeOptions {
  std::vector<std::string> chips;    // one or two simulated adapters
  std::vector<std::string> serials;  // per adapter; missing -> "SIM<n>"
  Wiring wiring = Wiring::loopback;  // two adapters: null_modem, port i <-> port i
  std::filesystem::path run_dir;
  sim::SimOptions sim;  // paced, full_speed_port, cdc_interrupt_max_packet
  hostkit::UsbSerialTuning tuning;
  // Where the driver's SetProperties land [U]: see hostkit::SetPropertiesModel.
  hostkit::SetPropertiesModel set_properties = hostkit::SetPropertiesModel::user_service_properties;
  // The driver class of every port instead of the device table's choice (FTDI
  // on the IOUserSerial class); unset: the table's.
  std::optional<transport::DriverClass> driver_class;
  // The ring index convention of both sides of the queue protocol [U]
  // (transport/serial_queue.hpp).
  transport::QueueIndexing queue_indexing = transport::QueueIndexing::masked;
  tty::PortOptions ports;  // /dev names, closing wait
};

class Bridge {
 public:
  // Builds and starts everything; throws std::runtime_error with a clear message
  // when a chip is unknown, a driver does not start, or a port is not published.
  explicit Bridge(BridgeOptions options);
  ~Bridge();  // unplugs everything, stops the drivers, removes the ports

  std::vector<tty::PortInfo> ports();
  std::vector<std::string> callout_paths();
  size_t device_count() const { return devices_.size(); }
  sim::SimDevice& device(size_t index) { return *devices_.at(index); }
  hostkit::Runtime& runtime() { return *runtime_; }

  // Fault injection by device index. Each throws std::invalid_argument with a sentence
  // for the user when the request makes no sense (no such device, unplugging an adapter
  // that is out, replugging one that is in, an endpoint the device does not have).
  void unplug(size_t device);
  // A fresh adapter of the same chip, serial string and wiring, attached again: the
  // driver starts anew and publishes the ports under the names they had.
  void replug(size_t device);
  void stall(size_t device, uint8_t endpoint);
  // Endpoint addresses of the device: 0x00 and those of its configuration descriptor.
  std::vector<uint8_t> endpoints(size_t device);

  // The whole state as JSON: devices (simulator snapshots), ports (tty side,
  // line in force, modem lines, counters) and each port's registry properties.
  std::string status_json();

 private:
  std::shared_ptr<sim::SimDevice> make_device(size_t index);
  void wire(size_t index);    // the plug or cable of device `index`, as the options say
  void attach(size_t index);  // throws when the driver does not start
  void shut_down();           // the destructor's work, also when the constructor throws

  BridgeOptions options_;
  // Unpaced, the simulator runs on the driver queue's thread (BusExecutor), so
  // that a transfer is a turn of one thread rather than two threads waking each
  // other; paced, it keeps a thread of its own, as a device runs beside its host.
  std::unique_ptr<sim::BusExecutor> executor_;
  std::unique_ptr<sim::Bus> bus_;
  std::vector<std::shared_ptr<sim::SimDevice>> devices_;
  // Unplugged adapters that were replaced by replug(). They stay alive until the bridge
  // goes: a late detach notification names its device by address, and a new adapter must
  // never be allocated at the address of one such notification could still name.
  std::vector<std::shared_ptr<sim::SimDevice>> retired_;
  std::vector<bool> attached_;
  std::unique_ptr<hostkit::Runtime> runtime_;
  std::unique_ptr<tty::SerialFamily> family_;
};

}  // namespace bridge
