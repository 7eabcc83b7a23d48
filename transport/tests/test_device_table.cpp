// The device table: IDs, port counts and names of every entry, the class rule,
// and the bcdDevice -> FTDI generation decision.
//
// Sources of the expected values:
//   FTDI PIDs: Linux drivers/usb/serial/ftdi_sio_ids.h (FTDI_8U232AM_PID 0x6001,
//     FTDI_8U2232C_PID 0x6010, FTDI_4232H_PID 0x6011, FTDI_232H_PID 0x6014,
//     FTDI_FTX_PID 0x6015), VID 0x0403.
//   bcdDevice -> chip: Linux ftdi_sio.c ftdi_determine_type (>= 6.3), restated in
//     reference/usb-serial-protocols.md §2.1: 0x400 FT232BM, 0x500 FT2232C/D,
//     0x600 FT232R, 0x700 FT2232H, 0x800 FT4232H, 0x900 FT232H, 0x1000 FT-X;
//     0x200 FT8U232AM (or a BM with the iSerialNumber bug), < 0x200 SIO.
//   Channels: FT2232C/D and FT2232H 2, FT4232H 4, others 1 (FTDI datasheets).
//   Maximum rates: 3 MBd for AM/BM/R/2232C/FT-X, 12 MBd for the H series.
//   WCH CH9102F 0x1A86:0x55D4 is CDC-ACM (usb-serial-for-android device_filter.xml).
//   CDC-ACM: class 0x02, subclass 0x02 (USB CDC 1.2 §4.3).
#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "transport/device_table.hpp"

namespace {

using transport::ChipFamily;
using transport::ChipVariant;
using transport::DeviceEntry;
using transport::Status;
using transport::VariantRule;

constexpr uint16_t kFtdi = 0x0403;
constexpr uint16_t kWch = 0x1A86;

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
    EXPECT_EQ(e.first_interface, 0);  // FTDI port A and the CH9102F control interface
    ASSERT_NE(e.product, nullptr);
    EXPECT_STREQ(e.product, x.product);
    ASSERT_NE(e.source, nullptr);
    EXPECT_GT(std::strlen(e.source), 0u);
  }
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
  EXPECT_EQ(transport::find_device(kWch, 0x7523), nullptr);   // CH340: not driven
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
    if (e.rule == VariantRule::fixed) {
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
  EXPECT_EQ(transport::find_variant("ch340"), nullptr);
}

TEST(Variants, FamilyNames) {
  EXPECT_STREQ(transport::to_string(ChipFamily::cdc_acm), "cdc-acm");
  EXPECT_STREQ(transport::to_string(ChipFamily::ftdi), "ftdi");
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
