// Which PL2303 type a device is, from its device descriptor (Linux pl2303_detect_type,
// >= v5.13), and how identify_port turns a PL2303 interface into a port.
//
// Type rules written out from pl2303.c: bDeviceClass 0x02 -> H; bMaxPacketSize0 != 64 -> H;
// bcdUSB 0x0101/0x0110: bcdDevice 0x0400 -> HXD, else HX; bcdUSB 0x0200: 0x0100, 0x0105 GC;
// 0x0300 TA (probe) / GT; 0x0305, 0x0400, 0x0405 GL; 0x0500 TB (probe) / GE; 0x0505, 0x0600,
// 0x0605 GS; 0x0700, 0x0705 GR; anything else refused.
// Endpoints (PL2303HXD datasheet; Linux): one vendor interface with interrupt IN 0x81, bulk OUT
// 0x02, bulk IN 0x83, in that order, 64-byte bulk packets. Some OEM units put the interrupt
// endpoint on interface 0 and the bulk pipes on interface 1 (Linux's endpoint hack).
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "transport/chips/pl2303.hpp"
#include "transport/descriptors.hpp"
#include "transport/port_identity.hpp"

namespace {

using transport::ChipFamily;
using transport::ChipVariant;
using transport::PortIdentity;
using transport::Status;
using transport::chips::pl2303::confirmed_at_open;
using transport::chips::pl2303::detect_variant;
namespace usb = transport::usb;

usb::DeviceDescriptor device(uint16_t bcd_usb, uint16_t bcd_device, uint8_t device_class = 0,
                             uint8_t max_packet0 = 64, uint16_t vid = 0x067B,
                             uint16_t pid = 0x2303) {
  usb::DeviceDescriptor d;
  d.bcd_usb = bcd_usb;
  d.device_class = device_class;
  d.max_packet_size0 = max_packet0;
  d.vendor_id = vid;
  d.product_id = pid;
  d.bcd_device = bcd_device;
  d.num_configurations = 1;
  return d;
}

// ------------------------------------------------------------ detect_variant

struct DetectCase {
  uint16_t bcd_usb;
  uint16_t bcd_device;
  uint8_t device_class;
  uint8_t max_packet0;
  Status status;
  ChipVariant variant;
};

// clang-format off
const DetectCase kDetect[] = {
    // Legacy H: class 0x02, or an endpoint 0 other than 64 bytes, whatever else it says.
    {0x0110, 0x0300, 0x02, 64, Status::ok, ChipVariant::pl2303_h},
    {0x0200, 0x0100, 0x02, 64, Status::ok, ChipVariant::pl2303_h},
    {0x0110, 0x0202, 0x00, 8, Status::ok, ChipVariant::pl2303_h},
    {0x0110, 0x0202, 0xFF, 8, Status::ok, ChipVariant::pl2303_h},
    {0x0200, 0x0300, 0x00, 16, Status::ok, ChipVariant::pl2303_h},
    // USB 1.1 (and the 1.01 some report): HXD at 0x0400, HX otherwise.
    {0x0110, 0x0300, 0x00, 64, Status::ok, ChipVariant::pl2303_hx},
    {0x0110, 0x0400, 0x00, 64, Status::ok, ChipVariant::pl2303_hxd},
    {0x0101, 0x0400, 0x00, 64, Status::ok, ChipVariant::pl2303_hxd},
    {0x0101, 0x0300, 0x00, 64, Status::ok, ChipVariant::pl2303_hx},
    {0x0110, 0x0100, 0x00, 64, Status::ok, ChipVariant::pl2303_hx},
    {0x0110, 0xFFFF, 0x00, 64, Status::ok, ChipVariant::pl2303_hx},
    // USB 2.0.
    {0x0200, 0x0100, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0105, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0300, 0x00, 64, Status::ok, ChipVariant::pl2303_ta},
    {0x0200, 0x0305, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0400, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0405, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0500, 0x00, 64, Status::ok, ChipVariant::pl2303_tb},
    {0x0200, 0x0505, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0600, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0605, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0700, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    {0x0200, 0x0705, 0x00, 64, Status::ok, ChipVariant::pl2303_hxn},
    // Refused, never guessed.
    {0x0200, 0x0000, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
    {0x0200, 0x0200, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
    {0x0200, 0x0301, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
    {0x0200, 0x0800, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
    {0x0100, 0x0300, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
    {0x0210, 0x0300, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
    {0x0300, 0x0100, 0x00, 64, Status::unsupported, ChipVariant::cdc_acm},
};
// clang-format on

TEST(Pl2303Detect, DescriptorTable) {
  for (const DetectCase& c : kDetect) {
    SCOPED_TRACE(testing::Message()
                 << std::hex << "bcdUSB " << c.bcd_usb << " bcdDevice " << c.bcd_device << " class "
                 << int{c.device_class} << " mps0 " << std::dec << int{c.max_packet0});
    ChipVariant v = ChipVariant::cdc_acm;
    EXPECT_EQ(detect_variant(device(c.bcd_usb, c.bcd_device, c.device_class, c.max_packet0), v),
              c.status);
    EXPECT_EQ(v, c.variant);
  }
}

TEST(Pl2303Detect, OnlyTaAndTbWaitForTheProbe) {
  EXPECT_TRUE(confirmed_at_open(ChipVariant::pl2303_ta));
  EXPECT_TRUE(confirmed_at_open(ChipVariant::pl2303_tb));
  for (const ChipVariant v : {ChipVariant::pl2303_h, ChipVariant::pl2303_hx,
                              ChipVariant::pl2303_hxd, ChipVariant::pl2303_hxn}) {
    EXPECT_FALSE(confirmed_at_open(v));
  }
}

// ------------------------------------------------------------ identify_port

constexpr uint8_t kBulk = 0x02;
constexpr uint8_t kInterrupt = 0x03;

struct Ep {
  uint8_t address;
  uint8_t type;
  uint16_t max_packet;
};

// A configuration whose interfaces are class 0xFF with the given endpoints.
usb::Configuration configuration(std::initializer_list<std::vector<Ep>> interfaces) {
  std::vector<uint8_t> bytes = {9, 0x02, 0,    0, static_cast<uint8_t>(interfaces.size()),
                                1, 0,    0xA0, 50};
  uint8_t number = 0;
  for (const std::vector<Ep>& eps : interfaces) {
    const std::vector<uint8_t> itf = {9,    0x04, number++, 0, static_cast<uint8_t>(eps.size()),
                                      0xFF, 0x00, 0x00,     0};
    bytes.insert(bytes.end(), itf.begin(), itf.end());
    for (const Ep& ep : eps) {
      const std::vector<uint8_t> desc = {7,
                                         0x05,
                                         ep.address,
                                         ep.type,
                                         static_cast<uint8_t>(ep.max_packet & 0xFF),
                                         static_cast<uint8_t>(ep.max_packet >> 8),
                                         static_cast<uint8_t>(ep.type == kInterrupt ? 1 : 0)};
      bytes.insert(bytes.end(), desc.begin(), desc.end());
    }
  }
  bytes[2] = static_cast<uint8_t>(bytes.size() & 0xFF);
  bytes[3] = static_cast<uint8_t>(bytes.size() >> 8);
  usb::Configuration config;
  EXPECT_EQ(usb::parse_configuration(bytes, config), Status::ok);
  return config;
}

const std::vector<Ep> kStandard = {{0x81, kInterrupt, 10}, {0x02, kBulk, 64}, {0x83, kBulk, 64}};

PortIdentity identify(const usb::DeviceDescriptor& dev, const usb::Configuration& config,
                      uint8_t interface_number, Status status) {
  PortIdentity id;
  EXPECT_EQ(transport::identify_port(dev, config, interface_number, id), status)
      << "interface " << int{interface_number};
  return id;
}

TEST(Pl2303Identify, HxdOnTheStandardLayout) {
  const PortIdentity id =
      identify(device(0x0110, 0x0400), configuration({kStandard}), 0, Status::ok);
  EXPECT_EQ(id.family, ChipFamily::pl2303);
  EXPECT_EQ(id.port_count, 1);
  EXPECT_STREQ(id.product, "Prolific PL2303");
  EXPECT_EQ(id.config.variant, ChipVariant::pl2303_hxd);
  EXPECT_EQ(id.config.interface_number, 0);
  EXPECT_EQ(id.config.data_interface, 0);
  EXPECT_EQ(id.config.port_index, 0);
  EXPECT_EQ(id.config.bulk_in_max_packet, 64);
  EXPECT_EQ(id.config.interrupt_max_packet, 10);
}

TEST(Pl2303Identify, EveryProlificIdIsDecidedByItsDescriptor) {
  struct Case {
    uint16_t vid, pid;
    uint16_t bcd_usb, bcd_device;
    ChipVariant variant;
  };
  const Case kCases[] = {
      {0x067B, 0x2303, 0x0110, 0x0300, ChipVariant::pl2303_hx},
      {0x067B, 0x2303, 0x0200, 0x0300, ChipVariant::pl2303_ta},
      {0x067B, 0x2304, 0x0200, 0x0500, ChipVariant::pl2303_tb},
      {0x067B, 0x23A3, 0x0200, 0x0100, ChipVariant::pl2303_hxn},
      {0x067B, 0x23C3, 0x0200, 0x0300, ChipVariant::pl2303_ta},  // GT: the probe decides
      {0x067B, 0x23D3, 0x0200, 0x0400, ChipVariant::pl2303_hxn},
      {0x067B, 0x23F3, 0x0200, 0x0600, ChipVariant::pl2303_hxn},
      {0x067B, 0xE1F1, 0x0110, 0x0400, ChipVariant::pl2303_hxd},
      {0x067B, 0xA100, 0x0110, 0x0300, ChipVariant::pl2303_hx},
      {0x0557, 0x2008, 0x0110, 0x0300, ChipVariant::pl2303_hx},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message() << std::hex << c.vid << ":" << c.pid);
    const PortIdentity id = identify(device(c.bcd_usb, c.bcd_device, 0, 64, c.vid, c.pid),
                                     configuration({kStandard}), 0, Status::ok);
    EXPECT_EQ(id.family, ChipFamily::pl2303);
    EXPECT_EQ(id.config.variant, c.variant);
  }
}

TEST(Pl2303Identify, EndpointOrderDoesNotMatter) {
  const std::vector<std::vector<Ep>> kOrders = {
      {{0x83, kBulk, 64}, {0x02, kBulk, 64}, {0x81, kInterrupt, 10}},
      {{0x02, kBulk, 64}, {0x81, kInterrupt, 10}, {0x83, kBulk, 64}},
      {{0x83, kBulk, 32}, {0x81, kInterrupt, 8}, {0x02, kBulk, 64}},
  };
  for (const auto& eps : kOrders) {
    const PortIdentity id = identify(device(0x0110, 0x0300), configuration({eps}), 0, Status::ok);
    EXPECT_EQ(id.config.bulk_in_max_packet, eps[0].address == 0x83 ? eps[0].max_packet : 64);
    EXPECT_NE(id.config.interrupt_max_packet, 0);
  }
}

TEST(Pl2303Identify, RefusedLayoutsAndTypes) {
  // No interrupt endpoint: no modem lines or line errors (Linux refuses too).
  identify(device(0x0110, 0x0300), configuration({{{0x02, kBulk, 64}, {0x83, kBulk, 64}}}), 0,
           Status::malformed);
  // Linux's endpoint hack layout: interrupt IN alone on interface 0, the bulk pipes on
  // interface 1. Interface 0 has no data pipes; interface 1 is not a port we list.
  const usb::Configuration split =
      configuration({{{0x81, kInterrupt, 10}}, {{0x02, kBulk, 64}, {0x83, kBulk, 64}}});
  identify(device(0x0110, 0x0300), split, 0, Status::malformed);
  identify(device(0x0110, 0x0300), split, 1, Status::unsupported);
  // A bulk pipe that carries no packet.
  identify(device(0x0110, 0x0300),
           configuration({{{0x81, kInterrupt, 10}, {0x02, kBulk, 64}, {0x83, kBulk, 0}}}), 0,
           Status::malformed);
  // An unknown revision.
  identify(device(0x0200, 0x0800), configuration({kStandard}), 0, Status::unsupported);
  // No such interface.
  identify(device(0x0110, 0x0300), configuration({kStandard}), 3, Status::invalid_argument);
}

}  // namespace
