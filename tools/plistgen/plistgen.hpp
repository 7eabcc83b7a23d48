// usbserial-plistgen library: the dext's IOKitPersonalities and entitlements, built from the one
// device table (devices.ini, as tools/devicegen writes it out in device_table.plist). Used by the
// usbserial-plistgen tool, its tests and usbserial-doctor's `personality` command, so there is
// one definition of what a personality of this project looks like.
//
// Key sets and values: docs/driverkit-reference.md §3.2 (Apple's own AppleUSBSLCOM/AppleUSBCHCOM
// personalities, IOREG), §3.4 (interface matching tiers), §3.5 (entitlements).
#pragma once

#include <plist/plist.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "transport/device_table.hpp"
#include "transport/tty_name.hpp"

namespace plistgen {

// Owning handle of a libplist node (plist_free on destruction).
struct PlistDeleter {
  void operator()(plist_t node) const {
    if (node != nullptr) {
      plist_free(node);
    }
  }
};
using PlistPtr = std::unique_ptr<void, PlistDeleter>;

// The product identity (root CMakeLists.txt: USBSERIAL_BUNDLE_ID, USBSERIAL_DRIVER_CLASS,
// USBSERIAL_SERIAL_DRIVER_CLASS, PROJECT_VERSION).
struct Identity {
  std::string bundle_id;     // CFBundleIdentifier == IOUserServerName == CFBundleExecutable
  std::string driver_class;  // IOUserClass of the IOUserUSBSerial class (DriverClass::usb_serial)
  std::string bundle_name;   // CFBundleName
  std::string version;       // CFBundleShortVersionString / CFBundleVersion
  // IOUserClass of the IOUserSerial class (DriverClass::serial); needed when the device
  // table names it.
  std::string serial_driver_class = {};
};

// The IOUserClass a personality of `driver_class` names (empty when the identity lacks it).
const std::string& class_name(const Identity& identity, transport::DriverClass driver_class);

// Fixed personality values of a serial dext (docs/driverkit-reference.md §3.2, as Apple's own
// IOUserUSBSerial dexts carry them).
inline constexpr const char* kIOClassSerial = "IOUserSerial";
inline constexpr const char* kSerialKernelBundle = "com.apple.driver.driverkit.serial";
inline constexpr const char* kProviderInterface = "IOUSBHostInterface";
inline constexpr const char* kProviderDevice = "IOUSBHostDevice";
// bConfigurationValue of every device in the table: they have one configuration, value 1
// (docs/driverkit-reference.md §3.4: "bConfigurationValue = 1").
inline constexpr int64_t kConfigurationValue = 1;
// IOProbeScore. Apple's in-box serial dexts use 89999 (AppleUSBSLCOM, IOREG;
// docs/driverkit-reference.md §3.2). 95000 is above it with room on both sides; that a higher score
// beats the in-box driver for the same VID/PID is standard IOKit ranking but unverified on a Mac
// [U] (docs/driverkit-reference.md §7 item 6).
inline constexpr int64_t kProbeScore = 95000;

// Entitlement keys (docs/driverkit-reference.md §3.5).
inline constexpr const char* kEntDriverKit = "com.apple.developer.driverkit";
inline constexpr const char* kEntFamilySerial = "com.apple.developer.driverkit.family.serial";
inline constexpr const char* kEntTransportUsb = "com.apple.developer.driverkit.transport.usb";

// The device table as tools/devicegen writes it (device_table.plist): what the personalities and
// the entitlement need of each [device] and [class] section of devices.ini.
struct DeviceRow {
  uint16_t vid = 0;
  uint16_t pid = 0;
  uint8_t first_interface = 0;
  uint8_t ports = 1;
  std::string product;
  std::string tty_base_name = transport::kTtyBaseName;
  transport::DriverClass driver_class = transport::DriverClass::usb_serial;
  bool has_serial_number = true;  // false: personalities carry the fallback IOTTYSuffix
  // With driver_class, where its personalities match (transport::personality_level).
  transport::ChipFamily family = transport::ChipFamily::ftdi;
};
struct ClassRow {
  uint8_t interface_class = 0;
  uint8_t interface_subclass = 0;
  bool development_only = false;
  transport::ChipFamily family = transport::ChipFamily::ftdi;  // class_rule_matchable
  std::string product;
};
struct DeviceTable {
  std::vector<DeviceRow> devices;
  std::vector<ClassRow> class_rules;
};

// Parses device_table.plist. False, with the entry and field named in `error`, when a field is
// missing, of the wrong type or out of range.
bool load_device_table(std::string_view plist_data, DeviceTable& out, std::string& error);

// One personality, before it becomes a plist dictionary.
struct PersonalitySpec {
  std::string name;  // unique IOKitPersonalities key, e.g. "FTDI FT2232C/D/H port B"
  std::string tty_base_name = transport::kTtyBaseName;  // IOTTYBaseName
  std::string tty_suffix;  // IOTTYSuffix, only for a device without a serial-number string
  bool class_based = false;
  // The driver class it names, and whether it matches the IOUSBHostDevice (idVendor +
  // idProduct) rather than an interface (transport::personality_level).
  transport::DriverClass driver_class = transport::DriverClass::usb_serial;
  bool device_level = false;
  // class_based == false: idVendor + idProduct (+ the interface keys, tier 90000, unless
  // device_level).
  uint16_t vid = 0;
  uint16_t pid = 0;
  uint8_t interface_number = 0;
  // class_based == true: the 50000-tier key set (bInterfaceClass + bInterfaceSubClass).
  uint8_t interface_class = 0;
  uint8_t interface_subclass = 0;
};

// Personalities of the device table, each for the driver class its entry names and where
// transport::personality_level says: one per port of an entry matched at the interface level
// (interface number first_interface + port), one per entry matched at the device level, none
// for an entry its class cannot drive; then, with `development`, one per class rule marked
// development_only (non-development class rules are always emitted) whose family can be
// driven from the matched interface. Order is table order.
std::vector<PersonalitySpec> table_personalities(const DeviceTable& table, bool development);

// "port A".."port Z" style suffix for multi-port devices (FTDI names its channels A, B, C, D:
// FT2232H/FT4232H datasheets).
std::string port_letter_name(std::string_view product, unsigned port, unsigned port_count);

// The personality dictionary for one spec. IOUserClass is identity.driver_class, or
// identity.serial_driver_class for driver class serial.
PlistPtr make_personality(const Identity& identity, const PersonalitySpec& spec);

// Vendors the entitlement must cover: every idVendor of the non-class personalities, sorted.
std::set<uint16_t> vendors_of(const std::vector<PersonalitySpec>& specs);

// One transport.usb entry: {idVendor = vid} or, for the wildcard, {idVendor = "*"}.
PlistPtr make_usb_entitlement_entry(std::optional<uint16_t> vid);

// The dext entitlements: driverkit, family.serial, transport.usb (one {idVendor} per vendor;
// with `development` also {idVendor = "*"}, which class matching needs and which only
// development profiles grant: DTS in FORUM:798049, docs/driverkit-reference.md §3.5).
PlistPtr make_entitlements(const std::set<uint16_t>& vendors, bool development);

// Replaces every @NAME@ token of `text` with tokens[NAME]. Returns false (and says which token)
// when the text holds an unknown or unterminated token.
struct Token {
  std::string name;
  std::string value;
};
bool substitute_tokens(std::string_view text, const std::vector<Token>& tokens, std::string& out,
                       std::string& error);

// Template text -> complete Info.plist (XML). False with a message when the template does not
// parse, lacks an empty IOKitPersonalities dictionary, or holds an unknown token, when two
// personalities would share a name, or when a device uses driver class serial and
// identity.serial_driver_class is empty.
bool build_info_plist(std::string_view template_text, const Identity& identity,
                      const DeviceTable& table, bool development, std::string& xml_out,
                      std::string& error);

// Entitlements plist (XML) for the table.
std::string build_entitlements_xml(const DeviceTable& table, bool development);

// Serialises a node as an XML plist.
std::string to_xml(plist_t node);

// Parses XML or binary plist text; null on failure.
PlistPtr parse_plist(std::string_view data);

}  // namespace plistgen
