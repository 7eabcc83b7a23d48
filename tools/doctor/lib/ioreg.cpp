#include "ioreg.hpp"

#include <cstring>
#include <limits>

namespace doctor {
namespace {

ParseError text_error(int line, size_t column, std::string message) {
  ParseError error;
  error.message = std::move(message);
  error.line = line;
  error.column = static_cast<int>(column + 1);
  return error;
}

// Recursive-descent value parser over one line. `pos` is an index into `line`.
class ValueParser {
 public:
  ValueParser(std::string_view line, int line_number) : line_(line), line_number_(line_number) {}

  std::optional<ParseError> error;

  void skip_spaces(size_t& pos) const {
    while (pos < line_.size() && (line_[pos] == ' ' || line_[pos] == '\t')) {
      ++pos;
    }
  }

  bool fail(size_t pos, std::string message) {
    if (!error.has_value()) {
      error = text_error(line_number_, pos, std::move(message));
    }
    return false;
  }

  bool parse_string(size_t& pos, std::string& out) {
    if (pos >= line_.size() || line_[pos] != '"') {
      return fail(pos, "expected '\"'");
    }
    const size_t start = pos;
    ++pos;
    out.clear();
    while (pos < line_.size()) {
      const char c = line_[pos];
      if (c == '\\' && pos + 1 < line_.size()) {
        out += line_[pos + 1];
        pos += 2;
        continue;
      }
      if (c == '"') {
        ++pos;
        return true;
      }
      out += c;
      ++pos;
    }
    return fail(start, "unterminated string");
  }

  // Parses one value into a new plist node (owned by the caller via `out`).
  bool parse_value(size_t& pos, PlistPtr& out, int depth) {
    if (depth > kMaxIoregValueDepth) {
      return fail(pos, "values nested deeper than " + std::to_string(kMaxIoregValueDepth));
    }
    skip_spaces(pos);
    if (pos >= line_.size()) {
      return fail(pos, "expected a value");
    }
    const char c = line_[pos];
    if (c == '"') {
      std::string text;
      if (!parse_string(pos, text)) {
        return false;
      }
      out.reset(plist_new_string(text.c_str()));
      return true;
    }
    if (c == '{') {
      return parse_dict(pos, out, depth);
    }
    if (c == '(') {
      return parse_array(pos, out, depth);
    }
    if (c == '<') {
      return parse_data(pos, out);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return parse_number(pos, out);
    }
    if (line_.substr(pos, 3) == "Yes") {
      pos += 3;
      out.reset(plist_new_bool(1));
      return true;
    }
    if (line_.substr(pos, 2) == "No") {
      pos += 2;
      out.reset(plist_new_bool(0));
      return true;
    }
    return fail(pos, std::string("unexpected character '") + c + "' where a value is expected");
  }

 private:
  bool parse_number(size_t& pos, PlistPtr& out) {
    const size_t start = pos;
    bool negative = false;
    if (line_[pos] == '-') {
      negative = true;
      ++pos;
    }
    int base = 10;
    if (pos + 1 < line_.size() && line_[pos] == '0' &&
        (line_[pos + 1] == 'x' || line_[pos + 1] == 'X')) {
      base = 16;
      pos += 2;
    }
    uint64_t value = 0;
    size_t digits = 0;
    while (pos < line_.size()) {
      const char d = line_[pos];
      int digit = -1;
      if (d >= '0' && d <= '9') {
        digit = d - '0';
      } else if (base == 16 && d >= 'a' && d <= 'f') {
        digit = d - 'a' + 10;
      } else if (base == 16 && d >= 'A' && d <= 'F') {
        digit = d - 'A' + 10;
      }
      if (digit < 0) {
        break;
      }
      if (value > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(digit)) /
                      static_cast<uint64_t>(base)) {
        return fail(start, "integer too large");
      }
      value = value * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
      ++digits;
      ++pos;
    }
    if (digits == 0) {
      return fail(start, "malformed number");
    }
    if (pos < line_.size() && line_[pos] != ',' && line_[pos] != ')' && line_[pos] != '}' &&
        line_[pos] != ' ' && line_[pos] != '\t') {
      return fail(pos, "unexpected character after a number");
    }
    if (negative) {
      if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail(start, "integer too small");
      }
      value = static_cast<uint64_t>(-static_cast<int64_t>(value));
    }
    out.reset(plist_new_uint(value));
    return true;
  }

  bool parse_data(size_t& pos, PlistPtr& out) {
    const size_t start = pos;
    ++pos;
    std::string bytes;
    int high = -1;
    while (pos < line_.size() && line_[pos] != '>') {
      const char d = line_[pos];
      int nibble = -1;
      if (d >= '0' && d <= '9') {
        nibble = d - '0';
      } else if (d >= 'a' && d <= 'f') {
        nibble = d - 'a' + 10;
      } else if (d >= 'A' && d <= 'F') {
        nibble = d - 'A' + 10;
      } else if (d != ' ') {
        return fail(pos, "data holds a character that is not a hex digit");
      }
      if (nibble >= 0) {
        if (high < 0) {
          high = nibble;
        } else {
          bytes += static_cast<char>(high * 16 + nibble);
          high = -1;
        }
      }
      ++pos;
    }
    if (pos >= line_.size()) {
      return fail(start, "unterminated data: no '>'");
    }
    if (high >= 0) {
      return fail(pos, "data has an odd number of hex digits");
    }
    ++pos;
    out.reset(plist_new_data(bytes.data(), bytes.size()));
    return true;
  }

  bool parse_dict(size_t& pos, PlistPtr& out, int depth) {
    ++pos;
    PlistPtr dict(plist_new_dict());
    skip_spaces(pos);
    if (pos < line_.size() && line_[pos] == '}') {
      ++pos;
      out = std::move(dict);
      return true;
    }
    for (;;) {
      skip_spaces(pos);
      std::string key;
      if (!parse_string(pos, key)) {
        return false;
      }
      skip_spaces(pos);
      if (pos >= line_.size() || line_[pos] != '=') {
        return fail(pos, "expected '=' after a dictionary key");
      }
      ++pos;
      PlistPtr value;
      if (!parse_value(pos, value, depth + 1)) {
        return false;
      }
      plist_dict_set_item(dict.get(), key.c_str(), value.release());
      skip_spaces(pos);
      if (pos < line_.size() && line_[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < line_.size() && line_[pos] == '}') {
        ++pos;
        out = std::move(dict);
        return true;
      }
      return fail(pos, "expected ',' or '}' in a dictionary");
    }
  }

  bool parse_array(size_t& pos, PlistPtr& out, int depth) {
    ++pos;
    PlistPtr array(plist_new_array());
    skip_spaces(pos);
    if (pos < line_.size() && line_[pos] == ')') {
      ++pos;
      out = std::move(array);
      return true;
    }
    for (;;) {
      PlistPtr value;
      if (!parse_value(pos, value, depth + 1)) {
        return false;
      }
      plist_array_append_item(array.get(), value.release());
      skip_spaces(pos);
      if (pos < line_.size() && line_[pos] == ',') {
        ++pos;
        continue;
      }
      if (pos < line_.size() && line_[pos] == ')') {
        ++pos;
        out = std::move(array);
        return true;
      }
      return fail(pos, "expected ',' or ')' in an array");
    }
  }

  std::string_view line_;
  int line_number_;
};

// Parses "Name@loc  <class X, id 0x1, ...>" starting at `start` of `line`.
std::optional<ParseError> parse_header(std::string_view line, size_t start, int line_number,
                                       RegEntry& entry) {
  const std::string_view rest = line.substr(start);
  size_t open = rest.rfind("<class ");
  if (open == std::string_view::npos) {
    return text_error(line_number, start, "node header without \"<class ...>\"");
  }
  const size_t close = rest.find('>', open);
  if (close == std::string_view::npos) {
    return text_error(line_number, start + open, "\"<class\" without a closing '>'");
  }
  std::string_view name = rest.substr(0, open);
  while (!name.empty() && name.back() == ' ') {
    name.remove_suffix(1);
  }
  const size_t at = name.rfind('@');
  if (at != std::string_view::npos) {
    entry.location = std::string(name.substr(at + 1));
    name = name.substr(0, at);
  }
  entry.name = std::string(name);
  std::string_view inside = rest.substr(open + 1, close - open - 1);  // "class X, id 0x..., ..."
  size_t item_start = 0;
  while (item_start <= inside.size()) {
    size_t comma = inside.find(',', item_start);
    if (comma == std::string_view::npos) {
      comma = inside.size();
    }
    std::string_view item = inside.substr(item_start, comma - item_start);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    if (item.substr(0, 6) == "class ") {
      entry.class_name = std::string(item.substr(6));
    } else if (item.substr(0, 3) == "id ") {
      entry.id = std::string(item.substr(3));
    }
    item_start = comma + 1;
  }
  if (entry.class_name.empty()) {
    return text_error(line_number, start + open, "empty class name");
  }
  return std::nullopt;
}

}  // namespace

IoregParsed parse_ioreg_text(std::string_view text) {
  IoregParsed result;
  Registry& registry = result.registry;
  if (text.size() > kMaxIoregBytes) {
    result.error = ParseError{"dump larger than " + std::to_string(kMaxIoregBytes) + " bytes", 0, 0,
                              static_cast<int64_t>(kMaxIoregBytes)};
    return result;
  }
  std::vector<std::pair<size_t, int>> stack;  // (column of "+-o", entry index)
  int current = -1;
  bool in_props = false;
  int props_line = 0;
  size_t pos = 0;
  int line_number = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() > kMaxIoregLine) {
      result.error = text_error(line_number, 0,
                                "line longer than " + std::to_string(kMaxIoregLine) + " bytes");
      return result;
    }
    size_t column = 0;
    while (column < line.size() && (line[column] == ' ' || line[column] == '|')) {
      ++column;
    }
    const std::string_view content = line.substr(column);
    if (content.empty()) {
      continue;
    }
    if (content.substr(0, 3) == "+-o") {
      if (in_props) {
        result.error = text_error(line_number, column,
                                  "node header inside a property block "
                                  "opened on line " +
                                      std::to_string(props_line));
        return result;
      }
      if (registry.entries.size() >= kMaxIoregEntries) {
        result.error =
            text_error(line_number, column,
                       "more than " + std::to_string(kMaxIoregEntries) + " registry entries");
        return result;
      }
      RegEntry entry;
      entry.line = line_number;
      size_t name_start = column + 3;
      while (name_start < line.size() && line[name_start] == ' ') {
        ++name_start;
      }
      if (auto error = parse_header(line, name_start, line_number, entry)) {
        result.error = std::move(error);
        return result;
      }
      entry.props.reset(plist_new_dict());
      while (!stack.empty() && stack.back().first >= column) {
        stack.pop_back();
      }
      const int index = static_cast<int>(registry.entries.size());
      entry.parent = stack.empty() ? -1 : stack.back().second;
      if (entry.parent >= 0) {
        registry.entries[static_cast<size_t>(entry.parent)].children.push_back(index);
      }
      registry.entries.push_back(std::move(entry));
      stack.emplace_back(column, index);
      current = index;
      continue;
    }
    if (content == "{") {
      if (current < 0 || in_props) {
        result.error = text_error(
            line_number, column,
            current < 0 ? "'{' before any \"+-o\" node header" : "'{' inside a property block");
        return result;
      }
      in_props = true;
      props_line = line_number;
      continue;
    }
    if (content == "}") {
      if (!in_props) {
        result.error = text_error(line_number, column, "'}' without an open property block");
        return result;
      }
      in_props = false;
      continue;
    }
    if (!in_props) {
      result.error = text_error(line_number, column,
                                "unexpected text outside a property block (expected \"+-o\", "
                                "'{' or '}')");
      return result;
    }
    ValueParser parser(line, line_number);
    size_t at = column;
    std::string key;
    if (!parser.parse_string(at, key)) {
      result.error = parser.error;
      return result;
    }
    parser.skip_spaces(at);
    if (at >= line.size() || line[at] != '=') {
      result.error = text_error(line_number, at, "expected '=' after a property name");
      return result;
    }
    ++at;
    PlistPtr value;
    if (!parser.parse_value(at, value, 0)) {
      result.error = parser.error;
      return result;
    }
    parser.skip_spaces(at);
    if (at != line.size()) {
      result.error = text_error(line_number, at, "unexpected text after a property value");
      return result;
    }
    plist_dict_set_item(registry.entries[static_cast<size_t>(current)].props.get(), key.c_str(),
                        value.release());
  }
  if (in_props) {
    result.error = text_error(
        line_number, 0,
        "property block opened on line " + std::to_string(props_line) + " is not closed");
    return result;
  }
  if (registry.entries.empty()) {
    result.error = text_error(1, 0, "no \"+-o\" registry entries found");
  }
  return result;
}

IoregParsed ioreg_from_plist(plist_t root) {
  IoregParsed result;
  Registry& registry = result.registry;
  std::vector<plist_t> top;
  if (is_type(root, PLIST_ARRAY)) {
    top = array_items(root);
  } else if (is_type(root, PLIST_DICT)) {
    top.push_back(root);
  } else {
    result.error = ParseError{std::string("ioreg plist root is a ") + type_name(root) +
                                  ", expected an array or dictionary of registry entries",
                              0, 0, -1};
    return result;
  }
  // Iterative walk: (node, parent index, path for messages).
  std::vector<std::tuple<plist_t, int, std::string>> work;
  for (size_t i = top.size(); i-- > 0;) {
    work.emplace_back(top[i], -1, "[" + std::to_string(i) + "]");
  }
  while (!work.empty()) {
    auto [node, parent, path] = work.back();
    work.pop_back();
    if (!is_type(node, PLIST_DICT)) {
      result.error = ParseError{
          "registry entry " + path + " is a " + type_name(node) + ", not a dictionary", 0, 0, -1};
      return result;
    }
    if (registry.entries.size() >= kMaxIoregEntries) {
      result.error =
          ParseError{"more than " + std::to_string(kMaxIoregEntries) + " entries", 0, 0, -1};
      return result;
    }
    RegEntry entry;
    entry.class_name = as_string(dict_get(node, "IOObjectClass")).value_or("");
    entry.name = as_string(dict_get(node, "IORegistryEntryName")).value_or(entry.class_name);
    entry.location = as_string(dict_get(node, "IORegistryEntryLocation")).value_or("");
    if (const auto id = as_uint(dict_get(node, "IORegistryEntryID"))) {
      entry.id = hex16(*id);
    }
    entry.props.reset(plist_copy(node));
    plist_dict_remove_item(entry.props.get(), "IORegistryEntryChildren");
    entry.parent = parent;
    const int index = static_cast<int>(registry.entries.size());
    if (parent >= 0) {
      registry.entries[static_cast<size_t>(parent)].children.push_back(index);
    }
    registry.entries.push_back(std::move(entry));
    plist_t children = dict_get(node, "IORegistryEntryChildren");
    if (children != nullptr && !is_type(children, PLIST_ARRAY)) {
      result.error =
          ParseError{"IORegistryEntryChildren of " + path + " is not an array", 0, 0, -1};
      return result;
    }
    const auto items = array_items(children);
    for (size_t i = items.size(); i-- > 0;) {
      work.emplace_back(items[i], index, path + ".children[" + std::to_string(i) + "]");
    }
  }
  return result;
}

IoregParsed parse_ioreg(std::string_view data) {
  size_t first = 0;
  while (first < data.size() && (data[first] == ' ' || data[first] == '\n' || data[first] == '\r' ||
                                 data[first] == '\t')) {
    ++first;
  }
  const bool plist = data.substr(first, 1) == "<" || data.substr(0, 8) == "bplist00";
  if (!plist) {
    return parse_ioreg_text(data);
  }
  IoregParsed result;
  Parsed parsed = parse_plist_text(data);
  if (!parsed.ok()) {
    result.error = parsed.error;
    return result;
  }
  return ioreg_from_plist(parsed.root.get());
}

namespace {

bool is_device(const RegEntry& entry) {
  if (entry.class_name == "IOUSBHostDevice") {
    return true;
  }
  plist_t props = entry.props.get();
  return entry.class_name != "IOUSBHostInterface" && as_uint(dict_get(props, "idVendor")) &&
         as_uint(dict_get(props, "idProduct")) && as_uint(dict_get(props, "bDeviceClass")) &&
         dict_get(props, "bInterfaceNumber") == nullptr &&
         dict_get(props, "IOProviderClass") == nullptr;
}

bool is_interface(const RegEntry& entry) {
  if (entry.class_name == "IOUSBHostInterface") {
    return true;
  }
  plist_t props = entry.props.get();
  return as_uint(dict_get(props, "bInterfaceNumber")) &&
         as_uint(dict_get(props, "bInterfaceClass")) &&
         dict_get(props, "IOProviderClass") == nullptr;
}

bool is_driver(const RegEntry& entry) {
  plist_t props = entry.props.get();
  return dict_get(props, "IOProviderClass") != nullptr ||
         dict_get(props, "IOProbeScore") != nullptr || dict_get(props, "IOUserClass") != nullptr;
}

const char* const kNumberKeys[] = {
    "idVendor",         "idProduct",       "bcdDevice",          "bConfigurationValue",
    "bInterfaceNumber", "bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol",
    "bDeviceClass",     "bDeviceSubClass", "bDeviceProtocol"};

std::string where_of(const RegEntry& entry, size_t index) {
  return entry.line > 0 ? "line " + std::to_string(entry.line) : "entry " + std::to_string(index);
}

}  // namespace

std::vector<UsbObject> usb_objects(const Registry& registry) {
  std::vector<UsbObject> objects;
  for (size_t i = 0; i < registry.entries.size(); ++i) {
    const RegEntry& entry = registry.entries[i];
    const bool device = is_device(entry);
    const bool interface = !device && is_interface(entry);
    if (!device && !interface) {
      continue;
    }
    UsbObject object;
    object.level = device ? UsbLevel::device : UsbLevel::interface;
    object.name = entry.name + (entry.location.empty() ? "" : "@" + entry.location);
    object.where = where_of(entry, i);
    for (const char* key : kNumberKeys) {
      if (const auto value = as_uint(dict_get(entry.props.get(), key))) {
        object.numbers[key] = *value;
      }
    }
    if (interface) {
      // Interface nubs normally carry the device's IDs themselves; fill any gap from the
      // nearest device ancestor.
      for (int up = entry.parent; up >= 0; up = registry.entries[static_cast<size_t>(up)].parent) {
        const RegEntry& ancestor = registry.entries[static_cast<size_t>(up)];
        if (!is_device(ancestor)) {
          continue;
        }
        object.parent_name =
            ancestor.name + (ancestor.location.empty() ? "" : "@" + ancestor.location);
        for (const char* key : {"idVendor", "idProduct", "bcdDevice"}) {
          if (object.numbers.count(key) == 0) {
            if (const auto value = as_uint(dict_get(ancestor.props.get(), key))) {
              object.numbers[key] = *value;
            }
          }
        }
        break;
      }
    }
    for (const int child_index : entry.children) {
      const RegEntry& child = registry.entries[static_cast<size_t>(child_index)];
      if (is_device(child) || is_interface(child) || !is_driver(child)) {
        continue;
      }
      AttachedDriver driver;
      driver.name = child.name;
      driver.class_name = child.class_name;
      driver.bundle_id = as_string(dict_get(child.props.get(), "CFBundleIdentifier")).value_or("");
      driver.match_category =
          as_string(dict_get(child.props.get(), "IOMatchCategory")).value_or("");
      driver.probe_score = as_uint(dict_get(child.props.get(), "IOProbeScore"));
      const TierResult tier = classify_tier(child.props.get(), object.level);
      driver.tier_score = tier.tier != nullptr ? tier.tier->score : 0;
      driver.line = child.line;
      object.drivers.push_back(driver);
    }
    objects.push_back(std::move(object));
  }
  return objects;
}

}  // namespace doctor
