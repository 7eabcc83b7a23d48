#include "device_table.hpp"

#include <array>
#include <cstring>

namespace transport {
namespace {

// Maxima: FTDI datasheets via docs/usb-serial-reference.md §2.4 ("AM/BM/R/2232C/FT-X
// 3 MBd; H-series 12 MBd"). A CDC-ACM function forwards dwDTERate; the device decides.
// A vendor bulk port has no UART and so no rate; its port count is per device (devices.ini).
// tools/devicegen reads the family and variant names devices.ini may use from these rows
// ({ChipVariant::x, ChipFamily::y, "name", ...}): keep that shape when adding one.
// PL2303: Linux pl2303.c pl2303_type_data max_baud_rate; every type is a full-speed device.
constexpr std::array<VariantInfo, kChipVariantCount> kVariants = {{
    {ChipVariant::cdc_acm, ChipFamily::cdc_acm, "cdc-acm", 0, 1, false},
    {ChipVariant::ft232bm, ChipFamily::ftdi, "ft232bm", 3'000'000, 1, false},
    {ChipVariant::ft232r, ChipFamily::ftdi, "ft232r", 3'000'000, 1, false},
    {ChipVariant::ft_x, ChipFamily::ftdi, "ft-x", 3'000'000, 1, false},
    {ChipVariant::ft2232c, ChipFamily::ftdi, "ft2232c", 3'000'000, 2, false},
    {ChipVariant::ft232h, ChipFamily::ftdi, "ft232h", 12'000'000, 1, true},
    {ChipVariant::ft2232h, ChipFamily::ftdi, "ft2232h", 12'000'000, 2, true},
    {ChipVariant::ft4232h, ChipFamily::ftdi, "ft4232h", 12'000'000, 4, true},
    {ChipVariant::vendor_bulk, ChipFamily::vendor_bulk, "vendor-bulk", 0, 1, false},
    // CP210x: the highest rate each part makes under our policy (chips/cp210x.hpp has the
    // per-port limits; CP2105's SCI port stops at 921600). The generic single-port entry
    // holds until GET_PARTNUM names the part; AN205's table tops out at 921600.
    {ChipVariant::cp210x, ChipFamily::cp210x, "cp210x", 921'600, 1, false},
    {ChipVariant::cp2102, ChipFamily::cp210x, "cp2102", 921'600, 1, false},
    {ChipVariant::cp2102n, ChipFamily::cp210x, "cp2102n", 3'000'000, 1, false},
    {ChipVariant::cp2104, ChipFamily::cp210x, "cp2104", 2'000'000, 1, false},
    {ChipVariant::cp2105, ChipFamily::cp210x, "cp2105", 2'000'000, 2, false},
    {ChipVariant::cp2108, ChipFamily::cp210x, "cp2108", 2'000'000, 4, false},
    // Maxima: CH340DS1 §2 ("50bps to 2Mbps") and CH341DS1 (its rate list ends at 2000000).
    {ChipVariant::ch340, ChipFamily::ch34x, "ch340", 2'000'000, 1, false},
    {ChipVariant::ch341a, ChipFamily::ch34x, "ch341a", 2'000'000, 1, false},
    {ChipVariant::pl2303_h, ChipFamily::pl2303, "pl2303-h", 1'228'800, 1, false},
    {ChipVariant::pl2303_hx, ChipFamily::pl2303, "pl2303-hx", 6'000'000, 1, false},
    {ChipVariant::pl2303_hxd, ChipFamily::pl2303, "pl2303-hxd", 12'000'000, 1, false},
    {ChipVariant::pl2303_ta, ChipFamily::pl2303, "pl2303-ta", 6'000'000, 1, false},
    {ChipVariant::pl2303_tb, ChipFamily::pl2303, "pl2303-tb", 12'000'000, 1, false},
    {ChipVariant::pl2303_hxn, ChipFamily::pl2303, "pl2303-hxn", 12'000'000, 1, false},
}};

constexpr bool variants_in_enum_order() {
  for (size_t i = 0; i < kVariants.size(); ++i) {
    if (static_cast<size_t>(kVariants[i].variant) != i) {
      return false;
    }
  }
  return true;
}
static_assert(variants_in_enum_order(), "kVariants must be indexed by ChipVariant");

// kDevices and kClassRules, generated from devices.ini by tools/devicegen.
#include "device_table_data.inc"

// bcdDevice -> FTDI generation: Linux ftdi_sio.c ftdi_determine_type (>= v6.3).
// 0x0200 (FT8U232AM, or an FT232BM with the iSerialNumber bug) and the SIO are
// refused rather than guessed; the HP/HA parts are not driven yet.
struct FtdiRevision {
  uint16_t bcd_device;
  ChipVariant variant;
};
constexpr std::array<FtdiRevision, 7> kFtdiRevisions = {{
    {0x0400, ChipVariant::ft232bm},
    {0x0500, ChipVariant::ft2232c},
    {0x0600, ChipVariant::ft232r},
    {0x0700, ChipVariant::ft2232h},
    {0x0800, ChipVariant::ft4232h},
    {0x0900, ChipVariant::ft232h},
    {0x1000, ChipVariant::ft_x},
}};

}  // namespace

const VariantInfo& variant_info(ChipVariant variant) {
  const auto index = static_cast<size_t>(variant);
  return kVariants[index < kVariants.size() ? index : 0];
}

std::span<const VariantInfo> all_variants() {
  return kVariants;
}

const VariantInfo* find_variant(const char* name) {
  if (name == nullptr) {
    return nullptr;
  }
  for (const VariantInfo& info : kVariants) {
    if (std::strcmp(info.name, name) == 0) {
      return &info;
    }
  }
  return nullptr;
}

const char* to_string(ChipFamily family) {
  switch (family) {
    case ChipFamily::cdc_acm:
      return "cdc-acm";
    case ChipFamily::ftdi:
      return "ftdi";
    case ChipFamily::vendor_bulk:
      return "vendor-bulk";
    case ChipFamily::cp210x:
      return "cp210x";
    case ChipFamily::ch34x:
      return "ch34x";
    case ChipFamily::pl2303:
      return "pl2303";
  }
  return "unknown";
}

const char* to_string(DriverClass driver_class) {
  return driver_class == DriverClass::serial ? "serial" : "usb-serial";
}

bool parse_driver_class(const char* text, DriverClass& out) {
  if (text == nullptr) {
    return false;
  }
  if (std::strcmp(text, "usb-serial") == 0) {
    out = DriverClass::usb_serial;
    return true;
  }
  if (std::strcmp(text, "serial") == 0) {
    out = DriverClass::serial;
    return true;
  }
  return false;
}

std::span<const DeviceEntry> device_entries() {
  return kDevices;
}
std::span<const ClassRule> class_rules() {
  return kClassRules;
}

const DeviceEntry* find_device(uint16_t vid, uint16_t pid) {
  for (const DeviceEntry& entry : kDevices) {
    if (entry.vid == vid && entry.pid == pid) {
      return &entry;
    }
  }
  return nullptr;
}

const ClassRule* find_class_rule(uint8_t interface_class, uint8_t interface_subclass) {
  for (const ClassRule& rule : kClassRules) {
    if (rule.interface_class == interface_class && rule.interface_subclass == interface_subclass) {
      return &rule;
    }
  }
  return nullptr;
}

Status resolve_variant(const DeviceEntry& entry, uint16_t bcd_device, ChipVariant& variant) {
  if (entry.rule == VariantRule::fixed) {
    variant = entry.variant;
    return Status::ok;
  }
  if (entry.rule == VariantRule::pl2303_by_descriptor) {
    return Status::unsupported;  // bcdDevice alone cannot tell: chips::pl2303::detect_variant
  }
  for (const FtdiRevision& revision : kFtdiRevisions) {
    if (revision.bcd_device == bcd_device) {
      // A revision whose channel count disagrees with the PID is not a device we know.
      if (variant_info(revision.variant).port_count != entry.port_count) {
        return Status::unsupported;
      }
      variant = revision.variant;
      return Status::ok;
    }
  }
  return Status::unsupported;
}

}  // namespace transport
