// The one device table: VID/PID (+ bcdDevice and interface-class rules) -> chip
// family and variant, tty base name and driver class. Its entries come from the
// data file devices.ini at the repository root (tools/devicegen turns it into
// the kDevices and kClassRules arrays device_table.cpp includes); the Info.plist
// personalities and the transport.usb entitlement are generated from the same
// file. The variants and the FTDI bcdDevice rule are chip facts and stay here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "status.hpp"

namespace transport {

enum class ChipFamily : uint8_t { cdc_acm, ftdi, vendor_bulk, cp210x, ch34x, pl2303 };
inline constexpr int kChipFamilyCount = 6;

enum class ChipVariant : uint8_t {
  cdc_acm,  // any CDC-ACM (PSTN) function
  ft232bm,
  ft232r,
  ft_x,
  ft2232c,  // FT2232C/D
  ft232h,
  ft2232h,
  ft4232h,
  vendor_bulk,  // a plain bulk pair on a vendor-class interface, no chip protocol
  cp210x,       // a single-port CP210x whose part number is read when the port opens
  cp2102,       // CP2102 (and CP2103, which GET_PARTNUM tells apart)
  cp2102n,
  cp2104,
  cp2105,  // port 0: ECI, port 1: SCI
  cp2108,
  ch340,       // WCH CH340 (G/C/B/E/K/N/T/R...)
  ch341a,      // WCH CH341/CH341A in UART mode
  pl2303_h,    // legacy PL2303H ("type 0" / "type 1")
  pl2303_hx,   // PL2303HX (rev A) and clones
  pl2303_hxd,  // PL2303HX rev D
  pl2303_ta,   // PL2303TA
  pl2303_tb,   // PL2303TB
  pl2303_hxn,  // PL2303G series (GC, GB, GT, GL, GE, GS, GR): Linux's "HXN"
};
inline constexpr int kChipVariantCount = 23;

struct VariantInfo {
  ChipVariant variant;
  ChipFamily family;
  const char* name;    // CLI and log name: "cdc-acm", "ft232r", ...
  uint32_t max_baud;   // datasheet maximum (0: no chip limit, e.g. a CDC function)
  uint8_t port_count;  // UART channels, one USB interface each
  bool high_speed;     // a USB 2.0 high-speed part (512-byte bulk packets on an HS port)
};

const VariantInfo& variant_info(ChipVariant variant);
std::span<const VariantInfo> all_variants();
// Looks a variant up by its name; nullptr if unknown.
const VariantInfo* find_variant(const char* name);

const char* to_string(ChipFamily family);

// How an entry's variant is decided.
enum class VariantRule : uint8_t {
  fixed,        // `variant` is the chip
  ftdi_by_bcd,  // FTDI PIDs shared by several generations: decided by bcdDevice
  // PL2303: decided from the whole device descriptor (chips::pl2303::detect_variant).
  pl2303_by_descriptor,
};

// The two driver classes of the dext (SerialDext/). Which one a device's
// personalities name is a per-entry choice of the device table.
enum class DriverClass : uint8_t {
  usb_serial,  // the IOUserUSBSerial subclass: Apple's framework runs the data path
  serial,      // the IOUserSerial subclass: opens its pipes itself and drives them
               // with transport's bulk pipeline (several transfers in flight)
};
// "usb-serial" / "serial".
const char* to_string(DriverClass driver_class);
bool parse_driver_class(const char* text, DriverClass& out);

struct DeviceEntry {
  uint16_t vid;
  uint16_t pid;
  ChipFamily family;
  VariantRule rule;
  ChipVariant variant;        // when rule == fixed
  uint8_t first_interface;    // interface number of port 0 (CDC: the control interface)
  uint8_t port_count;         // one personality per port: first_interface + i (CDC: 1)
  const char* product;        // human name, used in personality names
  const char* source;         // where the ID comes from
  const char* tty_base_name;  // IOTTYBaseName of its ports ("usbserial-" unless the data says)
  DriverClass driver_class;
  // False for a device without a serial-number string: its personalities then
  // carry IOTTYSuffix, the VID/PID fallback suffix (tty_name.hpp), so its node
  // name does not depend on who names the port (docs/driverkit-assumptions.md).
  bool has_serial_number;
};

// Interface-class matching (CDC-ACM by class, as usb-serial-for-android and Linux do).
struct ClassRule {
  uint8_t interface_class;
  uint8_t interface_subclass;
  ChipFamily family;
  ChipVariant variant;
  // A class rule needs a transport.usb entitlement for every vendor, which Apple
  // grants only as idVendor "*" in development profiles; so it is emitted only
  // into development builds of the plists. hostkit always applies it.
  bool development_only;
  const char* product;
};

std::span<const DeviceEntry> device_entries();
std::span<const ClassRule> class_rules();

// Where a personality for a port of `family`, driven by `driver_class`, matches:
//   interface  IOProviderClass IOUSBHostInterface, one personality per port
//              (every endpoint of the port sits in the interface it matches);
//   device     IOProviderClass IOUSBHostDevice, matched by VID/PID: the driver
//              opens the device and reaches every interface of the function (a
//              CDC-ACM function keeps its bulk pair in a second, data, interface);
//   none       no personality: the class cannot drive the family on a Mac (an
//              IOUserUSBSerial dext reaches only the interface it matched, so it
//              cannot drive CDC-ACM; docs/cdc-acm.md).
// tools/plistgen and hostkit's matcher both decide with this, so the Linux
// harness matches exactly what the generated personalities would on a Mac.
enum class MatchLevel : uint8_t { none, interface, device };
constexpr MatchLevel personality_level(ChipFamily family, DriverClass driver_class) {
  if (family == ChipFamily::cdc_acm) {
    return driver_class == DriverClass::serial ? MatchLevel::device : MatchLevel::none;
  }
  return MatchLevel::interface;
}
// Class rules match interfaces by class; a device-level personality cannot
// match by interface class (a composite device's own class says nothing about
// its functions), so a class rule gets a personality only where its family is
// driven from the matched interface.
constexpr bool class_rule_matchable(ChipFamily family) {
  return personality_level(family, DriverClass::usb_serial) == MatchLevel::interface;
}

// True when the family's bulk IN ends every burst of data with a short packet,
// so a bulk-IN transfer of several packets always completes: FTDI chips send a
// 2-byte status packet every latency-timer period even with no data (docs/
// usb-serial-reference.md §2.3). Chips that send raw data may end a burst on a
// full packet and send nothing after it; a transfer longer than one packet would
// then hold those bytes until more data came (USB 2.0 §5.8.3), so they are read
// one packet per transfer.
constexpr bool bulk_in_bursts_end_short(ChipFamily family) {
  return family == ChipFamily::ftdi;
}

// Runtime prober: the entry for vid/pid, or nullptr.
const DeviceEntry* find_device(uint16_t vid, uint16_t pid);

// The class rule matching an interface triple, or nullptr.
const ClassRule* find_class_rule(uint8_t interface_class, uint8_t interface_subclass);

// Decides the variant of an entry for one device. ok, or unsupported for a
// revision we do not drive (e.g. FT8U232AM, bcdDevice 0x0200), never a guess.
// pl2303_by_descriptor entries need more than bcdDevice: unsupported here (see
// chips::pl2303::detect_variant, which identify_port uses for them).
Status resolve_variant(const DeviceEntry& entry, uint16_t bcd_device, ChipVariant& variant);

}  // namespace transport
