#include "commands.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/json_writer.hpp"
#include "transport/device_table.hpp"

namespace doctor {

// ---------------------------------------------------------------- match

std::vector<ObjectReport> match_objects(plist_t info, const std::vector<UsbObject>& objects) {
  std::vector<ObjectReport> reports;
  const auto personalities = dict_items(dict_get(info, "IOKitPersonalities"));
  for (const UsbObject& object : objects) {
    ObjectReport report;
    report.object = object;
    std::string our_category;
    for (const auto& [name, personality] : personalities) {
      PersonalityResult result{name, match_personality(personality, object)};
      if (result.outcome.matched) {
        const uint64_t score =
            static_cast<uint64_t>(result.outcome.tier_score) + result.outcome.probe_score;
        if (!report.winner.has_value() || score > report.winner_score) {
          report.winner = name;
          report.winner_score = score;
          our_category = as_string(dict_get(personality, "IOMatchCategory")).value_or("");
        }
      }
      report.results.push_back(std::move(result));
    }
    for (const AttachedDriver& driver : object.drivers) {
      const std::string who =
          driver.class_name + (driver.bundle_id.empty() ? "" : " (" + driver.bundle_id + ")");
      const uint64_t theirs =
          static_cast<uint64_t>(driver.tier_score) + driver.probe_score.value_or(0);
      std::string note =
          "attached now: " + who + ", tier " +
          (driver.tier_score != 0 ? std::to_string(driver.tier_score) : std::string("unknown")) +
          " + IOProbeScore " +
          (driver.probe_score.has_value() ? std::to_string(*driver.probe_score)
                                          : std::string("none"));
      if (!report.winner.has_value()) {
        report.driver_notes.push_back(note + "; none of our personalities matches");
        continue;
      }
      if (driver.match_category != our_category) {
        report.driver_notes.push_back(
            note + "; a different IOMatchCategory, so both attach: two ports for one device");
        continue;
      }
      if (theirs >= report.winner_score) {
        report.outranked = true;
        report.driver_notes.push_back(note + " = " + std::to_string(theirs) + " >= ours " +
                                      std::to_string(report.winner_score) +
                                      ": it would outrank us [U: score combination unverified]");
      } else {
        report.driver_notes.push_back(note + " = " + std::to_string(theirs) + " < ours " +
                                      std::to_string(report.winner_score) +
                                      ": ours should win after the dext is enabled and the device "
                                      "is replugged [U]");
      }
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

namespace {

std::string object_title(const UsbObject& object) {
  std::string title = object.level == UsbLevel::device ? "device " : "interface ";
  title += object.name;
  const auto value = [&](const char* key) -> std::string {
    const auto it = object.numbers.find(key);
    return it == object.numbers.end() ? "?" : hex16(it->second);
  };
  title += " [" + value("idVendor") + ":" + value("idProduct");
  if (object.level == UsbLevel::interface) {
    const auto number = object.numbers.find("bInterfaceNumber");
    const auto cls = object.numbers.find("bInterfaceClass");
    title += " interface " +
             (number != object.numbers.end() ? std::to_string(number->second) : std::string("?"));
    if (cls != object.numbers.end()) {
      title += " class " + hex16(cls->second).substr(4);
    }
  }
  title += "] at " + object.where;
  return title;
}

}  // namespace

std::string render_match_text(const std::vector<ObjectReport>& reports) {
  std::string out;
  for (const ObjectReport& report : reports) {
    out += object_title(report.object) + "\n";
    if (report.winner.has_value()) {
      out += "  MATCH: \"" + *report.winner + "\" score " + std::to_string(report.winner_score) +
             " (tier + IOProbeScore [U])\n";
    } else {
      out += "  no personality matches\n";
    }
    size_t other_provider = 0;
    for (const PersonalityResult& result : report.results) {
      if (!result.outcome.matched && result.outcome.failed_key == "IOProviderClass") {
        ++other_provider;
        continue;
      }
      if (result.outcome.matched) {
        out += "    matches  \"" + result.personality + "\" tier " +
               std::to_string(result.outcome.tier_score) + " IOProbeScore " +
               std::to_string(result.outcome.probe_score) + "\n";
      } else {
        out += "    no       \"" + result.personality + "\": " + result.outcome.failed_key + " (" +
               result.outcome.detail + ")\n";
      }
    }
    if (other_provider != 0) {
      out += "    (" + std::to_string(other_provider) +
             " personalities are for another provider class)\n";
    }
    for (const std::string& note : report.driver_notes) {
      out += "  " + note + "\n";
    }
  }
  if (reports.empty()) {
    out += "no USB devices or interfaces in the dump\n";
  }
  return out;
}

std::string render_match_json(const std::vector<ObjectReport>& reports) {
  hostutil::JsonWriter json;
  json.begin_object().key("objects").begin_array();
  for (const ObjectReport& report : reports) {
    json.begin_object();
    json.field("kind", report.object.level == UsbLevel::device ? "device" : "interface");
    json.field("name", report.object.name);
    json.field("where", report.object.where);
    json.key("ids").begin_object();
    for (const auto& [key, value] : report.object.numbers) {
      json.field(key, value);
    }
    json.end_object();
    if (report.winner.has_value()) {
      json.field("match", *report.winner);
      json.field("score", report.winner_score);
    } else {
      json.key("match").null();
    }
    json.field("outranked", report.outranked);
    json.key("personalities").begin_array();
    for (const PersonalityResult& result : report.results) {
      json.begin_object();
      json.field("name", result.personality);
      json.field("matched", result.outcome.matched);
      if (result.outcome.matched) {
        json.field("tier", result.outcome.tier_score);
        json.field("probe_score", result.outcome.probe_score);
      } else {
        json.field("failed_key", result.outcome.failed_key);
        json.field("detail", result.outcome.detail);
      }
      json.end_object();
    }
    json.end_array();
    json.key("attached_drivers").begin_array();
    for (const std::string& note : report.driver_notes) {
      json.value(note);
    }
    json.end_array();
    json.end_object();
  }
  json.end_array().end_object();
  return json.str() + "\n";
}

// ---------------------------------------------------------------- personality

bool make_interface_personality(const plistgen::Identity& identity, const DeviceIds& device,
                                const InterfaceIds& interface, bool class_based,
                                GeneratedPersonality& out, std::string& error) {
  plistgen::PersonalitySpec spec;
  spec.vid = device.vid;
  spec.pid = device.pid;
  spec.interface_number = interface.number;
  std::string product = device.product;
  const transport::DeviceEntry* known = transport::find_device(device.vid, device.pid);
  if (product.empty() && known != nullptr) {
    product = known->product;
  }
  if (known != nullptr) {
    spec.tty_base_name = known->tty_base_name;
  }
  char ids[40];
  std::snprintf(ids, sizeof ids, "%04X:%04X", device.vid, device.pid);
  if (product.empty()) {
    product = std::string("USB ") + ids;
  }
  out = GeneratedPersonality{};
  out.name = product + " interface " + std::to_string(interface.number);
  out.personality = plistgen::make_personality(identity, spec);
  plist_t p = out.personality.get();
  if (!class_based) {
    out.entitlement_entry = plistgen::make_usb_entitlement_entry(device.vid);
    out.notes.push_back(
        "probe tier 90000: idVendor + idProduct + bConfigurationValue + "
        "bInterfaceNumber (docs/driverkit-reference.md §3.4)");
    if (device.configuration != 1) {
      plist_dict_set_item(p, "bConfigurationValue", plist_new_uint(device.configuration));
    }
    if (known == nullptr) {
      out.notes.push_back(std::string(ids) +
                          " is not in the device table: the dext needs a "
                          "devices.ini entry (chip family) to drive it");
    }
    return true;
  }
  if (!interface.interface_class.has_value() || !interface.interface_subclass.has_value()) {
    error =
        "--class-based needs the interface class and subclass (--interface-class, "
        "--interface-subclass, or a dump that has them)";
    return false;
  }
  for (const char* key : {"idProduct", "bConfigurationValue", "bInterfaceNumber"}) {
    plist_dict_remove_item(p, key);
  }
  const uint8_t cls = *interface.interface_class;
  if (cls == 0xFF) {
    // Vendor-specific class: matched under the vendor (tiers 70000/80000).
    plist_dict_set_item(p, "bInterfaceSubClass", plist_new_uint(*interface.interface_subclass));
    if (interface.interface_protocol.has_value()) {
      plist_dict_set_item(p, "bInterfaceProtocol", plist_new_uint(*interface.interface_protocol));
    }
    out.name = product + " vendor class " + std::to_string(*interface.interface_subclass);
    out.entitlement_entry = plistgen::make_usb_entitlement_entry(device.vid);
    out.notes.push_back(interface.interface_protocol.has_value()
                            ? "probe tier 80000: idVendor + bInterfaceSubClass + "
                              "bInterfaceProtocol (class 0xFF only)"
                            : "probe tier 70000: idVendor + bInterfaceSubClass (class 0xFF only)");
    return true;
  }
  plist_dict_remove_item(p, "idVendor");
  plist_dict_set_item(p, "bInterfaceClass", plist_new_uint(cls));
  plist_dict_set_item(p, "bInterfaceSubClass", plist_new_uint(*interface.interface_subclass));
  char name[64];
  std::snprintf(name, sizeof name, "class %02X/%02X", cls, *interface.interface_subclass);
  out.name = std::string(name) + " (class match)";
  out.entitlement_entry = plistgen::make_usb_entitlement_entry(std::nullopt);
  out.notes.push_back("probe tier 50000: bInterfaceClass + bInterfaceSubClass");
  out.notes.push_back(
      "a class match covers every vendor: its entitlement is idVendor \"*\", which "
      "Apple grants only in development profiles (FORUM:798049)");
  return true;
}

namespace {

// The inside of <plist><dict>...</dict></plist> of a one-key dict: "<key>..</key>\n<dict>..".
std::string fragment(plist_t node, const std::string& key) {
  PlistPtr wrapper(plist_new_dict());
  plist_dict_set_item(wrapper.get(), key.c_str(), plist_copy(node));
  const std::string xml = plistgen::to_xml(wrapper.get());
  const std::string open = "<dict>\n";
  const std::string close = "</dict>\n</plist>";
  const size_t begin = xml.find(open);
  const size_t end = xml.rfind(close);
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    return xml;
  }
  std::string inner = xml.substr(begin + open.size(), end - begin - open.size());
  // One tab less of indentation.
  std::string out;
  size_t pos = 0;
  while (pos < inner.size()) {
    size_t eol = inner.find('\n', pos);
    if (eol == std::string::npos) {
      eol = inner.size();
    }
    std::string line = inner.substr(pos, eol - pos);
    if (!line.empty() && line[0] == '\t') {
      line.erase(0, 1);
    }
    out += line + "\n";
    pos = eol + 1;
  }
  return out;
}

std::string entry_fragment(plist_t entry) {
  std::string text = fragment(entry, "x");
  const size_t dict = text.find("<dict>");
  return dict == std::string::npos ? text : text.substr(dict);
}

}  // namespace

std::string render_personality_text(const std::vector<GeneratedPersonality>& personalities) {
  std::string out;
  for (const GeneratedPersonality& generated : personalities) {
    out += "<!-- IOKitPersonalities entry: " + generated.name + " -->\n";
    for (const std::string& note : generated.notes) {
      out += "<!-- " + note + " -->\n";
    }
    out += fragment(generated.personality.get(), generated.name);
    out += "<!-- com.apple.developer.driverkit.transport.usb array entry -->\n";
    out += entry_fragment(generated.entitlement_entry.get());
    out += "\n";
  }
  return out;
}

std::string render_personality_json(const std::vector<GeneratedPersonality>& personalities) {
  hostutil::JsonWriter json;
  json.begin_object().key("personalities").begin_array();
  for (const GeneratedPersonality& generated : personalities) {
    json.begin_object();
    json.field("name", generated.name);
    json.field("personality_xml", fragment(generated.personality.get(), generated.name));
    json.field("entitlement_xml", entry_fragment(generated.entitlement_entry.get()));
    json.key("notes").begin_array();
    for (const std::string& note : generated.notes) {
      json.value(note);
    }
    json.end_array();
    json.end_object();
  }
  json.end_array().end_object();
  return json.str() + "\n";
}

std::vector<DeviceDescription> devices_from_objects(const std::vector<UsbObject>& objects) {
  std::vector<DeviceDescription> devices;
  std::map<std::string, size_t> by_name;
  auto number = [](const UsbObject& object, const char* key) -> std::optional<uint64_t> {
    const auto it = object.numbers.find(key);
    return it == object.numbers.end() ? std::nullopt : std::optional<uint64_t>(it->second);
  };
  auto narrow8 = [](std::optional<uint64_t> v) -> std::optional<uint8_t> {
    return v.has_value() && *v <= 0xFF ? std::optional<uint8_t>(static_cast<uint8_t>(*v))
                                       : std::nullopt;
  };
  for (const UsbObject& object : objects) {
    const auto vid = number(object, "idVendor");
    const auto pid = number(object, "idProduct");
    if (!vid.has_value() || !pid.has_value() || *vid > 0xFFFF || *pid > 0xFFFF) {
      continue;
    }
    const std::string device_name =
        object.level == UsbLevel::device ? object.name : object.parent_name;
    auto it = by_name.find(device_name + "/" + std::to_string(*vid) + ":" + std::to_string(*pid));
    if (it == by_name.end()) {
      DeviceDescription description;
      description.device.vid = static_cast<uint16_t>(*vid);
      description.device.pid = static_cast<uint16_t>(*pid);
      description.device.where = object.where;
      const auto bcd = number(object, "bcdDevice");
      if (bcd.has_value() && *bcd <= 0xFFFF) {
        description.device.bcd_device = static_cast<uint16_t>(*bcd);
      }
      devices.push_back(std::move(description));
      it = by_name
               .emplace(device_name + "/" + std::to_string(*vid) + ":" + std::to_string(*pid),
                        devices.size() - 1)
               .first;
    }
    DeviceDescription& description = devices[it->second];
    if (object.level == UsbLevel::device) {
      description.device.device_class = narrow8(number(object, "bDeviceClass"));
      description.device.device_subclass = narrow8(number(object, "bDeviceSubClass"));
      description.device.device_protocol = narrow8(number(object, "bDeviceProtocol"));
      continue;
    }
    const auto interface_number = narrow8(number(object, "bInterfaceNumber"));
    if (!interface_number.has_value()) {
      continue;
    }
    if (const auto configuration = narrow8(number(object, "bConfigurationValue"))) {
      description.device.configuration = *configuration;
    }
    InterfaceIds interface;
    interface.number = *interface_number;
    interface.interface_class = narrow8(number(object, "bInterfaceClass"));
    interface.interface_subclass = narrow8(number(object, "bInterfaceSubClass"));
    interface.interface_protocol = narrow8(number(object, "bInterfaceProtocol"));
    description.interfaces.push_back(interface);
  }
  return devices;
}

namespace {

namespace fs = std::filesystem;

// One sysfs attribute (a short text file). nullopt when absent, unreadable or empty.
std::optional<std::string> attribute(const fs::path& dir, const char* name) {
  std::ifstream in(dir / name);
  if (!in) {
    return std::nullopt;
  }
  std::string text;
  char buffer[256];
  in.read(buffer, sizeof buffer);
  text.assign(buffer, static_cast<size_t>(in.gcount()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  if (text.empty()) {
    return std::nullopt;
  }
  return text;
}

std::optional<uint64_t> number_attribute(const fs::path& dir, const char* name, int base,
                                         uint64_t limit) {
  const auto text = attribute(dir, name);
  if (!text.has_value() || text->size() > 16) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (const char c : *text) {
    int digit = -1;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    }
    if (digit < 0 || digit >= base) {
      return std::nullopt;
    }
    value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  if (value > limit) {
    return std::nullopt;
  }
  return value;
}

std::optional<uint8_t> byte_attribute(const fs::path& dir, const char* name) {
  const auto value = number_attribute(dir, name, 16, 0xFF);
  return value.has_value() ? std::optional<uint8_t>(static_cast<uint8_t>(*value)) : std::nullopt;
}

}  // namespace

std::vector<DeviceDescription> devices_from_sysfs(const std::string& root,
                                                  std::vector<std::string>& notes) {
  std::vector<DeviceDescription> devices;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    notes.push_back(root + " does not exist or is not a directory (no USB on this machine?)");
    return devices;
  }
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
    if (entries.size() > 4096) {
      notes.push_back("more than 4096 entries; the rest were skipped");
      break;
    }
  }
  std::sort(entries.begin(), entries.end());
  for (const fs::path& path : entries) {
    const std::string name = path.filename().string();
    if (name.find(':') != std::string::npos) {
      continue;  // an interface directory: read with its device
    }
    // Device attributes, as drivers/usb/core/sysfs.c writes them: IDs and bcdDevice as
    // "%04x", class fields "%02x", bConfigurationValue "%u".
    const auto vid = number_attribute(path, "idVendor", 16, 0xFFFF);
    const auto pid = number_attribute(path, "idProduct", 16, 0xFFFF);
    if (!vid.has_value() || !pid.has_value()) {
      continue;
    }
    DeviceDescription description;
    description.device.vid = static_cast<uint16_t>(*vid);
    description.device.pid = static_cast<uint16_t>(*pid);
    description.device.where = path.string();
    if (const auto bcd = number_attribute(path, "bcdDevice", 16, 0xFFFF)) {
      description.device.bcd_device = static_cast<uint16_t>(*bcd);
    }
    if (const auto configuration = number_attribute(path, "bConfigurationValue", 10, 0xFF)) {
      description.device.configuration = static_cast<uint8_t>(*configuration);
    } else {
      notes.push_back(name + ": no active configuration (bConfigurationValue empty); assuming 1");
    }
    description.device.device_class = byte_attribute(path, "bDeviceClass");
    description.device.device_subclass = byte_attribute(path, "bDeviceSubClass");
    description.device.device_protocol = byte_attribute(path, "bDeviceProtocol");
    description.device.product = attribute(path, "product").value_or("");
    if (description.device.device_class == 0x09) {
      continue;  // a hub: nothing for a serial dext
    }
    // Interfaces of the active configuration: "<name>:<config>.<interface>".
    const std::string prefix = name + ":" + std::to_string(description.device.configuration) + ".";
    for (const fs::path& candidate : entries) {
      const std::string candidate_name = candidate.filename().string();
      if (candidate_name.compare(0, prefix.size(), prefix) != 0) {
        continue;
      }
      const auto number = byte_attribute(candidate, "bInterfaceNumber");
      if (!number.has_value()) {
        notes.push_back(candidate_name + ": no readable bInterfaceNumber; skipped");
        continue;
      }
      InterfaceIds interface;
      interface.number = *number;
      interface.interface_class = byte_attribute(candidate, "bInterfaceClass");
      interface.interface_subclass = byte_attribute(candidate, "bInterfaceSubClass");
      interface.interface_protocol = byte_attribute(candidate, "bInterfaceProtocol");
      description.interfaces.push_back(interface);
    }
    std::sort(description.interfaces.begin(), description.interfaces.end(),
              [](const InterfaceIds& a, const InterfaceIds& b) { return a.number < b.number; });
    devices.push_back(std::move(description));
  }
  if (devices.empty()) {
    notes.push_back("no USB devices found under " + root);
  }
  return devices;
}

}  // namespace doctor
