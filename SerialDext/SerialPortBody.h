// SerialPortBody: everything both driver classes do alike, in plain C++.
//
// org_usbserialbridge_SerialDriver (IOUserUSBSerial: Apple's framework runs the
// data path) and org_usbserialbridge_SerialPortDriver (IOUserSerial: the driver
// runs it with transport's bulk pipeline) differ only in how bytes move. Naming
// the port, choosing the chip, translating every Hw* call, decoding what the
// device sends, the statistics and the log lines are this one body, held in
// each class's ivars. Every decision is transport's (serial_port.hpp,
// port_identity.hpp, tty_name.hpp); the body translates and reports, loudly.
#pragma once

#include <DriverKit/IOService.h>
#include <DriverKit/IOTimerDispatchSource.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <USBDriverKit/USBDriverKit.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "DeviceRequestSink.h"
#include "transport/bulk_pipeline.hpp"
#include "transport/chips/chip_set.hpp"
#include "transport/port_identity.hpp"
#include "transport/serial_port.hpp"

#ifndef USBSERIAL_VERSION
#define USBSERIAL_VERSION "unknown"
#endif
// One prefix on every line: the product, the class and the version.
#define DEXT_LOG(class_name, format, ...)                                            \
  os_log(OS_LOG_DEFAULT, "USBSerialBridge %{public}s " USBSERIAL_VERSION " " format, \
         (class_name)__VA_OPT__(, ) __VA_ARGS__)

// Parses a device's descriptor and one of its configuration descriptors (as
// CopyDeviceDescriptor and CopyConfigurationDescriptor return them; null gives
// malformed) and frees both.
transport::Status parse_and_free_descriptors(const IOUSBDeviceDescriptor* device_descriptor,
                                             const IOUSBConfigurationDescriptor* config_descriptor,
                                             transport::usb::DeviceDescriptor& device,
                                             transport::usb::Configuration& config);

// The data path's counters, for the classes that run it themselves.
struct DataPathStats {
  const transport::PipeStats* rx = nullptr;
  const transport::PipeStats* tx = nullptr;
  const transport::PipeStats* interrupt = nullptr;  // null: the port has no interrupt pipe
  uint32_t rx_parked_bytes = 0;
};

class SerialPortBody {
 public:
  // `class_name` names the class in every log line ("SerialDriver").
  explicit SerialPortBody(const char* class_name) : class_name_(class_name) {}

  DeviceRequestSink& sink() { return sink_; }
  const transport::PortIdentity& identity() const { return identity_; }

  // Start: parses the (untrusted) descriptors, identifies the port of
  // `interface` (the matched one; CDC: the communication interface), and
  // attaches the chip protocol over sink(), which the caller has attached.
  // Then names the port and publishes the statistics. `statistics_due` is the
  // class's TYPE(IOTimerDispatchSource::TimerOccurred) action, whose handler
  // calls publish_statistics_due(). Returns what Start returns.
  kern_return_t start(IOUserSerial* service, IOUSBHostInterface* interface,
                      OSAction* statistics_due);
  void stop();

  // The Hw* translations, each logging a failure and returning what the
  // dext's _Impl returns.
  kern_return_t activate();
  kern_return_t deactivate();
  kern_return_t reset_fifo(bool tx, bool rx);
  kern_return_t send_break(bool on);
  kern_return_t modem_status(bool* cts, bool* dsr, bool* ri, bool* dcd);
  kern_return_t program_uart(uint32_t baud, uint8_t data_bits, uint8_t half_stop_bits,
                             uint8_t parity);
  kern_return_t program_baud(uint32_t baud);
  kern_return_t program_mcr(bool dtr, bool rts);
  kern_return_t program_latency(uint32_t latency);
  kern_return_t program_flow(uint32_t arg, uint8_t xon, uint8_t xoff);

  // One finished bulk-IN transfer: decoded in place; returns the payload length.
  uint32_t rx_transfer(std::span<uint8_t> transfer);
  // One finished interrupt-IN transfer.
  void interrupt_transfer(std::span<const uint8_t> transfer);
  // A transfer on one of the pipes the class runs itself ended with `status`:
  // kept as the last error (the pipeline counts it), published within 50 ms.
  void pipe_error(transport::FaultSite site, transport::Status status);

  // Something a user watching the registry should see soon (payload starting to
  // wait in the read slots): published within 50 ms, like a line error.
  void note_event() { events_unpublished_ = true; }

  // Publishes "Statistics" (with the data path's counters when given).
  void publish_statistics(const DataPathStats* data_path = nullptr);
  // After a transfer changed the counters: publishes at most once a second, or
  // every 50 ms while a line error, modem change or pipe error is unpublished. What cannot
  // go out yet is published by the statistics timer when it is due, so the last
  // change of a burst is never left unpublished once the line goes quiet.
  void publish_statistics_now_and_then(const DataPathStats* data_path = nullptr);
  // The statistics timer fired: publishes what is still waiting.
  void publish_statistics_due(const DataPathStats* data_path = nullptr);

 private:
  void report(const transport::RxEvents& events);

  const char* class_name_;
  IOUserSerial* service_ = nullptr;  // the owner; valid from start() to stop()
  DeviceRequestSink sink_;
  transport::chips::ChipSet chips_;
  transport::SerialPort port_;
  transport::PortIdentity identity_;
  IOTimerDispatchSource* statistics_timer_ = nullptr;
  uint64_t last_publish_ns_ = 0;     // CLOCK_MONOTONIC_RAW
  uint64_t timer_deadline_ns_ = 0;   // 0: the timer is not armed
  bool events_unpublished_ = false;  // a line error, a modem change or a pipe error
  bool counters_unpublished_ = false;
};
