#include "plistgen.hpp"

#include <cstdlib>
#include <limits>

#include "tools/common/plist_compat.hpp"
#include "transport/device_table.hpp"
#include "transport/tty_name.hpp"

namespace plistgen {

namespace {

// One field of a device_table.plist entry; each returns false and says why.
struct EntryReader {
  plist_t dict;
  std::string where;  // "devices[3] (TETRA radio PEI)"
  std::string& error;

  plist_t field(const char* key, plist_type type, const char* type_name) {
    plist_t node = plist_dict_get_item(dict, key);
    if (node == nullptr || plist_get_node_type(node) != type) {
      error = where + ": field \"" + key + "\" is missing or not " + type_name;
      return nullptr;
    }
    return node;
  }
  bool number(const char* key, uint64_t max, uint64_t& out) {
    plist_t node = field(key, PLIST_UINT, "an integer");
    if (node == nullptr) {
      return false;
    }
    plist_get_uint_val(node, &out);
    if (out > max) {
      error = where + ": field \"" + key + "\" is above " + std::to_string(max);
      return false;
    }
    return true;
  }
  bool text(const char* key, std::string& out) {
    plist_t node = field(key, PLIST_STRING, "a string");
    if (node == nullptr) {
      return false;
    }
    char* value = nullptr;
    plist_get_string_val(node, &value);
    out = value != nullptr ? value : "";
    free(value);
    return true;
  }
  bool flag(const char* key, bool& out) {
    plist_t node = field(key, PLIST_BOOLEAN, "a boolean");
    if (node == nullptr) {
      return false;
    }
    uint8_t value = 0;
    plist_get_bool_val(node, &value);
    out = value != 0;
    return true;
  }
};

plist_t entry_array(plist_t root, const char* key, std::string& error) {
  plist_t array = plist_dict_get_item(root, key);
  if (array == nullptr || plist_get_node_type(array) != PLIST_ARRAY) {
    error = std::string("no \"") + key + "\" array";
    return nullptr;
  }
  for (uint32_t i = 0; i < plist_array_get_size(array); ++i) {
    if (plist_get_node_type(plist_array_get_item(array, i)) != PLIST_DICT) {
      error = std::string(key) + "[" + std::to_string(i) + "] is not a dictionary";
      return nullptr;
    }
  }
  return array;
}

// The chip family, by its name in the table ("cdc-acm", "ftdi", ...).
bool read_family(EntryReader& in, transport::ChipFamily& out) {
  std::string family;
  if (!in.text("family", family)) {
    return false;
  }
  for (int i = 0; i < transport::kChipFamilyCount; ++i) {
    const auto candidate = static_cast<transport::ChipFamily>(i);
    if (family == transport::to_string(candidate)) {
      out = candidate;
      return true;
    }
  }
  in.error = in.where + ": family \"" + family + "\" is not a chip family of the driver";
  return false;
}

bool read_device(EntryReader& in, DeviceRow& row) {
  uint64_t vid = 0;
  uint64_t pid = 0;
  uint64_t first = 0;
  uint64_t ports = 0;
  std::string driver_class;
  if (!in.text("product", row.product) || !in.number("vid", 0xFFFF, vid) ||
      !in.number("pid", 0xFFFF, pid) || !in.number("first_interface", 0xFF, first) ||
      !in.number("ports", 0xFF, ports) || !in.text("tty_base_name", row.tty_base_name) ||
      !in.text("driver_class", driver_class) || !in.flag("serial_number", row.has_serial_number) ||
      !read_family(in, row.family)) {
    return false;
  }
  if (ports == 0 || first + ports > 0x100) {
    in.error = in.where + ": ports " + std::to_string(ports) + " from interface " +
               std::to_string(first) + " do not fit interfaces 0..255";
    return false;
  }
  if (driver_class == "usb-serial") {
    row.driver_class = transport::DriverClass::usb_serial;
  } else if (driver_class == "serial") {
    row.driver_class = transport::DriverClass::serial;
  } else {
    in.error = in.where + ": driver_class \"" + driver_class + "\" is not usb-serial or serial";
    return false;
  }
  row.vid = static_cast<uint16_t>(vid);
  row.pid = static_cast<uint16_t>(pid);
  row.first_interface = static_cast<uint8_t>(first);
  row.ports = static_cast<uint8_t>(ports);
  return true;
}

bool read_class_rule(EntryReader& in, ClassRow& row) {
  uint64_t cls = 0;
  uint64_t subclass = 0;
  if (!in.text("product", row.product) || !in.number("interface_class", 0xFF, cls) ||
      !in.number("interface_subclass", 0xFF, subclass) ||
      !in.flag("development_only", row.development_only) || !read_family(in, row.family)) {
    return false;
  }
  row.interface_class = static_cast<uint8_t>(cls);
  row.interface_subclass = static_cast<uint8_t>(subclass);
  return true;
}

}  // namespace

bool load_device_table(std::string_view plist_data, DeviceTable& out, std::string& error) {
  out = DeviceTable{};
  PlistPtr root = parse_plist(plist_data);
  if (!root || plist_get_node_type(root.get()) != PLIST_DICT) {
    error = "not a plist whose root is a dictionary";
    return false;
  }
  plist_t devices = entry_array(root.get(), "devices", error);
  plist_t rules = devices != nullptr ? entry_array(root.get(), "class_rules", error) : nullptr;
  if (rules == nullptr) {
    return false;
  }
  for (uint32_t i = 0; i < plist_array_get_size(devices); ++i) {
    EntryReader in{plist_array_get_item(devices, i), "devices[" + std::to_string(i) + "]", error};
    DeviceRow row;
    if (!read_device(in, row)) {
      return false;
    }
    out.devices.push_back(row);
  }
  for (uint32_t i = 0; i < plist_array_get_size(rules); ++i) {
    EntryReader in{plist_array_get_item(rules, i), "class_rules[" + std::to_string(i) + "]", error};
    ClassRow row;
    if (!read_class_rule(in, row)) {
      return false;
    }
    out.class_rules.push_back(row);
  }
  return true;
}

std::string port_letter_name(std::string_view product, unsigned port, unsigned port_count) {
  std::string name(product);
  if (port_count > 1) {
    name += " port ";
    if (port < 26) {
      name += static_cast<char>('A' + port);
    } else {
      name += std::to_string(port);
    }
  }
  return name;
}

const std::string& class_name(const Identity& identity, transport::DriverClass driver_class) {
  return driver_class == transport::DriverClass::serial ? identity.serial_driver_class
                                                        : identity.driver_class;
}

std::vector<PersonalitySpec> table_personalities(const DeviceTable& table, bool development) {
  std::vector<PersonalitySpec> specs;
  for (const DeviceRow& device : table.devices) {
    const transport::MatchLevel level =
        transport::personality_level(device.family, device.driver_class);
    if (level == transport::MatchLevel::none) {
      continue;  // a personality that cannot work on a Mac is not generated
    }
    if (level == transport::MatchLevel::device) {
      // The driver opens the device and finds every interface of the port itself.
      PersonalitySpec spec;
      spec.name = device.product;
      spec.tty_base_name = device.tty_base_name;
      spec.driver_class = device.driver_class;
      spec.device_level = true;
      spec.vid = device.vid;
      spec.pid = device.pid;
      specs.push_back(spec);
      continue;
    }
    for (unsigned port = 0; port < device.ports; ++port) {
      PersonalitySpec spec;
      spec.name = port_letter_name(device.product, port, device.ports);
      spec.tty_base_name = device.tty_base_name;
      if (!device.has_serial_number) {
        char suffix[transport::kTtySuffixMax + 1];
        transport::make_tty_suffix(nullptr, device.vid, device.pid, static_cast<uint8_t>(port),
                                   device.ports, suffix);
        spec.tty_suffix = suffix;
      }
      spec.driver_class = device.driver_class;
      spec.vid = device.vid;
      spec.pid = device.pid;
      spec.interface_number = static_cast<uint8_t>(device.first_interface + port);
      specs.push_back(spec);
    }
  }
  for (const ClassRow& rule : table.class_rules) {
    if ((rule.development_only && !development) || !transport::class_rule_matchable(rule.family)) {
      continue;
    }
    PersonalitySpec spec;
    spec.name = std::string(rule.product) + " (class match)";
    spec.class_based = true;
    spec.interface_class = rule.interface_class;
    spec.interface_subclass = rule.interface_subclass;
    specs.push_back(spec);
  }
  return specs;
}

namespace {

void set_string(plist_t dict, const char* key, const std::string& value) {
  plist_dict_set_item(dict, key, plist_new_string(value.c_str()));
}

void set_uint(plist_t dict, const char* key, uint64_t value) {
  plist_dict_set_item(dict, key, plist_new_uint(value));
}

}  // namespace

PlistPtr make_personality(const Identity& identity, const PersonalitySpec& spec) {
  plist_t dict = plist_new_dict();
  set_string(dict, "CFBundleIdentifier", identity.bundle_id);
  set_string(dict, "CFBundleIdentifierKernel", kSerialKernelBundle);
  set_string(dict, "IOClass", kIOClassSerial);
  set_string(dict, "IOProviderClass", spec.device_level ? kProviderDevice : kProviderInterface);
  set_string(dict, "IOUserClass", class_name(identity, spec.driver_class));
  set_string(dict, "IOUserServerName", identity.bundle_id);
  set_uint(dict, "IOProbeScore", static_cast<uint64_t>(kProbeScore));
  set_string(dict, "IOTTYBaseName", spec.tty_base_name);
  if (!spec.tty_suffix.empty()) {
    set_string(dict, "IOTTYSuffix", spec.tty_suffix);
  }
  if (spec.class_based) {
    set_uint(dict, "bInterfaceClass", spec.interface_class);
    set_uint(dict, "bInterfaceSubClass", spec.interface_subclass);
  } else if (spec.device_level) {
    set_uint(dict, "idVendor", spec.vid);
    set_uint(dict, "idProduct", spec.pid);
  } else {
    set_uint(dict, "idVendor", spec.vid);
    set_uint(dict, "idProduct", spec.pid);
    set_uint(dict, "bConfigurationValue", static_cast<uint64_t>(kConfigurationValue));
    set_uint(dict, "bInterfaceNumber", spec.interface_number);
  }
  return PlistPtr(dict);
}

std::set<uint16_t> vendors_of(const std::vector<PersonalitySpec>& specs) {
  std::set<uint16_t> vendors;
  for (const PersonalitySpec& spec : specs) {
    if (!spec.class_based) {
      vendors.insert(spec.vid);
    }
  }
  return vendors;
}

PlistPtr make_usb_entitlement_entry(std::optional<uint16_t> vid) {
  plist_t entry = plist_new_dict();
  if (vid.has_value()) {
    set_uint(entry, "idVendor", *vid);
  } else {
    set_string(entry, "idVendor", "*");
  }
  return PlistPtr(entry);
}

PlistPtr make_entitlements(const std::set<uint16_t>& vendors, bool development) {
  plist_t dict = plist_new_dict();
  plist_dict_set_item(dict, kEntDriverKit, plist_new_bool(1));
  plist_dict_set_item(dict, kEntFamilySerial, plist_new_bool(1));
  plist_t usb = plist_new_array();
  for (const uint16_t vid : vendors) {
    plist_array_append_item(usb, make_usb_entitlement_entry(vid).release());
  }
  if (development) {
    plist_array_append_item(usb, make_usb_entitlement_entry(std::nullopt).release());
  }
  plist_dict_set_item(dict, kEntTransportUsb, usb);
  return PlistPtr(dict);
}

bool substitute_tokens(std::string_view text, const std::vector<Token>& tokens, std::string& out,
                       std::string& error) {
  out.clear();
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t at = text.find('@', pos);
    if (at == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, at - pos));
    const size_t end = text.find('@', at + 1);
    if (end == std::string_view::npos) {
      error = "unterminated @TOKEN@ at offset " + std::to_string(at);
      return false;
    }
    const std::string_view name = text.substr(at + 1, end - at - 1);
    const Token* found = nullptr;
    for (const Token& token : tokens) {
      if (token.name == name) {
        found = &token;
        break;
      }
    }
    if (found == nullptr) {
      error = "unknown token @" + std::string(name) + "@ at offset " + std::to_string(at);
      return false;
    }
    out.append(found->value);
    pos = end + 1;
  }
  return true;
}

std::string to_xml(plist_t node) {
  char* xml = nullptr;
  uint32_t length = 0;
  plist_to_xml(node, &xml, &length);
  std::string text = xml != nullptr ? std::string(xml, length) : std::string();
  if (xml != nullptr) {
    plist_compat::free_buffer(xml);
  }
  return text;
}

PlistPtr parse_plist(std::string_view data) {
  if (data.size() > std::numeric_limits<uint32_t>::max()) {
    return PlistPtr(nullptr);
  }
  return PlistPtr(plist_compat::from_memory(data.data(), static_cast<uint32_t>(data.size())));
}

bool build_info_plist(std::string_view template_text, const Identity& identity,
                      const DeviceTable& table, bool development, std::string& xml_out,
                      std::string& error) {
  const std::vector<Token> tokens = {
      {"BUNDLE_ID", identity.bundle_id},
      {"BUNDLE_NAME", identity.bundle_name},
      {"VERSION", identity.version},
  };
  std::string text;
  if (!substitute_tokens(template_text, tokens, text, error)) {
    return false;
  }
  PlistPtr root = parse_plist(text);
  if (!root || plist_get_node_type(root.get()) != PLIST_DICT) {
    error = "the template is not a plist whose root is a dictionary";
    return false;
  }
  plist_t personalities = plist_dict_get_item(root.get(), "IOKitPersonalities");
  if (personalities == nullptr || plist_get_node_type(personalities) != PLIST_DICT ||
      plist_dict_get_size(personalities) != 0) {
    error = "the template must hold an empty IOKitPersonalities dictionary";
    return false;
  }
  for (const PersonalitySpec& spec : table_personalities(table, development)) {
    if (class_name(identity, spec.driver_class).empty()) {
      error = "personality \"" + spec.name + "\" names the " +
              transport::to_string(spec.driver_class) + " driver class, and no class name was " +
              "given for it";
      return false;
    }
    if (plist_dict_get_item(personalities, spec.name.c_str()) != nullptr) {
      error = "duplicate personality name \"" + spec.name + "\" (device table products)";
      return false;
    }
    if (spec.driver_class == transport::DriverClass::serial &&
        identity.serial_driver_class.empty()) {
      error = "\"" + spec.name +
              "\" uses driver class serial, but the dext has no IOUserSerial-based class "
              "(--serial-driver-class)";
      return false;
    }
    plist_dict_set_item(personalities, spec.name.c_str(),
                        make_personality(identity, spec).release());
  }
  xml_out = to_xml(root.get());
  return true;
}

std::string build_entitlements_xml(const DeviceTable& table, bool development) {
  const PlistPtr entitlements =
      make_entitlements(vendors_of(table_personalities(table, development)), development);
  return to_xml(entitlements.get());
}

}  // namespace plistgen
