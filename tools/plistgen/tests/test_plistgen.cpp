// The generated Info.plist / Entitlements.plist (as the build wrote them) against the device
// table: one personality per port with exactly the right keys and integer types, nothing extra,
// every vendor covered by transport.usb, class matching only in development builds.
//
// devices.ini reaches the plists through tools/devicegen's device_table.plist and the runtime
// prober through its device_table_data.inc; the expectations here come from the compiled table
// (transport::device_entries()), so the two generated paths are checked against each other.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "plistgen.hpp"
#include "transport/device_table.hpp"
#include "transport/tty_name.hpp"

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

plistgen::DeviceTable generated_table() {
  std::ifstream in(USBSERIAL_DEVICE_TABLE_PLIST, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  plistgen::DeviceTable table;
  std::string error;
  EXPECT_TRUE(plistgen::load_device_table(buffer.str(), table, error)) << error;
  return table;
}

const transport::DeviceEntry& entry_of(uint64_t vid, uint64_t pid) {
  const transport::DeviceEntry* entry =
      transport::find_device(static_cast<uint16_t>(vid), static_cast<uint16_t>(pid));
  EXPECT_NE(entry, nullptr) << std::hex << vid << ":" << pid;
  static const transport::DeviceEntry kNone{0, 0, {}, {}, {}, 0, 0, "", "", "", {}, true};
  return entry != nullptr ? *entry : kNone;
}

const std::string kInfo = std::string(USBSERIAL_PLIST_DIR) + "/Info.plist";
const std::string kEntitlements = std::string(USBSERIAL_PLIST_DIR) + "/Entitlements.plist";
const std::string kDevInfo = std::string(USBSERIAL_PLIST_DEV_DIR) + "/Info.plist";
const std::string kDevEntitlements = std::string(USBSERIAL_PLIST_DEV_DIR) + "/Entitlements.plist";

// Keys every personality carries (docs/driverkit-reference.md §3.2), and the two matching key sets
// (§3.4).
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

// tty_base_name: the device entry's (class personalities: transport::kTtyBaseName).
void expect_common_values(const std::string& name, plist_t personality,
                          const std::string& tty_base_name) {
  SCOPED_TRACE(name);
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "CFBundleIdentifier")), USBSERIAL_BUNDLE_ID);
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOUserServerName")), USBSERIAL_BUNDLE_ID);
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOClass")), "IOUserSerial");
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "CFBundleIdentifierKernel")),
            "com.apple.driver.driverkit.serial");
  EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOTTYBaseName")), tty_base_name);
  plist_t score = plist_dict_get_item(personality, "IOProbeScore");
  ASSERT_TRUE(is_uint(score));
  // Above Apple's in-box AppleUSBSLCOM (89999, docs/driverkit-reference.md §3.2).
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
    const transport::DeviceEntry& entry =
        entry_of(uint_of(plist_dict_get_item(personality, "idVendor")),
                 uint_of(plist_dict_get_item(personality, "idProduct")));
    expect_common_values(name, personality, entry.tty_base_name);
    const std::string user_class = string_of(plist_dict_get_item(personality, "IOUserClass"));
    EXPECT_EQ(user_class, class_of(entry));
    if (string_of(plist_dict_get_item(personality, "IOProviderClass")) == "IOUSBHostDevice") {
      // Matched on the device: the IOUserSerial class opens it and finds every interface.
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, {"idVendor", "idProduct"}));
      seen_devices.insert({uint_of(plist_dict_get_item(personality, "idVendor")),
                           uint_of(plist_dict_get_item(personality, "idProduct")), user_class});
      continue;
    }
    EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOProviderClass")), "IOUSBHostInterface");
    for (const char* key : {"idVendor", "idProduct", "bConfigurationValue", "bInterfaceNumber"}) {
      ASSERT_TRUE(is_uint(plist_dict_get_item(personality, key))) << key << " must be an integer";
    }
    if (entry.has_serial_number) {
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, kTier90000));
    } else {
      // No serial-number string: the fallback suffix rides in the personality, so the
      // port's name does not depend on who names it.
      EXPECT_EQ(keys_of(personality), merged(merged(kCommonKeys, kTier90000), {"IOTTYSuffix"}));
      char suffix[transport::kTtySuffixMax + 1];
      const auto port = static_cast<uint8_t>(
          uint_of(plist_dict_get_item(personality, "bInterfaceNumber")) - entry.first_interface);
      ASSERT_TRUE(transport::make_tty_suffix(nullptr, entry.vid, entry.pid, port, entry.port_count,
                                             suffix));
      EXPECT_EQ(string_of(plist_dict_get_item(personality, "IOTTYSuffix")), suffix);
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

// Silicon Labs (VID 0x10C4, Linux cp210x.c id_table): the single-port IDs on interface 0, the
// CP2105 on interfaces 0 (ECI) and 1 (SCI), the CP2108 on 0-3. Apple's in-box AppleUSBSLCOM
// claims 10c4:ea60 and 10c4:ea70 at IOProbeScore 89999 (docs/driverkit-reference.md §1.7, §3.2):
// ours must be higher on exactly those personalities.
TEST(GeneratedInfoPlist, Cp210xPortsOutrankApplesSlcom) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root);
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  std::map<uint64_t, std::set<uint64_t>> interfaces_by_pid;
  for (const auto& [name, personality] : dict_items(personalities)) {
    if (uint_of(plist_dict_get_item(personality, "idVendor")) != 0x10C4) {
      continue;
    }
    const uint64_t pid = uint_of(plist_dict_get_item(personality, "idProduct"));
    interfaces_by_pid[pid].insert(uint_of(plist_dict_get_item(personality, "bInterfaceNumber")));
    EXPECT_GT(uint_of(plist_dict_get_item(personality, "IOProbeScore")), 89999u) << name;
  }
  const std::map<uint64_t, std::set<uint64_t>> expected = {
      {0xEA60, {0}},    {0xEA63, {0}},          {0xEA70, {0, 1}},
      {0xEA7A, {0, 1}}, {0xEA71, {0, 1, 2, 3}}, {0xEA7B, {0, 1, 2, 3}},
  };
  EXPECT_EQ(interfaces_by_pid, expected);
  EXPECT_NE(plist_dict_get_item(personalities, "Silicon Labs CP2105 port B"), nullptr);
  EXPECT_NE(plist_dict_get_item(personalities, "Silicon Labs CP2108 port D"), nullptr);
  EXPECT_NE(plist_dict_get_item(personalities, "Silicon Labs CP210x"), nullptr);
}

// CH34x: the IDs Linux's ch341.c claims, one personality each on interface 0, written out
// here rather than read from the table. Apple's in-box AppleUSBCHCOM claims 1A86:7523 at
// IOProbeScore 89999 on the same 90000 key tier (docs/driverkit-reference.md §1.7, §3.2,
// §3.4),
// so ours must score higher.
TEST(GeneratedInfoPlist, Ch34xPersonalitiesOutrankApplesChcom) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root);
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  struct Expected {
    const char* name;
    uint64_t vid, pid;
  };
  for (const Expected& e :
       {Expected{"WCH CH340", 0x1A86, 0x7523}, Expected{"WCH CH340K", 0x1A86, 0x7522},
        Expected{"WCH CH341A", 0x1A86, 0x5523}, Expected{"WinChipHead CH341", 0x4348, 0x5523}}) {
    SCOPED_TRACE(e.name);
    plist_t personality = plist_dict_get_item(personalities, e.name);
    ASSERT_NE(personality, nullptr);
    EXPECT_EQ(uint_of(plist_dict_get_item(personality, "idVendor")), e.vid);
    EXPECT_EQ(uint_of(plist_dict_get_item(personality, "idProduct")), e.pid);
    EXPECT_EQ(uint_of(plist_dict_get_item(personality, "bInterfaceNumber")), 0u);
    EXPECT_EQ(uint_of(plist_dict_get_item(personality, "bConfigurationValue")), 1u);
    EXPECT_GT(uint_of(plist_dict_get_item(personality, "IOProbeScore")), 89999u);
  }
  // The CH9102F on 1A86:55D4 is CDC-ACM: it is matched on the device, for the IOUserSerial
  // class that opens both of its interfaces (docs/cdc-acm.md).
  plist_t ch9102 = plist_dict_get_item(personalities, "WCH CH9102F");
  ASSERT_NE(ch9102, nullptr);
  EXPECT_EQ(string_of(plist_dict_get_item(ch9102, "IOProviderClass")), "IOUSBHostDevice");
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
    if (plist_dict_get_item(personality, "bInterfaceClass") != nullptr) {
      expect_common_values(name, personality, transport::kTtyBaseName);
      EXPECT_EQ(keys_of(personality), merged(kCommonKeys, kTier50000));
      ASSERT_TRUE(is_uint(plist_dict_get_item(personality, "bInterfaceClass")));
      ASSERT_TRUE(is_uint(plist_dict_get_item(personality, "bInterfaceSubClass")));
      classes.insert({uint_of(plist_dict_get_item(personality, "bInterfaceClass")),
                      uint_of(plist_dict_get_item(personality, "bInterfaceSubClass"))});
    } else {
      const transport::DeviceEntry& entry =
          entry_of(uint_of(plist_dict_get_item(personality, "idVendor")),
                   uint_of(plist_dict_get_item(personality, "idProduct")));
      expect_common_values(name, personality, entry.tty_base_name);
      const std::string user_class = string_of(plist_dict_get_item(personality, "IOUserClass"));
      if (string_of(plist_dict_get_item(personality, "IOProviderClass")) == "IOUSBHostDevice") {
        devices.insert({entry.vid, entry.pid, user_class});
        continue;
      }
      EXPECT_EQ(keys_of(personality),
                entry.has_serial_number ? merged(kCommonKeys, kTier90000)
                                        : merged(merged(kCommonKeys, kTier90000), {"IOTTYSuffix"}));
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
  EXPECT_EQ(buffer.str(), plistgen::build_entitlements_xml(generated_table(), false));
}

// device_table.plist (what plistgen reads) and the compiled table (what the prober reads) are
// both generated from devices.ini; they must say the same about every device and class rule.
TEST(GeneratedDeviceTable, PlistAgreesWithTheCompiledTable) {
  const plistgen::DeviceTable table = generated_table();
  const auto entries = transport::device_entries();
  ASSERT_EQ(table.devices.size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const plistgen::DeviceRow& row = table.devices[i];
    const transport::DeviceEntry& entry = entries[i];
    SCOPED_TRACE(entry.product);
    EXPECT_EQ(row.vid, entry.vid);
    EXPECT_EQ(row.pid, entry.pid);
    EXPECT_EQ(row.first_interface, entry.first_interface);
    EXPECT_EQ(row.ports, entry.port_count);
    EXPECT_EQ(row.product, entry.product);
    EXPECT_EQ(row.tty_base_name, entry.tty_base_name);
    EXPECT_EQ(row.driver_class, entry.driver_class);
  }
  const auto rules = transport::class_rules();
  ASSERT_EQ(table.class_rules.size(), rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    EXPECT_EQ(table.class_rules[i].interface_class, rules[i].interface_class);
    EXPECT_EQ(table.class_rules[i].interface_subclass, rules[i].interface_subclass);
    EXPECT_EQ(table.class_rules[i].development_only, rules[i].development_only);
    EXPECT_EQ(table.class_rules[i].product, rules[i].product);
  }
}

const plistgen::Identity kIdentity{"org.example.x", "org_example_X", "X", "1.0"};
constexpr const char* kTemplate =
    "<plist><dict><key>IOKitPersonalities</key><dict/></dict></plist>";

plist_t personality_named(plist_t root, const char* name) {
  return plist_dict_get_item(plist_dict_get_item(root, "IOKitPersonalities"), name);
}

TEST(Personalities, CarryTheDeviceBaseNameAndDriverClass) {
  plistgen::DeviceTable table;
  table.devices.push_back({0x0CAD, 0x9016, 0, 2, "Radio", "tetra-pei-", {}});
  table.devices.push_back({0x1209, 0x0001, 3, 1, "Board", "board-", {}});
  std::string xml;
  std::string error;
  ASSERT_TRUE(plistgen::build_info_plist(kTemplate, kIdentity, table, false, xml, error)) << error;
  PlistPtr root = plistgen::parse_plist(xml);
  ASSERT_TRUE(root);
  for (const char* name : {"Radio port A", "Radio port B"}) {
    plist_t p = personality_named(root.get(), name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(string_of(plist_dict_get_item(p, "IOTTYBaseName")), "tetra-pei-");
    EXPECT_EQ(string_of(plist_dict_get_item(p, "IOUserClass")), "org_example_X");
  }
  EXPECT_EQ(uint_of(plist_dict_get_item(personality_named(root.get(), "Radio port B"),
                                        "bInterfaceNumber")),
            1u);
  plist_t board = personality_named(root.get(), "Board");
  ASSERT_NE(board, nullptr);
  EXPECT_EQ(string_of(plist_dict_get_item(board, "IOTTYBaseName")), "board-");
  EXPECT_EQ(uint_of(plist_dict_get_item(board, "bInterfaceNumber")), 3u);
}

TEST(Template, AClassTheTableNamesMustHaveAName) {
  // The device table names the IOUserSerial class for CDC-ACM: without its name no
  // Info.plist can be made, and the error says which personality needs it.
  std::string xml;
  std::string error;
  EXPECT_FALSE(
      plistgen::build_info_plist(kTemplate, kIdentity, generated_table(), false, xml, error));
  EXPECT_NE(error.find("serial driver class"), std::string::npos) << error;
  EXPECT_NE(error.find("WCH CH9102F"), std::string::npos) << error;
}

TEST(Personalities, SerialDriverClassNeedsThatClass) {
  plistgen::DeviceTable table;
  table.devices.push_back(
      {0x0CAD, 0x9016, 0, 1, "Radio", "tetra-pei-", transport::DriverClass::serial});
  std::string xml;
  std::string error;
  EXPECT_FALSE(plistgen::build_info_plist(kTemplate, kIdentity, table, false, xml, error));
  EXPECT_NE(error.find("personality \"Radio\" names the serial driver class"), std::string::npos)
      << error;

  plistgen::Identity with_serial = kIdentity;
  with_serial.serial_driver_class = "org_example_BulkSerial";
  ASSERT_TRUE(plistgen::build_info_plist(kTemplate, with_serial, table, false, xml, error))
      << error;
  PlistPtr root = plistgen::parse_plist(xml);
  EXPECT_EQ(string_of(plist_dict_get_item(personality_named(root.get(), "Radio"), "IOUserClass")),
            "org_example_BulkSerial");
}

TEST(DeviceTablePlist, LoadsDevicesAndClassRules) {
  const char* kTable =
      "<plist><dict><key>devices</key><array><dict>"
      "<key>product</key><string>Radio</string><key>vid</key><integer>3245</integer>"
      "<key>pid</key><integer>36886</integer><key>first_interface</key><integer>0</integer>"
      "<key>ports</key><integer>2</integer><key>tty_base_name</key><string>tetra-pei-</string>"
      "<key>driver_class</key><string>usb-serial</string>"
      "<key>family</key><string>vendor-bulk</string><key>serial_number</key><false/></dict>"
      "</array>"
      "<key>class_rules</key><array><dict><key>product</key><string>CDC-ACM</string>"
      "<key>interface_class</key><integer>2</integer><key>interface_subclass</key>"
      "<integer>2</integer><key>development_only</key><true/>"
      "<key>family</key><string>cdc-acm</string></dict></array></dict></plist>";
  plistgen::DeviceTable table;
  std::string error;
  ASSERT_TRUE(plistgen::load_device_table(kTable, table, error)) << error;
  ASSERT_EQ(table.devices.size(), 1u);
  EXPECT_EQ(table.devices[0].vid, 0x0CAD);
  EXPECT_EQ(table.devices[0].pid, 0x9016);
  EXPECT_EQ(table.devices[0].ports, 2);
  EXPECT_EQ(table.devices[0].tty_base_name, "tetra-pei-");
  EXPECT_EQ(table.devices[0].driver_class, transport::DriverClass::usb_serial);
  EXPECT_EQ(table.devices[0].family, transport::ChipFamily::vendor_bulk);
  EXPECT_FALSE(table.devices[0].has_serial_number);
  ASSERT_EQ(table.class_rules.size(), 1u);
  EXPECT_EQ(table.class_rules[0].interface_class, 2);
  EXPECT_TRUE(table.class_rules[0].development_only);
  EXPECT_EQ(table.class_rules[0].family, transport::ChipFamily::cdc_acm);
  EXPECT_FALSE(transport::class_rule_matchable(table.class_rules[0].family));
}

// A one-device table whose ports and driver_class fields are given as plist XML ("" leaves a
// field out).
std::string one_device_table(const std::string& ports, const std::string& driver_class) {
  return "<plist><dict><key>devices</key><array><dict>"
         "<key>product</key><string>R</string><key>vid</key><integer>1</integer>"
         "<key>pid</key><integer>2</integer><key>first_interface</key><integer>0</integer>"
         "<key>tty_base_name</key><string>r-</string><key>family</key><string>ftdi</string>"
         "<key>serial_number</key><true/>" +
         (ports.empty() ? "" : "<key>ports</key>" + ports) +
         (driver_class.empty() ? "" : "<key>driver_class</key>" + driver_class) +
         "</dict></array><key>class_rules</key><array/></dict></plist>";
}

TEST(DeviceTablePlist, RejectsBadTablesAndSaysWhere) {
  struct Case {
    std::string ports, driver_class;
    const char* complaint;
  };
  const Case kCases[] = {
      {"<integer>1</integer>", "", "\"driver_class\" is missing"},
      {"<integer>0</integer>", "<string>usb-serial</string>", "do not fit"},
      {"<integer>1</integer>", "<string>hid</string>", "\"hid\" is not"},
      {"<string>1</string>", "<string>usb-serial</string>", "\"ports\" is missing or not"},
  };
  plistgen::DeviceTable parsed;
  std::string error;
  ASSERT_TRUE(plistgen::load_device_table(
      one_device_table("<integer>1</integer>", "<string>usb-serial</string>"), parsed, error))
      << error;
  for (const Case& c : kCases) {
    EXPECT_FALSE(
        plistgen::load_device_table(one_device_table(c.ports, c.driver_class), parsed, error));
    EXPECT_NE(error.find("devices[0]"), std::string::npos) << error;
    EXPECT_NE(error.find(c.complaint), std::string::npos) << error;
  }
  EXPECT_FALSE(plistgen::load_device_table("<plist><dict/></plist>", parsed, error));
  EXPECT_NE(error.find("\"devices\""), std::string::npos) << error;
  EXPECT_FALSE(plistgen::load_device_table("junk", parsed, error));
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
  // The repository's table names the IOUserSerial class (CDC-ACM), so both classes are named.
  plistgen::Identity identity = kIdentity;
  identity.serial_driver_class = "org_example_XSerial";
  const plistgen::DeviceTable table = generated_table();
  std::string xml;
  std::string error;
  EXPECT_FALSE(
      plistgen::build_info_plist("<plist><dict/></plist>", identity, table, false, xml, error));
  EXPECT_FALSE(plistgen::build_info_plist(
      "<plist><dict><key>IOKitPersonalities</key><dict><key>a</key><dict/></dict></dict></plist>",
      identity, table, false, xml, error));
  EXPECT_FALSE(plistgen::build_info_plist("not a plist", identity, table, false, xml, error));
  ASSERT_TRUE(plistgen::build_info_plist(
      "<plist><dict><key>CFBundleIdentifier</key><string>@BUNDLE_ID@</string>"
      "<key>IOKitPersonalities</key><dict/></dict></plist>",
      identity, table, false, xml, error))
      << error;
  PlistPtr root = plistgen::parse_plist(xml);
  ASSERT_TRUE(root);
  EXPECT_EQ(string_of(plist_dict_get_item(root.get(), "CFBundleIdentifier")), "org.example.x");
}

// The five IDs Apple's in-box AppleUSBPLCOM claims (067B:2303, 067B:2304, 067B:A100,
// 067B:E1F1, 0557:2008, as Baudrun's adapter notes list its Info.plist) each get a personality
// on interface 0 at the 90000 tier with an IOProbeScore above Apple's serial dexts' 89999, and
// their vendors are in the production entitlement.
TEST(GeneratedInfoPlist, ProlificIdsAppleClaimsAreOursToo) {
  PlistPtr root = load(kInfo);
  ASSERT_TRUE(root);
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  const std::set<std::pair<uint64_t, uint64_t>> kApple = {
      {0x067B, 0x2303}, {0x067B, 0x2304}, {0x067B, 0xA100}, {0x067B, 0xE1F1}, {0x0557, 0x2008}};
  std::set<std::pair<uint64_t, uint64_t>> ours;
  for (const auto& [name, personality] : dict_items(personalities)) {
    const std::pair<uint64_t, uint64_t> id{uint_of(plist_dict_get_item(personality, "idVendor")),
                                           uint_of(plist_dict_get_item(personality, "idProduct"))};
    if (kApple.count(id) == 0) {
      continue;
    }
    SCOPED_TRACE(name);
    ours.insert(id);
    EXPECT_EQ(uint_of(plist_dict_get_item(personality, "bInterfaceNumber")), 0u);
    EXPECT_GT(uint_of(plist_dict_get_item(personality, "IOProbeScore")), 89999u);
  }
  EXPECT_EQ(ours, kApple);
  EXPECT_NE(plist_dict_get_item(personalities, "Prolific PL2303"), nullptr);
  EXPECT_NE(plist_dict_get_item(personalities, "ATEN UC-232A"), nullptr);

  PlistPtr entitlements = load(kEntitlements);
  ASSERT_TRUE(entitlements);
  std::set<uint64_t> vids;
  for (const UsbEntitlement& entry : usb_entries(entitlements.get())) {
    vids.insert(entry.vid);
  }
  EXPECT_EQ(vids.count(0x067B), 1u);
  EXPECT_EQ(vids.count(0x0557), 1u);
}

}  // namespace
