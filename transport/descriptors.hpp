// Bounds-checked parsing of USB descriptors. The device is untrusted input:
// every length is checked against the buffer before it is read, a zero or
// overlong bLength ends the walk with Status::malformed, and nothing here
// allocates. Layouts: USB 2.0 §9.6; CDC functional descriptors: USB CDC 1.2 §5.2.3.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "status.hpp"

namespace transport::usb {

// bDescriptorType values.
inline constexpr uint8_t kDescriptorDevice = 0x01;
inline constexpr uint8_t kDescriptorConfiguration = 0x02;
inline constexpr uint8_t kDescriptorString = 0x03;
inline constexpr uint8_t kDescriptorInterface = 0x04;
inline constexpr uint8_t kDescriptorEndpoint = 0x05;
inline constexpr uint8_t kDescriptorInterfaceAssociation = 0x0B;
inline constexpr uint8_t kDescriptorCsInterface = 0x24;  // CDC class-specific interface

// CDC functional descriptor subtypes (CDC 1.2 Table 13).
inline constexpr uint8_t kCdcHeader = 0x00;
inline constexpr uint8_t kCdcCallManagement = 0x01;
inline constexpr uint8_t kCdcAbstractControl = 0x02;
inline constexpr uint8_t kCdcUnion = 0x06;

// Interface classes used by the serial functions.
inline constexpr uint8_t kClassCdcControl = 0x02;
inline constexpr uint8_t kSubclassAcm = 0x02;
inline constexpr uint8_t kClassCdcData = 0x0A;
inline constexpr uint8_t kClassVendor = 0xFF;

enum class TransferType : uint8_t { control = 0, isochronous = 1, bulk = 2, interrupt = 3 };

struct DeviceDescriptor {
  uint16_t bcd_usb = 0;
  uint8_t device_class = 0;
  uint8_t device_subclass = 0;
  uint8_t device_protocol = 0;
  uint8_t max_packet_size0 = 0;
  uint16_t vendor_id = 0;
  uint16_t product_id = 0;
  uint16_t bcd_device = 0;
  uint8_t manufacturer_index = 0;
  uint8_t product_index = 0;
  uint8_t serial_number_index = 0;
  uint8_t num_configurations = 0;
};

struct Endpoint {
  uint8_t address = 0;      // bEndpointAddress: bit 7 = IN
  uint8_t attributes = 0;   // bmAttributes: bits 1:0 = transfer type
  uint16_t max_packet = 0;  // wMaxPacketSize bits 10:0
  uint8_t interval = 0;

  constexpr bool is_in() const { return (address & 0x80) != 0; }
  constexpr TransferType type() const { return static_cast<TransferType>(attributes & 0x03); }
};

// CDC functional descriptors found after an interface descriptor.
struct CdcFunctional {
  bool has_header = false;
  bool has_call_management = false;
  bool has_acm = false;
  bool has_union = false;
  uint8_t call_management_capabilities = 0;
  uint8_t call_management_data_interface = 0;
  uint8_t acm_capabilities = 0;
  uint8_t union_control_interface = 0;      // bControlInterface (master)
  uint8_t union_subordinate_interface = 0;  // bSubordinateInterface0
};

struct Interface {
  static constexpr size_t kMaxEndpoints = 8;

  uint8_t number = 0;
  uint8_t alternate = 0;
  uint8_t interface_class = 0;
  uint8_t interface_subclass = 0;
  uint8_t interface_protocol = 0;
  uint8_t name_index = 0;          // iInterface
  uint8_t declared_endpoints = 0;  // bNumEndpoints as the device claims it
  uint8_t endpoint_count = 0;      // endpoint descriptors actually present (at most kMaxEndpoints)
  std::array<Endpoint, kMaxEndpoints> endpoints{};
  CdcFunctional cdc;

  // First endpoint of the given type and direction, or nullptr.
  const Endpoint* find_endpoint(TransferType type, bool in) const;
};

struct Configuration {
  static constexpr size_t kMaxInterfaces = 32;

  uint8_t value = 0;  // bConfigurationValue
  uint8_t declared_interfaces = 0;
  uint8_t attributes = 0;
  uint8_t max_power = 0;
  uint8_t interface_count = 0;  // interfaces (alternate setting 0) recorded below
  bool truncated = false;       // more interfaces or endpoints than the fixed capacity
  std::array<Interface, kMaxInterfaces> interfaces{};

  // Alternate setting 0 of the interface with that number, or nullptr.
  const Interface* find_interface(uint8_t number) const;
};

// Parses an 18-byte device descriptor.
// ok, or malformed (too short, wrong type, bLength < 18).
Status parse_device_descriptor(std::span<const uint8_t> bytes, DeviceDescriptor& out);

// Parses a whole configuration descriptor set (wTotalLength bytes).
// ok, or malformed when any descriptor overruns wTotalLength, has a bLength of
// 0 or 1, when wTotalLength is larger than the buffer (a truncated read) or
// smaller than the configuration descriptor, or when an interface or endpoint
// descriptor is shorter than its fixed part. Bytes past wTotalLength are not
// part of the set and are ignored. Alternate settings other than 0 are
// validated and skipped. Of several Union descriptors on one interface the
// first is kept, as Linux does.
Status parse_configuration(std::span<const uint8_t> bytes, Configuration& out);

// Decodes a string descriptor (UTF-16LE) to ASCII: code units 0x20..0x7E are
// copied, anything else becomes '?'. Writes a NUL-terminated string of at most
// out.size() - 1 characters and returns its length through `length`.
// ok, or malformed (bad header, odd length), or invalid_argument (empty out).
Status decode_string_descriptor(std::span<const uint8_t> bytes, std::span<char> out,
                                size_t& length);

}  // namespace transport::usb
