// usbserial-doctor static checks: pure functions over parsed plist trees.
//
// Every check has a stable ID, a severity, the runtime consequence (the log line where one is
// known) and the fix, in one table (all_checks()). The same table prints `--help-checks` and
// the table in docs/troubleshooting.md (a test keeps the two equal).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "plist_util.hpp"

namespace doctor {

enum class Severity { info, warning, error };
const char* to_string(Severity severity);

struct CheckInfo {
  const char* id;
  Severity severity;
  const char* title;        // what is wrong
  const char* consequence;  // what happens at runtime (log line where known)
  const char* fix;
  const char* source;  // reference section / forum thread / source file
  bool unverified;     // the reference marks the consequence [U]
};

std::span<const CheckInfo> all_checks();
const CheckInfo* find_check(std::string_view id);

struct Finding {
  std::string id;
  Severity severity = Severity::error;
  std::string key_path;  // e.g. IOKitPersonalities."FTDI FT232R".IOClass, or a file
  std::string message;   // the specifics of this occurrence
};

// What `check` looks at. Null trees are "not given".
struct CheckInput {
  plist_t info = nullptr;
  std::string info_name = "Info.plist";
  // Name of the folder holding Info.plist when it is a bundle (e.g. "x.dext"); empty otherwise.
  std::string bundle_folder;
  plist_t entitlements = nullptr;
  plist_t app_entitlements = nullptr;
  plist_t profile = nullptr;  // the provisioning profile plist (its Entitlements dict is used)
  // IOUserClass values that are IOUserSerial subclasses opening their IOUSBHostDevice
  // themselves (not IOUserUSBSerial ones): a device-level personality naming one is not
  // PERS-PROVIDER-SERIAL.
  std::vector<std::string> device_serial_classes;
};

std::vector<Finding> run_checks(const CheckInput& input);

// A finding for a file that could not be read or parsed (PLIST-PARSE).
Finding parse_finding(const std::string& file, const ParseError& error);

// 0 clean (info only), 1 warnings, 2 errors.
int exit_status(const std::vector<Finding>& findings);

// Whether the dext is a serial dext (family.serial entitlement, IOUserSerial/kernel serial
// bundle or tty keys in a personality).
bool is_serial_dext(plist_t info, plist_t entitlements);

// Vendors Apple's in-box serial dexts serve (AppleUSBFTDI 0x0403, AppleUSBSLCOM 0x10C4,
// AppleUSBCHCOM 0x1A86, AppleUSBPLCOM 0x067B: docs/driverkit-reference.md §1.7).
bool apple_inbox_vendor(uint64_t vid);

// Rendering.
std::string render_text(const std::vector<Finding>& findings, bool verbose);
std::string render_json(const std::vector<Finding>& findings);
// The check table as text (--help-checks) and as a Markdown table (docs/troubleshooting.md).
std::string checks_help_text();
std::string checks_markdown_table();

}  // namespace doctor
