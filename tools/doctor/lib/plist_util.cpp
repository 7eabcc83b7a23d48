#include "plist_util.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>

#ifdef DOCTOR_HAVE_LIBXML2
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#endif

#include "tools/common/plist_compat.hpp"

namespace doctor {

std::string ParseError::position() const {
  if (line > 0) {
    return "line " + std::to_string(line) +
           (column > 0 ? ", column " + std::to_string(column) : "");
  }
  if (offset >= 0) {
    return "offset " + std::to_string(offset);
  }
  return "position unknown";
}

namespace {

#ifdef DOCTOR_HAVE_LIBXML2

struct XmlDocDeleter {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

std::string node_text(const xmlNode* node) {
  std::string text;
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) {
      if (child->content != nullptr) {
        text += reinterpret_cast<const char*>(child->content);
      }
    }
  }
  return text;
}

bool blank(std::string_view text) {
  for (const char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      return false;
    }
  }
  return true;
}

std::string_view strip(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n' ||
                           text.front() == '\r')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool integer_text(std::string_view text) {
  text = strip(text);
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
    text.remove_prefix(1);
  }
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (hex) {
    text.remove_prefix(2);
  }
  if (text.empty()) {
    return false;
  }
  for (const char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool hex_digit = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!digit && !(hex && hex_digit)) {
      return false;
    }
  }
  return true;
}

bool has_element_children(const xmlNode* node) {
  for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) {
      return true;
    }
  }
  return false;
}

ParseError at(const xmlNode* node, std::string message) {
  ParseError error;
  error.message = std::move(message);
  error.line = static_cast<int>(xmlGetLineNo(node));
  return error;
}

std::string name_of(const xmlNode* node) {
  return reinterpret_cast<const char*>(node->name);
}

// First place where a well-formed document departs from the plist grammar.
std::optional<ParseError> check_value(const xmlNode* node, int depth) {
  if (depth > kMaxDepth) {
    return at(node, "nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  const std::string name = name_of(node);
  if (name == "dict" || name == "array") {
    bool expect_key = true;
    const xmlNode* last = node;
    for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
      if (child->type == XML_TEXT_NODE && !blank(reinterpret_cast<const char*>(child->content))) {
        return at(child, "text directly inside <" + name + ">");
      }
      if (child->type != XML_ELEMENT_NODE) {
        continue;
      }
      last = child;
      if (name == "dict") {
        if (expect_key) {
          if (name_of(child) != "key") {
            return at(child, "<dict> holds <" + name_of(child) + "> where a <key> is expected");
          }
          if (has_element_children(child)) {
            return at(child, "<key> holds elements");
          }
          expect_key = false;
          continue;
        }
        if (name_of(child) == "key") {
          return at(child, "two <key>s in a row: the first has no value");
        }
        expect_key = true;
      }
      if (auto error = check_value(child, depth + 1)) {
        return error;
      }
    }
    if (name == "dict" && !expect_key) {
      return at(last, "<key> without a value at the end of <dict>");
    }
    return std::nullopt;
  }
  if (name == "string" || name == "date") {
    if (has_element_children(node)) {
      return at(node, "<" + name + "> holds elements");
    }
    return std::nullopt;
  }
  if (name == "integer") {
    if (!integer_text(node_text(node))) {
      return at(node, "<integer> is not a number: \"" + std::string(strip(node_text(node))) + "\"");
    }
    return std::nullopt;
  }
  if (name == "real") {
    const std::string text(strip(node_text(node)));
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0') {
      return at(node, "<real> is not a number: \"" + text + "\"");
    }
    return std::nullopt;
  }
  if (name == "true" || name == "false") {
    if (has_element_children(node) || !blank(node_text(node))) {
      return at(node, "<" + name + "/> must be empty");
    }
    return std::nullopt;
  }
  if (name == "data") {
    for (const char c : node_text(node)) {
      const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '+' || c == '/' || c == '=' || c == ' ' || c == '\t' || c == '\n' ||
                      c == '\r';
      if (!ok) {
        return at(node, "<data> holds a character that is not base64");
      }
    }
    return std::nullopt;
  }
  return at(node, "<" + name + "> is not a plist element");
}

// libxml2 pass: nullopt when the document is well-formed plist grammar.
std::optional<ParseError> locate_xml_problem(std::string_view data, bool grammar) {
  xmlResetLastError();
  std::unique_ptr<xmlDoc, XmlDocDeleter> doc(
      xmlReadMemory(data.data(), static_cast<int>(data.size()), "plist", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING));
  if (!doc) {
    ParseError error;
    const xmlError* last = xmlGetLastError();
    if (last != nullptr) {
      error.message = "XML: " + trimmed(last->message != nullptr ? last->message : "error");
      error.line = last->line;
      error.column = last->int2;
    } else {
      error.message = "XML: not well-formed";
    }
    xmlResetLastError();
    return error;
  }
  if (!grammar) {
    return std::nullopt;
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr) {
    ParseError error;
    error.message = "XML document has no root element";
    return error;
  }
  if (name_of(root) != "plist") {
    return at(root, "root element is <" + name_of(root) + ">, not <plist>");
  }
  const xmlNode* value = nullptr;
  for (const xmlNode* child = root->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) {
      if (value != nullptr) {
        return at(child, "<plist> holds more than one value");
      }
      value = child;
    }
  }
  if (value == nullptr) {
    return at(root, "<plist> holds no value");
  }
  return check_value(value, 1);
}

#endif  // DOCTOR_HAVE_LIBXML2

}  // namespace

Parsed parse_plist_text(std::string_view data) {
  Parsed result;
  if (data.empty()) {
    result.error = ParseError{"empty file", 0, 0, 0};
    return result;
  }
  const bool binary = data.size() >= 8 && std::memcmp(data.data(), "bplist00", 8) == 0;
  if (binary ? data.size() > kMaxBinaryPlistBytes : data.size() > kMaxPlistBytes) {
    result.error = ParseError{"file too large (" + std::to_string(data.size()) + " bytes)", 0, 0,
                              static_cast<int64_t>(binary ? kMaxBinaryPlistBytes : kMaxPlistBytes)};
    return result;
  }
#ifdef DOCTOR_HAVE_LIBXML2
  if (!binary) {
    // Well-formedness and depth first (libxml2 stops at 256 levels), so libplist only ever sees
    // well-formed, bounded XML.
    if (auto error = locate_xml_problem(data, false)) {
      result.error = std::move(error);
      return result;
    }
  }
#endif
  result.root =
      PlistPtr(plist_compat::from_memory(data.data(), static_cast<uint32_t>(data.size())));
  if (!result.root) {
#ifdef DOCTOR_HAVE_LIBXML2
    if (!binary) {
      if (auto error = locate_xml_problem(data, true)) {
        result.error = std::move(error);
        return result;
      }
    }
#endif
    result.error = ParseError{binary ? "binary plist rejected by libplist (its offset table, "
                                       "object references or trailer are inconsistent)"
                                     : "not a property list (libplist rejected it)",
                              0, 0, -1};
    return result;
  }
  if (tree_depth(result.root.get(), kMaxDepth) > kMaxDepth) {
    result.root.reset();
    result.error =
        ParseError{"nesting deeper than " + std::to_string(kMaxDepth) + " levels", 0, 0, -1};
  }
  return result;
}

bool read_file(const std::string& path, std::string& out, std::string& error, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot open " + path;
    return false;
  }
  out.clear();
  char buffer[65536];
  while (in) {
    in.read(buffer, sizeof buffer);
    out.append(buffer, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      error = path + " is larger than " + std::to_string(max_bytes) + " bytes";
      return false;
    }
  }
  if (in.bad()) {
    error = "cannot read " + path;
    return false;
  }
  return true;
}

std::string_view provisioning_profile_plist(std::string_view data) {
  const size_t begin = data.find("<?xml");
  if (begin == std::string_view::npos) {
    return data;
  }
  const std::string_view end_tag = "</plist>";
  const size_t end = data.find(end_tag, begin);
  if (end == std::string_view::npos) {
    return data.substr(begin);
  }
  return data.substr(begin, end + end_tag.size() - begin);
}

plist_t dict_get(plist_t dict, const char* key) {
  if (dict == nullptr || plist_get_node_type(dict) != PLIST_DICT) {
    return nullptr;
  }
  return plist_dict_get_item(dict, key);
}

bool is_type(plist_t node, plist_type type) {
  return node != nullptr && plist_get_node_type(node) == type;
}

std::optional<std::string> as_string(plist_t node) {
  if (!is_type(node, PLIST_STRING)) {
    return std::nullopt;
  }
  char* value = nullptr;
  plist_get_string_val(node, &value);
  std::string text = value != nullptr ? value : "";
  std::free(value);
  return text;
}

std::optional<uint64_t> as_uint(plist_t node) {
  if (!is_type(node, PLIST_UINT)) {
    return std::nullopt;
  }
  uint64_t value = 0;
  plist_get_uint_val(node, &value);
  return value;
}

std::optional<bool> as_bool(plist_t node) {
  if (!is_type(node, PLIST_BOOLEAN)) {
    return std::nullopt;
  }
  uint8_t value = 0;
  plist_get_bool_val(node, &value);
  return value != 0;
}

std::vector<std::pair<std::string, plist_t>> dict_items(plist_t dict) {
  std::vector<std::pair<std::string, plist_t>> items;
  if (!is_type(dict, PLIST_DICT)) {
    return items;
  }
  plist_dict_iter it = nullptr;
  plist_dict_new_iter(dict, &it);
  for (;;) {
    char* key = nullptr;
    plist_t value = nullptr;
    plist_dict_next_item(dict, it, &key, &value);
    if (key == nullptr) {
      break;
    }
    items.emplace_back(key, value);
    std::free(key);
  }
  std::free(it);
  return items;
}

std::vector<plist_t> array_items(plist_t array) {
  std::vector<plist_t> items;
  if (!is_type(array, PLIST_ARRAY)) {
    return items;
  }
  const uint32_t size = plist_array_get_size(array);
  items.reserve(size);
  for (uint32_t i = 0; i < size; ++i) {
    items.push_back(plist_array_get_item(array, i));
  }
  return items;
}

const char* type_name(plist_t node) {
  if (node == nullptr) {
    return "missing";
  }
  switch (plist_get_node_type(node)) {
    case PLIST_BOOLEAN:
      return "boolean";
    case PLIST_UINT:
      return "integer";
    case PLIST_REAL:
      return "real";
    case PLIST_STRING:
      return "string";
    case PLIST_ARRAY:
      return "array";
    case PLIST_DICT:
      return "dictionary";
    case PLIST_DATE:
      return "date";
    case PLIST_DATA:
      return "data";
    case PLIST_KEY:
      return "key";
    case PLIST_UID:
      return "uid";
    case PLIST_NONE:
      return "none";
    default:  // libplist 2.3 added PLIST_NULL
      break;
  }
  return "unknown";
}

int tree_depth(plist_t node, int limit) {
  if (node == nullptr) {
    return 0;
  }
  if (limit < 0) {
    return 1;
  }
  int deepest = 0;
  if (is_type(node, PLIST_DICT)) {
    for (const auto& item : dict_items(node)) {
      deepest = std::max(deepest, tree_depth(item.second, limit - 1));
      if (deepest > limit) {
        break;
      }
    }
  } else if (is_type(node, PLIST_ARRAY)) {
    for (plist_t item : array_items(node)) {
      deepest = std::max(deepest, tree_depth(item, limit - 1));
      if (deepest > limit) {
        break;
      }
    }
  }
  return deepest + 1;
}

}  // namespace doctor
