// The device table: IDs, port counts and names of every entry, the class rule,
// and the bcdDevice -> FTDI generation decision.
//
// Sources of the expected values:
//   FTDI PIDs: Linux drivers/usb/serial/ftdi_sio_ids.h (FTDI_8U232AM_PID 0x6001,
//     FTDI_8U2232C_PID 0x6010, FTDI_4232H_PID 0x6011, FTDI_232H_PID 0x6014,
//     FTDI_FTX_PID 0x6015), VID 0x0403.
//   bcdDevice -> chip: Linux ftdi_sio.c ftdi_determine_type (>= 6.3), restated in
//     docs/usb-serial-reference.md §2.1: 0x400 FT232BM, 0x500 FT2232C/D,
//     0x600 FT232R, 0x700 FT2232H, 0x800 FT4232H, 0x900 FT232H, 0x1000 FT-X;
//     0x200 FT8U232AM (or a BM with the iSerialNumber bug), < 0x200 SIO.
//   Channels: FT2232C/D and FT2232H 2, FT4232H 4, others 1 (FTDI datasheets).
//   Maximum rates: 3 MBd for AM/BM/R/2232C/FT-X, 12 MBd for the H series.
//   WCH CH9102F 0x1A86:0x55D4 is CDC-ACM (usb-serial-for-android device_filter.xml).
//   CDC-ACM: class 0x02, subclass 0x02 (USB CDC 1.2 §4.3).
//   vendor-bulk: no chip, so no rate limit; its port count is per device (devices.ini).
//   TETRA radio PEI 0x0CAD:0x9016: interfaces 0 and 1, class 0xFF, one bulk pair each,
//     tty base name "tetra-pei-" (the radio's descriptors, as devices.ini records them).
//   Silicon Labs VID 0x10C4: Linux cp210x.c id_table (0xEA60 and 0xEA63 single-port parts,
//     0xEA70 / 0xEA7A CP2105 with 2 interfaces, 0xEA71 / 0xEA7B CP2108 with 4); maxima
//     per part from the CP210x data sheets and AN205 (921600 where the AN205 table applies).
//   WCH CH34x: Linux drivers/usb/serial/ch341.c id_table (1A86:7523 CH340, 1A86:7522 CH340K,
//     1A86:5523 CH341A in UART mode, 4348:5523 the same under WCH's former vendor ID);
//     50 Bd..2 MBd per the CH340 and CH341 data sheets.
//   Prolific: Linux drivers/usb/serial/pl2303.h (PL2303_PRODUCT_ID 0x2303, _TB 0x2304, _GC
//     0x23A3 .. _GS 0x23F3, _ZTEK 0xE1F1; ATEN_VENDOR_ID 0x0557, ATEN_PRODUCT_ID 0x2008), and
//     0x067B:0xA100 from the list of Apple's AppleUSBPLCOM; maxima pl2303.c pl2303_type_data.
#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "transport/device_table.hpp"
#include "transport/tty_name.hpp"

namespace {

using transport::ChipFamily;
using transport::ChipVariant;
using transport::DeviceEntry;
using transport::Status;
using transport::VariantRule;

constexpr uint16_t kFtdi = 0x0403;
constexpr uint16_t kWch = 0x1A86;
constexpr uint16_t kRadio = 0x0CAD;
constexpr uint16_t kSilabs = 0x10C4;
constexpr uint16_t kProlific = 0x067B;
constexpr uint16_t kAten = 0x0557;

struct ExpectedEntry {
  uint16_t vid;
  uint16_t pid;
  ChipFamily family;
  VariantRule rule;
  uint8_t port_count;
  const char* product;
};

constexpr ExpectedEntry kExpected[] = {
    {kFtdi, 0x6001, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, 1, "FTDI FT232BM/FT232R"},
    {kFtdi, 0x6010, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, 2, "FTDI FT2232C/D/H"},
    {kFtdi, 0x6011, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, 4, "FTDI FT4232H"},
    {kFtdi, 0x6014, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, 1, "FTDI FT232H"},
    {kFtdi, 0x6015, ChipFamily::ftdi, VariantRule::ftdi_by_bcd, 1, "FTDI FT-X"},
    {kWch, 0x55D4, ChipFamily::cdc_acm, VariantRule::fixed, 1, "WCH CH9102F"},
    {kRadio, 0x9016, ChipFamily::vendor_bulk, VariantRule::fixed, 2, "TETRA radio PEI"},
    {kSilabs, 0xEA60, ChipFamily::cp210x, VariantRule::fixed, 1, "Silicon Labs CP210x"},
    {kSilabs, 0xEA63, ChipFamily::cp210x, VariantRule::fixed, 1,
     "Silicon Labs CP210x (Windows Update ID)"},
    {kSilabs, 0xEA70, ChipFamily::cp210x, VariantRule::fixed, 2, "Silicon Labs CP2105"},
    {kSilabs, 0xEA71, ChipFamily::cp210x, VariantRule::fixed, 4, "Silicon Labs CP2108"},
    {kSilabs, 0xEA7A, ChipFamily::cp210x, VariantRule::fixed, 2,
     "Silicon Labs CP2105 (Windows Update ID)"},
    {kSilabs, 0xEA7B, ChipFamily::cp210x, VariantRule::fixed, 4,
     "Silicon Labs CP2108 (Windows Update ID)"},
    {kWch, 0x7523, ChipFamily::ch34x, VariantRule::fixed, 1, "WCH CH340"},
    {kWch, 0x7522, ChipFamily::ch34x, VariantRule::fixed, 1, "WCH CH340K"},
    {kWch, 0x5523, ChipFamily::ch34x, VariantRule::fixed, 1, "WCH CH341A"},
    {0x4348, 0x5523, ChipFamily::ch34x, VariantRule::fixed, 1, "WinChipHead CH341"},
    {kProlific, 0x2303, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303"},
    {kProlific, 0x2304, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303TB"},
    {kProlific, 0x23A3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303GC"},
    {kProlific, 0x23B3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303GB"},
    {kProlific, 0x23C3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303GT"},
    {kProlific, 0x23D3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303GL"},
    {kProlific, 0x23E3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303GE"},
    {kProlific, 0x23F3, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303GS"},
    {kProlific, 0xE1F1, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1, "Z-TEK PL2303"},
    {kProlific, 0xA100, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1,
     "Prolific PL2303 (A100)"},
    {kAten, 0x2008, ChipFamily::pl2303, VariantRule::pl2303_by_descriptor, 1, "ATEN UC-232A"},
    {0x1209, 0x0001, ChipFamily::cdc_acm, VariantRule::fixed, 1, "pid.codes test CDC-ACM"},
};

TEST(DeviceTable, EveryEntry) {
  const auto entries = transport::device_entries();
  ASSERT_EQ(entries.size(), std::size(kExpected));
  for (size_t i = 0; i < entries.size(); ++i) {
    const DeviceEntry& e = entries[i];
    const ExpectedEntry& x = kExpected[i];
    SCOPED_TRACE(x.product);
    EXPECT_EQ(e.vid, x.vid);
    EXPECT_EQ(e.pid, x.pid);
    EXPECT_EQ(e.family, x.family);
    EXPECT_EQ(e.rule, x.rule);
    EXPECT_EQ(e.port_count, x.port_count);
    EXPECT_EQ(e.first_interface, 0);  // port A, CH9102F control interface, PEI 0, UART 0
    EXPECT_EQ(e.first_interface, 0);  // FTDI port A, the CH9102F control interface, PL2303
    ASSERT_NE(e.product, nullptr);
    EXPECT_STREQ(e.product, x.product);
    ASSERT_NE(e.source, nullptr);
    EXPECT_GT(std::strlen(e.source), 0u);
  }
}

// devices.ini gives a tty_base_name only where a device needs its own (the radio); every
// other entry gets the default, the same one class-rule ports use.
TEST(DeviceTable, BaseNamesAndDriverClasses) {
  for (const DeviceEntry& e : transport::device_entries()) {
    SCOPED_TRACE(e.product);
    ASSERT_NE(e.tty_base_name, nullptr);
    EXPECT_STREQ(e.tty_base_name, e.vid == kRadio ? "tetra-pei-" : transport::kTtyBaseName);
    // CDC-ACM needs the IOUserSerial class (docs/cdc-acm.md); every other entry today
    // uses the IOUserUSBSerial one.
    EXPECT_EQ(e.driver_class, e.family == ChipFamily::cdc_acm ? transport::DriverClass::serial
                                                              : transport::DriverClass::usb_serial);
  }
}

TEST(DeviceTable, TheRadioIsAVendorBulkDevice) {
  const DeviceEntry* radio = transport::find_device(kRadio, 0x9016);
  ASSERT_NE(radio, nullptr);
  EXPECT_EQ(radio->variant, ChipVariant::vendor_bulk);
  ChipVariant v = ChipVariant::cdc_acm;
  EXPECT_EQ(transport::resolve_variant(*radio, 0x0100, v), Status::ok);
  EXPECT_EQ(v, ChipVariant::vendor_bulk);
}

TEST(DeviceTable, FindDeviceForEveryEntry) {
  for (const ExpectedEntry& x : kExpected) {
    const DeviceEntry* e = transport::find_device(x.vid, x.pid);
    ASSERT_NE(e, nullptr) << x.product;
    EXPECT_EQ(e->vid, x.vid);
    EXPECT_EQ(e->pid, x.pid);
    EXPECT_STREQ(e->product, x.product);
  }
}

TEST(DeviceTable, UnknownIdsAreNotFound) {
  EXPECT_EQ(transport::find_device(kFtdi, 0x6006), nullptr);  // a PID we do not list
  EXPECT_EQ(transport::find_device(kFtdi, 0x0000), nullptr);
  EXPECT_EQ(transport::find_device(kWch, 0x6001), nullptr);   // right PID, wrong VID
  EXPECT_EQ(transport::find_device(0x6001, kFtdi), nullptr);  // swapped
  EXPECT_EQ(transport::find_device(kWch, 0xE523), nullptr);   // CH330: WCH's driver only
  EXPECT_EQ(transport::find_device(0x0000, 0x0000), nullptr);
  EXPECT_EQ(transport::find_device(0xFFFF, 0xFFFF), nullptr);
}

TEST(DeviceTable, IdsAreUnique) {
  std::set<uint32_t> seen;
  for (const DeviceEntry& e : transport::device_entries()) {
    EXPECT_TRUE(seen.insert((uint32_t{e.vid} << 16) | e.pid).second) << std::hex << e.pid;
  }
}

TEST(DeviceTable, FixedEntriesNameAVariantOfTheirFamily) {
  for (const DeviceEntry& e : transport::device_entries()) {
    const auto& info = transport::variant_info(e.variant);
    EXPECT_EQ(info.family, e.family) << e.product;
    // A vendor bulk device has as many ports as devices.ini says; a chip has its channels.
    if (e.rule == VariantRule::fixed && e.family != ChipFamily::vendor_bulk) {
      EXPECT_EQ(info.port_count, e.port_count) << e.product;
    }
  }
}

// ------------------------------------------------------------ class rules

TEST(ClassRules, CdcAcmOnly) {
  const auto rules = transport::class_rules();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].interface_class, 0x02);
  EXPECT_EQ(rules[0].interface_subclass, 0x02);
  EXPECT_EQ(rules[0].family, ChipFamily::cdc_acm);
  EXPECT_EQ(rules[0].variant, ChipVariant::cdc_acm);
  EXPECT_TRUE(rules[0].development_only);  // needs idVendor "*" in the entitlement
  EXPECT_STREQ(rules[0].product, "CDC-ACM");
}

TEST(ClassRules, FindClassRule) {
  const transport::ClassRule* acm = transport::find_class_rule(0x02, 0x02);
  ASSERT_NE(acm, nullptr);
  EXPECT_EQ(acm, &transport::class_rules()[0]);
  struct Miss {
    uint8_t cls, subclass;
  };
  constexpr Miss kMisses[] = {
      {0x02, 0x00}, {0x02, 0x01},  // CDC direct line, not ACM
      {0x02, 0x06},                // CDC ECM (Ethernet)
      {0x02, 0x0D},                // CDC NCM
      {0x0A, 0x00},                // CDC data: never a port of its own
      {0xFF, 0xFF},                // vendor (FTDI)
      {0x00, 0x00}, {0x03, 0x00},  // HID
      {0x02, 0xFF},
  };
  for (const Miss& m : kMisses) {
    EXPECT_EQ(transport::find_class_rule(m.cls, m.subclass), nullptr)
        << std::hex << int{m.cls} << "/" << int{m.subclass};
  }
}

// ------------------------------------------------------------ resolve_variant

// What each FTDI generation resolves to on each FTDI PID: the bcdDevice names
// the chip, and the PID's channel count must agree with it.
TEST(ResolveVariant, EveryFtdiRevisionOnEveryFtdiPid) {
  struct Revision {
    uint16_t bcd;
    ChipVariant variant;
    uint8_t channels;
  };
  constexpr Revision kRevisions[] = {
      {0x0400, ChipVariant::ft232bm, 1}, {0x0500, ChipVariant::ft2232c, 2},
      {0x0600, ChipVariant::ft232r, 1},  {0x0700, ChipVariant::ft2232h, 2},
      {0x0800, ChipVariant::ft4232h, 4}, {0x0900, ChipVariant::ft232h, 1},
      {0x1000, ChipVariant::ft_x, 1},
  };
  size_t resolved = 0;
  for (const ExpectedEntry& x : kExpected) {
    if (x.family != ChipFamily::ftdi) {
      continue;
    }
    const DeviceEntry* e = transport::find_device(x.vid, x.pid);
    ASSERT_NE(e, nullptr);
    for (const Revision& r : kRevisions) {
      ChipVariant v = ChipVariant::cdc_acm;
      const Status s = transport::resolve_variant(*e, r.bcd, v);
      if (r.channels == x.port_count) {
        EXPECT_EQ(s, Status::ok) << std::hex << x.pid << " bcd " << r.bcd;
        EXPECT_EQ(v, r.variant) << std::hex << x.pid << " bcd " << r.bcd;
        ++resolved;
      } else {
        EXPECT_EQ(s, Status::unsupported) << std::hex << x.pid << " bcd " << r.bcd;
      }
    }
  }
  // Single-channel PIDs (0x6001, 0x6014, 0x6015) x 4 single-channel chips,
  // 0x6010 x 2 dual-channel chips, 0x6011 x FT4232H.
  EXPECT_EQ(resolved, 3u * 4u + 2u + 1u);
}

TEST(ResolveVariant, TheUsualPairings) {
  struct Case {
    uint16_t pid, bcd;
    ChipVariant variant;
  };
  constexpr Case kCases[] = {
      {0x6001, 0x0400, ChipVariant::ft232bm}, {0x6001, 0x0600, ChipVariant::ft232r},
      {0x6010, 0x0500, ChipVariant::ft2232c}, {0x6010, 0x0700, ChipVariant::ft2232h},
      {0x6011, 0x0800, ChipVariant::ft4232h}, {0x6014, 0x0900, ChipVariant::ft232h},
      {0x6015, 0x1000, ChipVariant::ft_x},
  };
  for (const Case& c : kCases) {
    ChipVariant v = ChipVariant::cdc_acm;
    EXPECT_EQ(transport::resolve_variant(*transport::find_device(kFtdi, c.pid), c.bcd, v),
              Status::ok);
    EXPECT_EQ(v, c.variant);
  }
}

TEST(ResolveVariant, RefusedRevisions) {
  // 0x0200: FT8U232AM, or an FT232BM hiding behind the BM iSerialNumber bug; never guessed.
  // < 0x0200: SIO. 0x2800..0x3600: the HP/HA parts, not driven yet. Anything else unknown.
  for (const uint16_t bcd : {0x0000, 0x0100, 0x0200, 0x0300, 0x0401, 0x0601, 0x0A00, 0x1001, 0x2800,
                             0x3000, 0x3600, 0xFFFF}) {
    for (const ExpectedEntry& x : kExpected) {
      if (x.family != ChipFamily::ftdi) {
        continue;
      }
      ChipVariant v = ChipVariant::cdc_acm;
      EXPECT_EQ(transport::resolve_variant(*transport::find_device(x.vid, x.pid), bcd, v),
                Status::unsupported)
          << std::hex << x.pid << " bcd " << bcd;
    }
  }
}

TEST(ResolveVariant, Cp210xEntriesNameTheirPartOrTheGenericSinglePortVariant) {
  struct Case {
    uint16_t pid;
    ChipVariant variant;
  };
  constexpr Case kCases[] = {
      {0xEA60, ChipVariant::cp210x}, {0xEA63, ChipVariant::cp210x}, {0xEA70, ChipVariant::cp2105},
      {0xEA7A, ChipVariant::cp2105}, {0xEA71, ChipVariant::cp2108}, {0xEA7B, ChipVariant::cp2108},
  };
  for (const Case& c : kCases) {
    const DeviceEntry* e = transport::find_device(kSilabs, c.pid);
    ASSERT_NE(e, nullptr) << std::hex << c.pid;
    ChipVariant v = ChipVariant::cdc_acm;
    EXPECT_EQ(transport::resolve_variant(*e, 0x0100, v), Status::ok);
    EXPECT_EQ(v, c.variant) << std::hex << c.pid;
  }
  EXPECT_EQ(transport::find_device(kSilabs, 0xEA80), nullptr);  // CP2110: HID, not ours
}

// A PL2303's type needs bcdUSB, bDeviceClass and bMaxPacketSize0 besides bcdDevice
// (chips::pl2303::detect_variant): resolve_variant refuses rather than guesses.
TEST(ResolveVariant, Pl2303EntriesAreNotDecidedByBcdDeviceAlone) {
  for (const ExpectedEntry& x : kExpected) {
    if (x.family != ChipFamily::pl2303) {
      continue;
    }
    for (const uint16_t bcd : {0x0100, 0x0300, 0x0400, 0x0500}) {
      ChipVariant v = ChipVariant::cdc_acm;
      EXPECT_EQ(transport::resolve_variant(*transport::find_device(x.vid, x.pid), bcd, v),
                Status::unsupported);
      EXPECT_EQ(v, ChipVariant::cdc_acm);
    }
  }
}

TEST(ResolveVariant, FixedEntryIgnoresBcdDevice) {
  const DeviceEntry* ch9102 = transport::find_device(kWch, 0x55D4);
  ASSERT_NE(ch9102, nullptr);
  for (const uint16_t bcd : {0x0000, 0x0200, 0x0443, 0xFFFF}) {
    ChipVariant v = ChipVariant::ft232r;
    EXPECT_EQ(transport::resolve_variant(*ch9102, bcd, v), Status::ok);
    EXPECT_EQ(v, ChipVariant::cdc_acm);
  }
}

// ------------------------------------------------------------ variants

TEST(Variants, InfoForEveryVariant) {
  struct Expected {
    ChipVariant variant;
    ChipFamily family;
    const char* name;
    uint32_t max_baud;
    uint8_t ports;
    bool high_speed;
  };
  constexpr Expected kVariants[] = {
      {ChipVariant::cdc_acm, ChipFamily::cdc_acm, "cdc-acm", 0, 1, false},
      {ChipVariant::ft232bm, ChipFamily::ftdi, "ft232bm", 3'000'000, 1, false},
      {ChipVariant::ft232r, ChipFamily::ftdi, "ft232r", 3'000'000, 1, false},
      {ChipVariant::ft_x, ChipFamily::ftdi, "ft-x", 3'000'000, 1, false},
      {ChipVariant::ft2232c, ChipFamily::ftdi, "ft2232c", 3'000'000, 2, false},
      {ChipVariant::ft232h, ChipFamily::ftdi, "ft232h", 12'000'000, 1, true},
      {ChipVariant::ft2232h, ChipFamily::ftdi, "ft2232h", 12'000'000, 2, true},
      {ChipVariant::ft4232h, ChipFamily::ftdi, "ft4232h", 12'000'000, 4, true},
      {ChipVariant::vendor_bulk, ChipFamily::vendor_bulk, "vendor-bulk", 0, 1, false},
      {ChipVariant::cp210x, ChipFamily::cp210x, "cp210x", 921'600, 1, false},
      {ChipVariant::cp2102, ChipFamily::cp210x, "cp2102", 921'600, 1, false},
      {ChipVariant::cp2102n, ChipFamily::cp210x, "cp2102n", 3'000'000, 1, false},
      {ChipVariant::cp2104, ChipFamily::cp210x, "cp2104", 2'000'000, 1, false},
      {ChipVariant::cp2105, ChipFamily::cp210x, "cp2105", 2'000'000, 2, false},
      {ChipVariant::cp2108, ChipFamily::cp210x, "cp2108", 2'000'000, 4, false},
      {ChipVariant::ch340, ChipFamily::ch34x, "ch340", 2'000'000, 1, false},
      {ChipVariant::ch341a, ChipFamily::ch34x, "ch341a", 2'000'000, 1, false},
      {ChipVariant::pl2303_h, ChipFamily::pl2303, "pl2303-h", 1'228'800, 1, false},
      {ChipVariant::pl2303_hx, ChipFamily::pl2303, "pl2303-hx", 6'000'000, 1, false},
      {ChipVariant::pl2303_hxd, ChipFamily::pl2303, "pl2303-hxd", 12'000'000, 1, false},
      {ChipVariant::pl2303_ta, ChipFamily::pl2303, "pl2303-ta", 6'000'000, 1, false},
      {ChipVariant::pl2303_tb, ChipFamily::pl2303, "pl2303-tb", 12'000'000, 1, false},
      {ChipVariant::pl2303_hxn, ChipFamily::pl2303, "pl2303-hxn", 12'000'000, 1, false},
  };
  ASSERT_EQ(std::size(kVariants), static_cast<size_t>(transport::kChipVariantCount));
  for (const Expected& x : kVariants) {
    const transport::VariantInfo& info = transport::variant_info(x.variant);
    SCOPED_TRACE(x.name);
    EXPECT_EQ(info.variant, x.variant);
    EXPECT_EQ(info.family, x.family);
    EXPECT_STREQ(info.name, x.name);
    EXPECT_EQ(info.max_baud, x.max_baud);
    EXPECT_EQ(info.port_count, x.ports);
    EXPECT_EQ(info.high_speed, x.high_speed);
  }
}

TEST(Variants, LookupsAgree) {
  const auto all = transport::all_variants();
  ASSERT_EQ(all.size(), static_cast<size_t>(transport::kChipVariantCount));
  std::set<std::string> names;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto v = static_cast<ChipVariant>(i);
    const transport::VariantInfo& info = transport::variant_info(v);
    EXPECT_EQ(&info, &all[i]);
    EXPECT_EQ(info.variant, v);
    EXPECT_EQ(transport::find_variant(info.name), &info);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
  }
}

TEST(Variants, UnknownNames) {
  EXPECT_EQ(transport::find_variant(nullptr), nullptr);
  EXPECT_EQ(transport::find_variant(""), nullptr);
  EXPECT_EQ(transport::find_variant("FT232R"), nullptr);  // names are lower case
  EXPECT_EQ(transport::find_variant("ft232"), nullptr);
  EXPECT_EQ(transport::find_variant("ft232r "), nullptr);
  EXPECT_EQ(transport::find_variant("cdc_acm"), nullptr);
  EXPECT_EQ(transport::find_variant("ch341"), nullptr);  // the UART-mode part is "ch341a"
  EXPECT_EQ(transport::find_variant("CH340"), nullptr);
  EXPECT_EQ(transport::find_variant("pl2303"), nullptr);  // the family, not a variant
  EXPECT_EQ(transport::find_variant("pl2303_hx"), nullptr);
}

TEST(Variants, FamilyNames) {
  EXPECT_STREQ(transport::to_string(ChipFamily::cdc_acm), "cdc-acm");
  EXPECT_STREQ(transport::to_string(ChipFamily::ftdi), "ftdi");
  EXPECT_STREQ(transport::to_string(ChipFamily::vendor_bulk), "vendor-bulk");
  EXPECT_STREQ(transport::to_string(ChipFamily::cp210x), "cp210x");
  EXPECT_STREQ(transport::to_string(ChipFamily::ch34x), "ch34x");
  EXPECT_STREQ(transport::to_string(ChipFamily::pl2303), "pl2303");
  EXPECT_STREQ(transport::to_string(static_cast<ChipFamily>(7)), "unknown");
}

// ------------------------------------------------------------------ driver classes

TEST(DriverClasses, CdcAcmEntriesNameTheSerialClassAndTheRestTheUsbSerialOne) {
  for (const DeviceEntry& e : transport::device_entries()) {
    SCOPED_TRACE(e.product);
    EXPECT_EQ(e.driver_class, e.family == ChipFamily::cdc_acm ? transport::DriverClass::serial
                                                              : transport::DriverClass::usb_serial);
    // Every entry gets a personality from the class it names.
    EXPECT_NE(transport::personality_level(e.family, e.driver_class), transport::MatchLevel::none);
  }
}

TEST(DriverClasses, WhereEachClassMatchesEachFamily) {
  using transport::DriverClass;
  using transport::MatchLevel;
  using transport::personality_level;
  EXPECT_EQ(personality_level(ChipFamily::ftdi, DriverClass::usb_serial), MatchLevel::interface);
  EXPECT_EQ(personality_level(ChipFamily::ftdi, DriverClass::serial), MatchLevel::interface);
  // IOUserUSBSerial reaches only the interface it matched; CDC-ACM's bulk pair is
  // in the data interface, so only the class that opens the device can drive it.
  EXPECT_EQ(personality_level(ChipFamily::cdc_acm, DriverClass::usb_serial), MatchLevel::none);
  EXPECT_EQ(personality_level(ChipFamily::cdc_acm, DriverClass::serial), MatchLevel::device);
  EXPECT_TRUE(transport::class_rule_matchable(ChipFamily::ftdi));
  EXPECT_FALSE(transport::class_rule_matchable(ChipFamily::cdc_acm));
}

TEST(DriverClasses, NamesRoundTrip) {
  using transport::DriverClass;
  DriverClass parsed = DriverClass::usb_serial;
  EXPECT_TRUE(transport::parse_driver_class("serial", parsed));
  EXPECT_EQ(parsed, DriverClass::serial);
  EXPECT_STREQ(transport::to_string(parsed), "serial");
  EXPECT_TRUE(transport::parse_driver_class("usb-serial", parsed));
  EXPECT_EQ(parsed, DriverClass::usb_serial);
  EXPECT_STREQ(transport::to_string(parsed), "usb-serial");
  EXPECT_FALSE(transport::parse_driver_class("usb_serial", parsed));
  EXPECT_FALSE(transport::parse_driver_class("", parsed));
  EXPECT_FALSE(transport::parse_driver_class(nullptr, parsed));
}

}  // namespace
