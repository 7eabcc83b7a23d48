// usbserial-doctor: find out why a dext does not load, match or name its port.
//
//   usbserial-doctor check <dext bundle dir | Info.plist> [--entitlements FILE]
//                    [--app-entitlements FILE] [--profile embedded.provisionprofile] [--json]
//   usbserial-doctor match <Info.plist> --ioreg <ioreg -l text | ioreg -a XML> [--json]
//   usbserial-doctor personality --vid V --pid P [--interface N] [--class-based]
//                    [--interface-class C --interface-subclass S [--interface-protocol P]]
//                    [--from-ioreg FILE | --from-sysfs [DIR]] [--json]
//   usbserial-doctor --help-checks | --markdown-checks
//
// Exit status: check 0 clean / 1 warnings / 2 errors; match 0 something matched / 1 nothing
// matched / 2 bad input; personality 0 / 2 bad input.
#include <boost/program_options.hpp>
#include <filesystem>
#include <iostream>

#include "lib/checks.hpp"
#include "lib/commands.hpp"
#include "lib/ioreg.hpp"
#include "lib/plist_util.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kUsage =
    "usage: usbserial-doctor check <dext bundle dir | Info.plist> [--entitlements FILE]\n"
    "                        [--app-entitlements FILE] [--profile FILE] [--json] [--verbose]\n"
    "       usbserial-doctor match <Info.plist> --ioreg FILE [--json]\n"
    "       usbserial-doctor personality --vid V --pid P [--interface N] [--class-based]\n"
    "                        [--interface-class C --interface-subclass S [--interface-protocol "
    "P]]\n"
    "                        [--from-ioreg FILE | --from-sysfs [DIR]] [--json]\n"
    "       usbserial-doctor --help-checks | --markdown-checks | --version\n";

struct Loaded {
  doctor::PlistPtr root;
  bool given = false;
};

// Reads and parses one plist; a failure becomes a PLIST-PARSE finding.
Loaded load(const std::string& path, std::vector<doctor::Finding>& findings, bool profile = false) {
  Loaded loaded;
  if (path.empty()) {
    return loaded;
  }
  loaded.given = true;
  std::string data;
  std::string error;
  if (!doctor::read_file(path, data, error)) {
    findings.push_back(doctor::parse_finding(path, doctor::ParseError{error, 0, 0, -1}));
    return loaded;
  }
  std::string_view text = data;
  if (profile) {
    text = doctor::provisioning_profile_plist(text);
  }
  doctor::Parsed parsed = doctor::parse_plist_text(text);
  if (!parsed.ok()) {
    findings.push_back(doctor::parse_finding(path, *parsed.error));
    return loaded;
  }
  loaded.root = std::move(parsed.root);
  return loaded;
}

bool parse_u16(const std::string& text, uint16_t& out) {
  try {
    size_t used = 0;
    const unsigned long value = std::stoul(text, &used, 0);
    if (used != text.size() || value > 0xFFFF) {
      return false;
    }
    out = static_cast<uint16_t>(value);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// Reads and parses an ioreg dump; on failure prints why (with the position) and returns false.
bool load_ioreg(const std::string& path, doctor::IoregParsed& parsed) {
  std::string data;
  std::string error;
  if (!doctor::read_file(path, data, error, doctor::kMaxIoregBytes)) {
    std::cerr << "usbserial-doctor: " << error << "\n";
    return false;
  }
  parsed = doctor::parse_ioreg(data);
  if (parsed.error.has_value()) {
    std::cerr << "usbserial-doctor: " << path << ": " << parsed.error->position() << ": "
              << parsed.error->message << "\n";
    return false;
  }
  return true;
}

int run_check(const std::vector<std::string>& args) {
  std::string target;
  std::string entitlements_path;
  std::string app_path;
  std::string profile_path;
  bool json = false;
  bool verbose = false;
  // This project's IOUserSerial class opens the device it matches (SerialDext/).
  std::vector<std::string> device_classes{USBSERIAL_SERIAL_DRIVER_CLASS};
  po::options_description options("check options");
  options.add_options()("target", po::value(&target), "dext bundle directory or Info.plist")(
      "device-class", po::value(&device_classes)->composing(),
      "an IOUserClass that subclasses IOUserSerial and opens its IOUSBHostDevice itself "
      "(repeatable; this project's is always included)")(
      "entitlements", po::value(&entitlements_path), "the dext's entitlements plist")(
      "app-entitlements", po::value(&app_path), "the host app's entitlements plist")(
      "profile", po::value(&profile_path), "the dext's embedded.provisionprofile")(
      "json", po::bool_switch(&json), "machine-readable output")(
      "verbose", po::bool_switch(&verbose), "explain info findings too");
  po::positional_options_description positional;
  positional.add("target", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  po::notify(vm);
  if (target.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  doctor::CheckInput input;
  input.device_serial_classes = device_classes;
  std::string info_path = target;
  std::error_code ec;
  fs::path target_path(target);
  if (fs::is_directory(target_path, ec)) {
    if (!target_path.has_filename()) {
      target_path = target_path.parent_path();
    }
    info_path = (target_path / "Info.plist").string();
    input.bundle_folder = target_path.filename().string();
    const fs::path embedded = target_path / "embedded.provisionprofile";
    if (profile_path.empty() && fs::exists(embedded, ec)) {
      profile_path = embedded.string();
    }
  } else {
    const fs::path parent = fs::path(target).parent_path();
    if (parent.extension() == ".dext") {
      input.bundle_folder = parent.filename().string();
    }
  }
  std::vector<doctor::Finding> findings;
  Loaded info = load(info_path, findings);
  Loaded entitlements = load(entitlements_path, findings);
  Loaded app = load(app_path, findings);
  Loaded profile = load(profile_path, findings, true);
  if (info.root) {
    input.info = info.root.get();
    input.info_name = info_path;
    input.entitlements = entitlements.root.get();
    input.app_entitlements = app.root.get();
    input.profile = profile.root.get();
    // A file that failed to parse was reported; its checks are skipped, not run on nothing.
    for (doctor::Finding& finding : doctor::run_checks(input)) {
      if (finding.id == "ENT-NOT-CHECKED" && entitlements.given) {
        continue;
      }
      findings.push_back(std::move(finding));
    }
  }
  std::cout << (json ? doctor::render_json(findings) : doctor::render_text(findings, verbose));
  return doctor::exit_status(findings);
}

int run_match(const std::vector<std::string>& args) {
  std::string info_path;
  std::string ioreg_path;
  bool json = false;
  po::options_description options("match options");
  options.add_options()("info", po::value(&info_path), "Info.plist")(
      "ioreg", po::value(&ioreg_path), "ioreg -l text or ioreg -a XML dump")(
      "json", po::bool_switch(&json), "machine-readable output");
  po::positional_options_description positional;
  positional.add("info", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
  po::notify(vm);
  if (info_path.empty() || ioreg_path.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  std::vector<doctor::Finding> findings;
  Loaded info = load(info_path, findings);
  if (!info.root) {
    std::cerr << doctor::render_text(findings, false);
    return 2;
  }
  doctor::IoregParsed parsed;
  if (!load_ioreg(ioreg_path, parsed)) {
    return 2;
  }
  const auto reports = doctor::match_objects(info.root.get(), doctor::usb_objects(parsed.registry));
  std::cout << (json ? doctor::render_match_json(reports) : doctor::render_match_text(reports));
  for (const doctor::ObjectReport& report : reports) {
    if (report.winner.has_value()) {
      return 0;
    }
  }
  return 1;
}

int run_personality(const std::vector<std::string>& args) {
  std::string vid_text;
  std::string pid_text;
  int interface_number = -1;
  int interface_class = -1;
  int interface_subclass = -1;
  int interface_protocol = -1;
  bool class_based = false;
  bool json = false;
  std::string ioreg_path;
  std::string sysfs_root;
  plistgen::Identity identity{USBSERIAL_BUNDLE_ID, USBSERIAL_DRIVER_CLASS, "USBSerialBridge",
                              USBSERIAL_VERSION, USBSERIAL_SERIAL_DRIVER_CLASS};
  po::options_description options("personality options");
  options.add_options()("vid", po::value(&vid_text), "idVendor (0x0CAD or decimal)")(
      "pid", po::value(&pid_text), "idProduct")("interface", po::value(&interface_number),
                                                "bInterfaceNumber (default: every interface "
                                                "of a dump, 0 otherwise)")(
      "class-based", po::bool_switch(&class_based), "match by interface class")(
      "interface-class", po::value(&interface_class), "bInterfaceClass")(
      "interface-subclass", po::value(&interface_subclass), "bInterfaceSubClass")(
      "interface-protocol", po::value(&interface_protocol), "bInterfaceProtocol")(
      "from-ioreg", po::value(&ioreg_path), "take the devices from an ioreg dump")(
      "from-sysfs", po::value(&sysfs_root)->implicit_value("/sys/bus/usb/devices"),
      "take the devices from a Linux sysfs tree")("bundle-id", po::value(&identity.bundle_id),
                                                  "dext bundle ID")(
      "driver-class", po::value(&identity.driver_class), "IOUserClass")(
      "json", po::bool_switch(&json), "machine-readable output");
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(options).run(), vm);
  po::notify(vm);

  std::optional<uint16_t> vid;
  std::optional<uint16_t> pid;
  uint16_t value = 0;
  if (!vid_text.empty()) {
    if (!parse_u16(vid_text, value)) {
      std::cerr << "usbserial-doctor: --vid " << vid_text << " is not a 16-bit number\n";
      return 2;
    }
    vid = value;
  }
  if (!pid_text.empty()) {
    if (!parse_u16(pid_text, value)) {
      std::cerr << "usbserial-doctor: --pid " << pid_text << " is not a 16-bit number\n";
      return 2;
    }
    pid = value;
  }
  auto byte_option = [](int v) -> std::optional<uint8_t> {
    return v >= 0 && v <= 0xFF ? std::optional<uint8_t>(static_cast<uint8_t>(v)) : std::nullopt;
  };

  std::vector<doctor::DeviceDescription> devices;
  std::vector<std::string> notes;
  if (!ioreg_path.empty()) {
    doctor::IoregParsed parsed;
    if (!load_ioreg(ioreg_path, parsed)) {
      return 2;
    }
    devices = doctor::devices_from_objects(doctor::usb_objects(parsed.registry));
  } else if (vm.count("from-sysfs") != 0) {
    devices = doctor::devices_from_sysfs(sysfs_root, notes);
  } else {
    if (!vid.has_value() || !pid.has_value()) {
      std::cerr << "usbserial-doctor: personality needs --vid and --pid, --from-ioreg or "
                   "--from-sysfs\n"
                << kUsage;
      return 2;
    }
    doctor::DeviceDescription description;
    description.device.vid = *vid;
    description.device.pid = *pid;
    doctor::InterfaceIds interface;
    interface.number = static_cast<uint8_t>(interface_number >= 0 ? interface_number : 0);
    description.interfaces.push_back(interface);
    devices.push_back(description);
  }
  std::vector<doctor::GeneratedPersonality> generated;
  for (doctor::DeviceDescription& description : devices) {
    if ((vid.has_value() && description.device.vid != *vid) ||
        (pid.has_value() && description.device.pid != *pid)) {
      continue;
    }
    for (doctor::InterfaceIds& interface : description.interfaces) {
      if (interface_number >= 0 && interface.number != interface_number) {
        continue;
      }
      if (auto c = byte_option(interface_class)) {
        interface.interface_class = c;
      }
      if (auto s = byte_option(interface_subclass)) {
        interface.interface_subclass = s;
      }
      if (auto p = byte_option(interface_protocol)) {
        interface.interface_protocol = p;
      }
      doctor::GeneratedPersonality personality;
      std::string error;
      if (!doctor::make_interface_personality(identity, description.device, interface, class_based,
                                              personality, error)) {
        std::cerr << "usbserial-doctor: " << error << "\n";
        return 2;
      }
      generated.push_back(std::move(personality));
    }
  }
  for (const std::string& note : notes) {
    std::cerr << "note: " << note << "\n";
  }
  std::cout << (json ? doctor::render_personality_json(generated)
                     : doctor::render_personality_text(generated));
  if (generated.empty()) {
    std::cerr << "usbserial-doctor: no matching device or interface\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  const std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "check") {
      return run_check(args);
    }
    if (command == "match") {
      return run_match(args);
    }
    if (command == "personality") {
      return run_personality(args);
    }
    if (command == "--help-checks") {
      std::cout << doctor::checks_help_text();
      return 0;
    }
    if (command == "--markdown-checks") {
      std::cout << doctor::checks_markdown_table();
      return 0;
    }
    if (command == "--version") {
      std::cout << "usbserial-doctor " << USBSERIAL_VERSION << "\n";
      return 0;
    }
    if (command == "--help" || command == "-h") {
      std::cout << kUsage;
      return 0;
    }
  } catch (const po::error& e) {
    std::cerr << "usbserial-doctor " << command << ": " << e.what() << "\n" << kUsage;
    return 2;
  }
  std::cerr << "usbserial-doctor: unknown command \"" << command << "\"\n" << kUsage;
  return 2;
}
