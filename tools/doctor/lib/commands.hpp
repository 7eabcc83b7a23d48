// usbserial-doctor `match` and `personality`: which personality matches which USB object, and
// ready-to-paste personalities and entitlement entries for a device (from IDs, an ioreg dump or
// a Linux sysfs tree).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ioreg.hpp"
#include "plistgen.hpp"
#include "usb_match.hpp"

namespace doctor {

// ---- match ----

struct PersonalityResult {
  std::string personality;
  MatchOutcome outcome;
};

struct ObjectReport {
  UsbObject object;
  std::vector<PersonalityResult> results;
  std::optional<std::string> winner;  // best matching personality (tier + IOProbeScore [U])
  uint64_t winner_score = 0;
  std::vector<std::string> driver_notes;  // about drivers already attached
  bool outranked = false;                 // an attached driver would outrank the winner
};

std::vector<ObjectReport> match_objects(plist_t info, const std::vector<UsbObject>& objects);
std::string render_match_text(const std::vector<ObjectReport>& reports);
std::string render_match_json(const std::vector<ObjectReport>& reports);

// ---- personality ----

struct DeviceIds {
  uint16_t vid = 0;
  uint16_t pid = 0;
  std::optional<uint16_t> bcd_device;
  uint8_t configuration = 1;
  std::optional<uint8_t> device_class;
  std::optional<uint8_t> device_subclass;
  std::optional<uint8_t> device_protocol;
  std::string product;  // human name when known
  std::string where;    // sysfs path / ioreg position
};

struct InterfaceIds {
  uint8_t number = 0;
  std::optional<uint8_t> interface_class;
  std::optional<uint8_t> interface_subclass;
  std::optional<uint8_t> interface_protocol;
};

struct DeviceDescription {
  DeviceIds device;
  std::vector<InterfaceIds> interfaces;
};

struct GeneratedPersonality {
  std::string name;
  PlistPtr personality;
  PlistPtr entitlement_entry;  // one transport.usb dictionary
  std::vector<std::string> notes;
};

// A personality for one interface. class_based: match by interface class (bInterfaceClass +
// bInterfaceSubClass; for class 0xFF idVendor + bInterfaceSubClass), otherwise the 90000 tier.
// False with `error` when class_based and the interface class/subclass are unknown.
bool make_interface_personality(const plistgen::Identity& identity, const DeviceIds& device,
                                const InterfaceIds& interface, bool class_based,
                                GeneratedPersonality& out, std::string& error);

// Paste-ready text: the personality as `<key>name</key><dict>...</dict>` for IOKitPersonalities
// and the entitlement entry as a `<dict>` for the transport.usb array.
std::string render_personality_text(const std::vector<GeneratedPersonality>& personalities);
std::string render_personality_json(const std::vector<GeneratedPersonality>& personalities);

// USB devices (and their interfaces) described by a dump.
std::vector<DeviceDescription> devices_from_objects(const std::vector<UsbObject>& objects);

// Reads /sys/bus/usb/devices-style trees: device directories with idVendor, idProduct,
// bcdDevice, bConfigurationValue, bDeviceClass... (hex text, as the kernel writes them) and
// interface directories "<dev>:<config>.<n>" with bInterfaceNumber/Class/SubClass/Protocol.
// A missing or empty tree gives an empty list and a note, never an error.
std::vector<DeviceDescription> devices_from_sysfs(const std::string& root,
                                                  std::vector<std::string>& notes);

}  // namespace doctor
