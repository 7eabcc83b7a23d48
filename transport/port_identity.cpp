#include "port_identity.hpp"

#include "chips/cdc_acm.hpp"
#include "chips/pl2303.hpp"

namespace transport {

Status identify_port(const usb::DeviceDescriptor& device, const usb::Configuration& config,
                     uint8_t interface_number, PortIdentity& out) {
  out = PortIdentity{};
  const usb::Interface* itf = config.find_interface(interface_number);
  if (itf == nullptr) {
    return Status::invalid_argument;
  }
  ChipVariant variant = ChipVariant::cdc_acm;
  uint8_t port_index = 0;
  if (const DeviceEntry* entry = find_device(device.vendor_id, device.product_id)) {
    if (interface_number < entry->first_interface ||
        interface_number - entry->first_interface >= entry->port_count) {
      return Status::unsupported;
    }
    const Status status = entry->rule == VariantRule::pl2303_by_descriptor
                              ? chips::pl2303::detect_variant(device, variant)
                              : resolve_variant(*entry, device.bcd_device, variant);
    if (status != Status::ok) {
      return status;
    }
    port_index = static_cast<uint8_t>(interface_number - entry->first_interface);
    out.family = entry->family;
    out.port_count = entry->port_count;
    out.product = entry->product;
    out.tty_base_name = entry->tty_base_name;
  } else if (const ClassRule* rule =
                 find_class_rule(itf->interface_class, itf->interface_subclass)) {
    variant = rule->variant;
    out.family = rule->family;
    out.product = rule->product;
  } else {
    return Status::unsupported;
  }

  if (out.family == ChipFamily::cdc_acm) {
    chips::CdcAcmPort port;
    const Status status = chips::find_cdc_acm_port(config, interface_number, port);
    if (status != Status::ok) {
      return status;
    }
    // find_cdc_acm_port picks pipes by type and direction only; a data pipe
    // that can carry no packet is as unusable here as on an FTDI interface.
    if (port.data_in.max_packet == 0 || port.data_out.max_packet == 0) {
      return Status::malformed;
    }
    out.config = chips::make_port_config(port);
    out.pipes.data_in = port.data_in;
    out.pipes.data_out = port.data_out;
    out.pipes.has_interrupt = port.has_notification;
    out.pipes.interrupt = port.notification;
  } else {
    const usb::Endpoint* in = itf->find_endpoint(usb::TransferType::bulk, true);
    const usb::Endpoint* out_ep = itf->find_endpoint(usb::TransferType::bulk, false);
    if (in == nullptr || out_ep == nullptr || in->max_packet == 0 || out_ep->max_packet == 0) {
      return Status::malformed;
    }
    out.config.interface_number = interface_number;
    out.config.data_interface = interface_number;
    out.config.bulk_in_max_packet = in->max_packet;
    out.pipes.data_in = *in;
    out.pipes.data_out = *out_ep;
    if (const usb::Endpoint* irq = itf->find_endpoint(usb::TransferType::interrupt, true)) {
      out.config.interrupt_max_packet = irq->max_packet;
      out.pipes.has_interrupt = true;
      out.pipes.interrupt = *irq;
    }
    // A PL2303 reports its modem lines and line errors only on the interrupt endpoint, and
    // a port can reach only its own interface's pipes (Linux's endpoint hack, which borrows
    // interface 0's interrupt endpoint, is not possible in a dext).
    if (out.family == ChipFamily::pl2303 && out.config.interrupt_max_packet == 0) {
      return Status::malformed;
    }
  }
  out.config.variant = variant;
  out.config.port_index = port_index;
  return Status::ok;
}

Status device_port_interface(const usb::DeviceDescriptor& device, const usb::Configuration& config,
                             uint8_t& interface_number) {
  const DeviceEntry* entry = find_device(device.vendor_id, device.product_id);
  if (entry == nullptr || config.find_interface(entry->first_interface) == nullptr) {
    return Status::unsupported;
  }
  interface_number = entry->first_interface;
  return Status::ok;
}

}  // namespace transport
