// org_usbserialbridge_SerialDriver: lifecycle, Hw* translation and logging.
// Every decision is transport's (transport/serial_port.hpp, port_identity.hpp,
// tty_name.hpp); this file translates and reports, loudly.

#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBDriverKit/USBDriverKit.h>
#include <USBSerialDriverKit/USBSerialDriverKit.h>
#include <os/log.h>
#include <time.h>

#include <new>

#include "DeviceRequestSink.h"
#include "org_usbserialbridge_SerialDriver.h"
#include "transport/chips/chip_set.hpp"
#include "transport/descriptors.hpp"
#include "transport/kern_status.hpp"
#include "transport/port_identity.hpp"
#include "transport/serial_port.hpp"
#include "transport/tty_name.hpp"

#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif
#define LOG_PREFIX "USBSerialBridge SerialDriver " USBSERIAL_VERSION

namespace {
// Statistics are republished at most this often from the data path.
constexpr uint64_t kPublishIntervalNs = 1'000'000'000;
constexpr size_t kSerialMax = 128;
}  // namespace

// Constructed with placement new in init() and destroyed in free(): DriverKit's
// IONewZero is raw zeroed memory, which would leave the vtables of the sink and
// the chip protocols null and every member initialiser unapplied.
struct org_usbserialbridge_SerialDriver_IVars {
  IOUSBHostInterface* interface = nullptr;  // the provider; valid until Stop
  DeviceRequestSink sink;
  transport::chips::ChipSet chips;
  transport::SerialPort port;
  transport::PortIdentity identity;
  uint64_t last_publish_ns = 0;
};

static const char* status_name(transport::Status status) {
  return transport::to_string(status);
}

// Publishes the port's statistics as registry properties (key "Statistics").
static void publish_statistics(org_usbserialbridge_SerialDriver* self,
                               org_usbserialbridge_SerialDriver_IVars* ivars) {
  const transport::PortStats& stats = ivars->port.stats();
  OSDictionary* values = OSDictionary::withCapacity(16);
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
  put("ControlFailures", stats.control_failures);
  OSString* last_error = OSString::withCString(status_name(stats.last_error));
  if (last_error != nullptr) {
    values->setObject("LastError", last_error);
    last_error->release();
  }
  wrapper->setObject("Statistics", values);
  self->SetProperties(wrapper);
  values->release();
  wrapper->release();
  ivars->last_publish_ns = clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW_APPROX);
}

static void set_string(OSDictionary* dictionary, const char* key, const char* value) {
  OSString* string = OSString::withCString(value);
  if (string != nullptr) {
    dictionary->setObject(key, string);
    string->release();
  }
}

// The USB serial-number string of the device, decoded by transport (ASCII, '?' for the rest).
static void read_serial_string(IOUSBHostInterface* interface, uint8_t index, char* out,
                               size_t size) {
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

bool org_usbserialbridge_SerialDriver::init() {
  if (!super::init()) {
    return false;
  }
  void* memory = IOMallocZero(sizeof(org_usbserialbridge_SerialDriver_IVars));
  if (memory == nullptr) {
    return false;
  }
  ivars = new (memory) org_usbserialbridge_SerialDriver_IVars();
  return true;
}

void org_usbserialbridge_SerialDriver::free() {
  if (ivars != nullptr) {
    ivars->~org_usbserialbridge_SerialDriver_IVars();
    IOFree(ivars, sizeof(org_usbserialbridge_SerialDriver_IVars));
    ivars = nullptr;
  }
  super::free();
}

kern_return_t org_usbserialbridge_SerialDriver::Start_Impl(IOService* provider) {
  kern_return_t result = Start(provider, SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " Start: IOUserUSBSerial::Start failed 0x%x", result);
    return result;
  }
  ivars->interface = OSDynamicCast(IOUSBHostInterface, provider);
  if (ivars->interface == nullptr) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " Start: provider is not an IOUSBHostInterface");
    Stop(provider, SUPERDISPATCH);
    return kIOReturnNoDevice;
  }

  IOUSBHostDevice* device = nullptr;
  result = ivars->interface->CopyDevice(&device);
  const IOUSBDeviceDescriptor* device_descriptor =
      result == kIOReturnSuccess ? device->CopyDeviceDescriptor() : nullptr;
  const IOUSBConfigurationDescriptor* config_descriptor =
      ivars->interface->CopyConfigurationDescriptor();
  const IOUSBInterfaceDescriptor* interface_descriptor =
      config_descriptor != nullptr ? ivars->interface->GetInterfaceDescriptor(config_descriptor)
                                   : nullptr;

  transport::usb::DeviceDescriptor parsed_device;
  transport::usb::Configuration parsed_config;
  transport::Status status = transport::Status::malformed;
  if (device_descriptor != nullptr && config_descriptor != nullptr &&
      interface_descriptor != nullptr) {
    status = transport::usb::parse_device_descriptor(
        {reinterpret_cast<const uint8_t*>(device_descriptor), sizeof(IOUSBDeviceDescriptor)},
        parsed_device);
    if (status == transport::Status::ok) {
      status = transport::usb::parse_configuration(
          {reinterpret_cast<const uint8_t*>(config_descriptor), config_descriptor->wTotalLength},
          parsed_config);
    }
    if (status == transport::Status::ok) {
      status = transport::identify_port(parsed_device, parsed_config,
                                        interface_descriptor->bInterfaceNumber, ivars->identity);
    }
  }
  const uint8_t interface_number =
      interface_descriptor != nullptr ? interface_descriptor->bInterfaceNumber : 0xFF;
  if (config_descriptor != nullptr) {
    IOUSBHostFreeDescriptor(config_descriptor);
  }
  if (device_descriptor != nullptr) {
    IOUSBHostFreeDescriptor(device_descriptor);
  }
  OSSafeReleaseNULL(device);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " Start: %04x:%04x interface %u cannot be driven: %{public}s",
           parsed_device.vendor_id, parsed_device.product_id, interface_number,
           status_name(status));
    Stop(provider, SUPERDISPATCH);
    return transport::kern::from_status(status);
  }

  result = ivars->sink.attach(ivars->interface);
  if (result == kIOReturnSuccess) {
    transport::ChipProtocol* chip = ivars->chips.select(ivars->identity.family);
    status = chip != nullptr ? ivars->port.attach(*chip, ivars->sink, ivars->identity.config)
                             : transport::Status::unsupported;
    result = transport::kern::from_status(status);
  }
  if (result != kIOReturnSuccess) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " Start: cannot set up the port: 0x%x", result);
    ivars->sink.detach();
    Stop(provider, SUPERDISPATCH);
    return result;
  }

  char serial[kSerialMax];
  read_serial_string(ivars->interface, parsed_device.serial_number_index, serial, sizeof serial);
  char suffix[transport::kTtySuffixMax + 1];
  transport::make_tty_suffix(serial, parsed_device.vendor_id, parsed_device.product_id,
                             ivars->identity.config.port_index, ivars->identity.port_count, suffix);

  OSDictionary* properties = OSDictionary::withCapacity(4);
  if (properties != nullptr) {
    set_string(properties, kIOTTYBaseNameKey, ivars->identity.tty_base_name);
    set_string(properties, kIOTTYSuffixKey, suffix);
    set_string(properties, "USBSerialBridgeChip", ivars->port.chip()->name());
    set_string(properties, "USBSerialBridgeVersion", USBSERIAL_VERSION);
    SetProperties(properties);
    properties->release();
  }
  publish_statistics(this, ivars);

  os_log(OS_LOG_DEFAULT,
         LOG_PREFIX
         " Start: %04x:%04x bcdDevice %04x interface %u: %{public}s (%{public}s) port %u, name "
         "%{public}s%{public}s",
         parsed_device.vendor_id, parsed_device.product_id, parsed_device.bcd_device,
         interface_number, ivars->identity.product, ivars->port.chip()->name(),
         ivars->identity.config.port_index, ivars->identity.tty_base_name, suffix);
  return RegisterService();
}

kern_return_t org_usbserialbridge_SerialDriver::Stop_Impl(IOService* provider) {
  os_log(OS_LOG_DEFAULT, LOG_PREFIX " Stop");
  if (ivars->port.active()) {
    (void)ivars->port.deactivate();
  }
  ivars->sink.detach();
  return Stop(provider, SUPERDISPATCH);
}

kern_return_t org_usbserialbridge_SerialDriver::HwActivate_Impl() {
  const kern_return_t result = HwActivate(SUPERDISPATCH);
  if (result != kIOReturnSuccess) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwActivate: IOUserUSBSerial::HwActivate failed 0x%x",
           result);
    return result;
  }
  const transport::Status status = ivars->port.activate();
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwActivate: opening the chip failed: %{public}s",
           status_name(status));
    // [U] Whether the kernel calls HwDeactivate after a failed HwActivate is
    // undocumented; the superclass's open channel is undone here so that no
    // read stays armed on a port whose open failed.
    HwDeactivate(SUPERDISPATCH);
  }
  publish_statistics(this, ivars);
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwDeactivate_Impl() {
  const transport::Status status = ivars->port.deactivate();
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwDeactivate: quieting the chip failed: %{public}s",
           status_name(status));
  }
  publish_statistics(this, ivars);
  return HwDeactivate(SUPERDISPATCH);
}

kern_return_t org_usbserialbridge_SerialDriver::HwResetFIFO_Impl(bool tx, bool rx) {
  const transport::Status status = ivars->port.reset_fifo(tx, rx);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwResetFIFO(tx %d, rx %d) failed: %{public}s", tx, rx,
           status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwSendBreak_Impl(bool sendBreak) {
  const transport::Status status = ivars->port.send_break(sendBreak);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwSendBreak(%d) failed: %{public}s", sendBreak,
           status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwGetModemStatus_Impl(bool* cts, bool* dsr,
                                                                      bool* ri, bool* dcd) {
  transport::ModemStatus modem;
  const transport::Status status = ivars->port.modem_status(modem);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwGetModemStatus failed: %{public}s", status_name(status));
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

kern_return_t org_usbserialbridge_SerialDriver::HwProgramUART_Impl(uint32_t baudRate,
                                                                   uint8_t nDataBits,
                                                                   uint8_t nHalfStopBits,
                                                                   uint8_t parity) {
  const transport::Status status =
      ivars->port.program_uart(baudRate, nDataBits, nHalfStopBits, parity);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT,
           LOG_PREFIX
           " HwProgramUART(%u Bd, %u bits, %u half-stops, parity %u) failed: %{public}s; "
           "the line stays at %u Bd",
           baudRate, nDataBits, nHalfStopBits, parity, status_name(status),
           ivars->port.stats().actual_baud);
  } else {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwProgramUART: %u Bd requested, %u Bd actual", baudRate,
           ivars->port.stats().actual_baud);
  }
  publish_statistics(this, ivars);
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramBaudRate_Impl(uint32_t baudRate) {
  const transport::Status status = ivars->port.program_baud(baudRate);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT,
           LOG_PREFIX " HwProgramBaudRate(%u) failed: %{public}s; the line stays at %u Bd",
           baudRate, status_name(status), ivars->port.stats().actual_baud);
  } else {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwProgramBaudRate: %u Bd requested, %u Bd actual", baudRate,
           ivars->port.stats().actual_baud);
  }
  publish_statistics(this, ivars);
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramMCR_Impl(bool dtr, bool rts) {
  const transport::Status status = ivars->port.program_mcr(dtr, rts);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwProgramMCR(dtr %d, rts %d) failed: %{public}s", dtr, rts,
           status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramLatencyTimer_Impl(uint32_t latency) {
  const transport::Status status = ivars->port.program_latency(latency);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT, LOG_PREFIX " HwProgramLatencyTimer(%u) failed: %{public}s", latency,
           status_name(status));
  }
  return transport::kern::from_status(status);
}

kern_return_t org_usbserialbridge_SerialDriver::HwProgramFlowControl_Impl(uint32_t arg, uint8_t xon,
                                                                          uint8_t xoff) {
  const transport::Status status = ivars->port.program_flow(arg, xon, xoff);
  if (status != transport::Status::ok) {
    os_log(OS_LOG_DEFAULT,
           LOG_PREFIX " HwProgramFlowControl(0x%x, xon 0x%02x, xoff 0x%02x) failed: %{public}s",
           arg, xon, xoff, status_name(status));
  }
  return transport::kern::from_status(status);
}

// Reports what one decoded transfer means: modem changes and line errors.
static void report_events(org_usbserialbridge_SerialDriver* self,
                          org_usbserialbridge_SerialDriver_IVars* ivars,
                          const transport::RxEvents& events) {
  if (events.modem_changed) {
    self->SetModemStatus(events.modem.cts, events.modem.dsr, events.modem.ri, events.modem.dcd);
  }
  if (events.errors.any()) {
    self->RxError(events.errors.overrun != 0, events.errors.brk != 0, events.errors.framing != 0,
                  events.errors.parity != 0);
  }
  if (clock_gettime_nsec_np(CLOCK_MONOTONIC_RAW_APPROX) - ivars->last_publish_ns >
      kPublishIntervalNs) {
    publish_statistics(self, ivars);
  }
}

void org_usbserialbridge_SerialDriver::handleRxPacket(uint8_t*& packet, uint32_t& size) {
  transport::RxEvents events;
  size = ivars->port.handle_rx({packet, size}, events);
  report_events(this, ivars, events);
}

void org_usbserialbridge_SerialDriver::handleInterruptPacket(const uint8_t* packet, uint32_t size) {
  transport::RxEvents events;
  ivars->port.handle_interrupt({packet, size}, events);
  report_events(this, ivars, events);
}
