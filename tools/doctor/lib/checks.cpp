#include "checks.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "common/json_writer.hpp"
#include "usb_match.hpp"

namespace doctor {

const char* to_string(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "error";
}

namespace {

using S = Severity;

// The check table. Sources: docs/driverkit-reference.md (DK §n), docs/field-notes.md
// (FN §n), Apple forum threads (FORUM:n), XNU iokit/Kernel/IOUserServer.cpp (public source, read
// for the log lines the reference does not quote). [U] marks what the reference marks unverified.
const CheckInfo kChecks[] = {
    {"PLIST-PARSE", S::error, "A file is missing, unreadable, or not an XML/binary property list.",
     "The dext cannot be built or signed with it; macOS rejects a bundle whose Info.plist does "
     "not parse.",
     "Fix the syntax at the reported position (plutil -lint FILE on a Mac).", "DK §3.1", false},
    {"PLIST-ROOT", S::error, "The property list's root is not a dictionary.",
     "No key of the file can be read; the bundle or entitlements are ignored.",
     "Make the root element a <dict>.", "DK §3.1", false},
    {"BUNDLE-ID", S::error,
     "CFBundleIdentifier is missing, empty, or not a reverse-DNS string of letters, digits, '.' "
     "and '-'.",
     "The dext cannot be activated: activation requests, IOUserServerName and the bundle folder "
     "name all use the bundle ID.",
     "Set CFBundleIdentifier to the dext's reverse-DNS bundle ID.", "DK §3.1, §4.1 item 9", false},
    {"BUNDLE-ID-LENGTH", S::warning, "CFBundleIdentifier is longer than 63 characters.",
     "Reported to fail; forum hearsay only [U].", "Use a bundle ID of at most 63 characters.",
     "DK §3.6", true},
    {"BUNDLE-EXECUTABLE", S::error, "CFBundleExecutable is missing.",
     "The system cannot find the dext's executable, so the dext never launches and logs nothing.",
     "Set CFBundleExecutable to the executable's name (Xcode uses the bundle ID).",
     "DK §3.1, §4.1 items 1 and 5", false},
    {"BUNDLE-PACKAGE-TYPE", S::error, "CFBundlePackageType is not DEXT.",
     "The bundle is not treated as a driver extension.", "Set CFBundlePackageType to DEXT.",
     "DK §3.1, §4.1 item 1", false},
    {"BUNDLE-USAGE-DESCRIPTION", S::warning, "OSBundleUsageDescription is missing or empty.",
     "System Settings has no text to show the user when asking to approve the extension.",
     "Add OSBundleUsageDescription with a sentence saying what the driver does.",
     "DK §3.1 (AD:driverkit/creating-a-driver-using-the-driverkit-sdk)", false},
    {"BUNDLE-MIN-DRIVERKIT-MISSING", S::warning, "OSMinimumDriverKitVersion is missing.",
     "Xcode adds it; a hand-made bundle without it has no stated minimum system.",
     "Set OSMinimumDriverKitVersion (e.g. \"20.0\" for macOS 11).", "DK §3.1", false},
    {"BUNDLE-MIN-DRIVERKIT-LOW", S::error,
     "OSMinimumDriverKitVersion is not a version string, or is below 19.0.",
     "IOUserSerial and IOUserUSBSerial exist from DriverKit 19.0 (macOS 10.15) on.",
     "Set OSMinimumDriverKitVersion to \"19.0\" or later.", "DK §1.1, §3.1", false},
    {"BUNDLE-FOLDER-NAME", S::error, "The bundle folder is not named <CFBundleIdentifier>.dext.",
     "sysextd fails the activation with \"extension not found in app bundle\" [U].",
     "Rename the folder to <CFBundleIdentifier>.dext (Xcode names it after the bundle ID).",
     "DK §3.6, §4.1 items 1 and 9", true},
    {"BUNDLE-PERSONALITIES", S::error, "IOKitPersonalities is missing, not a dictionary, or empty.",
     "Nothing can match: the dext installs but never runs and logs nothing.",
     "Add one personality per device/interface the dext drives.", "DK §3.1, §3.2", false},
    {"PERS-NOT-DICT", S::error, "A personality is not a dictionary.",
     "IOKit ignores it; nothing matches through it.", "Make every IOKitPersonalities value a dict.",
     "DK §3.2", false},
    {"PERS-SERVER-NAME", S::error,
     "IOUserServerName is missing or differs from the bundle's CFBundleIdentifier.",
     "The kernel looks for a dext server by this name; with a wrong name the dext process is "
     "never started for the match and no log line from the dext appears.",
     "Set IOUserServerName to the dext's CFBundleIdentifier.", "DK §3.2 [C] (minimum keys)", false},
    {"PERS-BUNDLE-ID", S::error,
     "The personality's CFBundleIdentifier is missing or differs from the bundle's.",
     "IOKit ties the personality to the bundle by this key; a wrong value points it at another "
     "(or no) bundle and the dext never starts.",
     "Set the personality's CFBundleIdentifier to the dext's bundle ID.", "DK §3.2 [C]", false},
    {"PERS-USER-CLASS", S::error, "IOUserClass is missing or empty.",
     "The kernel logs \"no IOUserClass defined for <service>\" and instantiation fails with "
     "kIOReturnError.",
     "Set IOUserClass to the dext's C++ class name.",
     "DK §3.2 [C]; XNU IOUserServer.cpp objectInstantiate", false},
    {"PERS-IOCLASS-MISSING", S::error, "IOClass is missing.",
     "There is no kernel object to attach to the provider, so nothing starts.",
     "Set IOClass (IOUserSerial for a serial dext, IOUserService otherwise).", "DK §1.1, §3.2",
     false},
    {"PERS-PROVIDER-CLASS", S::error,
     "IOProviderClass is missing or names a USB class that no longer exists "
     "(IOUSBDevice/IOUSBInterface).",
     "The personality matches nothing: the dext installs, never runs, logs nothing.",
     "Use IOUSBHostInterface (serial dexts) or IOUSBHostDevice.", "DK §3.2; FN §8 item 9", false},
    {"PERS-PROVIDER-UNKNOWN", S::warning, "IOProviderClass is not a class this tool knows.",
     "If the class does not exist the personality matches nothing.",
     "Check the spelling of IOProviderClass.", "DK §3.2", false},
    {"PERS-IOCLASS-SERIAL", S::error,
     "A serial dext's personality has IOClass other than IOUserSerial.",
     "No IOSerialBSDClient is created, so no /dev/cu.* node appears; with IOUserService the "
     "dext's Start fails (0xE00002C7 kIOReturnUnsupported reported).",
     "Set IOClass to IOUserSerial.", "DK §3.2 (IOREG of AppleUSBSLCOM/CHCOM; SO 75956190)", false},
    {"PERS-KERNEL-BUNDLE", S::error,
     "A serial dext's CFBundleIdentifierKernel is not com.apple.driver.driverkit.serial.",
     "The kernel IOUserSerial class lives in com.apple.driver.driverkit.serial; with another "
     "kext (e.g. com.apple.kpi.iokit) the serial class cannot be found.",
     "Set CFBundleIdentifierKernel to com.apple.driver.driverkit.serial.", "DK §1.1, §3.2", false},
    {"PERS-PROVIDER-SERIAL", S::error,
     "A serial dext matches IOUSBHostDevice with a class not known to open the device itself.",
     "IOUserUSBSerial's Start returns 0xE00002C7 (kIOReturnUnsupported).",
     "Match the interface: IOProviderClass IOUSBHostInterface with the interface key set; or, "
     "for an IOUserSerial subclass that opens the device, name it with --device-class.",
     "DK §3.2, §3.6 (SO 75956190)", false},
    {"PERS-MATCH-KEYSET", S::error,
     "The matching keys are not exactly one of the USB matching key sets.",
     "Other combinations may fail to match; the dext then installs but never runs.",
     "Use exactly one key set, e.g. idVendor + idProduct + bConfigurationValue + "
     "bInterfaceNumber (probe tier 90000).",
     "DK §3.4 [P]", false},
    {"PERS-MATCH-TYPE", S::error,
     "A matching key has the wrong type (e.g. idVendor as the string \"0x0403\").",
     "A string never equals the device's number: the personality never matches.",
     "Write matching keys as <integer> (decimal in the plist).", "DK §3.2 (integers, decimal)",
     false},
    {"PERS-MATCH-RANGE", S::error,
     "A matching value is out of range (idVendor/idProduct/bcdDevice > 0xFFFF, a b* field > "
     "0xFF, or negative).",
     "No device has that value: the personality never matches.",
     "Use the descriptor's value (16-bit IDs, 8-bit fields).", "USB 2.0 §9.6.1, §9.6.5", false},
    {"PERS-MATCH-NEVER", S::error,
     "A key can never match: device fields on an interface personality (or the reverse), "
     "bConfigurationValue 0, an empty idProductArray, or class 0xFF in a class key set.",
     "The personality never matches anything.",
     "Remove the key or move it to a personality with the right provider.",
     "DK §3.4; USB 2.0 §9.4.7 (configuration value 0 means unconfigured)", false},
    {"PERS-UNKNOWN-KEY", S::warning, "A key looks like a misspelt matching or personality key.",
     "IOKit ignores unknown keys, so the intended constraint is not applied.",
     "Correct the spelling.", "DK §3.2, §3.4", false},
    {"PERS-CLASS-MATCH-DEV", S::warning,
     "A personality matches by class without idVendor; its entitlement must be idVendor \"*\".",
     "Apple grants idVendor \"*\" only in development profiles: a distribution-signed dext "
     "fails with \"Unsatisfied entitlements: com.apple.developer.driverkit.transport.usb\".",
     "Use this personality only in development builds; ship VID/PID personalities.",
     "DK §3.5 (FORUM:798049), §3.6 (FORUM:798056)", false},
    {"PERS-PROBE-SCORE", S::warning,
     "IOProbeScore is missing, not an integer, or not above Apple's in-box 89999 for a vendor "
     "Apple's own serial dexts serve.",
     "Apple's in-box driver (AppleUSBFTDI/SLCOM/CHCOM/PLCOM) may win the match; the user sees "
     "Apple's port or two ports [U].",
     "Set IOProbeScore above 89999 (this project uses 95000).", "DK §1.7, §3.2, §7 item 6", true},
    {"PERS-MATCH-CATEGORY", S::warning, "The personality sets IOMatchCategory.",
     "A distinct match category lets the dext attach beside another driver of the same device: "
     "two ports for one adapter.",
     "Remove IOMatchCategory unless two drivers must attach side by side.",
     "DK §3.2 [P]; FN §8 item 2", false},
    {"PERS-DUPLICATE-MATCH", S::warning,
     "Two personalities have the same provider and matching keys.",
     "Only one of them can win the match; the other is dead weight or hides a typo.",
     "Remove the duplicate or correct its bInterfaceNumber / IDs.", "DK §3.4", false},
    {"PERS-TTY-NAME", S::warning,
     "IOTTYBaseName/IOTTYSuffix is not a string, is empty, or has characters other than letters, "
     "digits, '.', '_' and '-'.",
     "The /dev/cu.<base><suffix> name is odd or unusable from a shell; whether personality "
     "values win over IOUserUSBSerial's defaults is unverified [U].",
     "Use a short base such as \"usbserial-\" and a plain alphanumeric suffix.",
     "DK §3.3, §7 item 3", true},
    {"PERS-DEXT-ENTITLEMENTS", S::error,
     "The personality's IOServiceDEXTEntitlements is empty, malformed, or not satisfied by the "
     "dext's entitlements.",
     "\"DK: <class>-0x...: family entitlements check failed\" and the service does not start "
     "(an empty string or array satisfies nothing).",
     "Remove the key or list entitlements the dext really has: a string, an array of strings "
     "(any of), or an array of arrays (any of all-of).",
     "XNU IOUserServer.cpp checkEntitlements", false},
    {"PERS-USERCLIENT-PROPS", S::error,
     "UserClientProperties is malformed (not a dict, no IOClass/IOUserClass) or its "
     "IOServiceDEXTEntitlements refuses every client.",
     "IOServiceOpen returns kIOReturnNotPermitted after \"DK: <class>-0x...:UC entitlements "
     "check failed\".",
     "Give UserClientProperties IOClass IOUserUserClient and IOUserClass, and list only "
     "entitlements the client app has.",
     "DK §3.6 (FORUM:774297); XNU IOUserServer.cpp serviceNewUserClient", false},
    {"ENT-NOT-CHECKED", S::info, "No entitlements file was given; entitlement checks were skipped.",
     "-", "Pass --entitlements FILE (the dext's .entitlements).", "-", false},
    {"ENT-DRIVERKIT", S::error, "com.apple.developer.driverkit is not true.",
     "The dext is killed at launch (\"Termination Reason: Namespace CODESIGNING, Code 0x01\").",
     "Add com.apple.developer.driverkit = true.", "DK §3.5, §3.6 (FORUM:688141)", false},
    {"ENT-FAMILY-SERIAL", S::error,
     "A serial dext lacks com.apple.developer.driverkit.family.serial = true.",
     "The dext may not use the serial family; Start fails and no tty appears.",
     "Add com.apple.developer.driverkit.family.serial = true (and get it in the profile).",
     "DK §3.5 [C]", false},
    {"ENT-USB-MISSING", S::error,
     "USB personalities but no com.apple.developer.driverkit.transport.usb entitlement.",
     "\"Unsatisfied entitlements: com.apple.developer.driverkit.transport.usb\"; the dext does "
     "not get the device.",
     "Add transport.usb with one {idVendor} dictionary per vendor.", "DK §3.5, §3.6 (FORUM:798056)",
     false},
    {"ENT-USB-SHAPE", S::error,
     "transport.usb is not an array of dictionaries each with an integer idVendor (or \"*\").",
     "The entitlement cannot be satisfied: \"Unsatisfied entitlements: ...transport.usb\".",
     "Write an array of dicts: {idVendor = <integer>} (optionally idProduct).", "DK §3.5 [C]",
     false},
    {"ENT-USB-COVERAGE", S::error,
     "A personality's idVendor (or idProduct) is not covered by transport.usb.",
     "The dext is not entitled to that device: \"Unsatisfied entitlements: "
     "com.apple.developer.driverkit.transport.usb\" and the port never appears.",
     "Add {idVendor = <vid>} to transport.usb (and have Apple grant that vendor).",
     "DK §3.5, §3.6 (FORUM:798056)", false},
    {"ENT-USB-WILDCARD", S::warning, "transport.usb contains idVendor \"*\".",
     "Works only with development profiles; a distribution build fails signing or launch.",
     "Ship per-vendor entries; keep \"*\" to development builds.", "DK §3.5 (FORUM:798049)", false},
    {"ENT-TRANSPORT-MISMATCH", S::error,
     "A transport entitlement for another bus (e.g. transport.pci, or PCI keys in "
     "transport.usb) on a USB dext.",
     "It grants nothing on USB: the USB device stays unentitled (\"Unsatisfied "
     "entitlements\").",
     "Use com.apple.developer.driverkit.transport.usb with idVendor entries.", "DK §3.5, §3.6",
     false},
    {"APP-USERCLIENT-ACCESS", S::error,
     "The dext offers a user client (UserClientProperties) and the app's "
     "com.apple.developer.driverkit.userclient-access does not list the dext's bundle ID (and "
     "the dext lacks allow-any-userclient-access).",
     "\"DK: <class>-0x...:UC failed userclient-access check, needed bundle ID <dext id>\", then "
     "\"UC entitlements check failed\"; IOServiceOpen returns kIOReturnNotPermitted.",
     "Add the dext's bundle ID to the app's userclient-access array.",
     "DK §3.5, §3.6 (FORUM:774297)", false},
    {"APP-SYSEXT-INSTALL", S::warning,
     "The app lacks com.apple.developer.system-extension.install = true.",
     "The app cannot submit the activation request; the dext is never installed.",
     "Add com.apple.developer.system-extension.install = true to the app.", "DK §3.5 [C]", false},
    {"PROFILE-ENTITLEMENT-MISSING", S::error,
     "An entitlement the dext claims is missing from the provisioning profile (or its value, "
     "e.g. a transport.usb vendor, is not granted).",
     "\"Code has restricted entitlements, but the validation of its code signature failed\" / "
     "\"Unsatisfied entitlements\"; the dext is killed at launch (Code Signature Invalid).",
     "Request the entitlement/vendor from Apple for the App ID and regenerate the profile, or "
     "stop claiming it.",
     "DK §3.5, §3.6 (FORUM:680284, FORUM:798056, FORUM:688141)", false},
};

struct Context {
  std::vector<Finding> out;
  void add(const char* id, std::string key_path, std::string message) {
    const CheckInfo* info = find_check(id);
    out.push_back({id, info != nullptr ? info->severity : Severity::error, std::move(key_path),
                   std::move(message)});
  }
};

constexpr const char* kEntAllowAnyUserClient =
    "com.apple.developer.driverkit.allow-any-userclient-access";
constexpr const char* kEntUserClientAccess = "com.apple.developer.driverkit.userclient-access";
constexpr const char* kEntTransportPci = "com.apple.developer.driverkit.transport.pci";
constexpr const char* kEntSysextInstall = "com.apple.developer.system-extension.install";

std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

std::string pers_path(const std::string& name, const std::string& key = "") {
  return "Info.plist:IOKitPersonalities." + quoted(name) + (key.empty() ? "" : "." + key);
}

bool valid_bundle_id(const std::string& id) {
  if (id.empty() || id.front() == '.' || id.back() == '.') {
    return false;
  }
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool tty_safe(const std::string& text) {
  for (const char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Levenshtein distance, capped (keys are short).
size_t edit_distance(const std::string& a, const std::string& b) {
  if (a.size() > 64 || b.size() > 64) {
    return 99;
  }
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      const size_t cost = (a[i - 1] == b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = up;
    }
  }
  return row[b.size()];
}

const std::vector<std::string>& known_keys() {
  static const std::vector<std::string> keys = {"CFBundleIdentifier",
                                                "CFBundleIdentifierKernel",
                                                "IOClass",
                                                "IOUserClass",
                                                "IOUserServerName",
                                                "IOProviderClass",
                                                "IOProbeScore",
                                                "IOMatchCategory",
                                                "IOMatchDefer",
                                                "IOTTYBaseName",
                                                "IOTTYSuffix",
                                                "IOResourceMatch",
                                                "IOPropertyMatch",
                                                "IONameMatch",
                                                "UserClientProperties",
                                                "IOServiceDEXTEntitlements",
                                                "HiddenPort",
                                                "idVendor",
                                                "idProduct",
                                                "idProductArray",
                                                "idProductMask",
                                                "bcdDevice",
                                                "bConfigurationValue",
                                                "bInterfaceNumber",
                                                "bInterfaceClass",
                                                "bInterfaceSubClass",
                                                "bInterfaceProtocol",
                                                "bDeviceClass",
                                                "bDeviceSubClass",
                                                "bDeviceProtocol"};
  return keys;
}

const std::set<std::string>& known_providers() {
  static const std::set<std::string> providers = {
      "IOUSBHostInterface", "IOUSBHostDevice",   "IOUserResources", "IOResources",
      "IOPCIDevice",        "IOHIDInterface",    "IOHIDDevice",     "IOUserService",
      "IOService",          "IOSerialStreamSync"};
  return providers;
}

// IOServiceDEXTEntitlements value: a string, an array of strings (any of), or an array of
// arrays of strings (any of all-of): XNU IOUserServer.cpp checkEntitlements. Returns the
// alternatives, or an error text. Every alternative must name at least one entitlement.
bool parse_dext_entitlements(plist_t value, std::vector<std::vector<std::string>>& alternatives,
                             std::string& problem) {
  alternatives.clear();
  if (const auto text = as_string(value)) {
    if (text->empty()) {
      problem = "is an empty string (names no entitlement, so it is never satisfied)";
      return false;
    }
    alternatives.push_back({*text});
    return true;
  }
  if (!is_type(value, PLIST_ARRAY)) {
    problem = std::string("is a ") + type_name(value) + ", not a string or an array";
    return false;
  }
  const std::vector<plist_t> items = array_items(value);
  if (items.empty()) {
    problem = "is an empty array (no alternative, so it is never satisfied)";
    return false;
  }
  for (plist_t item : items) {
    if (const auto text = as_string(item)) {
      if (text->empty()) {
        problem = "holds an empty string";
        return false;
      }
      alternatives.push_back({*text});
      continue;
    }
    if (!is_type(item, PLIST_ARRAY) || array_items(item).empty()) {
      problem = "holds an element that is neither a string nor a non-empty array of strings";
      return false;
    }
    std::vector<std::string> all_of;
    for (plist_t leaf : array_items(item)) {
      const auto name = as_string(leaf);
      if (!name.has_value() || name->empty()) {
        problem = "holds an inner array with a non-string or empty element";
        return false;
      }
      all_of.push_back(*name);
    }
    alternatives.push_back(all_of);
  }
  return true;
}

bool satisfied_by(const std::vector<std::vector<std::string>>& alternatives, plist_t entitlements) {
  for (const auto& all_of : alternatives) {
    bool all = true;
    for (const std::string& name : all_of) {
      all = all && dict_get(entitlements, name.c_str()) != nullptr;
    }
    if (all) {
      return true;
    }
  }
  return false;
}

struct Personality {
  std::string name;
  plist_t dict;
};

void check_bundle(Context& ctx, const CheckInput& input, std::string& bundle_id) {
  plist_t info = input.info;
  const auto id = as_string(dict_get(info, "CFBundleIdentifier"));
  if (!id.has_value() || id->empty()) {
    ctx.add("BUNDLE-ID", "Info.plist:CFBundleIdentifier",
            id.has_value() ? "empty"
                           : std::string("is ") + type_name(dict_get(info, "CFBundleIdentifier")));
  } else {
    bundle_id = *id;
    if (!valid_bundle_id(*id)) {
      ctx.add("BUNDLE-ID", "Info.plist:CFBundleIdentifier",
              quoted(*id) + " has characters other than letters, digits, '.' and '-'");
    }
    if (id->size() > 63) {
      ctx.add("BUNDLE-ID-LENGTH", "Info.plist:CFBundleIdentifier",
              std::to_string(id->size()) + " characters [U]");
    }
  }
  const auto executable = as_string(dict_get(info, "CFBundleExecutable"));
  if (!executable.has_value() || executable->empty()) {
    ctx.add("BUNDLE-EXECUTABLE", "Info.plist:CFBundleExecutable", "missing or empty");
  }
  const auto type = as_string(dict_get(info, "CFBundlePackageType"));
  if (type != "DEXT") {
    ctx.add("BUNDLE-PACKAGE-TYPE", "Info.plist:CFBundlePackageType",
            type.has_value() ? "is " + quoted(*type) : "missing");
  }
  const auto usage = as_string(dict_get(info, "OSBundleUsageDescription"));
  if (!usage.has_value() || usage->empty()) {
    ctx.add("BUNDLE-USAGE-DESCRIPTION", "Info.plist:OSBundleUsageDescription", "missing or empty");
  }
  plist_t min_node = dict_get(info, "OSMinimumDriverKitVersion");
  if (min_node == nullptr) {
    ctx.add("BUNDLE-MIN-DRIVERKIT-MISSING", "Info.plist:OSMinimumDriverKitVersion", "missing");
  } else {
    const auto text = as_string(min_node);
    int major = -1;
    if (text.has_value() && !text->empty() && (*text)[0] >= '0' && (*text)[0] <= '9') {
      major = 0;
      for (const char c : *text) {
        if (c == '.') {
          break;
        }
        if (c < '0' || c > '9' || major > 1000) {
          major = -1;
          break;
        }
        major = major * 10 + (c - '0');
      }
    }
    if (major < 19) {
      ctx.add(
          "BUNDLE-MIN-DRIVERKIT-LOW", "Info.plist:OSMinimumDriverKitVersion",
          text.has_value() ? "is " + quoted(*text) : std::string("is a ") + type_name(min_node));
    }
  }
  if (!input.bundle_folder.empty() && !bundle_id.empty() &&
      input.bundle_folder != bundle_id + ".dext") {
    ctx.add(
        "BUNDLE-FOLDER-NAME", input.bundle_folder,
        "folder is " + quoted(input.bundle_folder) + ", expected " + quoted(bundle_id + ".dext"));
  }
  plist_t personalities = dict_get(info, "IOKitPersonalities");
  if (!is_type(personalities, PLIST_DICT) || plist_dict_get_size(personalities) == 0) {
    ctx.add("BUNDLE-PERSONALITIES", "Info.plist:IOKitPersonalities",
            personalities == nullptr ? "missing"
                                     : std::string("is an empty ") + type_name(personalities));
  }
}

void check_matching(Context& ctx, const Personality& p, UsbLevel level) {
  // Types and ranges.
  for (const auto& [key, value] : dict_items(p.dict)) {
    if (!is_usb_matching_key(key)) {
      continue;
    }
    const uint64_t limit = (key == "idVendor" || key == "idProduct" || key == "idProductMask" ||
                            key == "bcdDevice" || key == "idProductArray")
                               ? 0xFFFF
                               : 0xFF;
    if (key == "idProductArray") {
      if (!is_type(value, PLIST_ARRAY)) {
        ctx.add("PERS-MATCH-TYPE", pers_path(p.name, key),
                std::string("is a ") + type_name(value) + ", not an array of integers");
        continue;
      }
      const auto items = array_items(value);
      if (items.empty()) {
        ctx.add("PERS-MATCH-NEVER", pers_path(p.name, key), "empty array matches no product");
      }
      for (size_t i = 0; i < items.size(); ++i) {
        const auto number = as_uint(items[i]);
        const std::string path = pers_path(p.name, key) + "[" + std::to_string(i) + "]";
        if (!number.has_value()) {
          ctx.add("PERS-MATCH-TYPE", path, std::string("is a ") + type_name(items[i]));
        } else if (*number > limit) {
          ctx.add("PERS-MATCH-RANGE", path, std::to_string(*number) + " > " + hex16(limit));
        }
      }
      continue;
    }
    const auto number = as_uint(value);
    if (!number.has_value()) {
      std::string shown;
      if (const auto text = as_string(value)) {
        shown = " " + quoted(*text);
      }
      ctx.add("PERS-MATCH-TYPE", pers_path(p.name, key),
              std::string("is a ") + type_name(value) + shown + ", not an integer");
      continue;
    }
    if (*number > limit) {
      ctx.add("PERS-MATCH-RANGE", pers_path(p.name, key),
              std::to_string(static_cast<int64_t>(*number)) + " is outside 0.." +
                  std::to_string(limit));
    }
    if (key == "bConfigurationValue" && *number == 0) {
      ctx.add("PERS-MATCH-NEVER", pers_path(p.name, key),
              "0 means unconfigured; configurations are numbered from 1");
    }
    const bool wrong_level =
        level == UsbLevel::interface ? is_device_only_key(key) : is_interface_only_key(key);
    if (wrong_level) {
      ctx.add("PERS-MATCH-NEVER", pers_path(p.name, key),
              std::string("an ") +
                  (level == UsbLevel::interface ? "IOUSBHostInterface" : "IOUSBHostDevice") +
                  " has no " + key);
    }
  }
  const TierResult tier = classify_tier(p.dict, level);
  if (tier.tier == nullptr) {
    ctx.add("PERS-MATCH-KEYSET", pers_path(p.name), tier.problem);
    return;
  }
  const char* class_key = level == UsbLevel::interface ? "bInterfaceClass" : "bDeviceClass";
  if (tier.tier->constraint == ClassConstraint::not_vendor_specific &&
      as_uint(dict_get(p.dict, class_key)) == 0xFFu) {
    ctx.add("PERS-MATCH-NEVER", pers_path(p.name, class_key),
            "class 0xFF (vendor specific) cannot be matched by class; use idVendor + subclass");
  }
  if (dict_get(p.dict, "idVendor") == nullptr) {
    ctx.add("PERS-CLASS-MATCH-DEV", pers_path(p.name),
            "matches every vendor's class " +
                hex16(as_uint(dict_get(p.dict, class_key)).value_or(0)).substr(4) +
                " (probe tier " + std::to_string(tier.tier->score) + ")");
  }
}

void check_personality(Context& ctx, const Personality& p, const std::string& bundle_id,
                       bool serial, plist_t entitlements, plist_t app_entitlements,
                       const std::vector<std::string>& device_serial_classes) {
  if (!is_type(p.dict, PLIST_DICT)) {
    ctx.add("PERS-NOT-DICT", pers_path(p.name), std::string("is a ") + type_name(p.dict));
    return;
  }
  const auto server = as_string(dict_get(p.dict, "IOUserServerName"));
  if (!server.has_value() || (!bundle_id.empty() && *server != bundle_id)) {
    ctx.add("PERS-SERVER-NAME", pers_path(p.name, "IOUserServerName"),
            server.has_value() ? quoted(*server) + " is not the bundle ID " + quoted(bundle_id)
                               : "missing");
  }
  const auto pers_bundle = as_string(dict_get(p.dict, "CFBundleIdentifier"));
  if (!pers_bundle.has_value() || (!bundle_id.empty() && *pers_bundle != bundle_id)) {
    ctx.add("PERS-BUNDLE-ID", pers_path(p.name, "CFBundleIdentifier"),
            pers_bundle.has_value() ? quoted(*pers_bundle) + " is not " + quoted(bundle_id)
                                    : "missing");
  }
  const auto user_class = as_string(dict_get(p.dict, "IOUserClass"));
  if (!user_class.has_value() || user_class->empty()) {
    ctx.add("PERS-USER-CLASS", pers_path(p.name, "IOUserClass"), "missing or empty");
  }
  const auto io_class = as_string(dict_get(p.dict, "IOClass"));
  if (!io_class.has_value()) {
    ctx.add("PERS-IOCLASS-MISSING", pers_path(p.name, "IOClass"), "missing");
  }
  const auto provider = as_string(dict_get(p.dict, "IOProviderClass"));
  if (!provider.has_value() || provider->empty()) {
    ctx.add("PERS-PROVIDER-CLASS", pers_path(p.name, "IOProviderClass"), "missing");
  } else if (*provider == "IOUSBDevice" || *provider == "IOUSBInterface") {
    ctx.add("PERS-PROVIDER-CLASS", pers_path(p.name, "IOProviderClass"),
            quoted(*provider) + " is the pre-10.11 class; it no longer exists");
  } else if (known_providers().count(*provider) == 0) {
    ctx.add("PERS-PROVIDER-UNKNOWN", pers_path(p.name, "IOProviderClass"), quoted(*provider));
  }
  if (serial) {
    if (io_class.has_value() && *io_class != "IOUserSerial") {
      ctx.add("PERS-IOCLASS-SERIAL", pers_path(p.name, "IOClass"),
              quoted(*io_class) + " on a serial dext");
    }
    const auto kernel = as_string(dict_get(p.dict, "CFBundleIdentifierKernel"));
    if (kernel != "com.apple.driver.driverkit.serial") {
      ctx.add("PERS-KERNEL-BUNDLE", pers_path(p.name, "CFBundleIdentifierKernel"),
              kernel.has_value() ? quoted(*kernel) : "missing");
    }
    const bool opens_the_device =
        user_class.has_value() &&
        std::find(device_serial_classes.begin(), device_serial_classes.end(), *user_class) !=
            device_serial_classes.end();
    if (provider == "IOUSBHostDevice" && !opens_the_device) {
      ctx.add("PERS-PROVIDER-SERIAL", pers_path(p.name, "IOProviderClass"),
              "IOUSBHostDevice on a serial dext");
    }
  }
  const std::optional<UsbLevel> level = usb_level_of(p.dict);
  if (level.has_value()) {
    check_matching(ctx, p, *level);
  }
  // Misspelt keys.
  for (const auto& [key, value] : dict_items(p.dict)) {
    const auto& keys = known_keys();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      continue;
    }
    for (const std::string& known : keys) {
      if (edit_distance(key, known) <= 2) {
        ctx.add("PERS-UNKNOWN-KEY", pers_path(p.name, key), "did you mean " + known + "?");
        break;
      }
    }
  }
  // Probe score against Apple's in-box drivers.
  plist_t score_node = dict_get(p.dict, "IOProbeScore");
  const auto score = as_uint(score_node);
  const auto vid = as_uint(dict_get(p.dict, "idVendor"));
  if (score_node != nullptr && !score.has_value()) {
    ctx.add("PERS-PROBE-SCORE", pers_path(p.name, "IOProbeScore"),
            std::string("is a ") + type_name(score_node) + ", not an integer");
  } else if (level.has_value() && vid.has_value() && apple_inbox_vendor(*vid) &&
             score.value_or(0) <= 89999) {
    ctx.add("PERS-PROBE-SCORE", pers_path(p.name, "IOProbeScore"),
            (score.has_value() ? std::to_string(*score) : std::string("missing")) + " for vendor " +
                hex16(*vid) + ", which an Apple in-box dext serves at 89999 [U]");
  }
  if (dict_get(p.dict, "IOMatchCategory") != nullptr) {
    ctx.add("PERS-MATCH-CATEGORY", pers_path(p.name, "IOMatchCategory"),
            as_string(dict_get(p.dict, "IOMatchCategory")).value_or("(not a string)"));
  }
  for (const char* key : {"IOTTYBaseName", "IOTTYSuffix"}) {
    plist_t node = dict_get(p.dict, key);
    if (node == nullptr) {
      continue;
    }
    const auto text = as_string(node);
    if (!text.has_value()) {
      ctx.add("PERS-TTY-NAME", pers_path(p.name, key),
              std::string("is a ") + type_name(node) + ", not a string");
    } else if (text->empty() && std::string(key) == "IOTTYBaseName") {
      ctx.add("PERS-TTY-NAME", pers_path(p.name, key), "empty base name");
    } else if (!tty_safe(*text)) {
      ctx.add("PERS-TTY-NAME", pers_path(p.name, key), quoted(*text) + " has unsafe characters");
    } else if (text->size() > 32) {
      ctx.add("PERS-TTY-NAME", pers_path(p.name, key), "longer than 32 characters [U]");
    }
  }
  // IOServiceDEXTEntitlements on the personality: checked against the dext's entitlements.
  if (plist_t dext_ents = dict_get(p.dict, "IOServiceDEXTEntitlements")) {
    std::vector<std::vector<std::string>> alternatives;
    std::string problem;
    if (!parse_dext_entitlements(dext_ents, alternatives, problem)) {
      ctx.add("PERS-DEXT-ENTITLEMENTS", pers_path(p.name, "IOServiceDEXTEntitlements"), problem);
    } else if (entitlements != nullptr && !satisfied_by(alternatives, entitlements)) {
      ctx.add("PERS-DEXT-ENTITLEMENTS", pers_path(p.name, "IOServiceDEXTEntitlements"),
              "no alternative is satisfied by the dext's entitlements");
    }
  }
  if (plist_t uc = dict_get(p.dict, "UserClientProperties")) {
    const std::string path = pers_path(p.name, "UserClientProperties");
    if (!is_type(uc, PLIST_DICT)) {
      ctx.add("PERS-USERCLIENT-PROPS", path, std::string("is a ") + type_name(uc));
    } else {
      if (!as_string(dict_get(uc, "IOClass")).has_value() ||
          !as_string(dict_get(uc, "IOUserClass")).has_value()) {
        ctx.add("PERS-USERCLIENT-PROPS", path, "needs string IOClass and IOUserClass");
      }
      if (plist_t uc_ents = dict_get(uc, "IOServiceDEXTEntitlements")) {
        std::vector<std::vector<std::string>> alternatives;
        std::string problem;
        if (!parse_dext_entitlements(uc_ents, alternatives, problem)) {
          ctx.add("PERS-USERCLIENT-PROPS", path + ".IOServiceDEXTEntitlements",
                  problem + ": every client is refused");
        } else if (app_entitlements != nullptr && !satisfied_by(alternatives, app_entitlements)) {
          ctx.add("PERS-USERCLIENT-PROPS", path + ".IOServiceDEXTEntitlements",
                  "the app's entitlements satisfy no alternative");
        }
      }
    }
  }
}

// Canonical text of a personality's provider + matching keys, for duplicate detection.
std::string match_signature(plist_t personality) {
  std::string signature = as_string(dict_get(personality, "IOProviderClass")).value_or("") + "|" +
                          as_string(dict_get(personality, "IOMatchCategory")).value_or("");
  std::map<std::string, std::string> keys;
  for (const auto& [key, value] : dict_items(personality)) {
    if (!is_usb_matching_key(key)) {
      continue;
    }
    if (const auto number = as_uint(value)) {
      keys[key] = std::to_string(*number);
    } else if (const auto text = as_string(value)) {
      keys[key] = "s:" + *text;
    } else if (is_type(value, PLIST_ARRAY)) {
      std::string items;
      for (plist_t item : array_items(value)) {
        items += std::to_string(as_uint(item).value_or(~uint64_t{0})) + ",";
      }
      keys[key] = "a:" + items;
    } else {
      keys[key] = std::string("t:") + type_name(value);
    }
  }
  for (const auto& [key, value] : keys) {
    signature += "|" + key + "=" + value;
  }
  return signature;
}

struct UsbEntry {
  bool wildcard = false;
  uint64_t vid = 0;
  std::vector<uint64_t> products;  // empty: any product
};

void check_entitlements(Context& ctx, const CheckInput& input,
                        const std::vector<Personality>& personalities, bool serial) {
  plist_t ents = input.entitlements;
  if (ents == nullptr) {
    ctx.add("ENT-NOT-CHECKED", "entitlements", "pass --entitlements to check them");
    return;
  }
  if (as_bool(dict_get(ents, plistgen::kEntDriverKit)) != true) {
    ctx.add("ENT-DRIVERKIT", std::string("entitlements:") + plistgen::kEntDriverKit,
            std::string("is ") + type_name(dict_get(ents, plistgen::kEntDriverKit)) +
                (as_bool(dict_get(ents, plistgen::kEntDriverKit)) == false ? " false" : ""));
  }
  if (serial && as_bool(dict_get(ents, plistgen::kEntFamilySerial)) != true) {
    ctx.add("ENT-FAMILY-SERIAL", std::string("entitlements:") + plistgen::kEntFamilySerial,
            "missing or not true on a serial dext");
  }
  std::vector<Personality> usb_personalities;
  bool any_pci = false;
  for (const Personality& p : personalities) {
    if (usb_level_of(p.dict).has_value()) {
      usb_personalities.push_back(p);
    }
    any_pci = any_pci || as_string(dict_get(p.dict, "IOProviderClass")) == "IOPCIDevice";
  }
  const std::string usb_path = std::string("entitlements:") + plistgen::kEntTransportUsb;
  if (dict_get(ents, kEntTransportPci) != nullptr && !any_pci && !usb_personalities.empty()) {
    ctx.add("ENT-TRANSPORT-MISMATCH", std::string("entitlements:") + kEntTransportPci,
            "transport.pci on a dext whose personalities match USB");
  }
  if (usb_personalities.empty()) {
    return;
  }
  plist_t usb = dict_get(ents, plistgen::kEntTransportUsb);
  if (usb == nullptr) {
    ctx.add("ENT-USB-MISSING", usb_path, "missing");
    return;
  }
  if (!is_type(usb, PLIST_ARRAY)) {
    ctx.add("ENT-USB-SHAPE", usb_path, std::string("is a ") + type_name(usb) + ", not an array");
    return;
  }
  std::vector<UsbEntry> entries;
  const auto items = array_items(usb);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string path = usb_path + "[" + std::to_string(i) + "]";
    if (!is_type(items[i], PLIST_DICT)) {
      ctx.add("ENT-USB-SHAPE", path, std::string("is a ") + type_name(items[i]));
      continue;
    }
    for (const char* pci_key :
         {"IOPCIPrimaryMatch", "IOPCIMatch", "IOPCISecondaryMatch", "IOPCIClassMatch"}) {
      if (dict_get(items[i], pci_key) != nullptr) {
        ctx.add("ENT-TRANSPORT-MISMATCH", path + "." + pci_key,
                "a PCI matching key in transport.usb");
      }
    }
    plist_t vid_node = dict_get(items[i], "idVendor");
    UsbEntry entry;
    if (const auto vid = as_uint(vid_node)) {
      entry.vid = *vid;
    } else if (as_string(vid_node) == "*") {
      entry.wildcard = true;
      ctx.add("ENT-USB-WILDCARD", path + ".idVendor", "development profiles only");
    } else {
      ctx.add("ENT-USB-SHAPE", path + ".idVendor",
              vid_node == nullptr
                  ? std::string("missing")
                  : std::string("is a ") + type_name(vid_node) +
                        (as_string(vid_node) ? " " + quoted(*as_string(vid_node)) : std::string()) +
                        ", not an integer or \"*\"");
      continue;
    }
    if (plist_t product = dict_get(items[i], "idProduct")) {
      if (const auto pid = as_uint(product)) {
        entry.products.push_back(*pid);
      } else {
        ctx.add("ENT-USB-SHAPE", path + ".idProduct", std::string("is a ") + type_name(product));
      }
    }
    for (plist_t product : array_items(dict_get(items[i], "idProductArray"))) {
      if (const auto pid = as_uint(product)) {
        entry.products.push_back(*pid);
      }
    }
    entries.push_back(entry);
  }
  for (const Personality& p : usb_personalities) {
    if (dict_get(p.dict, "idVendor") != nullptr && !as_uint(dict_get(p.dict, "idVendor"))) {
      continue;  // a non-integer idVendor is PERS-MATCH-TYPE already
    }
    const auto vid = as_uint(dict_get(p.dict, "idVendor"));
    std::vector<uint64_t> pids;
    if (const auto pid = as_uint(dict_get(p.dict, "idProduct"))) {
      pids.push_back(*pid);
    }
    for (plist_t product : array_items(dict_get(p.dict, "idProductArray"))) {
      if (const auto pid = as_uint(product)) {
        pids.push_back(*pid);
      }
    }
    bool covered = false;
    for (const UsbEntry& entry : entries) {
      if (entry.wildcard) {
        covered = true;
        break;
      }
      if (!vid.has_value() || entry.vid != *vid) {
        continue;
      }
      if (entry.products.empty()) {
        covered = true;
        break;
      }
      bool all = !pids.empty();
      for (const uint64_t pid : pids) {
        all = all &&
              std::find(entry.products.begin(), entry.products.end(), pid) != entry.products.end();
      }
      if (all) {
        covered = true;
        break;
      }
    }
    if (!covered) {
      ctx.add("ENT-USB-COVERAGE", pers_path(p.name, vid.has_value() ? "idVendor" : ""),
              vid.has_value() ? "vendor " + hex16(*vid) + " (product " +
                                    (pids.empty() ? std::string("any") : hex16(pids.front())) +
                                    ") is not in transport.usb"
                              : "a class match needs {idVendor = \"*\"} in transport.usb");
    }
  }
}

void check_app(Context& ctx, const CheckInput& input, const std::string& bundle_id,
               const std::vector<Personality>& personalities) {
  if (input.app_entitlements == nullptr) {
    return;
  }
  plist_t app = input.app_entitlements;
  // An app that only opens /dev/cu.* needs no userclient-access; one is needed only when the
  // dext offers a user client (docs/driverkit-reference.md §3.5).
  const bool offers_user_client = std::any_of(
      personalities.begin(), personalities.end(),
      [](const Personality& p) { return dict_get(p.dict, "UserClientProperties") != nullptr; });
  const bool allow_any = as_bool(dict_get(input.entitlements, kEntAllowAnyUserClient)) == true;
  bool listed = !offers_user_client;
  plist_t access = dict_get(app, kEntUserClientAccess);
  for (plist_t item : array_items(access)) {
    listed = listed || as_string(item) == bundle_id;
  }
  if (!listed && !allow_any) {
    ctx.add("APP-USERCLIENT-ACCESS", std::string("app entitlements:") + kEntUserClientAccess,
            access == nullptr ? "missing; needed bundle ID " + quoted(bundle_id)
                              : "does not list " + quoted(bundle_id));
  }
  if (as_bool(dict_get(app, kEntSysextInstall)) != true) {
    ctx.add("APP-SYSEXT-INSTALL", std::string("app entitlements:") + kEntSysextInstall,
            "missing or not true");
  }
}

void check_profile(Context& ctx, const CheckInput& input) {
  if (input.profile == nullptr || input.entitlements == nullptr) {
    return;
  }
  plist_t granted = dict_get(input.profile, "Entitlements");
  if (granted == nullptr) {
    granted = input.profile;
  }
  for (const auto& [key, claimed] : dict_items(input.entitlements)) {
    plist_t grant = dict_get(granted, key.c_str());
    const std::string path = "profile:Entitlements." + key;
    if (grant == nullptr) {
      ctx.add("PROFILE-ENTITLEMENT-MISSING", path, "claimed by the dext, absent from the profile");
      continue;
    }
    if (key == plistgen::kEntTransportUsb) {
      std::set<uint64_t> vids;
      bool wildcard = false;
      for (plist_t entry : array_items(grant)) {
        plist_t vid = dict_get(entry, "idVendor");
        if (const auto number = as_uint(vid)) {
          vids.insert(*number);
        }
        wildcard = wildcard || as_string(vid) == "*";
      }
      for (plist_t entry : array_items(claimed)) {
        plist_t vid = dict_get(entry, "idVendor");
        const auto number = as_uint(vid);
        const bool claims_wildcard = as_string(vid) == "*";
        if ((number.has_value() && !wildcard && vids.count(*number) == 0) ||
            (claims_wildcard && !wildcard)) {
          ctx.add("PROFILE-ENTITLEMENT-MISSING", path,
                  "vendor " + (number.has_value() ? hex16(*number) : std::string("\"*\"")) +
                      " is not granted by the profile");
        }
      }
      continue;
    }
    if (as_bool(claimed) == true && as_bool(grant) == false) {
      ctx.add("PROFILE-ENTITLEMENT-MISSING", path, "the profile grants false");
    }
  }
}

}  // namespace

std::span<const CheckInfo> all_checks() {
  return kChecks;
}

const CheckInfo* find_check(std::string_view id) {
  for (const CheckInfo& info : kChecks) {
    if (id == info.id) {
      return &info;
    }
  }
  return nullptr;
}

bool apple_inbox_vendor(uint64_t vid) {
  return vid == 0x0403 || vid == 0x10C4 || vid == 0x1A86 || vid == 0x067B;
}

bool is_serial_dext(plist_t info, plist_t entitlements) {
  if (as_bool(dict_get(entitlements, plistgen::kEntFamilySerial)) == true) {
    return true;
  }
  for (const auto& [name, p] : dict_items(dict_get(info, "IOKitPersonalities"))) {
    if (as_string(dict_get(p, "IOClass")) == "IOUserSerial" ||
        as_string(dict_get(p, "CFBundleIdentifierKernel")) == "com.apple.driver.driverkit.serial" ||
        dict_get(p, "IOTTYBaseName") != nullptr || dict_get(p, "IOTTYSuffix") != nullptr) {
      return true;
    }
  }
  return false;
}

Finding parse_finding(const std::string& file, const ParseError& error) {
  return {"PLIST-PARSE", Severity::error, file, error.position() + ": " + error.message};
}

std::vector<Finding> run_checks(const CheckInput& input) {
  Context ctx;
  if (!is_type(input.info, PLIST_DICT)) {
    ctx.add("PLIST-ROOT", input.info_name,
            std::string("root is a ") + type_name(input.info) + ", not a dictionary");
    return ctx.out;
  }
  for (const auto& [role, tree] :
       {std::pair<const char*, plist_t>{"entitlements", input.entitlements},
        {"app entitlements", input.app_entitlements},
        {"profile", input.profile}}) {
    if (tree != nullptr && !is_type(tree, PLIST_DICT)) {
      ctx.add("PLIST-ROOT", role, std::string("root is a ") + type_name(tree));
      return ctx.out;
    }
  }
  std::string bundle_id;
  check_bundle(ctx, input, bundle_id);
  const bool serial = is_serial_dext(input.info, input.entitlements);
  std::vector<Personality> personalities;
  for (const auto& [name, dict] : dict_items(dict_get(input.info, "IOKitPersonalities"))) {
    personalities.push_back({name, dict});
  }
  std::map<std::string, std::string> signatures;
  for (const Personality& p : personalities) {
    check_personality(ctx, p, bundle_id, serial, input.entitlements, input.app_entitlements,
                      input.device_serial_classes);
    if (is_type(p.dict, PLIST_DICT) && usb_level_of(p.dict).has_value()) {
      const std::string signature = match_signature(p.dict);
      const auto [it, inserted] = signatures.emplace(signature, p.name);
      if (!inserted) {
        ctx.add("PERS-DUPLICATE-MATCH", pers_path(p.name),
                "same provider and matching keys as " + quoted(it->second));
      }
    }
  }
  check_entitlements(ctx, input, personalities, serial);
  check_app(ctx, input, bundle_id, personalities);
  check_profile(ctx, input);
  return ctx.out;
}

int exit_status(const std::vector<Finding>& findings) {
  int status = 0;
  for (const Finding& finding : findings) {
    if (finding.severity == Severity::error) {
      status = 2;
    } else if (finding.severity == Severity::warning && status < 1) {
      status = 1;
    }
  }
  return status;
}

std::string render_text(const std::vector<Finding>& findings, bool verbose) {
  std::string out;
  size_t errors = 0;
  size_t warnings = 0;
  for (const Finding& finding : findings) {
    errors += finding.severity == Severity::error ? 1 : 0;
    warnings += finding.severity == Severity::warning ? 1 : 0;
    const CheckInfo* info = find_check(finding.id);
    out += std::string(to_string(finding.severity)) + " " + finding.id + "  " + finding.key_path +
           "\n    " + finding.message + "\n";
    if (info != nullptr && (verbose || finding.severity != Severity::info)) {
      out += std::string("    problem: ") + info->title + "\n";
      out += std::string("    at runtime: ") + info->consequence + "\n";
      out += std::string("    fix: ") + info->fix + "\n";
      out += std::string("    source: ") + info->source + (info->unverified ? " [U]" : "") + "\n";
    }
  }
  out += std::to_string(errors) + " error(s), " + std::to_string(warnings) + " warning(s)\n";
  return out;
}

std::string render_json(const std::vector<Finding>& findings) {
  hostutil::JsonWriter json;
  json.begin_object();
  json.field("status", exit_status(findings));
  json.key("findings").begin_array();
  for (const Finding& finding : findings) {
    const CheckInfo* info = find_check(finding.id);
    json.begin_object();
    json.field("id", finding.id);
    json.field("severity", to_string(finding.severity));
    json.field("key_path", finding.key_path);
    json.field("message", finding.message);
    if (info != nullptr) {
      json.field("problem", info->title);
      json.field("runtime", info->consequence);
      json.field("fix", info->fix);
      json.field("source", info->source);
      json.field("unverified", info->unverified);
    }
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.str() + "\n";
}

std::string checks_help_text() {
  std::string out;
  for (const CheckInfo& info : kChecks) {
    out += std::string(info.id) + " (" + to_string(info.severity) + ")\n";
    out += std::string("  problem:    ") + info.title + "\n";
    out += std::string("  at runtime: ") + info.consequence + "\n";
    out += std::string("  fix:        ") + info.fix + "\n";
    out += std::string("  source:     ") + info.source + (info.unverified ? " [U]" : "") + "\n\n";
  }
  return out;
}

std::string checks_markdown_table() {
  auto cell = [](std::string text) {
    std::string escaped;
    for (const char c : text) {
      if (c == '|') {
        escaped += "\\|";
      } else {
        escaped += c;
      }
    }
    return escaped;
  };
  std::string out =
      "| ID | severity | problem | at runtime | fix | source |\n|---|---|---|---|---|---|\n";
  for (const CheckInfo& info : kChecks) {
    out += "| `" + std::string(info.id) + "` | " + to_string(info.severity) + " | " +
           cell(info.title) + " | " + cell(info.consequence) + " | " + cell(info.fix) + " | " +
           cell(std::string(info.source) + (info.unverified ? " [U]" : "")) + " |\n";
  }
  return out;
}

}  // namespace doctor
