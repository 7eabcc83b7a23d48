#include "descriptors.hpp"

namespace transport::usb {
namespace {

constexpr uint16_t read_le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

constexpr size_t kDeviceDescriptorLength = 18;
constexpr size_t kConfigurationHeaderLength = 9;
constexpr size_t kInterfaceLength = 9;
constexpr size_t kEndpointLength = 7;

void record_cdc_functional(const uint8_t* d, size_t length, CdcFunctional& cdc) {
  if (length < 3) {
    return;
  }
  switch (d[2]) {
    case kCdcHeader:
      cdc.has_header = true;
      break;
    case kCdcCallManagement:
      if (length >= 5) {
        cdc.has_call_management = true;
        cdc.call_management_capabilities = d[3];
        cdc.call_management_data_interface = d[4];
      }
      break;
    case kCdcAbstractControl:
      if (length >= 4) {
        cdc.has_acm = true;
        cdc.acm_capabilities = d[3];
      }
      break;
    case kCdcUnion:
      // The first union wins: Linux cdc_parse_cdc_header (drivers/usb/core/message.c)
      // skips later ones ("More than one union descriptor, skipping ...").
      if (length >= 5 && !cdc.has_union) {
        cdc.has_union = true;
        cdc.union_control_interface = d[3];
        cdc.union_subordinate_interface = d[4];
      }
      break;
    default:
      break;
  }
}

}  // namespace

const Endpoint* Interface::find_endpoint(TransferType type, bool in) const {
  for (size_t i = 0; i < endpoint_count; ++i) {
    if (endpoints[i].type() == type && endpoints[i].is_in() == in) {
      return &endpoints[i];
    }
  }
  return nullptr;
}

const Interface* Configuration::find_interface(uint8_t number) const {
  for (size_t i = 0; i < interface_count; ++i) {
    if (interfaces[i].number == number) {
      return &interfaces[i];
    }
  }
  return nullptr;
}

Status parse_device_descriptor(std::span<const uint8_t> bytes, DeviceDescriptor& out) {
  if (bytes.size() < kDeviceDescriptorLength || bytes[0] < kDeviceDescriptorLength ||
      bytes[1] != kDescriptorDevice) {
    return Status::malformed;
  }
  const uint8_t* d = bytes.data();
  out.bcd_usb = read_le16(d + 2);
  out.device_class = d[4];
  out.device_subclass = d[5];
  out.device_protocol = d[6];
  out.max_packet_size0 = d[7];
  out.vendor_id = read_le16(d + 8);
  out.product_id = read_le16(d + 10);
  out.bcd_device = read_le16(d + 12);
  out.manufacturer_index = d[14];
  out.product_index = d[15];
  out.serial_number_index = d[16];
  out.num_configurations = d[17];
  return Status::ok;
}

Status parse_configuration(std::span<const uint8_t> bytes, Configuration& out) {
  out = Configuration{};
  if (bytes.size() < kConfigurationHeaderLength || bytes[0] < kConfigurationHeaderLength ||
      bytes[1] != kDescriptorConfiguration) {
    return Status::malformed;
  }
  const size_t total = read_le16(bytes.data() + 2);
  if (total < bytes[0] || total > bytes.size()) {
    return Status::malformed;
  }
  out.declared_interfaces = bytes[4];
  out.value = bytes[5];
  out.attributes = bytes[7];
  out.max_power = bytes[8];

  Interface* current = nullptr;  // null while inside a skipped alternate setting
  size_t offset = bytes[0];
  while (offset < total) {
    const size_t remaining = total - offset;
    const uint8_t* d = bytes.data() + offset;
    const size_t length = d[0];
    if (remaining < 2 || length < 2 || length > remaining) {
      return Status::malformed;
    }
    switch (d[1]) {
      case kDescriptorInterface: {
        if (length < kInterfaceLength) {
          return Status::malformed;
        }
        current = nullptr;
        if (d[3] != 0) {
          break;  // alternate settings other than 0 are not used by serial functions
        }
        if (out.find_interface(d[2]) != nullptr) {
          return Status::malformed;  // the same interface twice at alternate setting 0
        }
        if (out.interface_count == Configuration::kMaxInterfaces) {
          out.truncated = true;
          break;
        }
        Interface& itf = out.interfaces[out.interface_count++];
        itf.number = d[2];
        itf.alternate = d[3];
        itf.declared_endpoints = d[4];
        itf.interface_class = d[5];
        itf.interface_subclass = d[6];
        itf.interface_protocol = d[7];
        itf.name_index = d[8];
        current = &itf;
        break;
      }
      case kDescriptorEndpoint: {
        if (length < kEndpointLength) {
          return Status::malformed;
        }
        if (current == nullptr) {
          break;
        }
        if (current->endpoint_count == Interface::kMaxEndpoints) {
          out.truncated = true;
          break;
        }
        Endpoint& ep = current->endpoints[current->endpoint_count++];
        ep.address = d[2];
        ep.attributes = d[3];
        ep.max_packet = static_cast<uint16_t>(read_le16(d + 4) & 0x07FF);
        ep.interval = d[6];
        break;
      }
      case kDescriptorCsInterface:
        if (current != nullptr) {
          record_cdc_functional(d, length, current->cdc);
        }
        break;
      default:
        break;  // IADs, HID, vendor descriptors: valid, not needed
    }
    offset += length;
  }
  return Status::ok;
}

Status decode_string_descriptor(std::span<const uint8_t> bytes, std::span<char> out,
                                size_t& length) {
  length = 0;
  if (out.empty()) {
    return Status::invalid_argument;
  }
  out[0] = '\0';
  if (bytes.size() < 2 || bytes[1] != kDescriptorString || bytes[0] < 2 ||
      bytes[0] > bytes.size() || (bytes[0] % 2) != 0) {
    return Status::malformed;
  }
  const size_t units = (bytes[0] - 2u) / 2u;
  for (size_t i = 0; i < units && length + 1 < out.size(); ++i) {
    const uint16_t unit = read_le16(bytes.data() + 2 + 2 * i);
    out[length++] = (unit >= 0x20 && unit <= 0x7E) ? static_cast<char>(unit) : '?';
  }
  out[length] = '\0';
  return Status::ok;
}

}  // namespace transport::usb
