// usbserial-plistgen: Info.plist.in + the device table -> Info.plist and Entitlements.plist.
//
//   usbserial-plistgen --device-table device_table.plist --template Info.plist.in
//                      --info-plist OUT/Info.plist --entitlements OUT/Entitlements.plist
//                      --bundle-id ID --driver-class CLASS --serial-driver-class CLASS
//                      --version X.Y.Z [--bundle-name NAME] [--development]
//
// device_table.plist is what tools/devicegen makes of devices.ini.
//
// A file is rewritten only when its content changes, so its timestamp means something.
#include <boost/program_options.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "plistgen.hpp"

namespace po = boost::program_options;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return true;
}

bool write_if_changed(const std::string& path, const std::string& content) {
  std::string existing;
  if (read_file(path, existing) && existing == content) {
    return true;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  std::string table_path;
  std::string template_path;
  std::string info_out;
  std::string entitlements_out;
  plistgen::Identity identity;
  bool development = false;

  po::options_description options("usbserial-plistgen options");
  options.add_options()("help,h", "show this help")(
      "device-table", po::value(&table_path),
      "device_table.plist (tools/devicegen's output for devices.ini)")(
      "template", po::value(&template_path), "Info.plist.in template")(
      "info-plist", po::value(&info_out), "where to write Info.plist")(
      "entitlements", po::value(&entitlements_out), "where to write Entitlements.plist")(
      "bundle-id", po::value(&identity.bundle_id), "CFBundleIdentifier (USBSERIAL_BUNDLE_ID)")(
      "driver-class", po::value(&identity.driver_class),
      "IOUserClass of the IOUserUSBSerial class (USBSERIAL_DRIVER_CLASS)")(
      "serial-driver-class", po::value(&identity.serial_driver_class),
      "IOUserClass of the IOUserSerial class (USBSERIAL_SERIAL_DRIVER_CLASS)")(
      "version", po::value(&identity.version), "CFBundleShortVersionString / CFBundleVersion")(
      "bundle-name", po::value(&identity.bundle_name)->default_value("USBSerialBridge"),
      "CFBundleName")("development", po::bool_switch(&development),
                      "add the class-matching personalities and the idVendor \"*\" entitlement "
                      "(development-signed builds only)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "usbserial-plistgen: " << e.what() << "\n" << options;
    return 2;
  }
  if (vm.count("help") != 0) {
    std::cout << options;
    return 0;
  }
  if (info_out.empty() && entitlements_out.empty()) {
    std::cerr << "usbserial-plistgen: nothing to do (give --info-plist and/or --entitlements)\n";
    return 2;
  }
  std::string table_text;
  plistgen::DeviceTable table;
  std::string table_error;
  if (table_path.empty()) {
    std::cerr << "usbserial-plistgen: give --device-table (tools/devicegen's device_table.plist)\n";
    return 2;
  }
  if (!read_file(table_path, table_text)) {
    std::cerr << "usbserial-plistgen: cannot read " << table_path << "\n";
    return 1;
  }
  if (!plistgen::load_device_table(table_text, table, table_error)) {
    std::cerr << "usbserial-plistgen: " << table_path << ": " << table_error << "\n";
    return 1;
  }
  if (!info_out.empty()) {
    if (template_path.empty() || identity.bundle_id.empty() || identity.driver_class.empty() ||
        identity.version.empty()) {
      std::cerr << "usbserial-plistgen: --info-plist needs --template, --bundle-id, "
                   "--driver-class and --version\n";
      return 2;
    }
    std::string template_text;
    if (!read_file(template_path, template_text)) {
      std::cerr << "usbserial-plistgen: cannot read " << template_path << "\n";
      return 1;
    }
    std::string xml;
    std::string error;
    if (!plistgen::build_info_plist(template_text, identity, table, development, xml, error)) {
      std::cerr << "usbserial-plistgen: " << template_path << ": " << error << "\n";
      return 1;
    }
    if (!write_if_changed(info_out, xml)) {
      std::cerr << "usbserial-plistgen: cannot write " << info_out << "\n";
      return 1;
    }
  }
  if (!entitlements_out.empty() &&
      !write_if_changed(entitlements_out, plistgen::build_entitlements_xml(table, development))) {
    std::cerr << "usbserial-plistgen: cannot write " << entitlements_out << "\n";
    return 1;
  }
  return 0;
}
