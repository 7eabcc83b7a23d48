// identify_port: from hand-written descriptor sets to the chip, variant, channel
// and pipes a port is driven with.
//
// Descriptor layouts (USB 2.0 §9.6): configuration 9 bytes (wTotalLength at
// offset 2, bNumInterfaces at 4), interface 9 bytes, endpoint 7 bytes
// (bEndpointAddress bit 7 = IN; bmAttributes 2 = bulk, 3 = interrupt;
// wMaxPacketSize little-endian). CDC functional descriptors (CDC 1.2 §5.2.3):
// type 0x24, subtype 0x00 header, 0x01 call management, 0x02 ACM, 0x06 union.
// FTDI interfaces are class 0xFF with one bulk IN / bulk OUT pair each and no
// interrupt endpoint (docs/usb-serial-reference.md §2.1); the H series'
// bulk packets are 512 bytes at high speed, the full-speed parts' 64.
// WCH CH34x: one vendor interface (class 0xFF, subclass 1, protocol 2) with bulk IN 0x82 and
// bulk OUT 0x02 of 32 bytes and an interrupt IN 0x81 of 8 (reference §0 and §4.1).
#include <cstdint>
#include <initializer_list>
#include <vector>

#include <gtest/gtest.h>

#include "transport/descriptors.hpp"
#include "transport/port_identity.hpp"

namespace {

using transport::ChipFamily;
using transport::ChipVariant;
using transport::PortIdentity;
using transport::Status;
namespace usb = transport::usb;

constexpr uint8_t kBulk = 0x02;
constexpr uint8_t kInterrupt = 0x03;

class Descriptors {
 public:
  Descriptors& interface(uint8_t number, uint8_t endpoints, uint8_t cls, uint8_t subclass,
                         uint8_t protocol) {
    add({9, 0x04, number, 0, endpoints, cls, subclass, protocol, 0});
    ++interfaces_;
    return *this;
  }
  Descriptors& vendor_interface(uint8_t number) { return interface(number, 2, 0xFF, 0xFF, 0xFF); }
  Descriptors& endpoint(uint8_t address, uint8_t type, uint16_t max_packet) {
    add({7, 0x05, address, type, static_cast<uint8_t>(max_packet & 0xFF),
         static_cast<uint8_t>(max_packet >> 8), static_cast<uint8_t>(type == kInterrupt ? 8 : 0)});
    return *this;
  }
  // An FTDI channel: interface n, bulk IN 0x81 + 2n, bulk OUT 0x02 + 2n.
  Descriptors& ftdi_channel(uint8_t n, uint16_t max_packet) {
    return vendor_interface(n)
        .endpoint(static_cast<uint8_t>(0x81 + 2 * n), kBulk, max_packet)
        .endpoint(static_cast<uint8_t>(0x02 + 2 * n), kBulk, max_packet);
  }
  Descriptors& iad(uint8_t first, uint8_t count) {
    add({8, 0x0B, first, count, 0x02, 0x02, 0x01, 0});
    return *this;
  }
  // A CDC-ACM function: control interface (header, call management, ACM,
  // union) with an interrupt IN, then the data interface with bulk OUT/IN.
  Descriptors& acm_function(uint8_t control, uint8_t acm_caps, uint8_t notify_ep,
                            uint16_t notify_mps, uint8_t in_ep, uint8_t out_ep, uint16_t data_mps) {
    const auto data = static_cast<uint8_t>(control + 1);
    iad(control, 2);
    interface(control, 1, 0x02, 0x02, 0x01);
    add({5, 0x24, 0x00, 0x10, 0x01});
    add({5, 0x24, 0x01, 0x00, data});
    add({4, 0x24, 0x02, acm_caps});
    add({5, 0x24, 0x06, control, data});
    endpoint(notify_ep, kInterrupt, notify_mps);
    interface(data, 2, 0x0A, 0x00, 0x00);
    endpoint(out_ep, kBulk, data_mps);
    endpoint(in_ep, kBulk, data_mps);
    return *this;
  }

  usb::Configuration parse() const {
    std::vector<uint8_t> bytes = {9, 0x02, 0, 0, interfaces_, 1, 0, 0x80, 50};
    bytes.insert(bytes.end(), body_.begin(), body_.end());
    bytes[2] = static_cast<uint8_t>(bytes.size() & 0xFF);
    bytes[3] = static_cast<uint8_t>(bytes.size() >> 8);
    usb::Configuration config;
    EXPECT_EQ(usb::parse_configuration(bytes, config), Status::ok);
    return config;
  }

 private:
  void add(std::initializer_list<uint8_t> bytes) { body_.insert(body_.end(), bytes); }
  std::vector<uint8_t> body_;
  uint8_t interfaces_ = 0;
};

usb::DeviceDescriptor device(uint16_t vid, uint16_t pid, uint16_t bcd_device) {
  usb::DeviceDescriptor d;
  d.bcd_usb = 0x0200;
  d.vendor_id = vid;
  d.product_id = pid;
  d.bcd_device = bcd_device;
  d.max_packet_size0 = 64;
  d.num_configurations = 1;
  return d;
}

// Expects `status`, and on success returns the identity.
PortIdentity identify(const usb::DeviceDescriptor& dev, const usb::Configuration& config,
                      uint8_t interface_number, Status status = Status::ok) {
  PortIdentity id;
  EXPECT_EQ(transport::identify_port(dev, config, interface_number, id), status)
      << "interface " << int{interface_number};
  return id;
}

// ------------------------------------------------------------ FTDI

TEST(IdentifyPort, Ft232r) {
  const usb::Configuration config = Descriptors{}.ftdi_channel(0, 64).parse();
  const PortIdentity id = identify(device(0x0403, 0x6001, 0x0600), config, 0);
  EXPECT_EQ(id.family, ChipFamily::ftdi);
  EXPECT_EQ(id.port_count, 1);
  EXPECT_STREQ(id.product, "FTDI FT232BM/FT232R");
  EXPECT_STREQ(id.tty_base_name, "usbserial-");
  EXPECT_EQ(id.config.variant, ChipVariant::ft232r);
  EXPECT_EQ(id.config.interface_number, 0);
  EXPECT_EQ(id.config.data_interface, 0);
  EXPECT_EQ(id.config.port_index, 0);
  EXPECT_EQ(id.config.bulk_in_max_packet, 64);
  EXPECT_EQ(id.config.interrupt_max_packet, 0);
  EXPECT_EQ(id.config.acm_capabilities, 0);
  EXPECT_EQ(id.pipes.data_in.address, 0x81);
  EXPECT_EQ(id.pipes.data_out.address, 0x02);
  EXPECT_FALSE(id.pipes.has_interrupt);
}

TEST(IdentifyPort, Ft232bmOnTheSamePid) {
  const usb::Configuration config = Descriptors{}.ftdi_channel(0, 64).parse();
  const PortIdentity id = identify(device(0x0403, 0x6001, 0x0400), config, 0);
  EXPECT_EQ(id.config.variant, ChipVariant::ft232bm);
}

TEST(IdentifyPort, Ft4232hInterfaceTwo) {
  // Channel C gets a distinct packet size so the right interface is shown to be used.
  const usb::Configuration config = Descriptors{}
                                        .ftdi_channel(0, 512)
                                        .ftdi_channel(1, 512)
                                        .ftdi_channel(2, 64)
                                        .ftdi_channel(3, 512)
                                        .parse();
  const PortIdentity id = identify(device(0x0403, 0x6011, 0x0800), config, 2);
  EXPECT_EQ(id.family, ChipFamily::ftdi);
  EXPECT_EQ(id.port_count, 4);
  EXPECT_STREQ(id.product, "FTDI FT4232H");
  EXPECT_EQ(id.config.variant, ChipVariant::ft4232h);
  EXPECT_EQ(id.config.interface_number, 2);
  EXPECT_EQ(id.config.data_interface, 2);
  EXPECT_EQ(id.config.port_index, 2);  // channel C
  EXPECT_EQ(id.config.bulk_in_max_packet, 64);
  // Every channel of the chip.
  for (uint8_t i = 0; i < 4; ++i) {
    EXPECT_EQ(identify(device(0x0403, 0x6011, 0x0800), config, i).config.port_index, i);
  }
}

TEST(IdentifyPort, Ft2232hBothChannels) {
  const usb::Configuration config = Descriptors{}.ftdi_channel(0, 512).ftdi_channel(1, 512).parse();
  for (uint8_t i = 0; i < 2; ++i) {
    const PortIdentity id = identify(device(0x0403, 0x6010, 0x0700), config, i);
    EXPECT_EQ(id.config.variant, ChipVariant::ft2232h);
    EXPECT_EQ(id.port_count, 2);
    EXPECT_EQ(id.config.port_index, i);
    EXPECT_EQ(id.config.bulk_in_max_packet, 512);
  }
}

TEST(IdentifyPort, Ft2232hWithUnknownBcdDeviceIsRefused) {
  const usb::Configuration config = Descriptors{}.ftdi_channel(0, 512).ftdi_channel(1, 512).parse();
  for (const uint16_t bcd : {0x0A00, 0x0200, 0x0000, 0x0800 /* FT4232H: 4 channels */}) {
    identify(device(0x0403, 0x6010, bcd), config, 0, Status::unsupported);
  }
}

TEST(IdentifyPort, InterfaceNumbersOutsideTheEntry) {
  // An FT2232H with a third (vendor) interface: not one of its two UARTs.
  const usb::Configuration config =
      Descriptors{}.ftdi_channel(0, 512).ftdi_channel(1, 512).ftdi_channel(2, 512).parse();
  identify(device(0x0403, 0x6010, 0x0700), config, 2, Status::unsupported);
  // An FT232R has exactly one.
  identify(device(0x0403, 0x6001, 0x0600), config, 1, Status::unsupported);
  // The CH9102F entry covers only its control interface 0.
  const usb::Configuration acm =
      Descriptors{}.acm_function(0, 0x02, 0x83, 16, 0x82, 0x02, 32).parse();
  identify(device(0x1A86, 0x55D4, 0x0443), acm, 1, Status::unsupported);
}

TEST(IdentifyPort, InterfaceNotInTheConfiguration) {
  const usb::Configuration config = Descriptors{}.ftdi_channel(0, 64).parse();
  identify(device(0x0403, 0x6001, 0x0600), config, 1, Status::invalid_argument);
  identify(device(0x0403, 0x6001, 0x0600), config, 255, Status::invalid_argument);
  identify(device(0x1234, 0x5678, 0x0100), config, 7, Status::invalid_argument);
}

TEST(IdentifyPort, FtdiZeroMaxPacketIsMalformed) {
  const usb::Configuration in_zero =
      Descriptors{}.vendor_interface(0).endpoint(0x81, kBulk, 0).endpoint(0x02, kBulk, 64).parse();
  identify(device(0x0403, 0x6001, 0x0600), in_zero, 0, Status::malformed);
  const usb::Configuration out_zero =
      Descriptors{}.vendor_interface(0).endpoint(0x81, kBulk, 64).endpoint(0x02, kBulk, 0).parse();
  identify(device(0x0403, 0x6001, 0x0600), out_zero, 0, Status::malformed);
}

TEST(IdentifyPort, FtdiMissingPipeIsMalformed) {
  const usb::Configuration no_out =
      Descriptors{}.interface(0, 1, 0xFF, 0xFF, 0xFF).endpoint(0x81, kBulk, 64).parse();
  identify(device(0x0403, 0x6001, 0x0600), no_out, 0, Status::malformed);
  const usb::Configuration no_endpoints = Descriptors{}.interface(0, 0, 0xFF, 0xFF, 0xFF).parse();
  identify(device(0x0403, 0x6001, 0x0600), no_endpoints, 0, Status::malformed);
  // Interrupt endpoints are not bulk pipes.
  const usb::Configuration interrupts = Descriptors{}
                                            .vendor_interface(0)
                                            .endpoint(0x81, kInterrupt, 64)
                                            .endpoint(0x02, kInterrupt, 64)
                                            .parse();
  identify(device(0x0403, 0x6001, 0x0600), interrupts, 0, Status::malformed);
}

// ------------------------------------------------------------ vendor bulk

// The TETRA radio's PEI port (devices.ini): interfaces 0 and 1, class 0xFF with
// subclass/protocol 0, one 512-byte bulk pair each, no interrupt endpoint.
usb::Configuration radio_descriptors() {
  return Descriptors{}
      .interface(0, 2, 0xFF, 0x00, 0x00)
      .endpoint(0x81, kBulk, 512)
      .endpoint(0x01, kBulk, 512)
      .interface(1, 2, 0xFF, 0x00, 0x00)
      .endpoint(0x82, kBulk, 512)
      .endpoint(0x02, kBulk, 512)
      .parse();
}

TEST(IdentifyPort, TetraRadioPeiOnePortPerInterface) {
  const usb::Configuration config = radio_descriptors();
  for (uint8_t i = 0; i < 2; ++i) {
    SCOPED_TRACE(int{i});
    const PortIdentity id = identify(device(0x0CAD, 0x9016, 0x0100), config, i);
    EXPECT_EQ(id.family, ChipFamily::vendor_bulk);
    EXPECT_EQ(id.port_count, 2);
    EXPECT_STREQ(id.product, "TETRA radio PEI");
    EXPECT_STREQ(id.tty_base_name, "tetra-pei-");
    EXPECT_EQ(id.config.variant, ChipVariant::vendor_bulk);
    EXPECT_EQ(id.config.interface_number, i);
    EXPECT_EQ(id.config.data_interface, i);
    EXPECT_EQ(id.config.port_index, i);
    EXPECT_EQ(id.config.bulk_in_max_packet, 512);
    EXPECT_EQ(id.config.interrupt_max_packet, 0);
  }
}

TEST(IdentifyPort, TetraRadioPeiRefusesWhatItsEntryDoesNotCover) {
  // A third interface is not one of the two PEI ports.
  const usb::Configuration three = Descriptors{}
                                       .interface(0, 2, 0xFF, 0, 0)
                                       .endpoint(0x81, kBulk, 512)
                                       .endpoint(0x01, kBulk, 512)
                                       .interface(1, 2, 0xFF, 0, 0)
                                       .endpoint(0x82, kBulk, 512)
                                       .endpoint(0x02, kBulk, 512)
                                       .interface(2, 2, 0xFF, 0, 0)
                                       .endpoint(0x83, kBulk, 512)
                                       .endpoint(0x03, kBulk, 512)
                                       .parse();
  identify(device(0x0CAD, 0x9016, 0x0100), three, 2, Status::unsupported);
  // Without a bulk OUT endpoint, or with a zero packet size, there is no port.
  const usb::Configuration no_out =
      Descriptors{}.interface(0, 1, 0xFF, 0, 0).endpoint(0x81, kBulk, 512).parse();
  identify(device(0x0CAD, 0x9016, 0x0100), no_out, 0, Status::malformed);
  const usb::Configuration zero = Descriptors{}
                                      .interface(0, 2, 0xFF, 0, 0)
                                      .endpoint(0x81, kBulk, 0)
                                      .endpoint(0x01, kBulk, 512)
                                      .parse();
  identify(device(0x0CAD, 0x9016, 0x0100), zero, 0, Status::malformed);
}

// ------------------------------------------------------------ CDC-ACM

TEST(IdentifyPort, Ch9102fFromTheDeviceTable) {
  const usb::Configuration config =
      Descriptors{}.acm_function(0, 0x02, 0x83, 16, 0x82, 0x02, 32).parse();
  const PortIdentity id = identify(device(0x1A86, 0x55D4, 0x0443), config, 0);
  EXPECT_EQ(id.family, ChipFamily::cdc_acm);
  EXPECT_EQ(id.port_count, 1);
  EXPECT_STREQ(id.product, "WCH CH9102F");
  EXPECT_EQ(id.config.variant, ChipVariant::cdc_acm);
  EXPECT_EQ(id.config.interface_number, 0);
  EXPECT_EQ(id.config.data_interface, 1);
  EXPECT_EQ(id.config.port_index, 0);
  EXPECT_EQ(id.config.bulk_in_max_packet, 32);
  EXPECT_EQ(id.config.interrupt_max_packet, 16);
  EXPECT_EQ(id.config.acm_capabilities, 0x02);
  // The pipes: the bulk pair of the data interface, the notification endpoint
  // of the communication interface.
  EXPECT_EQ(id.pipes.data_in.address, 0x82);
  EXPECT_EQ(id.pipes.data_out.address, 0x02);
  EXPECT_EQ(id.pipes.data_in.max_packet, 32);
  EXPECT_TRUE(id.pipes.has_interrupt);
  EXPECT_EQ(id.pipes.interrupt.address, 0x83);
  EXPECT_EQ(id.pipes.interrupt.max_packet, 16);
}

TEST(DevicePortInterface, TheEntrysFirstInterfaceForAnEntryInTheTable) {
  const usb::Configuration config =
      Descriptors{}.acm_function(0, 0x02, 0x83, 16, 0x82, 0x02, 32).parse();
  uint8_t number = 0xFF;
  EXPECT_EQ(transport::device_port_interface(device(0x1A86, 0x55D4, 0x0443), config, number),
            Status::ok);
  EXPECT_EQ(number, 0);
  EXPECT_EQ(transport::device_port_interface(device(0x1209, 0x0001, 0x0100), config, number),
            Status::ok);
  EXPECT_EQ(transport::device_port_interface(device(0x1234, 0xABCD, 0x0100), config, number),
            Status::unsupported);
  // An entry whose first interface the device does not have.
  const usb::Configuration shifted =
      Descriptors{}.acm_function(2, 0x02, 0x83, 16, 0x82, 0x02, 32).parse();
  EXPECT_EQ(transport::device_port_interface(device(0x1A86, 0x55D4, 0x0443), shifted, number),
            Status::unsupported);
}

TEST(IdentifyPort, ClassMatchedCdcDevice) {
  // A microcontroller's composite device not in the table (VID/PID made up):
  // a vendor interface 0, then the ACM function on interfaces 1 and 2.
  const usb::Configuration config = Descriptors{}
                                        .vendor_interface(0)
                                        .endpoint(0x81, kBulk, 64)
                                        .endpoint(0x01, kBulk, 64)
                                        .acm_function(1, 0x06, 0x84, 8, 0x83, 0x03, 64)
                                        .parse();
  const usb::DeviceDescriptor dev = device(0x1234, 0xABCD, 0x0100);
  const PortIdentity id = identify(dev, config, 1);
  EXPECT_EQ(id.family, ChipFamily::cdc_acm);
  EXPECT_EQ(id.port_count, 1);
  EXPECT_STREQ(id.product, "CDC-ACM");
  EXPECT_STREQ(id.tty_base_name, transport::kTtyBaseName);  // class rules use the default
  EXPECT_EQ(id.config.variant, ChipVariant::cdc_acm);
  EXPECT_EQ(id.config.interface_number, 1);
  EXPECT_EQ(id.config.data_interface, 2);
  EXPECT_EQ(id.config.bulk_in_max_packet, 64);
  EXPECT_EQ(id.config.interrupt_max_packet, 8);
  EXPECT_EQ(id.config.acm_capabilities, 0x06);
  // The vendor interface and the data interface are not ports.
  identify(dev, config, 0, Status::unsupported);
  identify(dev, config, 2, Status::unsupported);
}

TEST(IdentifyPort, UnmatchedDevice) {
  const usb::Configuration config = Descriptors{}
                                        .vendor_interface(0)
                                        .endpoint(0x81, kBulk, 64)
                                        .endpoint(0x02, kBulk, 64)
                                        .interface(1, 0, 0x03, 0x00, 0x00)  // HID
                                        .parse();
  const usb::DeviceDescriptor dev = device(0x1234, 0x5678, 0x0100);
  identify(dev, config, 0, Status::unsupported);
  identify(dev, config, 1, Status::unsupported);
}

TEST(IdentifyPort, CdcZeroMaxPacketIsMalformed) {
  const usb::Configuration config =
      Descriptors{}.acm_function(0, 0x02, 0x83, 16, 0x82, 0x02, 0).parse();
  identify(device(0x1A86, 0x55D4, 0x0443), config, 0, Status::malformed);
  identify(device(0x1234, 0xABCD, 0x0100), config, 0, Status::malformed);  // class-matched
}

TEST(IdentifyPort, CdcWithoutDataPipesIsMalformed) {
  // No Union or Call Management descriptor, and the control interface alone
  // lacks the bulk pair of a single-interface function.
  Descriptors d;
  d.interface(0, 1, 0x02, 0x02, 0x01);
  d.endpoint(0x83, kInterrupt, 16);
  d.interface(1, 0, 0x0A, 0x00, 0x00);
  identify(device(0x1234, 0xABCD, 0x0100), d.parse(), 0, Status::malformed);
}

// ------------------------------------------------------------ CP210x
// One vendor interface per UART (class 0xFF, subclass 0, protocol 0) with a bulk IN and a
// bulk OUT, no interrupt endpoint; CP2105's second (SCI) UART has 32-byte endpoints
// (docs/usb-serial-reference.md §0, §3.1).

Descriptors& cp210x_uart(Descriptors& d, uint8_t n, uint16_t max_packet) {
  return d.interface(n, 2, 0xFF, 0x00, 0x00)
      .endpoint(static_cast<uint8_t>(0x81 + n), kBulk, max_packet)
      .endpoint(static_cast<uint8_t>(0x01 + n), kBulk, max_packet);
}

TEST(IdentifyPort, Cp210xSinglePortIdLeavesThePartToGetPartnum) {
  Descriptors d;
  const usb::Configuration config = cp210x_uart(d, 0, 64).parse();
  for (const uint16_t pid : {0xEA60, 0xEA63}) {
    const PortIdentity id = identify(device(0x10C4, pid, 0x0100), config, 0);
    EXPECT_EQ(id.family, ChipFamily::cp210x);
    EXPECT_EQ(id.port_count, 1);
    EXPECT_EQ(id.config.variant, ChipVariant::cp210x);
    EXPECT_EQ(id.config.interface_number, 0);
    EXPECT_EQ(id.config.port_index, 0);
    EXPECT_EQ(id.config.bulk_in_max_packet, 64);
    EXPECT_EQ(id.config.interrupt_max_packet, 0);
  }
}

TEST(IdentifyPort, Cp2105EciAndSciPorts) {
  Descriptors d;
  cp210x_uart(d, 0, 64);
  const usb::Configuration config = cp210x_uart(d, 1, 32).parse();
  const PortIdentity eci = identify(device(0x10C4, 0xEA70, 0x0100), config, 0);
  EXPECT_EQ(eci.config.variant, ChipVariant::cp2105);
  EXPECT_EQ(eci.port_count, 2);
  EXPECT_EQ(eci.config.port_index, 0);
  EXPECT_EQ(eci.config.bulk_in_max_packet, 64);
  const PortIdentity sci = identify(device(0x10C4, 0xEA70, 0x0100), config, 1);
  EXPECT_EQ(sci.config.variant, ChipVariant::cp2105);
  EXPECT_EQ(sci.config.port_index, 1);
  EXPECT_EQ(sci.config.interface_number, 1);
  EXPECT_EQ(sci.config.data_interface, 1);
  EXPECT_EQ(sci.config.bulk_in_max_packet, 32);
  EXPECT_STREQ(sci.product, "Silicon Labs CP2105");
}

TEST(IdentifyPort, Cp2108FourPortsEachOnItsOwnInterface) {
  Descriptors d;
  for (uint8_t n = 0; n < 4; ++n) {
    cp210x_uart(d, n, 64);
  }
  const usb::Configuration config = d.parse();
  for (uint8_t n = 0; n < 4; ++n) {
    const PortIdentity id = identify(device(0x10C4, 0xEA71, 0x0100), config, n);
    EXPECT_EQ(id.config.variant, ChipVariant::cp2108);
    EXPECT_EQ(id.port_count, 4);
    EXPECT_EQ(id.config.port_index, n);
    EXPECT_EQ(id.config.interface_number, n);
  }
  Descriptors five;
  for (uint8_t n = 0; n < 5; ++n) {
    cp210x_uart(five, n, 64);
  }
  identify(device(0x10C4, 0xEA71, 0x0100), five.parse(), 4, Status::unsupported);
}

TEST(IdentifyPort, Cp210xWithoutItsBulkPipesIsMalformed) {
  Descriptors d;
  d.interface(0, 1, 0xFF, 0x00, 0x00).endpoint(0x81, kBulk, 64);
  identify(device(0x10C4, 0xEA60, 0x0100), d.parse(), 0, Status::malformed);
}

// ------------------------------------------------------------ CH34x

usb::Configuration ch34x_interface(uint16_t bulk_mps) {
  return Descriptors{}
      .interface(0, 3, 0xFF, 0x01, 0x02)
      .endpoint(0x82, kBulk, bulk_mps)
      .endpoint(0x02, kBulk, bulk_mps)
      .endpoint(0x81, kInterrupt, 8)
      .parse();
}

TEST(IdentifyPort, Ch34xVariantsWith32BytePipesAndTheInterruptPipe) {
  struct Case {
    uint16_t vid, pid;
    ChipVariant variant;
    const char* product;
  };
  const Case cases[] = {
      {0x1A86, 0x7523, ChipVariant::ch340, "WCH CH340"},
      {0x1A86, 0x7522, ChipVariant::ch340, "WCH CH340K"},
      {0x1A86, 0x5523, ChipVariant::ch341a, "WCH CH341A"},
      {0x4348, 0x5523, ChipVariant::ch341a, "WinChipHead CH341"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.product);
    // bcdDevice does not decide a CH34x variant: any revision is the listed part.
    const PortIdentity id = identify(device(c.vid, c.pid, 0x0254), ch34x_interface(32), 0);
    EXPECT_EQ(id.family, ChipFamily::ch34x);
    EXPECT_EQ(id.port_count, 1);
    EXPECT_STREQ(id.product, c.product);
    EXPECT_EQ(id.config.variant, c.variant);
    EXPECT_EQ(id.config.interface_number, 0);
    EXPECT_EQ(id.config.data_interface, 0);
    EXPECT_EQ(id.config.port_index, 0);
    EXPECT_EQ(id.config.bulk_in_max_packet, 32);
    EXPECT_EQ(id.config.interrupt_max_packet, 8);
  }
}

TEST(IdentifyPort, Ch34xHasOnePortAndNeedsItsBulkPipes) {
  const usb::DeviceDescriptor dev = device(0x1A86, 0x7523, 0x0264);
  identify(dev, ch34x_interface(32), 1, Status::invalid_argument);  // no interface 1
  identify(dev, ch34x_interface(0), 0, Status::malformed);
  Descriptors two_ports;  // a second interface on a CH34x ID is not a port of ours
  two_ports.interface(0, 2, 0xFF, 0x01, 0x02).endpoint(0x82, kBulk, 32).endpoint(0x02, kBulk, 32);
  two_ports.interface(1, 2, 0xFF, 0x01, 0x02).endpoint(0x84, kBulk, 32).endpoint(0x04, kBulk, 32);
  identify(dev, two_ports.parse(), 1, Status::unsupported);
  const PortIdentity no_interrupt = identify(dev, two_ports.parse(), 0);
  EXPECT_EQ(no_interrupt.config.interrupt_max_packet, 0);  // status then only by polling
}

TEST(IdentifyPort, FailureLeavesNoStaleIdentity) {
  const usb::Configuration good = Descriptors{}.ftdi_channel(0, 64).parse();
  PortIdentity id;
  ASSERT_EQ(transport::identify_port(device(0x0403, 0x6001, 0x0600), good, 0, id), Status::ok);
  ASSERT_EQ(id.config.bulk_in_max_packet, 64);
  EXPECT_EQ(transport::identify_port(device(0x0403, 0x6001, 0x0600), good, 3, id),
            Status::invalid_argument);
  EXPECT_EQ(id.config.bulk_in_max_packet, 0);
  EXPECT_EQ(id.config.variant, ChipVariant::cdc_acm);
  // Nor a base name left from an earlier device.
  ASSERT_EQ(transport::identify_port(device(0x0CAD, 0x9016, 0x0100), radio_descriptors(), 1, id),
            Status::ok);
  ASSERT_STREQ(id.tty_base_name, "tetra-pei-");
  EXPECT_EQ(transport::identify_port(device(0x0CAD, 0x9016, 0x0100), radio_descriptors(), 5, id),
            Status::invalid_argument);
  EXPECT_STREQ(id.tty_base_name, transport::kTtyBaseName);
}

}  // namespace
