// libFuzzer target: the plist-check entry point. Arbitrary bytes are parsed as a plist and, when
// they parse, checked as an Info.plist, as entitlements, as app entitlements and as a profile,
// read as an ioreg XML dump and matched. Nothing may crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/checks.hpp"
#include "lib/commands.hpp"
#include "lib/ioreg.hpp"
#include "lib/plist_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  doctor::Parsed parsed = doctor::parse_plist_text(text);
  if (!parsed.ok()) {
    (void)parsed.error->position();
    return 0;
  }
  doctor::CheckInput input;
  input.info = parsed.root.get();
  input.entitlements = parsed.root.get();
  input.app_entitlements = parsed.root.get();
  input.profile = parsed.root.get();
  input.bundle_folder = "fuzz.dext";
  const auto findings = doctor::run_checks(input);
  (void)doctor::render_text(findings, true);
  (void)doctor::render_json(findings);
  doctor::IoregParsed registry = doctor::ioreg_from_plist(parsed.root.get());
  if (!registry.error.has_value()) {
    const auto objects = doctor::usb_objects(registry.registry);
    const auto reports = doctor::match_objects(parsed.root.get(), objects);
    (void)doctor::render_match_text(reports);
    (void)doctor::devices_from_objects(objects);
  }
  return 0;
}
