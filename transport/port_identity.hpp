// identify_port: which chip, variant and channel drive a matched interface,
// decided from the device table and the (parsed, untrusted) descriptors. The
// dext's Start calls it and does what it says.
#pragma once

#include <cstdint>

#include "chip_protocol.hpp"
#include "descriptors.hpp"
#include "device_table.hpp"
#include "status.hpp"
#include "tty_name.hpp"

namespace transport {

// The pipes a port's bytes and notifications travel on. The bulk pair sits in
// config.data_interface, the interrupt IN in config.interface_number.
struct PortPipes {
  usb::Endpoint data_in{};   // bulk IN (CDC fallback: interrupt IN)
  usb::Endpoint data_out{};  // bulk OUT (CDC fallback: interrupt OUT)
  bool has_interrupt = false;
  usb::Endpoint interrupt{};  // interrupt IN: CDC notifications
};

struct PortIdentity {
  ChipFamily family = ChipFamily::cdc_acm;
  uint8_t port_count = 1;  // ports of the chip (for the tty suffix's port letter)
  const char* product = "";
  // IOTTYBaseName of the port: the device entry's (devices.ini tty_base_name);
  // kTtyBaseName for a port matched by a class rule.
  const char* tty_base_name = kTtyBaseName;
  PortConfig config;  // variant, interfaces, packet sizes, port index
  PortPipes pipes;
};

// ok; invalid_argument when `config` has no interface `interface_number`;
// unsupported when nothing in the table claims the interface (including an
// interface number outside a listed device's ports) or the chip revision is one
// we refuse; malformed when the interface lacks the pipes its family needs
// (e.g. a bulk endpoint with wMaxPacketSize 0, FTDI and CDC-ACM alike; a PL2303
// interface without its interrupt IN endpoint).
Status identify_port(const usb::DeviceDescriptor& device, const usb::Configuration& config,
                     uint8_t interface_number, PortIdentity& out);

// For a driver matched on the whole device (a device-level personality,
// transport::MatchLevel::device): the interface its port is identified by, the
// entry's first interface (CDC: the communication interface). unsupported when
// the table has no entry for the device or the configuration lacks that interface.
Status device_port_interface(const usb::DeviceDescriptor& device, const usb::Configuration& config,
                             uint8_t& interface_number);

}  // namespace transport
