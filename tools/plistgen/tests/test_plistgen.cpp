// The generated Info.plist / Entitlements.plist (as the build wrote them) against the device
// table: one personality per port (or per device, for the class that opens the device) with
// exactly the right keys, integer types and driver class, nothing extra, every vendor covered by
// transport.usb, class matching only in development builds.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "plistgen.hpp"
#include "transport/device_table.hpp"

namespace {

using plistgen::PlistPtr;

PlistPtr load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return plistgen::parse_plist(buffer.str());
}

std::string string_of(plist_t node) {
  if (node == nullptr || plist_get_node_type(node) != PLIST_STRING) {
    return "<not a string>";
  }
  char* value = nullptr;
  plist_get_string_val(node, &value);
  std::string text = value != nullptr ? value : "";
  free(value);
  return text;
}

bool is_uint(plist_t node) {
  return node != nullptr && plist_get_node_type(node) == PLIST_UINT;
}

uint64_t uint_of(plist_t node) {
  uint64_t value = 0;
  plist_get_uint_val(node, &value);
  return value;
}

std::map<std::string, plist_t> dict_items(plist_t dict) {
  std::map<std::string, plist_t> items;
  plist_dict_iter it = nullptr;
  plist_dict_new_iter(dict, &it);
  for (;;) {
    char* key = nullptr;
    plist_t value = nullptr;
    plist_dict_next_item(dict, it, &key, &value);
    if (key == nullptr) {
      break;
    }
    items[key] = value;
    free(key);
  }
  free(it);
  return items;
}

std::set<std::string> keys_of(plist_t dict) {
  std::set<std::string> keys;
  for (const auto& [key, value] : dict_items(dict)) {
    keys.insert(key);
  }
  return keys;
}

const std::string kInfo = std::string(USBSERIAL_PLIST_DIR) + "/Info.plist";
const std::string kEntitlements = std::string(USBSERIAL_PLIST_DIR) + "/Entitlements.plist";
const std::string kDevInfo = std::string(USBSERIAL_PLIST_DEV_DIR) + "/Info.plist";
const std::string kDevEntitlements = std::string(USBSERIAL_PLIST_DEV_DIR) + "/Entitlements.plist";

// Keys every personality carries (driverkit.md §3.2), and the two matching key sets (§3.4).
const std::set<std::string> kCommonKeys = {
    "CFBundleIdentifier", "CFBundleIdentifierKernel", "IOClass",      "IOProviderClass",
    "IOUserClass",        "IOUserServerName",         "IOProbeScore", "IOTTYBaseName"};
const std::set<std::string> kTier90000 = {"idVendor", "idProduct", "bConfigurationValue",
                                          "bInterfaceNumber"};
const std::set<std::string> kTier50000 = {"bInterfaceClass", "bInterfaceSubClass"};

std::set<std::string> merged(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out = a;
  out.insert(b.begin(), b.end());
  return out;
}

// vid, pid, bInterfaceNumber, IOUserClass
using PortKey = std::tuple<uint64_t, uint64_t, uint64_t, std::string>;
using DeviceKey = std::tuple<uint64_t, uint64_t, std::string>;  // vid, pid, IOUserClass

std::string class_of(const transport::DeviceEntry& entry) {
  return entry.driver_class == transport::DriverClass::serial ? USBSERIAL_SERIAL_DRIVER_CLASS
                                                              : USBSERIAL_DRIVER_CLASS;
}

std::multiset<PortKey> expected_ports() {
  std::multiset<PortKey> ports;
  for (const transport::DeviceEntry& entry : transport::device_entries()) {
    if (transport::personality_level(entry.family, entry.driver_class) !=
        transport::MatchLevel::interface) {
      continue;
    }
    for (unsigned port = 0; port < entry.port_count; ++port) {
      ports.insert({entry.vid, entry.pid, entry.first_interface + port, class_of(entry)});
    }
  }
  return ports;
}

std::multiset<DeviceKey> expected_devices() {
  std::multiset<DeviceKey> devices;
  for (const transport::DeviceEntry& entry : transport::device_entries()) {
    if (transport::personality_level(entry.family, entry.driver_class) ==
        transport::MatchLevel::device) {
      devices.insert({entry.vid, entry.pid, class_of(entry)});
    }
  }
  return devices;
}

void expect_common_values(const std::string& name, plist_t personality) {
  SCOPED_TRACE(name);
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "CFBundleIdentifier")), USBSERIAL_BUNDLE_ID);
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOUserServerName")), USBSERIAL_BUNDLE_ID);
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOClass")), "IOUserSerial");
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "CFBundleIdentifierKernel")),
            "com.apple.driver.driverkit.serial");
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOTTYBaseName")), "usbserial-");
  plist_t score = plist_dict_get_item(personality, "IOProbeScore");
  ASSERT_TRUE(is_uint(score));
  // Above Apple's in-box AppleUSBSLCOM (89999, driverkit.md §3.2).
  EXPECT_GT(uint_of(score), 89999u);
}

TEST(GeneratedInfoPlist, BundleKeys) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root) << kInfo;
  ASSERT_EQ(plist_get_node_type(root.get()), PLIST_DICT);
  plist_t r = root.get();
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundleIdentifier")), USBSERIAL_BUNDLE_ID);
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundleExecutable")), USBSERIAL_BUNDLE_ID);
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundlePackageType")), "DEXT");
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundleInfoDictionaryVersion")), "6.0");
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundleShortVersionString")), USBSERIAL_VERSION);
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundleVersion")), USBSERIAL_VERSION);
  EXPECT_EQ(string_of(plist_dict_get_item(r, "OSMinimumDriverKitVersion")), "20.0");
  EXPECT_EQ(string_of(plist_dict_get_item(r, "CFBundleDevelopmentRegion")), "en");
  EXPECT_FALSE(string_of(plist_dict_get_item(r, "CFBundleName")).empty());
  EXPECT_GT(string_of(plist_dict_get_item(r, "OSBundleUsageDescription")).size(), 10u);
  plist_t platforms = plist_dict_get_item(r, "CFBundleSupportedPlatforms");
  ASSERT_NE(platforms, nullptr);
  ASSERT_EQ(plist_get_node_type(platforms), PLIST_ARRAY);
  ASSERT_EQ(plist_array_get_size(platforms), 1u);
  EXPECT_EQ(string_of(plist_array_get_item(platforms, 0)), "DriverKit");
}

TEST(GeneratedInfoPlist, OnePersonalityPerPortWithExactKeys) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root);
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  ASSERT_NE(personalities, nullptr);
  ASSERT_EQ(plist_get_node_type(personalities), PLIST_DICT);

  std::multiset<PortKey> seen;
  std::multiset<DeviceKey> seen_devices;
  for (const auto& [name, personality] : dict_items(personalities)) {
    SCOPED_TRACE(name);
    ASSERT_EQ(plist_get_node_type(personality), PLIST_DICT);
    expect_common_values(name, personality);
    const std::string user_class = string_of(plist_dict_get_item(personality, "IOUserClass"));
    if (string_of(plist_dict_get_item(personality, "IOProviderClass")) == "IOUSBHostDevice") {
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, {"idVendor", "idProduct"}));
      seen_devices.insert({uint_of(plist_dict_get_item(personality, "idVendor")),
                           uint_of(plist_dict_get_item(personality, "idProduct")), user_class});
      continue;
    }
    EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOProviderClass")), "IOUSBHostInterface");
    EXPECT_EQ(keys_of(personality), merged(kCommonKeys, kTier90000));
    for (const char* key : {"idVendor", "idProduct", "bConfigurationValue", "bInterfaceNumber"}) {
      ASSERT_TRUE(is_uint(plist_dict_get_item(personality, key))) << key << " must be an integer";
    }
    EXPECT_EQ(uint_of(plist_dict_get_item(personality, "bConfigurationValue")), 1u);
    seen.insert({uint_of(plist_dict_get_item(personality, "idVendor")),
                 uint_of(plist_dict_get_item(personality, "idProduct")),
                 uint_of(plist_dict_get_item(personality, "bInterfaceNumber")), user_class});
  }
  // No extra and no missing personality, and no port or device twice.
  EXPECT_EQ(seen, expected_ports());
  EXPECT_EQ(std::set<PortKey>(seen.begin(), seen.end()).size(), seen.size());
  EXPECT_EQ(seen_devices, expected_devices());
  EXPECT_EQ(std::set<DeviceKey>(seen_devices.begin(), seen_devices.end()).size(),
            seen_devices.size());
}

TEST(GeneratedInfoPlist, MultiPortChipsGetOneNamedPersonalityPerChannel) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root);
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  // FT4232H (0403:6011): four channels A-D on interfaces 0-3 (FT4232H datasheet; ftdi_sio_ids.h).
  std::set<uint64_t> interfaces;
  for (const auto& [name, personality] : dict_items(personalities)) {
    if (uint_of(plist_dict_get_item(personality, "idVendor")) == 0x0403 &&
        uint_of(plist_dict_get_item(personality, "idProduct")) == 0x6011) {
      interfaces.insert(uint_of(plist_dict_get_item(personality, "bInterfaceNumber")));
      EXPECT_NE(name.find(" port "), std::string::npos) << name;
    }
  }
  EXPECT_EQ(interfaces, (std::set<uint64_t>{0, 1, 2, 3}));
  EXPECT_NE(plist_dict_get_item(personalities, "FTDI FT2232C/D/H port B"), nullptr);
}

TEST(GeneratedInfoPlist, ProductionHasNoClassPersonality) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root);
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  for (const auto& [name, personality] : dict_items(personalities)) {
    EXPECT_EQ(plist_dict_get_item(personality, "bInterfaceClass"), nullptr) << name;
  }
}

TEST(GeneratedInfoPlist, DevelopmentAddsExactlyTheClassRules) {
  PlistPtr root = load(kDevInfo);
  ASSERT_TRUE(root) << kDevInfo;
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  ASSERT_NE(personalities, nullptr);
  std::multiset<PortKey> ports;
  std::multiset<DeviceKey> devices;
  std::multiset<std::pair<uint64_t, uint64_t>> classes;
  for (const auto& [name, personality] : dict_items(personalities)) {
    SCOPED_TRACE(name);
    expect_common_values(name, personality);
    const std::string provider = string_of(plist_dict_get_item(personality, "IOProviderClass"));
    const std::string user_class = string_of(plist_dict_get_item(personality, "IOUserClass"));
    if (provider == "IOUSBHostDevice") {
      // Matched on the device by VID/PID: the IOUserSerial class opens it itself.
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, {"idVendor", "idProduct"}));
      EXPECT_EQ(user_class, USBSERIAL_SERIAL_DRIVER_CLASS);
      devices.insert({uint_of(plist_dict_get_item(personality, "idVendor")),
                      uint_of(plist_dict_get_item(personality, "idProduct")), user_class});
      continue;
    }
    EXPECT_EQ(provider, "IOUSBHostInterface");
    if (plist_dict_get_item(personality, "bInterfaceClass") != nullptr) {
      EXPECT_EQ(user_class, USBSERIAL_DRIVER_CLASS);
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, kTier50000));
      ASSERT_TRUE(is_uint(plist_dict_get_item(personality, "bInterfaceClass")));
      ASSERT_TRUE(is_uint(plist_dict_get_item(personality, "bInterfaceSubClass")));
      classes.insert({uint_of(plist_dict_get_item(personality, "bInterfaceClass")),
                      uint_of(plist_dict_get_item(personality, "bInterfaceSubClass"))});
    } else {
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, kTier90000));
      ports.insert({uint_of(plist_dict_get_item(personality, "idVendor")),
                    uint_of(plist_dict_get_item(personality, "idProduct")),
                    uint_of(plist_dict_get_item(personality, "bInterfaceNumber")), user_class});
    }
  }
  EXPECT_EQ(ports, expected_ports());
  EXPECT_EQ(devices, expected_devices());
  std::multiset<std::pair<uint64_t, uint64_t>> expected_classes;
  for (const transport::ClassRule& rule : transport::class_rules()) {
    if (transport::class_rule_matchable(rule.family)) {
      expected_classes.insert({rule.interface_class, rule.interface_subclass});
    }
  }
  EXPECT_EQ(classes, expected_classes);
  // CDC-ACM by class (0x02/0x02, USB CDC 1.2 §4.3) needs its data interface too:
  // an interface-matched dext cannot reach it, and a device-level personality
  // cannot match by interface class, so there is no such personality.
  EXPECT_EQ(classes.count({2, 2}), 0u);
}

TEST(GeneratedInfoPlist, CdcAcmPersonalitiesMatchTheDeviceForTheClassThatOpensIt) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root) << kInfo;
  std::set<std::pair<uint64_t, uint64_t>> cdc;
  for (const auto& [name, personality] :
       dict_items(plist_dict_get_item(root.get(), "IOKitPersonalities"))) {
    if (string_of(plist_dict_get_item(personality, "IOProviderClass")) == "IOUSBHostDevice") {
      cdc.insert({uint_of(plist_dict_get_item(personality, "idVendor")),
                  uint_of(plist_dict_get_item(personality, "idProduct"))});
    }
  }
  // The WCH CH9102F and the simulator's pid.codes test ID, nothing else.
  EXPECT_EQ(cdc, (std::set<std::pair<uint64_t, uint64_t>>{{0x1A86, 0x55D4}, {0x1209, 0x0001}}));
}

struct UsbEntitlement {
  bool wildcard = false;
  uint64_t vid = 0;
};

std::vector<UsbEntitlement> usb_entries(plist_t entitlements) {
  std::vector<UsbEntitlement> entries;
  plist_t usb = plist_dict_get_item(entitlements, plistgen::kEntTransportUsb);
  EXPECT_NE(usb, nullptr);
  if (usb == nullptr) {
    return entries;
  }
  EXPECT_EQ(plist_get_node_type(usb), PLIST_ARRAY);
  for (uint32_t i = 0; i < plist_array_get_size(usb); ++i) {
    plist_t entry = plist_array_get_item(usb, i);
    EXPECT_EQ(plist_get_node_type(entry), PLIST_DICT);
    EXPECT_EQ(keys_of(entry), std::set<std::string>{"idVendor"});
    plist_t vid = plist_dict_get_item(entry, "idVendor");
    UsbEntitlement parsed;
    if (is_uint(vid)) {
      parsed.vid = uint_of(vid);
    } else {
      EXPECT_EQ(string_of(vid), "*");
      parsed.wildcard = true;
    }
    entries.push_back(parsed);
  }
  return entries;
}

void expect_bool_true(plist_t dict, const char* key) {
  plist_t node = plist_dict_get_item(dict, key);
  ASSERT_NE(node, nullptr) << key;
  ASSERT_EQ(plist_get_node_type(node), PLIST_BOOLEAN) << key;
  uint8_t value = 0;
  plist_get_bool_val(node, &value);
  EXPECT_TRUE(value) << key;
}

TEST(GeneratedEntitlements, ProductionCoversEveryVendorOnceAndNoWildcard) {
  PlistPtr root = load(kEntitlements);
  ASSERT_TRUE(root) << kEntitlements;
  expect_bool_true(root.get(), "com.apple.developer.driverkit");
  expect_bool_true(root.get(), "com.apple.developer.driverkit.family.serial");
  std::multiset<uint64_t> vids;
  for (const UsbEntitlement& entry : usb_entries(root.get())) {
    EXPECT_FALSE(entry.wildcard) << "idVendor \"*\" is development-only";
    vids.insert(entry.vid);
  }
  std::set<uint64_t> expected;
  for (const transport::DeviceEntry& entry : transport::device_entries()) {
    if (transport::personality_level(entry.family, entry.driver_class) !=
        transport::MatchLevel::none) {
      expected.insert(entry.vid);
    }
  }
  EXPECT_EQ(vids, std::multiset<uint64_t>(expected.begin(), expected.end()));

  // Every personality's idVendor is covered.
  PlistPtr info = load(kInfo);
  ASSERT_TRUE(info);
  for (const auto& [name, personality] :
       dict_items(plist_dict_get_item(info.get(), "IOKitPersonalities"))) {
    EXPECT_EQ(vids.count(uint_of(plist_dict_get_item(personality, "idVendor"))), 1u) << name;
  }
}

TEST(GeneratedEntitlements, DevelopmentAddsTheWildcardVendor) {
  PlistPtr root = load(kDevEntitlements);
  ASSERT_TRUE(root) << kDevEntitlements;
  int wildcards = 0;
  for (const UsbEntitlement& entry : usb_entries(root.get())) {
    wildcards += entry.wildcard ? 1 : 0;
  }
  EXPECT_EQ(wildcards, 1);
}

TEST(GeneratedEntitlements, CheckedInFileIsTheProductionOutput) {
  // The same bytes the build generated (the CTest plistgen_checked_in_entitlements_current
  // reports the diff; this asserts the library's output equals the generated file).
  std::ifstream in(kEntitlements, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  EXPECT_EQ(buffer.str(), plistgen::build_entitlements_xml(false));
}

TEST(Tokens, SubstitutesKnownTokensAndRejectsOthers) {
  std::string out;
  std::string error;
  ASSERT_TRUE(plistgen::substitute_tokens("a@X@b@Y@", {{"X", "1"}, {"Y", "22"}}, out, error));
  EXPECT_EQ(out, "a1b22");
  EXPECT_FALSE(plistgen::substitute_tokens("a@Z@", {{"X", "1"}}, out, error));
  EXPECT_NE(error.find("@Z@"), std::string::npos);
  EXPECT_FALSE(plistgen::substitute_tokens("a@X", {{"X", "1"}}, out, error));
  EXPECT_NE(error.find("unterminated"), std::string::npos);
}

TEST(Template, RejectsTemplatesWithoutAnEmptyPersonalityDictionary) {
  const plistgen::Identity identity{"org.example.x", "org_example_X", "X", "1.0",
                                    "org_example_XSerial"};
  std::string xml;
  std::string error;
  EXPECT_FALSE(plistgen::build_info_plist("<plist><dict/></plist>", identity, false, xml, error));
  EXPECT_FALSE(plistgen::build_info_plist(
      "<plist><dict><key>IOKitPersonalities</key><dict><key>a</key><dict/></dict></dict></plist>",
      identity, false, xml, error));
  EXPECT_FALSE(plistgen::build_info_plist("not a plist", identity, false, xml, error));
  ASSERT_TRUE(plistgen::build_info_plist(
      "<plist><dict><key>CFBundleIdentifier</key><string>@BUNDLE_ID@</string>"
      "<key>IOKitPersonalities</key><dict/></dict></plist>",
      identity, false, xml, error))
      << error;
  PlistPtr root = plistgen::parse_plist(xml);
  ASSERT_TRUE(root);
  EXPECT_EQ(string_of(plist_dict_get_item(root.get(), "CFBundleIdentifier")), "org.example.x");
}

TEST(Template, AClassTheTableNamesMustHaveAName) {
  // The device table names the IOUserSerial class for CDC-ACM: without its name
  // no Info.plist can be made, and the error says which personality needs it.
  const plistgen::Identity identity{"org.example.x", "org_example_X", "X", "1.0"};
  std::string xml;
  std::string error;
  EXPECT_FALSE(
      plistgen::build_info_plist("<plist><dict><key>IOKitPersonalities</key><dict/></dict></plist>",
                                 identity, false, xml, error));
  EXPECT_NE(error.find("serial driver class"), std::string::npos) << error;
  EXPECT_NE(error.find("WCH CH9102F"), std::string::npos) << error;
}

}  // namespace
