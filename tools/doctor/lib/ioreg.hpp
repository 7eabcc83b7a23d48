// ioreg dumps: `ioreg -l` text (a hand-written, bounded, position-reporting parser: the format
// is not XML) and `ioreg -a -l -r -c IOUSBHostDevice` XML plists (libplist), both turned into
// one registry model, from which USB devices and interfaces are taken for matching.
//
// Text format (written from the format, as printed by ioreg -l):
//   +-o FT232R USB UART@14100000  <class IOUSBHostDevice, id 0x100000abc, registered, ...>
//   | {
//   |   "idVendor" = 1027
//   |   "USB Product Name" = "FT232R USB UART"
//   |   "IOCFPlugInTypes" = {"9dc7b780-..."="IOUSBHostFamily.kext/Contents/PlugIns/..."}
//   |   "Array" = (1,2,3)
//   |   "Data" = <0a1b>
//   |   "Flag" = Yes
//   | }
//   |
//   +-o ...
// The column of "+-o" gives the tree depth. Values: integers (decimal or 0x hex, optionally
// negative), "strings", Yes/No, <hex data>, {dictionaries} and (arrays).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plist_util.hpp"
#include "usb_match.hpp"

namespace doctor {

inline constexpr size_t kMaxIoregBytes = 64u * 1024u * 1024u;
inline constexpr size_t kMaxIoregLine = 1024u * 1024u;
inline constexpr size_t kMaxIoregEntries = 200000;
inline constexpr int kMaxIoregValueDepth = 32;

struct RegEntry {
  std::string name;
  std::string location;
  std::string class_name;
  std::string id;
  int line = 0;     // text dumps: line of the "+-o" header
  PlistPtr props;   // dictionary of the entry's properties (never null after parsing)
  int parent = -1;  // index into Registry::entries
  std::vector<int> children;
};

struct Registry {
  std::vector<RegEntry> entries;
};

struct IoregParsed {
  Registry registry;
  std::optional<ParseError> error;
};

IoregParsed parse_ioreg_text(std::string_view text);
IoregParsed ioreg_from_plist(plist_t root);
// Text or XML/binary plist, decided by the content.
IoregParsed parse_ioreg(std::string_view data);

// The USB devices and interfaces in a registry, with the drivers attached to each.
std::vector<UsbObject> usb_objects(const Registry& registry);

}  // namespace doctor
