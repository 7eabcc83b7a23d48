#include "device_table.hpp"

#include <array>
#include <cstring>

namespace transport {
namespace {

// Maxima: FTDI datasheets via reference/usb-serial-protocols.md §2.4 ("AM/BM/R/2232C/FT-X
// 3 MBd; H-series 12 MBd"). A CDC-ACM function forwards dwDTERate; the device decides.
constexpr std::array<VariantInfo, kChipVariantCount> kVariants = {{
    {ChipVariant::cdc_acm, ChipFamily::cdc_acm, "cdc-acm", 0, 1, false},
    {ChipVariant::ft232bm, ChipFamily::ftdi, "ft232bm", 3'000'000, 1, false},
    {ChipVariant::ft232r, ChipFamily::ftdi, "ft232r", 3'000'000, 1, false},
    {ChipVariant::ft_x, ChipFamily::ftdi, "ft-x", 3'000'000, 1, false},
    {ChipVariant::ft2232c, ChipFamily::ftdi, "ft2232c", 3'000'000, 2, false},
    {ChipVariant::ft232h, ChipFamily::ftdi, "ft232h", 12'000'000, 1, true},
    {ChipVariant::ft2232h, ChipFamily::ftdi, "ft2232h", 12'000'000, 2, true},
    {ChipVariant::ft4232h, ChipFamily::ftdi, "ft4232h", 12'000'000, 4, true},
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

constexpr uint16_t kVendorFtdi = 0x0403;
constexpr uint16_t kVendorWch = 0x1A86;

constexpr std::array<DeviceEntry, 7> kDevices = {{
    // FTDI PIDs: Linux drivers/usb/serial/ftdi_sio_ids.h. The generation behind a PID is
    // told apart by bcdDevice (see kFtdiRevisions).
    {kVendorFtdi, 0x6001, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, ChipVariant::ft232r, 0, 1,
     "FTDI FT232BM/FT232R", "ftdi_sio_ids.h FTDI_8U232AM_PID"},
    {kVendorFtdi, 0x6010, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, ChipVariant::ft2232h, 0, 2,
     "FTDI FT2232C/D/H", "ftdi_sio_ids.h FTDI_8U2232C_PID"},
    {kVendorFtdi, 0x6011, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, ChipVariant::ft4232h, 0, 4,
     "FTDI FT4232H", "ftdi_sio_ids.h FTDI_4232H_PID"},
    {kVendorFtdi, 0x6014, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, ChipVariant::ft232h, 0, 1,
     "FTDI FT232H", "ftdi_sio_ids.h FTDI_232H_PID"},
    {kVendorFtdi, 0x6015, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, ChipVariant::ft_x, 0, 1,
     "FTDI FT-X", "ftdi_sio_ids.h FTDI_FTX_PID"},
    // WCH CH9102F is a class-compliant CDC-ACM device (control interface 0):
    // usb-serial-for-android device_filter.xml.
    {kVendorWch, 0x55D4, ChipFamily::cdc_acm, VariantRule::fixed, ChipVariant::cdc_acm, 0, 1,
     "WCH CH9102F", "usb-serial-for-android device_filter.xml", DriverClass::serial},
    // pid.codes' test PID, which the CDC-ACM simulator (test-harness/sim) presents.
    {0x1209, 0x0001, ChipFamily::cdc_acm, VariantRule::fixed, ChipVariant::cdc_acm, 0, 1,
     "pid.codes test CDC-ACM", "pid.codes 1209/0001 (test PID)", DriverClass::serial},
}};

// CDC class 0x02, subclass 0x02 (Abstract Control Model): USB CDC 1.2 §4.3.
constexpr std::array<ClassRule, 1> kClassRules = {{
    {0x02, 0x02, ChipFamily::cdc_acm, ChipVariant::cdc_acm, true, "CDC-ACM"},
}};

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
