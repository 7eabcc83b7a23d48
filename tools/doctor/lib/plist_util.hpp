// Plist loading with error positions, and small typed accessors over libplist nodes.
//
// Parsing is libplist's (XML and binary). libplist 2.2 does not say where an XML document is
// broken, so when it rejects XML the text is run through libxml2 (a real XML parser, when the
// build found it) to report the line and column of the first well-formedness error or of the
// first element that is not plist grammar. Both parsers are bounded: input size (kMaxPlistBytes)
// and nesting depth (libxml2's own limit of 256, and kMaxDepth on the tree libplist returns).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plistgen.hpp"

namespace doctor {

using plistgen::PlistPtr;

inline constexpr size_t kMaxPlistBytes = 32u * 1024u * 1024u;
inline constexpr size_t kMaxBinaryPlistBytes = 1u * 1024u * 1024u;
inline constexpr int kMaxDepth = 64;

struct ParseError {
  std::string message;
  int line = 0;                  // 1-based; 0 when unknown
  int column = 0;                // 1-based; 0 when unknown
  int64_t offset = -1;           // byte offset; -1 when unknown
  std::string position() const;  // "line 3, column 7" / "offset 12" / "position unknown"
};

struct Parsed {
  PlistPtr root;
  std::optional<ParseError> error;
  bool ok() const { return root != nullptr && !error.has_value(); }
};

// Parses an XML or binary plist held in memory.
Parsed parse_plist_text(std::string_view data);

// Reads a file (at most max_bytes). False with a message on failure.
bool read_file(const std::string& path, std::string& out, std::string& error,
               size_t max_bytes = kMaxPlistBytes);

// An embedded.provisionprofile is a CMS (PKCS#7) signed message whose content is an XML plist,
// stored unencrypted. This returns the plist part (from "<?xml" to the end of "</plist>"), or
// the whole input when it already is a plain plist.
std::string_view provisioning_profile_plist(std::string_view data);

// Typed accessors; all accept null and wrong types (returning nullopt / empty).
plist_t dict_get(plist_t dict, const char* key);
std::optional<std::string> as_string(plist_t node);
std::optional<uint64_t> as_uint(plist_t node);
std::optional<bool> as_bool(plist_t node);
bool is_type(plist_t node, plist_type type);
std::vector<std::pair<std::string, plist_t>> dict_items(plist_t dict);
std::vector<plist_t> array_items(plist_t array);
const char* type_name(plist_t node);

// Depth of the tree, stopping (and returning limit + 1) once it exceeds `limit`.
int tree_depth(plist_t node, int limit);

}  // namespace doctor
