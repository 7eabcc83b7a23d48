#include "SerialPortBody.h"

#include <DriverKit/DriverKit.h>
#include <os/log.h>
#include <time.h>

#include "transport/descriptors.hpp"
#include "transport/kern_status.hpp"
#include "transport/tty_name.hpp"

namespace {

// Statistics are republished at most this often from the data path, and, after
// a transfer that brought line errors, a modem change or a pipe error (rare, and what a user
// watches for), at most this often.
constexpr uint64_t kPublishIntervalNs = 1'000'000'000;
constexpr uint64_t kEventPublishIntervalNs = 50'000'000;
constexpr size_t kSerialMax = 128;

const char* status_name(transport::Status status) {
  return transport::to_string(status);
}

void set_string(OSDictionary* dictionary, const char* key, const char* value) {
  OSString* string = OSString::withCString(value);
  if (string != nullptr) {
    dictionary->setObject(key, string);
    string->release();
  }
}

// The USB serial-number string of the device, decoded by transport (ASCII, '?' for the rest).
void read_serial_string(IOUSBHostInterface* interface, uint8_t index, char* out, size_t size) {
  out[0] = '\0';
  if (index == 0) {
    return;
  }
  const IOUSBStringDescriptor* descriptor = interface->CopyStringDescriptor(index);
  if (descriptor == nullptr) {
    return;
  }
  size_t length = 0;
  (void)transport::usb::decode_string_descriptor(
      {reinterpret_cast<const uint8_t*>(descriptor), descriptor->bLength}, {out, size}, length);
  IOUSBHostFreeDescriptor(descriptor);
}

}  // namespace

transport::Status parse_and_free_descriptors(const IOUSBDeviceDescriptor* device_descriptor,
                                             const IOUSBConfigurationDescriptor* config_descriptor,
                                             transport::usb::DeviceDescriptor& device,
                                             transport::usb::Configuration& config) {
  transport::Status status = transport::Status::malformed;
  if (device_descriptor != nullptr && config_descriptor != nullptr) {
    status = transport::usb::parse_device_descriptor(
        {reinterpret_cast<const uint8_t*>(device_descriptor), sizeof(IOUSBDeviceDescriptor)},
        device);
    if (status == transport::Status::ok) {
      status = transport::usb::parse_configuration(
          {reinterpret_cast<const uint8_t*>(config_descriptor), config_descriptor->wTotalLength},
          config);
    }
  }
  if (config_descriptor != nullptr) {
    IOUSBHostFreeDescriptor(config_descriptor);
  }
  if (device_descriptor != nullptr) {
    IOUSBHostFreeDescriptor(device_descriptor);
  }
  return status;
}

kern_return_t SerialPortBody::start(IOUserSerial* service, IOUSBHostInterface* interface,
                                    OSAction* statistics_due) {
  service_ = service;
  // [U] Apple does not say on which queue IOUserUSBSerial calls handleRxPacket;
  // the timer runs on the default queue, where the packet hooks are assumed to run.
  IODispatchQueue* queue = nullptr;
  kern_return_t timer_result = service->CopyDispatchQueue(kIOServiceDefaultQueueName, &queue);
  if (timer_result == kIOReturnSuccess) {
    timer_result = IOTimerDispatchSource::Create(queue, &statistics_timer_);
  }
  OSSafeReleaseNULL(queue);
  if (timer_result == kIOReturnSuccess) {
    timer_result = statistics_timer_->SetHandler(statistics_due);
  }
  if (timer_result == kIOReturnSuccess) {
    timer_result = statistics_timer_->SetEnable(true);
  }
  if (timer_result != kIOReturnSuccess) {
    DEXT_LOG(class_name_, "Start: cannot make the statistics timer: 0x%x", timer_result);
    return timer_result;
  }
  IOUSBHostDevice* device = nullptr;
  kern_return_t result = interface->CopyDevice(&device);
  const IOUSBDeviceDescriptor* device_descriptor =
      result == kIOReturnSuccess ? device->CopyDeviceDescriptor() : nullptr;
  const IOUSBConfigurationDescriptor* config_descriptor = interface->CopyConfigurationDescriptor();
  // The interface descriptor lies inside the configuration descriptor, which is freed below.
  const IOUSBInterfaceDescriptor* interface_descriptor =
      config_descriptor != nullptr ? interface->GetInterfaceDescriptor(config_descriptor) : nullptr;
  const bool has_interface = interface_descriptor != nullptr;
  const uint8_t interface_number = has_interface ? interface_descriptor->bInterfaceNumber : 0xFF;

  transport::usb::DeviceDescriptor parsed_device;
  transport::usb::Configuration parsed_config;
  transport::Status status = parse_and_free_descriptors(device_descriptor, config_descriptor,
                                                        parsed_device, parsed_config);
  if (status == transport::Status::ok) {
    status = has_interface ? transport::identify_port(parsed_device, parsed_config,
                                                      interface_number, identity_)
                           : transport::Status::malformed;
  }
  OSSafeReleaseNULL(device);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "Start: %04x:%04x interface %u cannot be driven: %{public}s",
             parsed_device.vendor_id, parsed_device.product_id, interface_number,
             status_name(status));
    return transport::kern::from_status(status);
  }

  transport::ChipProtocol* chip = chips_.select(identity_.family);
  status = chip != nullptr ? port_.attach(*chip, sink_, identity_.config)
                           : transport::Status::unsupported;
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "Start: cannot set up the port: %{public}s", status_name(status));
    return transport::kern::from_status(status);
  }

  char serial[kSerialMax];
  read_serial_string(interface, parsed_device.serial_number_index, serial, sizeof serial);
  char suffix[transport::kTtySuffixMax + 1];
  transport::make_tty_suffix(serial, parsed_device.vendor_id, parsed_device.product_id,
                             identity_.config.port_index, identity_.port_count, suffix);

  OSDictionary* properties = OSDictionary::withCapacity(4);
  if (properties != nullptr) {
    set_string(properties, kIOTTYBaseNameKey, identity_.tty_base_name);
    set_string(properties, kIOTTYSuffixKey, suffix);
    set_string(properties, "USBSerialBridgeChip", port_.chip()->name());
    set_string(properties, "USBSerialBridgeVersion", USBSERIAL_VERSION);
    service_->SetProperties(properties);
    properties->release();
  }
  publish_statistics();

  DEXT_LOG(class_name_,
           "Start: %04x:%04x bcdDevice %04x interface %u: %{public}s (%{public}s) port %u, name "
           "%{public}s%{public}s",
           parsed_device.vendor_id, parsed_device.product_id, parsed_device.bcd_device,
           interface_number, identity_.product, port_.chip()->name(), identity_.config.port_index,
           identity_.tty_base_name, suffix);
  return kIOReturnSuccess;
}

void SerialPortBody::stop() {
  DEXT_LOG(class_name_, "Stop");
  if (statistics_timer_ != nullptr) {
    statistics_timer_->Cancel(nullptr);
    OSSafeReleaseNULL(statistics_timer_);
  }
  if (port_.active()) {
    (void)port_.deactivate();
  }
  sink_.detach();
}

void SerialPortBody::publish_statistics(const DataPathStats* data_path) {
  if (service_ == nullptr) {
    return;
  }
  const transport::PortStats& stats = port_.stats();
  OSDictionary* values = OSDictionary::withCapacity(40);
  OSDictionary* wrapper = OSDictionary::withCapacity(1);
  if (values == nullptr || wrapper == nullptr) {
    OSSafeReleaseNULL(values);
    OSSafeReleaseNULL(wrapper);
    return;
  }
  auto put = [values](const char* key, uint64_t value) {
    OSNumber* number = OSNumber::withNumber(value, 64);
    if (number != nullptr) {
      values->setObject(key, number);
      number->release();
    }
  };
  put("RequestedBaud", stats.requested_baud);
  put("ActualBaud", stats.actual_baud);
  put("RxBytes", stats.rx_bytes);
  put("RxTransfers", stats.rx_transfers);
  put("OverrunErrors", stats.errors.overrun);
  put("ParityErrors", stats.errors.parity);
  put("FramingErrors", stats.errors.framing);
  put("BreaksReceived", stats.errors.brk);
  put("ModemChanges", stats.modem_changes);
  put("StatusOnlyPackets", stats.status_only_packets);
  put("MalformedPackets", stats.malformed);
  put("InterruptTransfers", stats.interrupt_transfers);
  put("MalformedNotifications", stats.malformed_notifications);
  put("ControlFailures", stats.control_failures);
  if (data_path != nullptr && data_path->rx != nullptr && data_path->tx != nullptr) {
    const transport::PipeStats& rx = *data_path->rx;
    const transport::PipeStats& tx = *data_path->tx;
    put("RxMaxInFlight", rx.max_in_flight);
    put("RxStalls", rx.stalls);
    put("RxErrors", rx.errors);
    put("RxBabbles", rx.babbles);
    put("RxRecoveries", rx.recoveries);
    put("RxFaultBytes", rx.fault_bytes);
    put("RxDiscardedBytes", rx.discarded_bytes);
    put("RxParkedBytes", data_path->rx_parked_bytes);
    put("TxBytes", tx.bytes);
    put("TxMaxInFlight", tx.max_in_flight);
    put("TxStalls", tx.stalls);
    put("TxErrors", tx.errors);
    put("TxRecoveries", tx.recoveries);
    put("TxResentBytes", tx.fault_bytes);
    put("TxDiscardedBytes", tx.discarded_bytes);
    if (data_path->interrupt != nullptr) {
      const transport::PipeStats& interrupt = *data_path->interrupt;
      put("InterruptStalls", interrupt.stalls);
      put("InterruptErrors", interrupt.errors);
      put("InterruptRecoveries", interrupt.recoveries);
    }
  }
  set_string(values, "LastError", status_name(stats.last_error));
  set_string(values, "LastErrorSite", transport::to_string(stats.last_error_site));
  wrapper->setObject("Statistics", values);
  service_->SetProperties(wrapper);
  values->release();
  wrapper->release();
  last_publish_ns_ = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW);
  events_unpublished_ = false;
  counters_unpublished_ = false;
}

void SerialPortBody::publish_statistics_now_and_then(const DataPathStats* data_path) {
  const uint64_t interval = events_unpublished_ ? kEventPublishIntervalNs : kPublishIntervalNs;
  const uint64_t due = last_publish_ns_ + interval;
  if (timer_deadline_ns_ != 0 && timer_deadline_ns_ <= due) {
    // The armed timer publishes these counters in time: no clock read per
    // transfer while data streams.
    counters_unpublished_ = true;
    return;
  }
  const uint64_t now = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW);
  if (now >= due) {
    publish_statistics(data_path);
    return;
  }
  counters_unpublished_ = true;
  if (statistics_timer_ != nullptr && (timer_deadline_ns_ == 0 || due < timer_deadline_ns_)) {
    timer_deadline_ns_ = due;  // a later WakeAtTime replaces the earlier one
    statistics_timer_->WakeAtTime(kIOTimerClockMonotonicRaw, due, 0);
  }
}

void SerialPortBody::publish_statistics_due(const DataPathStats* data_path) {
  timer_deadline_ns_ = 0;
  if (counters_unpublished_ || events_unpublished_) {
    publish_statistics(data_path);
  }
}

kern_return_t SerialPortBody::activate() {
  const transport::Status status = port_.activate();
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwActivate: opening the chip failed: %{public}s", status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::deactivate() {
  const transport::Status status = port_.deactivate();
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwDeactivate: quieting the chip failed: %{public}s",
             status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::reset_fifo(bool tx, bool rx) {
  const transport::Status status = port_.reset_fifo(tx, rx);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwResetFIFO(tx %d, rx %d) failed: %{public}s", tx, rx,
             status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::send_break(bool on) {
  const transport::Status status = port_.send_break(on);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwSendBreak(%d) failed: %{public}s", on, status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::modem_status(bool* cts, bool* dsr, bool* ri, bool* dcd) {
  transport::ModemStatus modem;
  const transport::Status status = port_.modem_status(modem);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwGetModemStatus failed: %{public}s", status_name(status));
    return transport::kern::from_status(status);
  }
  if (cts != nullptr)
    *cts = modem.cts;
  if (dsr != nullptr)
    *dsr = modem.dsr;
  if (ri != nullptr)
    *ri = modem.ri;
  if (dcd != nullptr)
    *dcd = modem.dcd;
  return kIOReturnSuccess;
}

kern_return_t SerialPortBody::program_uart(uint32_t baud, uint8_t data_bits, uint8_t half_stop_bits,
                                           uint8_t parity) {
  const transport::Status status = port_.program_uart(baud, data_bits, half_stop_bits, parity);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_,
             "HwProgramUART(%u Bd, %u bits, %u half-stops, parity %u) failed: %{public}s; "
             "the line stays at %u Bd",
             baud, data_bits, half_stop_bits, parity, status_name(status),
             port_.stats().actual_baud);
  } else {
    DEXT_LOG(class_name_, "HwProgramUART: %u Bd requested, %u Bd actual", baud,
             port_.stats().actual_baud);
  }
  publish_statistics();
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::program_baud(uint32_t baud) {
  const transport::Status status = port_.program_baud(baud);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwProgramBaudRate(%u) failed: %{public}s; the line stays at %u Bd", baud,
             status_name(status), port_.stats().actual_baud);
  } else {
    DEXT_LOG(class_name_, "HwProgramBaudRate: %u Bd requested, %u Bd actual", baud,
             port_.stats().actual_baud);
  }
  publish_statistics();
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::program_mcr(bool dtr, bool rts) {
  const transport::Status status = port_.program_mcr(dtr, rts);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwProgramMCR(dtr %d, rts %d) failed: %{public}s", dtr, rts,
             status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::program_latency(uint32_t latency) {
  const transport::Status status = port_.program_latency(latency);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwProgramLatencyTimer(%u) failed: %{public}s", latency,
             status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t SerialPortBody::program_flow(uint32_t arg, uint8_t xon, uint8_t xoff) {
  const transport::Status status = port_.program_flow(arg, xon, xoff);
  if (status != transport::Status::ok) {
    DEXT_LOG(class_name_, "HwProgramFlowControl(0x%x, xon 0x%02x, xoff 0x%02x) failed: %{public}s",
             arg, xon, xoff, status_name(status));
  }
  return transport::kern::from_status(status);
}

// Reports what one decoded transfer means: modem changes and line errors.
void SerialPortBody::report(const transport::RxEvents& events) {
  events_unpublished_ = events_unpublished_ || events.modem_changed || events.errors.any();
  if (events.modem_changed) {
    service_->SetModemStatus(events.modem.cts, events.modem.dsr, events.modem.ri, events.modem.dcd);
  }
  if (events.errors.any()) {
    service_->RxError(events.errors.overrun != 0, events.errors.brk != 0,
                      events.errors.framing != 0, events.errors.parity != 0);
  }
}

void SerialPortBody::pipe_error(transport::FaultSite site, transport::Status status) {
  if (port_.note_pipe_error(site, status)) {
    events_unpublished_ = true;
  }
}

uint32_t SerialPortBody::rx_transfer(std::span<uint8_t> transfer) {
  transport::RxEvents events;
  const uint32_t malformed = port_.stats().malformed;
  const uint32_t size = port_.handle_rx(transfer, events);
  // A packet the decoder rejected is a device fault: news like a line error.
  events_unpublished_ = events_unpublished_ || port_.stats().malformed != malformed;
  report(events);
  return size;
}

void SerialPortBody::interrupt_transfer(std::span<const uint8_t> transfer) {
  transport::RxEvents events;
  const uint32_t malformed = port_.stats().malformed_notifications;
  port_.handle_interrupt(transfer, events);
  events_unpublished_ = events_unpublished_ || port_.stats().malformed_notifications != malformed;
  report(events);
}
