// USB matching as IOUSBHostFamily does it: the matching key sets ("tiers") of a personality, and
// whether a personality matches a device or interface taken from an ioreg dump or sysfs.
//
// Interface tiers: docs/driverkit-reference.md §3.4 [C/P]. Device tiers: the same ordering applied
// to device descriptor fields, as in Apple's USB device matching rules (USB Common Class
// Specification ordering); the reference gives no device table, so their scores are [U].
// idProductArray stands in for idProduct; idProductMask goes with idProduct and compares under
// the mask (docs/driverkit-reference.md §3.4, [P]). How IOProbeScore combines with the tier score
// inside IOUSBHostFamily is not documented in the reference: we report tier + IOProbeScore and mark
// it [U].
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "plist_util.hpp"

namespace doctor {

enum class UsbLevel { interface, device };

// Constraint on the class field that goes with a tier.
enum class ClassConstraint {
  none,
  vendor_specific,      // object's bInterfaceClass / bDeviceClass must be 0xFF
  not_vendor_specific,  // the class in the personality must not be 0xFF
};

struct MatchTier {
  UsbLevel level;
  int score;
  std::vector<const char*> keys;  // in the order they are compared
  ClassConstraint constraint;
  bool unverified;  // score/ordering not confirmed by the reference
};

std::span<const MatchTier> usb_tiers();

// Every key that takes part in USB matching (tier keys plus idProductArray and idProductMask).
bool is_usb_matching_key(const std::string& key);
// Keys that exist only on IOUSBHostInterface nubs / only on IOUSBHostDevice nubs.
bool is_interface_only_key(const std::string& key);
bool is_device_only_key(const std::string& key);

// The IOProviderClass of a USB personality -> level; nullopt when not a USB provider.
std::optional<UsbLevel> usb_level_of(plist_t personality);

struct TierResult {
  const MatchTier* tier = nullptr;  // null when the keys form no single tier
  std::vector<std::string> keys;  // matching keys present (normalised: idProductArray -> idProduct)
  std::string problem;            // why no tier, when tier == nullptr
};

// Classifies the matching keys of a personality dictionary for one level.
TierResult classify_tier(plist_t personality, UsbLevel level);

// A driver already attached to a USB object in the dump.
struct AttachedDriver {
  std::string name;
  std::string class_name;
  std::string bundle_id;
  std::string match_category;  // IOMatchCategory; empty = IODefaultMatchCategory
  std::optional<uint64_t> probe_score;
  int tier_score = 0;  // tier of its own personality keys, 0 when unknown
  int line = 0;
};

// A USB device or interface from a dump (ioreg or sysfs).
struct UsbObject {
  UsbLevel level = UsbLevel::device;
  std::string name;
  std::string where;                        // "line 12" / "entry 3" / sysfs path
  std::map<std::string, uint64_t> numbers;  // idVendor, idProduct, bcdDevice, bInterfaceNumber...
  std::vector<AttachedDriver> drivers;
  std::string parent_name;  // the device, for an interface
};

struct MatchOutcome {
  bool matched = false;
  int tier_score = 0;
  uint64_t probe_score = 0;
  std::string failed_key;  // the first key that fails, when !matched
  std::string detail;      // what differed
};

MatchOutcome match_personality(plist_t personality, const UsbObject& object);

std::string hex16(uint64_t value);  // "0x0403"

}  // namespace doctor
