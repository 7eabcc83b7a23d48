// libFuzzer target: the ioreg -l text parser, then the USB object extraction and matching
// against the project's own generated personalities.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>

#include "lib/commands.hpp"
#include "lib/ioreg.hpp"
#include "plistgen.hpp"

namespace {

// The device table as the build generated it from devices.ini (tools/devicegen).
plistgen::DeviceTable device_table() {
  std::ifstream in(USBSERIAL_DEVICE_TABLE_PLIST, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  plistgen::DeviceTable table;
  std::string error;
  if (!plistgen::load_device_table(text.str(), table, error)) {
    std::fprintf(stderr, "%s: %s\n", USBSERIAL_DEVICE_TABLE_PLIST, error.c_str());
    std::abort();
  }
  return table;
}

plistgen::PlistPtr project_info() {
  plistgen::PlistPtr info(plist_new_dict());
  plist_t personalities = plist_new_dict();
  const plistgen::Identity identity{"org.usbserialbridge.driver",
                                    "org_usbserialbridge_SerialDriver", "USBSerialBridge", "0.1.0"};
  for (const plistgen::PersonalitySpec& spec :
       plistgen::table_personalities(device_table(), true)) {
    plist_dict_set_item(personalities, spec.name.c_str(),
                        plistgen::make_personality(identity, spec).release());
  }
  plist_dict_set_item(info.get(), "IOKitPersonalities", personalities);
  return info;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const plistgen::PlistPtr info = project_info();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  doctor::IoregParsed parsed = doctor::parse_ioreg_text(text);
  if (parsed.error.has_value()) {
    (void)parsed.error->position();
    return 0;
  }
  const auto objects = doctor::usb_objects(parsed.registry);
  const auto reports = doctor::match_objects(info.get(), objects);
  (void)doctor::render_match_text(reports);
  (void)doctor::render_match_json(reports);
  (void)doctor::devices_from_objects(objects);
  return 0;
}
