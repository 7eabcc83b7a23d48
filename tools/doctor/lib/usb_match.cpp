#include "usb_match.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <set>

namespace doctor {
namespace {

// Interface tiers: docs/driverkit-reference.md §3.4. Device tiers: same ordering on device fields
// [U].
const std::array<MatchTier, 12> kTiers = {{
    {UsbLevel::interface,
     100000,
     {"idVendor", "idProduct", "bcdDevice", "bConfigurationValue", "bInterfaceNumber"},
     ClassConstraint::none,
     false},
    {UsbLevel::interface,
     90000,
     {"idVendor", "idProduct", "bConfigurationValue", "bInterfaceNumber"},
     ClassConstraint::none,
     false},
    {UsbLevel::interface,
     80000,
     {"idVendor", "bInterfaceSubClass", "bInterfaceProtocol"},
     ClassConstraint::vendor_specific,
     false},
    {UsbLevel::interface,
     70000,
     {"idVendor", "bInterfaceSubClass"},
     ClassConstraint::vendor_specific,
     false},
    {UsbLevel::interface,
     60000,
     {"bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol"},
     ClassConstraint::not_vendor_specific,
     false},
    {UsbLevel::interface,
     50000,
     {"bInterfaceClass", "bInterfaceSubClass"},
     ClassConstraint::not_vendor_specific,
     false},
    {UsbLevel::device, 100000, {"idVendor", "idProduct", "bcdDevice"}, ClassConstraint::none, true},
    {UsbLevel::device, 90000, {"idVendor", "idProduct"}, ClassConstraint::none, true},
    {UsbLevel::device,
     80000,
     {"idVendor", "bDeviceSubClass", "bDeviceProtocol"},
     ClassConstraint::vendor_specific,
     true},
    {UsbLevel::device,
     70000,
     {"idVendor", "bDeviceSubClass"},
     ClassConstraint::vendor_specific,
     true},
    {UsbLevel::device,
     60000,
     {"bDeviceClass", "bDeviceSubClass", "bDeviceProtocol"},
     ClassConstraint::not_vendor_specific,
     true},
    {UsbLevel::device,
     50000,
     {"bDeviceClass", "bDeviceSubClass"},
     ClassConstraint::not_vendor_specific,
     true},
}};

const std::set<std::string> kInterfaceOnly = {"bInterfaceNumber", "bInterfaceClass",
                                              "bInterfaceSubClass", "bInterfaceProtocol",
                                              "bConfigurationValue"};
const std::set<std::string> kDeviceOnly = {"bDeviceClass", "bDeviceSubClass", "bDeviceProtocol"};
const std::set<std::string> kShared = {"idVendor", "idProduct", "idProductArray", "idProductMask",
                                       "bcdDevice"};

}  // namespace

std::span<const MatchTier> usb_tiers() {
  return kTiers;
}

bool is_usb_matching_key(const std::string& key) {
  return kInterfaceOnly.count(key) != 0 || kDeviceOnly.count(key) != 0 || kShared.count(key) != 0;
}
bool is_interface_only_key(const std::string& key) {
  return kInterfaceOnly.count(key) != 0;
}
bool is_device_only_key(const std::string& key) {
  return kDeviceOnly.count(key) != 0;
}

std::string hex16(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%04llX", static_cast<unsigned long long>(value));
  return text;
}

std::optional<UsbLevel> usb_level_of(plist_t personality) {
  const auto provider = as_string(dict_get(personality, "IOProviderClass"));
  if (provider == "IOUSBHostInterface") {
    return UsbLevel::interface;
  }
  if (provider == "IOUSBHostDevice") {
    return UsbLevel::device;
  }
  return std::nullopt;
}

TierResult classify_tier(plist_t personality, UsbLevel level) {
  TierResult result;
  std::set<std::string> present;
  for (const auto& [key, value] : dict_items(personality)) {
    if (!is_usb_matching_key(key) || key == "idProductMask") {
      continue;
    }
    // Keys of the other level are reported on their own (PERS-MATCH-NEVER).
    if (level == UsbLevel::interface ? is_device_only_key(key) : is_interface_only_key(key)) {
      continue;
    }
    present.insert(key == "idProductArray" ? std::string("idProduct") : key);
  }
  result.keys.assign(present.begin(), present.end());
  if (dict_get(personality, "idProduct") != nullptr &&
      dict_get(personality, "idProductArray") != nullptr) {
    result.problem = "both idProduct and idProductArray";
    return result;
  }
  if (dict_get(personality, "idProductMask") != nullptr &&
      dict_get(personality, "idProduct") == nullptr) {
    result.problem = "idProductMask without idProduct";
    return result;
  }
  for (const MatchTier& tier : kTiers) {
    if (tier.level != level) {
      continue;
    }
    const std::set<std::string> wanted(tier.keys.begin(), tier.keys.end());
    if (wanted == present) {
      result.tier = &tier;
      return result;
    }
  }
  if (present.empty()) {
    result.problem = "no USB matching keys";
  } else {
    std::string keys;
    for (const std::string& key : present) {
      keys += (keys.empty() ? "" : " + ") + key;
    }
    result.problem = keys + " is not one of the " +
                     std::string(level == UsbLevel::interface ? "interface" : "device") +
                     " matching key sets";
  }
  return result;
}

namespace {

std::optional<uint64_t> object_value(const UsbObject& object, const std::string& key) {
  const auto it = object.numbers.find(key);
  if (it == object.numbers.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace

MatchOutcome match_personality(plist_t personality, const UsbObject& object) {
  MatchOutcome outcome;
  const std::optional<UsbLevel> level = usb_level_of(personality);
  const char* object_class =
      object.level == UsbLevel::interface ? "IOUSBHostInterface" : "IOUSBHostDevice";
  if (!level.has_value() || *level != object.level) {
    outcome.failed_key = "IOProviderClass";
    outcome.detail = "personality provider " +
                     as_string(dict_get(personality, "IOProviderClass")).value_or("(none)") +
                     ", object is " + object_class;
    return outcome;
  }
  for (const auto& item : dict_items(personality)) {
    const bool wrong_level = *level == UsbLevel::interface ? is_device_only_key(item.first)
                                                           : is_interface_only_key(item.first);
    if (wrong_level) {
      outcome.failed_key = item.first;
      outcome.detail = std::string("an ") + object_class + " has no " + item.first;
      return outcome;
    }
  }
  const TierResult tier = classify_tier(personality, *level);
  if (tier.tier == nullptr) {
    outcome.failed_key = "matching key set";
    outcome.detail = tier.problem;
    return outcome;
  }
  for (const char* key_name : tier.tier->keys) {
    const std::string key = key_name;
    const std::optional<uint64_t> actual = object_value(object, key);
    if (!actual.has_value()) {
      outcome.failed_key = key;
      outcome.detail = "the object has no " + key;
      return outcome;
    }
    if (key == "idProduct" && dict_get(personality, "idProductArray") != nullptr) {
      bool any = false;
      for (plist_t item : array_items(dict_get(personality, "idProductArray"))) {
        any = any || as_uint(item) == actual;
      }
      if (!any) {
        outcome.failed_key = "idProductArray";
        outcome.detail = "device idProduct " + hex16(*actual) + " is not in the array";
        return outcome;
      }
      continue;
    }
    const std::optional<uint64_t> wanted = as_uint(dict_get(personality, key_name));
    if (!wanted.has_value()) {
      outcome.failed_key = key;
      outcome.detail = std::string("personality ") + key + " is a " +
                       type_name(dict_get(personality, key_name)) + ", not an integer";
      return outcome;
    }
    uint64_t mask = ~uint64_t{0};
    if (key == "idProduct") {
      if (const auto m = as_uint(dict_get(personality, "idProductMask"))) {
        mask = *m;
      }
    }
    if ((*wanted & mask) != (*actual & mask)) {
      outcome.failed_key = key;
      const bool id_field = key[0] == 'i' || key == "bcdDevice";
      const auto show = [&](uint64_t v) { return id_field ? hex16(v) : std::to_string(v); };
      outcome.detail = "personality " + show(*wanted) + ", object " + show(*actual) +
                       (mask != ~uint64_t{0} ? " (under idProductMask " + hex16(mask) + ")" : "");
      return outcome;
    }
  }
  const char* class_key = *level == UsbLevel::interface ? "bInterfaceClass" : "bDeviceClass";
  if (tier.tier->constraint == ClassConstraint::vendor_specific) {
    const std::optional<uint64_t> cls = object_value(object, class_key);
    if (cls != 0xFFu) {
      outcome.failed_key = class_key;
      outcome.detail = "this key set matches only class 0xFF (vendor specific); object class " +
                       (cls.has_value() ? hex16(*cls) : std::string("unknown"));
      return outcome;
    }
  }
  if (tier.tier->constraint == ClassConstraint::not_vendor_specific &&
      as_uint(dict_get(personality, class_key)) == 0xFFu) {
    outcome.failed_key = class_key;
    outcome.detail = "class 0xFF cannot match by class; use idVendor with the subclass";
    return outcome;
  }
  outcome.matched = true;
  outcome.tier_score = tier.tier->score;
  outcome.probe_score = as_uint(dict_get(personality, "IOProbeScore")).value_or(0);
  return outcome;
}

}  // namespace doctor
