// libFuzzer target: everything transport/ reads from a device's descriptors.
// The device is untrusted input: no byte sequence may read or write out of
// bounds, hang, or leave a parsed structure that breaks its documented limits.
//
// Input: an 18-byte device descriptor, then a configuration descriptor set
// (shorter inputs are a truncated device descriptor, which must be refused).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "transport/chips/cdc_acm.hpp"
#include "transport/descriptors.hpp"
#include "transport/port_identity.hpp"

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();  // an invariant broke: libFuzzer reports the input
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace transport;
  const std::span<const uint8_t> input(data, size);
  const std::span<const uint8_t> device_bytes = input.first(size < 18 ? size : 18);
  const std::span<const uint8_t> config_bytes = input.subspan(device_bytes.size());

  usb::DeviceDescriptor device;
  const Status device_status = usb::parse_device_descriptor(device_bytes, device);
  require(device_status == Status::ok || device_status == Status::malformed);
  require(device_status != Status::ok || size >= 18);

  usb::Configuration config;
  if (usb::parse_configuration(config_bytes, config) == Status::ok) {
    require(config.interface_count <= usb::Configuration::kMaxInterfaces);
    for (size_t i = 0; i < config.interface_count; ++i) {
      const usb::Interface& itf = config.interfaces[i];
      require(itf.endpoint_count <= usb::Interface::kMaxEndpoints);
      require(config.find_interface(itf.number) != nullptr);
      chips::CdcAcmPort cdc;
      (void)chips::find_cdc_acm_port(config, itf.number, cdc);
      if (device_status == Status::ok) {
        PortIdentity identity;
        if (identify_port(device, config, itf.number, identity) == Status::ok) {
          require(identity.config.port_index < identity.port_count);
          require(identity.config.bulk_in_max_packet != 0);
        }
      }
    }
  }

  // The same bytes as a string descriptor, into buffers of every small size.
  char text[40];
  for (size_t room = 1; room <= sizeof text; room += 13) {
    size_t length = 0;
    if (usb::decode_string_descriptor(input, {text, room}, length) == Status::ok) {
      require(length < room && text[length] == '\0');
    }
  }
  return 0;
}
