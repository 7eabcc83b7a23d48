#include "plistgen.hpp"

#include <cstdlib>
#include <limits>

#include "transport/device_table.hpp"

namespace plistgen {

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

std::vector<PersonalitySpec> table_personalities(bool development) {
  std::vector<PersonalitySpec> specs;
  for (const transport::DeviceEntry& entry : transport::device_entries()) {
    const transport::MatchLevel level =
        transport::personality_level(entry.family, entry.driver_class);
    if (level == transport::MatchLevel::none) {
      continue;  // a personality that cannot work on a Mac is not generated
    }
    if (level == transport::MatchLevel::device) {
      // The driver opens the device and finds every interface of the port itself.
      PersonalitySpec spec;
      spec.name = entry.product;
      spec.driver_class = entry.driver_class;
      spec.device_level = true;
      spec.vid = entry.vid;
      spec.pid = entry.pid;
      specs.push_back(spec);
      continue;
    }
    for (unsigned port = 0; port < entry.port_count; ++port) {
      PersonalitySpec spec;
      spec.name = port_letter_name(entry.product, port, entry.port_count);
      spec.driver_class = entry.driver_class;
      spec.vid = entry.vid;
      spec.pid = entry.pid;
      spec.interface_number = static_cast<uint8_t>(entry.first_interface + port);
      specs.push_back(spec);
    }
  }
  for (const transport::ClassRule& rule : transport::class_rules()) {
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
  set_string(dict, "IOTTYBaseName", kTtyBaseName);
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
    plist_to_xml_free(xml);
  }
  return text;
}

PlistPtr parse_plist(std::string_view data) {
  if (data.size() > std::numeric_limits<uint32_t>::max()) {
    return PlistPtr(nullptr);
  }
  plist_t root = nullptr;
  plist_from_memory(data.data(), static_cast<uint32_t>(data.size()), &root);
  return PlistPtr(root);
}

bool build_info_plist(std::string_view template_text, const Identity& identity, bool development,
                      std::string& xml_out, std::string& error) {
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
  for (const PersonalitySpec& spec : table_personalities(development)) {
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
    plist_dict_set_item(personalities, spec.name.c_str(),
                        make_personality(identity, spec).release());
  }
  xml_out = to_xml(root.get());
  return true;
}

std::string build_entitlements_xml(bool development) {
  const PlistPtr entitlements =
      make_entitlements(vendors_of(table_personalities(development)), development);
  return to_xml(entitlements.get());
}

}  // namespace plistgen
