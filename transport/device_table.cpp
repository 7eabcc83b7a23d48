#include "device_table.hpp"

#include <array>
#include <cstring>

namespace transport {
namespace {

// Maxima: FTDI datasheets via reference/usb-serial-protocols.md §2.4 ("AM/BM/R/2232C/FT-X
// 3 MBd; H-series 12 MBd"). A CDC-ACM function forwards dwDTERate; the device decides.
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

constexpr uint16_t kVendorFtdi = 0x0403;
constexpr uint16_t kVendorWch = 0x1A86;
constexpr uint16_t kVendorProlific = 0x067B;
constexpr uint16_t kVendorAten = 0x0557;

constexpr std::array<DeviceEntry, 17> kDevices = {{
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
     "WCH CH9102F", "usb-serial-for-android device_filter.xml"},
    // Prolific PL2303: one interface (0) per device. Which type sits behind an ID is decided
    // from the device descriptor and, for TA/TB, a vendor read at open (chips/pl2303.hpp).
    // IDs: Linux drivers/usb/serial/pl2303.h. Apple's in-box AppleUSBPLCOM claims five of
    // them (067B:2303, 067B:2304, 067B:A100, 067B:E1F1, 0557:2008, as listed by Baudrun's
    // docs/ADAPTERS.md); our personalities outrank it (docs/chips/pl2303.md).
    {kVendorProlific, 0x2303, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hx, 0, 1, "Prolific PL2303", "pl2303.h PL2303_PRODUCT_ID"},
    {kVendorProlific, 0x2304, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_tb, 0, 1, "Prolific PL2303TB", "pl2303.h PL2303_PRODUCT_ID_TB"},
    {kVendorProlific, 0x23A3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hxn, 0, 1, "Prolific PL2303GC", "pl2303.h PL2303_PRODUCT_ID_GC"},
    {kVendorProlific, 0x23B3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hxn, 0, 1, "Prolific PL2303GB", "pl2303.h PL2303_PRODUCT_ID_GB"},
    {kVendorProlific, 0x23C3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hxn, 0, 1, "Prolific PL2303GT", "pl2303.h PL2303_PRODUCT_ID_GT"},
    {kVendorProlific, 0x23D3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hxn, 0, 1, "Prolific PL2303GL", "pl2303.h PL2303_PRODUCT_ID_GL"},
    {kVendorProlific, 0x23E3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hxn, 0, 1, "Prolific PL2303GE", "pl2303.h PL2303_PRODUCT_ID_GE"},
    {kVendorProlific, 0x23F3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hxn, 0, 1, "Prolific PL2303GS", "pl2303.h PL2303_PRODUCT_ID_GS"},
    {kVendorProlific, 0xE1F1, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hx, 0, 1, "Z-TEK PL2303", "pl2303.h PL2303_PRODUCT_ID_ZTEK"},
    {kVendorProlific, 0xA100, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hx, 0, 1, "Prolific PL2303 (A100)",
     "Prolific's Android PL2303 driver ID list; AppleUSBPLCOM"},
    // Linux flags this ID with its endpoint hack (interrupt IN on interface 0, bulk pipes on
    // another interface); such a unit is refused by identify_port, a one-interface unit works.
    {kVendorAten, 0x2008, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor,
     ChipVariant::pl2303_hx, 0, 1, "ATEN UC-232A", "pl2303.h ATEN_PRODUCT_ID"},
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
    case ChipFamily::pl2303:
      return "pl2303";
  }
  return "unknown";
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
