// find_cdc_acm_port: every acm_probe fallback (Linux drivers/usb/class/cdc-acm.c,
// docs/usb-serial-reference.md §1.1), each from a hand-written descriptor set.
//
// Descriptor layouts (USB 2.0 §9.6): configuration 9 bytes (wTotalLength at 2),
// interface 9 bytes, endpoint 7 bytes (bEndpointAddress bit 7 = IN, bmAttributes
// 2 = bulk, 3 = interrupt), IAD 8 bytes; CDC functional descriptors (CDC 1.2
// §5.2.3, PSTN 1.20 §5.3): type 0x24, subtype 0x00 header, 0x01 call management
// (bmCapabilities, bDataInterface), 0x02 ACM (bmCapabilities), 0x06 union
// (bControlInterface, bSubordinateInterface0).
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "transport/chips/cdc_acm.hpp"
#include "transport/descriptors.hpp"

namespace {

using transport::Status;
using transport::chips::CdcAcmFallbacks;
using transport::chips::CdcAcmPort;
using transport::chips::find_cdc_acm_port;
namespace usb = transport::usb;

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kBulk = 0x02;
constexpr uint8_t kInterrupt = 0x03;

// Writes descriptors one by one; build() puts the configuration header in front.
class ConfigBuilder {
 public:
  ConfigBuilder& interface(uint8_t number, uint8_t alternate, uint8_t endpoints, uint8_t cls,
                           uint8_t subclass, uint8_t protocol) {
    add({9, 0x04, number, alternate, endpoints, cls, subclass, protocol, 0});
    ++interfaces_;
    return *this;
  }
  ConfigBuilder& cdc_interface(uint8_t number, uint8_t endpoints) {
    return interface(number, 0, endpoints, 0x02, 0x02, 0x01);
  }
  ConfigBuilder& data_interface(uint8_t number, uint8_t endpoints) {
    return interface(number, 0, endpoints, 0x0A, 0x00, 0x00);
  }
  ConfigBuilder& endpoint(uint8_t address, uint8_t type, uint16_t max_packet,
                          uint8_t interval = 0) {
    add({7, 0x05, address, type, static_cast<uint8_t>(max_packet),
         static_cast<uint8_t>(max_packet >> 8), interval});
    return *this;
  }
  ConfigBuilder& iad(uint8_t first, uint8_t count) {
    add({8, 0x0B, first, count, 0x02, 0x02, 0x01, 0});
    return *this;
  }
  ConfigBuilder& cdc_header() {
    add({5, 0x24, 0x00, 0x10, 0x01});  // bcdCDC 1.10
    return *this;
  }
  ConfigBuilder& call_management(uint8_t caps, uint8_t data_interface) {
    add({5, 0x24, 0x01, caps, data_interface});
    return *this;
  }
  ConfigBuilder& acm(uint8_t caps) {
    add({4, 0x24, 0x02, caps});
    return *this;
  }
  ConfigBuilder& cdc_union(uint8_t control, uint8_t subordinate) {
    add({5, 0x24, 0x06, control, subordinate});
    return *this;
  }
  Bytes build() const {
    const size_t total = 9 + body_.size();
    Bytes out(total);
    const uint8_t header[9] = {9,
                               0x02,
                               static_cast<uint8_t>(total),
                               static_cast<uint8_t>(total >> 8),
                               interfaces_,
                               1,
                               0,
                               0x80,
                               50};
    std::copy(std::begin(header), std::end(header), out.begin());
    std::copy(body_.begin(), body_.end(), out.begin() + 9);
    return out;
  }

 private:
  void add(std::initializer_list<uint8_t> bytes) { body_.insert(body_.end(), bytes); }
  Bytes body_;
  uint8_t interfaces_ = 0;
};

usb::Configuration parse(const Bytes& bytes) {
  usb::Configuration config;
  EXPECT_EQ(usb::parse_configuration(bytes, config), Status::ok);
  return config;
}

// The classic two-interface function: control 0 (header, call management, ACM,
// union, interrupt IN 0x83), data 1 (bulk OUT 0x02 and bulk IN 0x81).
ConfigBuilder standard_function(uint8_t acm_caps = 0x06) {
  ConfigBuilder b;
  b.iad(0, 2)
      .cdc_interface(0, 1)
      .cdc_header()
      .call_management(0x00, 1)
      .acm(acm_caps)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 16, 10)
      .data_interface(1, 2)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  return b;
}

CdcAcmPort find(const Bytes& bytes, uint8_t matched, Status expected = Status::ok) {
  const usb::Configuration config = parse(bytes);
  CdcAcmPort port;
  port.control_interface = 0xEE;  // shows whether a failure leaves anything behind
  EXPECT_EQ(find_cdc_acm_port(config, matched, port), expected);
  if (expected != Status::ok) {
    EXPECT_EQ(port.control_interface, 0);
    EXPECT_EQ(port.data_in.address, 0);
    EXPECT_EQ(port.data_out.address, 0);
    EXPECT_FALSE(port.has_notification);
    EXPECT_EQ(port.fallbacks, CdcAcmFallbacks{});
  }
  return port;
}

TEST(CdcAcmPort, UnionNamesControlAndData) {
  const CdcAcmPort port = find(standard_function().build(), 0);
  EXPECT_EQ(port.control_interface, 0);
  EXPECT_EQ(port.data_interface, 1);
  EXPECT_EQ(port.data_in.address, 0x81);
  EXPECT_EQ(port.data_in.max_packet, 64);
  EXPECT_EQ(port.data_out.address, 0x02);
  EXPECT_TRUE(port.has_notification);
  EXPECT_EQ(port.notification.address, 0x83);
  EXPECT_EQ(port.notification.max_packet, 16);
  EXPECT_EQ(port.acm_capabilities, 0x06);
  EXPECT_EQ(port.fallbacks, CdcAcmFallbacks{});

  const transport::PortConfig config = transport::chips::make_port_config(port);
  EXPECT_EQ(config.variant, transport::ChipVariant::cdc_acm);
  EXPECT_EQ(config.interface_number, 0);
  EXPECT_EQ(config.data_interface, 1);
  EXPECT_EQ(config.bulk_in_max_packet, 64);
  EXPECT_EQ(config.interrupt_max_packet, 16);
  EXPECT_EQ(config.acm_capabilities, 0x06);
}

TEST(CdcAcmPort, CompositeDeviceWithTheFunctionAtInterfacesTwoAndThree) {
  ConfigBuilder b;
  b.interface(0, 0, 1, 0x03, 0x01, 0x01)  // HID keyboard
      .endpoint(0x81, kInterrupt, 8, 10)
      .interface(1, 0, 2, 0xFF, 0xFF, 0xFF)  // vendor bulk pair
      .endpoint(0x82, kBulk, 512)
      .endpoint(0x03, kBulk, 512)
      .iad(2, 2)
      .cdc_interface(2, 1)
      .cdc_header()
      .call_management(0x03, 3)
      .acm(0x02)
      .cdc_union(2, 3)
      .endpoint(0x86, kInterrupt, 10, 8)
      .data_interface(3, 2)
      .endpoint(0x05, kBulk, 512)
      .endpoint(0x85, kBulk, 512);
  const Bytes bytes = b.build();
  const CdcAcmPort port = find(bytes, 2);
  EXPECT_EQ(port.control_interface, 2);
  EXPECT_EQ(port.data_interface, 3);
  EXPECT_EQ(port.data_in.address, 0x85);
  EXPECT_EQ(port.data_out.address, 0x05);
  EXPECT_EQ(port.notification.address, 0x86);
  EXPECT_EQ(port.acm_capabilities, 0x02);
  EXPECT_TRUE(port.fallbacks.out_listed_first);
  // Neither the data interface, the HID nor the vendor interface is a port.
  find(bytes, 3, Status::malformed);
  find(bytes, 0, Status::malformed);
  find(bytes, 1, Status::malformed);
  find(bytes, 4, Status::invalid_argument);
}

TEST(CdcAcmPort, CallManagementWhenThereIsNoUnion) {
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_header()
      .call_management(0x01, 1)
      .acm(0x02)
      .endpoint(0x83, kInterrupt, 16)
      .data_interface(1, 2)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_EQ(port.control_interface, 0);
  EXPECT_EQ(port.data_interface, 1);
  EXPECT_EQ(port.data_in.address, 0x81);
  EXPECT_EQ(port.data_out.address, 0x02);
  CdcAcmFallbacks expected;
  expected.call_management = true;
  EXPECT_EQ(port.fallbacks, expected);
}

TEST(CdcAcmPort, SwappedControlAndDataInterfaces) {
  // The union on interface 0 (class 0x02) names interface 1 (class 0x0A) as control.
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_header()
      .acm(0x06)
      .cdc_union(1, 0)
      .endpoint(0x83, kInterrupt, 16)
      .data_interface(1, 2)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_EQ(port.control_interface, 0);
  EXPECT_EQ(port.data_interface, 1);
  EXPECT_EQ(port.notification.address, 0x83);
  EXPECT_EQ(port.data_in.address, 0x81);
  CdcAcmFallbacks expected;
  expected.swapped_interfaces = true;
  EXPECT_EQ(port.fallbacks, expected);
}

TEST(CdcAcmPort, NeitherInterfaceOfTheDataClassIsMalformed) {
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 16)
      .interface(1, 0, 2, 0xFF, 0x00, 0x00)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  find(b.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, EndpointsInEitherOrder) {
  for (bool in_first : {true, false}) {
    ConfigBuilder b;
    b.cdc_interface(0, 1).cdc_union(0, 1).endpoint(0x83, kInterrupt, 16).data_interface(1, 2);
    if (in_first) {
      b.endpoint(0x81, kBulk, 64).endpoint(0x02, kBulk, 64);
    } else {
      b.endpoint(0x02, kBulk, 64).endpoint(0x81, kBulk, 64);
    }
    const CdcAcmPort port = find(b.build(), 0);
    EXPECT_EQ(port.data_in.address, 0x81) << in_first;
    EXPECT_EQ(port.data_out.address, 0x02) << in_first;
    EXPECT_EQ(port.fallbacks.out_listed_first, !in_first);
  }
}

TEST(CdcAcmPort, InterruptDataEndpointsWhereBulkIsMissing) {
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 16)
      .data_interface(1, 2)
      .endpoint(0x81, kInterrupt, 64, 1)
      .endpoint(0x02, kInterrupt, 64, 1);
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_EQ(port.data_in.address, 0x81);
  EXPECT_EQ(port.data_in.type(), usb::TransferType::interrupt);
  EXPECT_EQ(port.data_out.address, 0x02);
  EXPECT_TRUE(port.fallbacks.interrupt_data_in);
  EXPECT_TRUE(port.fallbacks.interrupt_data_out);
}

TEST(CdcAcmPort, BulkIsPreferredOverInterruptPerDirection) {
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 16)
      .data_interface(1, 3)
      .endpoint(0x84, kInterrupt, 64, 1)  // listed first, but bulk IN exists
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kInterrupt, 64, 1);  // no bulk OUT
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_EQ(port.data_in.address, 0x81);
  EXPECT_EQ(port.data_out.address, 0x02);
  EXPECT_FALSE(port.fallbacks.interrupt_data_in);
  EXPECT_TRUE(port.fallbacks.interrupt_data_out);
}

TEST(CdcAcmPort, CastratedSingleInterface) {
  // No union, no call management: bulk IN, bulk OUT and interrupt IN on one
  // interface, in an unusual order.
  ConfigBuilder b;
  b.cdc_interface(0, 3)
      .cdc_header()
      .acm(0x02)
      .endpoint(0x02, kBulk, 64)
      .endpoint(0x83, kInterrupt, 8)
      .endpoint(0x81, kBulk, 64);
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_EQ(port.control_interface, 0);
  EXPECT_EQ(port.data_interface, 0);
  EXPECT_EQ(port.data_in.address, 0x81);
  EXPECT_EQ(port.data_out.address, 0x02);
  EXPECT_TRUE(port.has_notification);
  EXPECT_EQ(port.notification.address, 0x83);
  EXPECT_EQ(port.acm_capabilities, 0x02);  // D1 kept: Linux sets NO_CAP_LINE only for a union
  EXPECT_TRUE(port.fallbacks.single_interface);
  EXPECT_TRUE(port.fallbacks.out_listed_first);
}

TEST(CdcAcmPort, SingleInterfaceNeedsExactlyBulkInBulkOutInterruptIn) {
  {  // two endpoints: no interrupt IN
    ConfigBuilder b;
    b.cdc_interface(0, 2).endpoint(0x81, kBulk, 64).endpoint(0x02, kBulk, 64);
    find(b.build(), 0, Status::malformed);
  }
  {  // four endpoints (Linux: "This needs exactly 3 endpoints")
    ConfigBuilder b;
    b.cdc_interface(0, 4)
        .endpoint(0x81, kBulk, 64)
        .endpoint(0x02, kBulk, 64)
        .endpoint(0x83, kInterrupt, 8)
        .endpoint(0x84, kInterrupt, 8);
    find(b.build(), 0, Status::malformed);
  }
  {  // three endpoints, but two bulk IN
    ConfigBuilder b;
    b.cdc_interface(0, 3)
        .endpoint(0x81, kBulk, 64)
        .endpoint(0x82, kBulk, 64)
        .endpoint(0x83, kInterrupt, 8);
    find(b.build(), 0, Status::malformed);
  }
  {  // nothing at all
    ConfigBuilder b;
    b.cdc_interface(0, 0);
    find(b.build(), 0, Status::malformed);
  }
}

TEST(CdcAcmPort, UnionNamingOneInterfaceAsControlAndData) {
  ConfigBuilder b;
  b.cdc_interface(0, 3)
      .cdc_header()
      .acm(0x06)
      .cdc_union(0, 0)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64)
      .endpoint(0x83, kInterrupt, 8);
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_EQ(port.control_interface, 0);
  EXPECT_EQ(port.data_interface, 0);
  EXPECT_EQ(port.data_in.address, 0x81);
  EXPECT_EQ(port.data_out.address, 0x02);
  EXPECT_EQ(port.notification.address, 0x83);
  EXPECT_EQ(port.acm_capabilities, 0x04);  // NO_CAP_LINE: D1 cleared, D2 kept
  CdcAcmFallbacks expected;
  expected.union_same_interface = true;
  EXPECT_EQ(port.fallbacks, expected);

  ConfigBuilder two;
  two.cdc_interface(0, 2).cdc_union(0, 0).endpoint(0x81, kBulk, 64).endpoint(0x02, kBulk, 64);
  find(two.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, BrokenUnionFallsBackToASingleInterface) {
  // Union control interface 5 does not exist.
  ConfigBuilder missing;
  missing.cdc_interface(0, 3)
      .cdc_union(5, 0)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64)
      .endpoint(0x83, kInterrupt, 8);
  CdcAcmPort port = find(missing.build(), 0);
  EXPECT_TRUE(port.fallbacks.broken_union);
  EXPECT_EQ(port.data_interface, 0);
  EXPECT_EQ(port.data_in.address, 0x81);

  // Union control interface of a vendor class; the matched one cannot stand
  // alone either: malformed.
  ConfigBuilder vendor;
  vendor.cdc_interface(0, 1)
      .cdc_union(1, 0)
      .endpoint(0x83, kInterrupt, 8)
      .interface(1, 0, 2, 0xFF, 0x00, 0x00)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  find(vendor.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, UnionNamingAMissingDataInterfaceIsMalformed) {
  ConfigBuilder b;
  b.cdc_interface(0, 1).cdc_union(0, 7).endpoint(0x83, kInterrupt, 8);
  find(b.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, UnionOfAnotherFunctionIsNotThisPort) {
  // Interface 0 carries a union for interfaces 2/3: it is not their control interface.
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_union(2, 3)
      .endpoint(0x81, kInterrupt, 8)
      .cdc_interface(2, 1)
      .cdc_union(2, 3)
      .endpoint(0x82, kInterrupt, 8)
      .data_interface(3, 2)
      .endpoint(0x83, kBulk, 64)
      .endpoint(0x04, kBulk, 64);
  const Bytes bytes = b.build();
  find(bytes, 0, Status::malformed);
  EXPECT_EQ(find(bytes, 2).data_interface, 3);
}

TEST(CdcAcmPort, CallManagementNamingNothingUsableFallsBackToSingleInterface) {
  // bDataInterface 4 does not exist; the interface has the castrated layout.
  ConfigBuilder b;
  b.cdc_interface(0, 3)
      .call_management(0x00, 4)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64)
      .endpoint(0x83, kInterrupt, 8);
  const CdcAcmPort port = find(b.build(), 0);
  CdcAcmFallbacks expected;
  expected.single_interface = true;
  EXPECT_EQ(port.fallbacks, expected);

  // bDataInterface names a vendor interface and the control one has no data
  // pipes: nothing is guessed.
  ConfigBuilder vendor;
  vendor.cdc_interface(0, 1)
      .call_management(0x00, 1)
      .endpoint(0x83, kInterrupt, 8)
      .interface(1, 0, 2, 0xFF, 0x00, 0x00)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  find(vendor.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, NoFunctionalDescriptorsAndNoSingleInterfaceLayoutIsMalformed) {
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .endpoint(0x83, kInterrupt, 8)
      .data_interface(1, 2)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  find(b.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, DataInterfaceWithoutBothDirectionsIsMalformed) {
  ConfigBuilder in_only;
  in_only.cdc_interface(0, 1)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 8)
      .data_interface(1, 1)
      .endpoint(0x81, kBulk, 64);
  find(in_only.build(), 0, Status::malformed);

  ConfigBuilder none;
  none.cdc_interface(0, 1).cdc_union(0, 1).endpoint(0x83, kInterrupt, 8).data_interface(1, 0);
  find(none.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, DataPipesOnlyInAnAlternateSettingAreNotUsed) {
  // Alternate settings other than 0 are skipped by the parser; a data
  // interface whose alternate setting 0 has no endpoints has no pipes.
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 8)
      .data_interface(1, 0)
      .interface(1, 1, 2, 0x0A, 0x00, 0x00)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  find(b.build(), 0, Status::malformed);
}

TEST(CdcAcmPort, NotificationEndpointIsOptional) {
  ConfigBuilder b;
  b.cdc_interface(0, 0)
      .cdc_union(0, 1)
      .data_interface(1, 2)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  const CdcAcmPort port = find(b.build(), 0);
  EXPECT_FALSE(port.has_notification);
  EXPECT_EQ(transport::chips::make_port_config(port).interrupt_max_packet, 0);
}

TEST(CdcAcmPort, MissingAcmDescriptorMeansNoCapabilities) {
  ConfigBuilder b;
  b.cdc_interface(0, 1)
      .cdc_union(0, 1)
      .endpoint(0x83, kInterrupt, 8)
      .data_interface(1, 2)
      .endpoint(0x81, kBulk, 64)
      .endpoint(0x02, kBulk, 64);
  EXPECT_EQ(find(b.build(), 0).acm_capabilities, 0);
}

TEST(CdcAcmPort, UnknownMatchedInterfaceIsInvalidArgument) {
  find(standard_function().build(), 9, Status::invalid_argument);
}

// Mutated descriptor sets: whatever parses, the finder either refuses or
// returns pipes that really are what it says.
TEST(CdcAcmPort, MutatedDescriptorSetsNeverYieldWrongPipes) {
  std::mt19937 rng(0xCDCAC);
  const Bytes seeds[] = {standard_function().build(), ConfigBuilder()
                                                          .cdc_interface(0, 3)
                                                          .cdc_union(0, 0)
                                                          .endpoint(0x81, kBulk, 64)
                                                          .endpoint(0x02, kBulk, 64)
                                                          .endpoint(0x83, kInterrupt, 8)
                                                          .build()};
  usb::Configuration config;
  int found = 0;
  for (int round = 0; round < 100000; ++round) {
    Bytes bytes = seeds[rng() % 2];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      // Mostly small values at a random offset past the header, so interface
      // numbers, classes, addresses and attributes collide often.
      const size_t at = 9 + rng() % (bytes.size() - 9);
      bytes[at] = (rng() % 2) != 0 ? static_cast<uint8_t>(rng() % 4) : static_cast<uint8_t>(rng());
    }
    if (usb::parse_configuration(bytes, config) != Status::ok) {
      continue;
    }
    for (size_t i = 0; i < config.interface_count; ++i) {
      const uint8_t matched = config.interfaces[i].number;
      CdcAcmPort port;
      if (find_cdc_acm_port(config, matched, port) != Status::ok) {
        continue;
      }
      ++found;
      ASSERT_EQ(port.control_interface, matched);
      const usb::Interface* data = config.find_interface(port.data_interface);
      ASSERT_NE(data, nullptr);
      ASSERT_TRUE(port.data_in.is_in());
      ASSERT_FALSE(port.data_out.is_in());
      ASSERT_EQ(port.data_in.type(), port.fallbacks.interrupt_data_in ? usb::TransferType::interrupt
                                                                      : usb::TransferType::bulk);
      ASSERT_EQ(port.data_out.type(), port.fallbacks.interrupt_data_out
                                          ? usb::TransferType::interrupt
                                          : usb::TransferType::bulk);
      bool in_listed = false, out_listed = false;
      for (size_t e = 0; e < data->endpoint_count; ++e) {
        in_listed = in_listed || data->endpoints[e].address == port.data_in.address;
        out_listed = out_listed || data->endpoints[e].address == port.data_out.address;
      }
      ASSERT_TRUE(in_listed && out_listed);
      if (port.has_notification) {
        ASSERT_TRUE(port.notification.is_in());
        ASSERT_EQ(port.notification.type(), usb::TransferType::interrupt);
      }
    }
  }
  EXPECT_GT(found, 0);  // the loop did exercise the success path
}

}  // namespace
