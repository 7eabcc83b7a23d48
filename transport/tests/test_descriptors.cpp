// transport/descriptors: device, configuration and string descriptors.
//
// Layouts: USB 2.0 §9.6 (device 18 bytes; configuration 9 bytes with
// wTotalLength at offset 2 and bNumInterfaces at 4; interface 9 bytes:
// bInterfaceNumber 2, bAlternateSetting 3, bNumEndpoints 4, class/subclass/
// protocol 5..7, iInterface 8; endpoint 7 bytes: bEndpointAddress 2,
// bmAttributes 3, wMaxPacketSize 4..5 (bits 10:0 the size), bInterval 6;
// string: bLength, 0x03, UTF-16LE), ECN IAD (8 bytes, type 0x0B), CDC 1.2
// functional descriptors (type 0x24; subtypes 0x00 header, 0x01 call
// management, 0x02 ACM, 0x06 union).
//
// The sets below are written out byte by byte; the values of the FTDI sets are
// those the chips present (FT232R: one vendor interface, bulk 0x81/0x02 of 64
// bytes; FT4232H on a high-speed port: four vendor interfaces with bulk pairs
// 0x81/0x02 .. 0x87/0x08 of 512 bytes).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "transport/descriptors.hpp"

namespace {

using transport::Status;
namespace usb = transport::usb;
using Bytes = std::vector<uint8_t>;

size_t w_total_length(const Bytes& b) {
  return static_cast<size_t>(b[2] | (b[3] << 8));
}

void set_w_total_length(Bytes& b, size_t total) {
  b[2] = static_cast<uint8_t>(total);
  b[3] = static_cast<uint8_t>(total >> 8);
}

// --- sample descriptor sets ----------------------------------------------------

const Bytes kFt232rDevice = {
    0x12, 0x01, 0x00, 0x02,  // bLength 18, DEVICE, bcdUSB 2.00
    0x00, 0x00, 0x00, 0x08,  // class/subclass/protocol 0 (per interface), bMaxPacketSize0 8
    0x03, 0x04, 0x01, 0x60,  // idVendor 0x0403, idProduct 0x6001
    0x00, 0x06, 0x01, 0x02,  // bcdDevice 0x0600 (FT232R), iManufacturer 1, iProduct 2
    0x03, 0x01,              // iSerialNumber 3, bNumConfigurations 1
};

const Bytes kFt232rConfig = {
    0x09, 0x02, 0x20, 0x00, 0x01, 0x01, 0x00, 0xA0, 0x2D,  // wTotalLength 32, 1 interface
    0x09, 0x04, 0x00, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x02,  // interface 0, vendor class
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,              // bulk IN 0x81, 64
    0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,              // bulk OUT 0x02, 64
};

const Bytes kFt4232hConfig = {
    0x09, 0x02, 0x65, 0x00, 0x04, 0x01, 0x00, 0x80, 0x32,  // wTotalLength 101, 4 interfaces
    0x09, 0x04, 0x00, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x02,  // port A
    0x07, 0x05, 0x81, 0x02, 0x00, 0x02, 0x00,              //   bulk IN 0x81, 512
    0x07, 0x05, 0x02, 0x02, 0x00, 0x02, 0x00,              //   bulk OUT 0x02, 512
    0x09, 0x04, 0x01, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x02,  // port B
    0x07, 0x05, 0x83, 0x02, 0x00, 0x02, 0x00,              //
    0x07, 0x05, 0x04, 0x02, 0x00, 0x02, 0x00,              //
    0x09, 0x04, 0x02, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x02,  // port C
    0x07, 0x05, 0x85, 0x02, 0x00, 0x02, 0x00,              //
    0x07, 0x05, 0x06, 0x02, 0x00, 0x02, 0x00,              //
    0x09, 0x04, 0x03, 0x00, 0x02, 0xFF, 0xFF, 0xFF, 0x02,  // port D
    0x07, 0x05, 0x87, 0x02, 0x00, 0x02, 0x00,              //
    0x07, 0x05, 0x08, 0x02, 0x00, 0x02, 0x00,              //
};

const Bytes kCdcAcmConfig = {
    0x09, 0x02, 0x4B, 0x00, 0x02, 0x01, 0x00, 0x80, 0x32,  // wTotalLength 75, 2 interfaces
    0x08, 0x0B, 0x00, 0x02, 0x02, 0x02, 0x01, 0x00,        // IAD: interfaces 0..1, CDC ACM
    0x09, 0x04, 0x00, 0x00, 0x01, 0x02, 0x02, 0x01, 0x00,  // interface 0: CDC, ACM, AT
    0x05, 0x24, 0x00, 0x10, 0x01,                          //   header, bcdCDC 1.10
    0x05, 0x24, 0x01, 0x03, 0x01,                          //   call management: caps 3, data 1
    0x04, 0x24, 0x02, 0x06,                                //   ACM: bmCapabilities 0x06
    0x05, 0x24, 0x06, 0x00, 0x01,                          //   union: control 0, subordinate 1
    0x07, 0x05, 0x83, 0x03, 0x10, 0x00, 0x10,              //   interrupt IN 0x83, 16, 16 ms
    0x09, 0x04, 0x01, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x00,  // interface 1: CDC data
    0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,              //   bulk OUT 0x02, 64
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,              //   bulk IN 0x81, 64
};

const Bytes kCompositeConfig = {
    0x09, 0x02, 0x7B, 0x00, 0x04, 0x01, 0x00, 0x80, 0xFA,  // wTotalLength 123, 4 interfaces
    0x09, 0x04, 0x00, 0x00, 0x01, 0x03, 0x01, 0x01, 0x00,  // interface 0: HID boot keyboard
    0x09, 0x21, 0x11, 0x01, 0x00, 0x01, 0x22, 0x41, 0x00,  //   HID descriptor (skipped)
    0x07, 0x05, 0x81, 0x03, 0x08, 0x00, 0x0A,              //   interrupt IN 0x81, 8
    0x09, 0x04, 0x01, 0x00, 0x02, 0xFF, 0x00, 0x00, 0x00,  // interface 1: vendor
    0x07, 0x05, 0x82, 0x02, 0x00, 0x02, 0x00,              //   bulk IN 0x82, 512
    0x07, 0x05, 0x03, 0x02, 0x00, 0x02, 0x00,              //   bulk OUT 0x03, 512
    0x08, 0x0B, 0x02, 0x02, 0x02, 0x02, 0x01, 0x00,        // IAD: interfaces 2..3
    0x09, 0x04, 0x02, 0x00, 0x01, 0x02, 0x02, 0x01, 0x00,  // interface 2: CDC ACM
    0x05, 0x24, 0x00, 0x20, 0x01,                          //   header, bcdCDC 1.20
    0x05, 0x24, 0x01, 0x00, 0x03,                          //   call management: data 3
    0x04, 0x24, 0x02, 0x02,                                //   ACM: D1
    0x05, 0x24, 0x06, 0x02, 0x03,                          //   union: 2 -> 3
    0x07, 0x05, 0x84, 0x03, 0x0A, 0x00, 0x08,              //   interrupt IN 0x84, 10
    0x09, 0x04, 0x03, 0x00, 0x02, 0x0A, 0x00, 0x00, 0x00,  // interface 3: CDC data
    0x07, 0x05, 0x85, 0x02, 0x00, 0x02, 0x00,              //   bulk IN 0x85, 512
    0x07, 0x05, 0x04, 0x02, 0x00, 0x02, 0x00,              //   bulk OUT 0x04, 512
};

const Bytes kAlternateSettingsConfig = {
    0x09, 0x02, 0x3E, 0x00, 0x02, 0x01, 0x00, 0x80, 0x32,  // wTotalLength 62, 2 interfaces
    0x09, 0x04, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00,  // interface 0 alt 0: no endpoints
    0x09, 0x04, 0x00, 0x01, 0x02, 0x0A, 0x00, 0x00, 0x00,  // interface 0 alt 1
    0x05, 0x24, 0x06, 0x00, 0x01,                          //   union in alt 1 (ignored)
    0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,              //   bulk IN (ignored)
    0x07, 0x05, 0x01, 0x02, 0x40, 0x00, 0x00,              //   bulk OUT (ignored)
    0x09, 0x04, 0x01, 0x00, 0x01, 0xFF, 0x00, 0x00, 0x00,  // interface 1 alt 0
    0x07, 0x05, 0x82, 0x03, 0x08, 0x00, 0x01,              //   interrupt IN 0x82, 8
};

TEST(Descriptors, SampleSetsAreWhatTheirHeadersSay) {
  for (const Bytes* b : {&kFt232rConfig, &kFt4232hConfig, &kCdcAcmConfig, &kCompositeConfig,
                         &kAlternateSettingsConfig}) {
    EXPECT_EQ(w_total_length(*b), b->size());
  }
}

// --- device descriptor ---------------------------------------------------------

TEST(DeviceDescriptor, Ft232r) {
  usb::DeviceDescriptor d;
  ASSERT_EQ(usb::parse_device_descriptor(kFt232rDevice, d), Status::ok);
  EXPECT_EQ(d.bcd_usb, 0x0200);
  EXPECT_EQ(d.device_class, 0);
  EXPECT_EQ(d.max_packet_size0, 8);
  EXPECT_EQ(d.vendor_id, 0x0403);
  EXPECT_EQ(d.product_id, 0x6001);
  EXPECT_EQ(d.bcd_device, 0x0600);
  EXPECT_EQ(d.manufacturer_index, 1);
  EXPECT_EQ(d.product_index, 2);
  EXPECT_EQ(d.serial_number_index, 3);
  EXPECT_EQ(d.num_configurations, 1);
}

TEST(DeviceDescriptor, Malformed) {
  usb::DeviceDescriptor d;
  const Bytes short_buffer(kFt232rDevice.begin(), kFt232rDevice.end() - 1);
  EXPECT_EQ(usb::parse_device_descriptor(short_buffer, d), Status::malformed);
  Bytes b = kFt232rDevice;
  b[0] = 17;
  EXPECT_EQ(usb::parse_device_descriptor(b, d), Status::malformed);
  b = kFt232rDevice;
  b[0] = 0;
  EXPECT_EQ(usb::parse_device_descriptor(b, d), Status::malformed);
  b = kFt232rDevice;
  b[1] = usb::kDescriptorConfiguration;
  EXPECT_EQ(usb::parse_device_descriptor(b, d), Status::malformed);
  EXPECT_EQ(usb::parse_device_descriptor({}, d), Status::malformed);
}

// --- well-formed configurations --------------------------------------------------

TEST(Configuration, Ft232rOneVendorInterface) {
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(kFt232rConfig, c), Status::ok);
  EXPECT_EQ(c.value, 1);
  EXPECT_EQ(c.declared_interfaces, 1);
  EXPECT_EQ(c.attributes, 0xA0);
  EXPECT_EQ(c.max_power, 0x2D);
  EXPECT_FALSE(c.truncated);
  ASSERT_EQ(c.interface_count, 1);
  const usb::Interface& itf = c.interfaces[0];
  EXPECT_EQ(itf.number, 0);
  EXPECT_EQ(itf.interface_class, usb::kClassVendor);
  EXPECT_EQ(itf.interface_subclass, 0xFF);
  EXPECT_EQ(itf.interface_protocol, 0xFF);
  EXPECT_EQ(itf.name_index, 2);
  EXPECT_EQ(itf.declared_endpoints, 2);
  ASSERT_EQ(itf.endpoint_count, 2);
  const usb::Endpoint* in = itf.find_endpoint(usb::TransferType::bulk, true);
  const usb::Endpoint* out = itf.find_endpoint(usb::TransferType::bulk, false);
  ASSERT_NE(in, nullptr);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(in->address, 0x81);
  EXPECT_EQ(in->max_packet, 64);
  EXPECT_EQ(out->address, 0x02);
  EXPECT_EQ(itf.find_endpoint(usb::TransferType::interrupt, true), nullptr);
  EXPECT_FALSE(itf.cdc.has_header || itf.cdc.has_union || itf.cdc.has_acm);
}

TEST(Configuration, Ft4232hFourInterfaces) {
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(kFt4232hConfig, c), Status::ok);
  ASSERT_EQ(c.interface_count, 4);
  for (uint8_t port = 0; port < 4; ++port) {
    const usb::Interface* itf = c.find_interface(port);
    ASSERT_NE(itf, nullptr) << int{port};
    ASSERT_EQ(itf->endpoint_count, 2);
    const usb::Endpoint* in = itf->find_endpoint(usb::TransferType::bulk, true);
    const usb::Endpoint* out = itf->find_endpoint(usb::TransferType::bulk, false);
    ASSERT_TRUE(in != nullptr && out != nullptr);
    EXPECT_EQ(in->address, 0x81 + 2 * port);
    EXPECT_EQ(out->address, 0x02 + 2 * port);
    EXPECT_EQ(in->max_packet, 512);
    EXPECT_EQ(out->max_packet, 512);
  }
  EXPECT_EQ(c.find_interface(4), nullptr);
}

TEST(Configuration, CdcAcmWithIadAndAllFourFunctionalDescriptors) {
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(kCdcAcmConfig, c), Status::ok);
  ASSERT_EQ(c.interface_count, 2);
  const usb::Interface* control = c.find_interface(0);
  ASSERT_NE(control, nullptr);
  EXPECT_EQ(control->interface_class, usb::kClassCdcControl);
  EXPECT_EQ(control->interface_subclass, usb::kSubclassAcm);
  EXPECT_EQ(control->interface_protocol, 0x01);
  EXPECT_TRUE(control->cdc.has_header);
  EXPECT_TRUE(control->cdc.has_call_management);
  EXPECT_EQ(control->cdc.call_management_capabilities, 0x03);
  EXPECT_EQ(control->cdc.call_management_data_interface, 1);
  EXPECT_TRUE(control->cdc.has_acm);
  EXPECT_EQ(control->cdc.acm_capabilities, 0x06);
  EXPECT_TRUE(control->cdc.has_union);
  EXPECT_EQ(control->cdc.union_control_interface, 0);
  EXPECT_EQ(control->cdc.union_subordinate_interface, 1);
  ASSERT_EQ(control->endpoint_count, 1);
  const usb::Endpoint& notify = control->endpoints[0];
  EXPECT_EQ(notify.address, 0x83);
  EXPECT_EQ(notify.type(), usb::TransferType::interrupt);
  EXPECT_TRUE(notify.is_in());
  EXPECT_EQ(notify.max_packet, 16);
  EXPECT_EQ(notify.interval, 16);

  const usb::Interface* data = c.find_interface(1);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->interface_class, usb::kClassCdcData);
  EXPECT_FALSE(data->cdc.has_union);
  ASSERT_EQ(data->endpoint_count, 2);
  EXPECT_EQ(data->endpoints[0].address, 0x02);  // descriptor order is kept
  EXPECT_EQ(data->endpoints[1].address, 0x81);
  EXPECT_EQ(data->find_endpoint(usb::TransferType::bulk, true)->address, 0x81);
}

TEST(Configuration, CompositeWithCdcFunctionAtInterfacesTwoAndThree) {
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(kCompositeConfig, c), Status::ok);
  ASSERT_EQ(c.interface_count, 4);
  EXPECT_EQ(c.max_power, 0xFA);
  const usb::Interface* hid = c.find_interface(0);
  ASSERT_NE(hid, nullptr);
  EXPECT_EQ(hid->interface_class, 0x03);
  EXPECT_EQ(hid->endpoint_count, 1);
  const usb::Interface* vendor = c.find_interface(1);
  ASSERT_NE(vendor, nullptr);
  EXPECT_EQ(vendor->endpoint_count, 2);
  EXPECT_FALSE(vendor->cdc.has_union);
  const usb::Interface* control = c.find_interface(2);
  ASSERT_NE(control, nullptr);
  EXPECT_TRUE(control->cdc.has_union);
  EXPECT_EQ(control->cdc.union_control_interface, 2);
  EXPECT_EQ(control->cdc.union_subordinate_interface, 3);
  EXPECT_EQ(control->cdc.call_management_data_interface, 3);
  EXPECT_EQ(control->cdc.acm_capabilities, 0x02);
  EXPECT_EQ(control->find_endpoint(usb::TransferType::interrupt, true)->address, 0x84);
  const usb::Interface* data = c.find_interface(3);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->find_endpoint(usb::TransferType::bulk, true)->address, 0x85);
  EXPECT_EQ(data->find_endpoint(usb::TransferType::bulk, false)->address, 0x04);
  EXPECT_EQ(data->find_endpoint(usb::TransferType::bulk, true)->max_packet, 512);
}

TEST(Configuration, AlternateSettingsOtherThanZeroAreSkipped) {
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(kAlternateSettingsConfig, c), Status::ok);
  ASSERT_EQ(c.interface_count, 2);
  const usb::Interface* zero = c.find_interface(0);
  ASSERT_NE(zero, nullptr);
  EXPECT_EQ(zero->alternate, 0);
  EXPECT_EQ(zero->declared_endpoints, 0);
  EXPECT_EQ(zero->endpoint_count, 0);  // alt 1's endpoints are not attributed to alt 0
  EXPECT_FALSE(zero->cdc.has_union);   // nor its functional descriptors
  const usb::Interface* one = c.find_interface(1);
  ASSERT_NE(one, nullptr);
  ASSERT_EQ(one->endpoint_count, 1);
  EXPECT_EQ(one->endpoints[0].address, 0x82);
}

TEST(Configuration, WMaxPacketSizeKeepsBits10To0) {
  // High-bandwidth interrupt endpoint: bits 12:11 = 2 extra transactions.
  Bytes b = kCdcAcmConfig;
  b[9 + 8 + 9 + 5 + 5 + 4 + 5 + 4] = 0x00;  // wMaxPacketSize low byte of the interrupt endpoint
  b[9 + 8 + 9 + 5 + 5 + 4 + 5 + 5] = 0x14;  // 0x1400: 1024 with bits 12:11 = 2
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  EXPECT_EQ(c.find_interface(0)->endpoints[0].max_packet, 0x0400);
}

TEST(Configuration, ShortFunctionalDescriptorsAreIgnored) {
  // A 4-byte union (needs 5) and a 3-byte ACM (needs 4) and call management (needs 5).
  const Bytes b = {
      0x09, 0x02, 0x1C, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,  // wTotalLength 28
      0x09, 0x04, 0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 0x00,  // interface 0
      0x04, 0x24, 0x06, 0x00,                                // union, short
      0x03, 0x24, 0x02,                                      // ACM, short
      0x03, 0x24, 0x01,                                      // call management, short
  };
  ASSERT_EQ(w_total_length(b), b.size());
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  EXPECT_FALSE(c.interfaces[0].cdc.has_union);
  EXPECT_FALSE(c.interfaces[0].cdc.has_acm);
  EXPECT_FALSE(c.interfaces[0].cdc.has_call_management);
}

TEST(Configuration, FirstOfTwoUnionDescriptorsIsKept) {
  const Bytes b = {
      0x09, 0x02, 0x1C, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,  // wTotalLength 28
      0x09, 0x04, 0x00, 0x00, 0x00, 0x02, 0x02, 0x01, 0x00,  // interface 0
      0x05, 0x24, 0x06, 0x00, 0x01,                          // union 0 -> 1
      0x05, 0x24, 0x06, 0x04, 0x05,                          // union 4 -> 5 (skipped)
  };
  ASSERT_EQ(w_total_length(b), b.size());
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  EXPECT_TRUE(c.interfaces[0].cdc.has_union);
  EXPECT_EQ(c.interfaces[0].cdc.union_control_interface, 0);
  EXPECT_EQ(c.interfaces[0].cdc.union_subordinate_interface, 1);
}

TEST(Configuration, EndpointBeforeAnyInterfaceIsIgnored) {
  Bytes b = {0x09, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x80,
             0x32, 0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00};
  b.insert(b.end(), kFt232rConfig.begin() + 9, kFt232rConfig.end());
  set_w_total_length(b, b.size());
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  ASSERT_EQ(c.interface_count, 1);
  EXPECT_EQ(c.interfaces[0].endpoint_count, 2);
}

TEST(Configuration, MoreInterfacesThanTheCapacityIsTruncated) {
  Bytes b = {0x09, 0x02, 0x00, 0x00, 40, 0x01, 0x00, 0x80, 0x32};
  for (uint8_t n = 0; n < 40; ++n) {
    const Bytes itf = {0x09, 0x04, n,    0x00, 0x01, 0xFF,
                       0x00, 0x00, 0x00, 0x07, 0x05, static_cast<uint8_t>(0x81 + (n % 15)),
                       0x02, 0x40, 0x00, 0x00};
    b.insert(b.end(), itf.begin(), itf.end());
  }
  set_w_total_length(b, b.size());
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  EXPECT_TRUE(c.truncated);
  ASSERT_EQ(c.interface_count, usb::Configuration::kMaxInterfaces);
  for (size_t i = 0; i < c.interface_count; ++i) {
    EXPECT_EQ(c.interfaces[i].number, i);
    EXPECT_EQ(c.interfaces[i].endpoint_count, 1);
  }
  EXPECT_EQ(c.find_interface(32), nullptr);
}

TEST(Configuration, MoreEndpointsThanTheCapacityIsTruncated) {
  Bytes b = {0x09, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32,
             0x09, 0x04, 0x00, 0x00, 10,   0xFF, 0x00, 0x00, 0x00};
  for (uint8_t e = 1; e <= 10; ++e) {
    const Bytes ep = {0x07, 0x05, static_cast<uint8_t>(0x80 | e), 0x02, 0x40, 0x00, 0x00};
    b.insert(b.end(), ep.begin(), ep.end());
  }
  set_w_total_length(b, b.size());
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  EXPECT_TRUE(c.truncated);
  ASSERT_EQ(c.interfaces[0].endpoint_count, usb::Interface::kMaxEndpoints);
  EXPECT_EQ(c.interfaces[0].declared_endpoints, 10);
  EXPECT_EQ(c.interfaces[0].endpoints[7].address, 0x88);
}

// --- malformed configurations ---------------------------------------------------

Status parse(const Bytes& b) {
  usb::Configuration c;
  return usb::parse_configuration(b, c);
}

TEST(ConfigurationMalformed, HeaderProblems) {
  EXPECT_EQ(parse({}), Status::malformed);
  EXPECT_EQ(parse(Bytes(kFt232rConfig.begin(), kFt232rConfig.begin() + 8)), Status::malformed);
  Bytes b = kFt232rConfig;
  b[0] = 8;  // configuration bLength below 9
  EXPECT_EQ(parse(b), Status::malformed);
  b = kFt232rConfig;
  b[1] = usb::kDescriptorDevice;
  EXPECT_EQ(parse(b), Status::malformed);
  b = kFt232rConfig;
  set_w_total_length(b, 8);  // smaller than the configuration descriptor itself
  EXPECT_EQ(parse(b), Status::malformed);
}

TEST(ConfigurationMalformed, BLengthZeroOrOne) {
  for (uint8_t length : {0, 1}) {
    Bytes b = kCdcAcmConfig;
    b[9 + 8 + 9] = length;  // the CDC header functional descriptor
    EXPECT_EQ(parse(b), Status::malformed) << int{length};
    b = kFt232rConfig;
    b[9 + 9 + 7] = length;  // the last endpoint
    EXPECT_EQ(parse(b), Status::malformed) << int{length};
  }
}

TEST(ConfigurationMalformed, DescriptorRunningPastWTotalLength) {
  Bytes b = kFt232rConfig;
  b[9 + 9 + 7] = 8;  // last endpoint claims 8 bytes, 7 remain
  EXPECT_EQ(parse(b), Status::malformed);
  // A single trailing byte cannot even hold bLength and bDescriptorType.
  b = kFt232rConfig;
  b.push_back(0x02);
  set_w_total_length(b, b.size());
  EXPECT_EQ(parse(b), Status::malformed);
}

TEST(ConfigurationMalformed, WTotalLengthLargerThanTheBuffer) {
  Bytes b = kFt232rConfig;
  set_w_total_length(b, b.size() + 1);
  EXPECT_EQ(parse(b), Status::malformed);
  // A truncated read of the whole set.
  const Bytes truncated(kCdcAcmConfig.begin(), kCdcAcmConfig.end() - 10);
  EXPECT_EQ(parse(truncated), Status::malformed);
}

TEST(ConfigurationMalformed, WTotalLengthSmallerThanTheBuffer) {
  // Bytes past wTotalLength are not part of the configuration: ignored.
  Bytes b = kFt232rConfig;
  const Bytes extra = {0x09, 0x04, 0x05, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00};
  b.insert(b.end(), extra.begin(), extra.end());
  usb::Configuration c;
  ASSERT_EQ(usb::parse_configuration(b, c), Status::ok);
  EXPECT_EQ(c.interface_count, 1);
  EXPECT_EQ(c.find_interface(5), nullptr);
  // But a wTotalLength that cuts a descriptor in two is malformed.
  b = kFt232rConfig;
  set_w_total_length(b, b.size() - 3);
  EXPECT_EQ(parse(b), Status::malformed);
}

TEST(ConfigurationMalformed, ShortInterfaceAndEndpointDescriptors) {
  // Interface descriptor of 8 bytes (bLength 8, one byte removed).
  Bytes b = kFt232rConfig;
  b[9] = 8;
  b.erase(b.begin() + 9 + 8);
  set_w_total_length(b, b.size());
  EXPECT_EQ(parse(b), Status::malformed);
  // Endpoint descriptor of 6 bytes.
  b = kFt232rConfig;
  b[9 + 9] = 6;
  b.erase(b.begin() + 9 + 9 + 6);
  set_w_total_length(b, b.size());
  EXPECT_EQ(parse(b), Status::malformed);
  // Even in an alternate setting that is otherwise skipped.
  b = kAlternateSettingsConfig;
  b[9 + 9 + 9 + 5] = 6;
  b.erase(b.begin() + 9 + 9 + 9 + 5 + 6);
  set_w_total_length(b, b.size());
  EXPECT_EQ(parse(b), Status::malformed);
}

TEST(ConfigurationMalformed, DuplicateInterfaceNumbers) {
  Bytes b = kFt4232hConfig;
  b[9 + 23 + 2] = 0;  // port B claims interface number 0 as well
  EXPECT_EQ(parse(b), Status::malformed);
}

TEST(ConfigurationMalformed, NoInfiniteLoopOnAnyLengthByte) {
  // Every value of every bLength position either parses or is malformed.
  for (size_t at : {size_t{9}, size_t{18}, size_t{25}}) {
    for (int v = 0; v < 256; ++v) {
      Bytes b = kFt232rConfig;
      b[at] = static_cast<uint8_t>(v);
      const Status s = parse(b);
      EXPECT_TRUE(s == Status::ok || s == Status::malformed);
      if (v < 2) {
        EXPECT_EQ(s, Status::malformed);
      }
    }
  }
}

// --- string descriptors ---------------------------------------------------------

std::string decode(const Bytes& b, size_t capacity, Status expected = Status::ok) {
  std::vector<char> out(capacity, 'X');
  size_t length = 99;
  EXPECT_EQ(usb::decode_string_descriptor(b, out, length), expected);
  if (capacity == 0) {
    return {};
  }
  EXPECT_LT(length, capacity);
  EXPECT_EQ(out[length], '\0');
  return std::string(out.data(), length);
}

TEST(StringDescriptor, Ascii) {
  const Bytes serial = {0x0E, 0x03, 'A', 0, '9', 0, '0', 0, '1', 0, 'x', 0, 'Y', 0};
  EXPECT_EQ(decode(serial, 32), "A901xY");
}

TEST(StringDescriptor, NonAsciiBecomesQuestionMark) {
  // "é" U+00E9, "€" U+20AC, TAB U+0009, DEL U+007F, "~" U+007E (kept).
  const Bytes s = {0x0C, 0x03, 0xE9, 0x00, 0xAC, 0x20, 0x09, 0x00, 0x7F, 0x00, 0x7E, 0x00};
  EXPECT_EQ(decode(s, 32), "????~");
}

TEST(StringDescriptor, EmptyString) {
  EXPECT_EQ(decode({0x02, 0x03}, 4), "");
}

TEST(StringDescriptor, TruncatedOutput) {
  const Bytes s = {0x0E, 0x03, 'F', 0, 'T', 0, '1', 0, '2', 0, '3', 0, '4', 0};
  EXPECT_EQ(decode(s, 4), "FT1");
  EXPECT_EQ(decode(s, 1), "");
  decode(s, 0, Status::invalid_argument);
}

TEST(StringDescriptor, OnlyBLengthBytesAreRead) {
  const Bytes s = {0x04, 0x03, 'O', 0, 'K', 0};  // bLength covers "O" only
  EXPECT_EQ(decode(s, 8), "O");
}

TEST(StringDescriptor, Malformed) {
  decode({0x05, 0x03, 'A', 0, 'B'}, 8, Status::malformed);     // odd bLength
  decode({0x08, 0x03, 'A', 0, 'B', 0}, 8, Status::malformed);  // bLength past the buffer
  decode({0x06, 0x02, 'A', 0, 'B', 0}, 8, Status::malformed);  // not a string descriptor
  decode({0x00, 0x03, 'A', 0}, 8, Status::malformed);          // bLength 0
  decode({0x01, 0x03}, 8, Status::malformed);                  // bLength 1
  decode({0x02}, 8, Status::malformed);                        // no type byte
  decode({}, 8, Status::malformed);
}

// --- mutation loop ----------------------------------------------------------------

// An independent walk of the rules documented in descriptors.hpp, used as the
// oracle for the mutated sets. Records, per alternate-setting-0 interface (at
// most 32), its number and endpoints (at most 8), and the union fields.
struct Reference {
  Status status = Status::ok;
  bool truncated = false;
  struct Itf {
    uint8_t number;
    std::vector<std::array<uint8_t, 4>> endpoints;  // address, attributes, size lo, size hi
    bool has_union = false;
    uint8_t union_control = 0, union_subordinate = 0;
    bool has_acm = false;
    uint8_t acm = 0;
  };
  std::vector<Itf> interfaces;
};

Reference reference_parse(const Bytes& b) {
  Reference r;
  r.status = Status::malformed;
  if (b.size() < 9 || b[0] < 9 || b[1] != 0x02) {
    return r;
  }
  const size_t total = w_total_length(b);
  if (total < b[0] || total > b.size()) {
    return r;
  }
  long current = -1;
  size_t pos = b[0];
  while (pos < total) {
    if (total - pos < 2 || b[pos] < 2 || pos + b[pos] > total) {
      r.interfaces.clear();
      return r;
    }
    const size_t len = b[pos];
    const uint8_t type = b[pos + 1];
    if (type == 0x04) {
      if (len < 9) {
        return r;
      }
      current = -1;
      if (b[pos + 3] == 0) {
        for (const auto& itf : r.interfaces) {
          if (itf.number == b[pos + 2]) {
            return r;
          }
        }
        if (r.interfaces.size() == 32) {
          r.truncated = true;
        } else {
          r.interfaces.push_back({b[pos + 2], {}});
          current = static_cast<long>(r.interfaces.size()) - 1;
        }
      }
    } else if (type == 0x05) {
      if (len < 7) {
        return r;
      }
      if (current >= 0) {
        auto& eps = r.interfaces[static_cast<size_t>(current)].endpoints;
        if (eps.size() == 8) {
          r.truncated = true;
        } else {
          eps.push_back({b[pos + 2], b[pos + 3], b[pos + 4], static_cast<uint8_t>(b[pos + 5] & 7)});
        }
      }
    } else if (type == 0x24 && current >= 0 && len >= 3) {
      auto& itf = r.interfaces[static_cast<size_t>(current)];
      if (b[pos + 2] == 0x06 && len >= 5 && !itf.has_union) {
        itf.has_union = true;
        itf.union_control = b[pos + 3];
        itf.union_subordinate = b[pos + 4];
      } else if (b[pos + 2] == 0x02 && len >= 4) {
        itf.has_acm = true;
        itf.acm = b[pos + 3];
      }
    }
    pos += len;
  }
  r.status = Status::ok;
  return r;
}

Bytes mutate(Bytes b, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int e = 0; e < edits && !b.empty(); ++e) {
    const size_t at = rng() % b.size();
    switch (rng() % 8) {
      case 0:
        b[at] = static_cast<uint8_t>(b[at] ^ (1u << (rng() % 8)));
        break;
      case 1:
        b[at] = static_cast<uint8_t>(rng());
        break;
      case 2:
        b[at] = static_cast<uint8_t>(rng() % 3);
        break;  // 0, 1, 2: length traps
      case 3:
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng()));
        break;
      case 4: {
        const size_t n = std::min<size_t>(1 + rng() % 9, b.size() - at);
        b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
                b.begin() + static_cast<std::ptrdiff_t>(at + n));
        break;
      }
      case 5:
        b.resize(at);
        break;
      case 6: {  // copy a slice somewhere (duplicate interfaces, endpoints, ...)
        const size_t from = rng() % b.size();
        const size_t n = std::min<size_t>(1 + rng() % 24, b.size() - from);
        const Bytes slice(b.begin() + static_cast<std::ptrdiff_t>(from),
                          b.begin() + static_cast<std::ptrdiff_t>(from + n));
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), slice.begin(), slice.end());
        break;
      }
      default:  // a descriptor's bLength moved by a little
        b[at] = static_cast<uint8_t>(b[at] + (rng() % 5) - 2);
        break;
    }
  }
  // Mostly keep wTotalLength consistent so the walk gets past the header.
  if (b.size() >= 4 && rng() % 8 != 0) {
    set_w_total_length(b, std::min<size_t>(b.size(), 0xFFFF));
  }
  return b;
}

TEST(DescriptorMutation, ParserAgreesWithTheReferenceAndNeverCrashes) {
  std::mt19937 rng(0x05B0DE5C);
  const Bytes* seeds[] = {&kFt232rConfig, &kFt4232hConfig, &kCdcAcmConfig, &kCompositeConfig,
                          &kAlternateSettingsConfig};
  usb::Configuration c;
  int ok = 0;
  int malformed = 0;
  constexpr int kRounds = 300000;
  for (int round = 0; round < kRounds; ++round) {
    const Bytes b = mutate(*seeds[rng() % 5], rng);
    // Parse from an exact-size heap copy so ASan sees any read past the end.
    const Status status = usb::parse_configuration(b, c);
    const Reference ref = reference_parse(b);
    ASSERT_EQ(status, ref.status) << "round " << round;
    if (status != Status::ok) {
      ++malformed;
      continue;
    }
    ++ok;
    ASSERT_EQ(c.truncated, ref.truncated) << "round " << round;
    ASSERT_EQ(c.interface_count, ref.interfaces.size()) << "round " << round;
    std::set<uint8_t> numbers;
    for (size_t i = 0; i < c.interface_count; ++i) {
      const usb::Interface& itf = c.interfaces[i];
      const Reference::Itf& want = ref.interfaces[i];
      ASSERT_TRUE(numbers.insert(itf.number).second) << "duplicate, round " << round;
      ASSERT_EQ(itf.number, want.number);
      ASSERT_EQ(itf.alternate, 0);
      ASSERT_LE(itf.endpoint_count, usb::Interface::kMaxEndpoints);
      ASSERT_EQ(itf.endpoint_count, want.endpoints.size()) << "round " << round;
      for (size_t e = 0; e < itf.endpoint_count; ++e) {
        ASSERT_EQ(itf.endpoints[e].address, want.endpoints[e][0]);
        ASSERT_EQ(itf.endpoints[e].attributes, want.endpoints[e][1]);
        ASSERT_EQ(itf.endpoints[e].max_packet, want.endpoints[e][2] | (want.endpoints[e][3] << 8));
        ASSERT_LE(itf.endpoints[e].max_packet, 0x07FF);
      }
      ASSERT_EQ(itf.cdc.has_union, want.has_union);
      if (want.has_union) {
        ASSERT_EQ(itf.cdc.union_control_interface, want.union_control);
        ASSERT_EQ(itf.cdc.union_subordinate_interface, want.union_subordinate);
      }
      ASSERT_EQ(itf.cdc.has_acm, want.has_acm);
      if (want.has_acm) {
        ASSERT_EQ(itf.cdc.acm_capabilities, want.acm);
      }
      ASSERT_EQ(c.find_interface(itf.number), &itf);
    }
  }
  // Both outcomes were exercised in quantity.
  EXPECT_GT(ok, kRounds / 20);
  EXPECT_GT(malformed, kRounds / 20);
}

TEST(DescriptorMutation, StringDecoderNeverWritesOutsideItsOutput) {
  std::mt19937 rng(0x57A1);
  for (int round = 0; round < 100000; ++round) {
    Bytes b(rng() % 40);
    for (auto& byte : b) {
      byte = static_cast<uint8_t>(rng());
    }
    if (b.size() >= 2 && rng() % 2 == 0) {
      b[1] = 0x03;
      b[0] = static_cast<uint8_t>(rng() % (b.size() + 3));
    }
    const size_t capacity = rng() % 12;
    std::vector<char> out(capacity);  // exact size: ASan catches any overrun
    size_t length = 0;
    const Status s = usb::decode_string_descriptor(b, out, length);
    if (capacity == 0) {
      ASSERT_EQ(s, Status::invalid_argument);
      continue;
    }
    ASSERT_LT(length, capacity);
    ASSERT_EQ(out[length], '\0');
    if (s == Status::ok) {
      ASSERT_EQ(length, std::min<size_t>((b[0] - 2u) / 2u, capacity - 1));
      for (size_t i = 0; i < length; ++i) {
        ASSERT_TRUE(out[i] == '?' || (out[i] >= 0x20 && out[i] <= 0x7E));
      }
    } else {
      ASSERT_EQ(s, Status::malformed);
      ASSERT_EQ(length, 0u);
    }
  }
}

}  // namespace
