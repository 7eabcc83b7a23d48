// USB CDC-ACM (PSTN) serial function simulator.
//
// Sources: USB CDC 1.1 / PSTN 1.2 request and notification layouts, as
// implemented by Linux cdc-acm.c and restated in
// docs/usb-serial-reference.md §1. This is a generic device, not a
// particular chip: FIFO depths and the power-up line coding are our choices.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "sim/raw_bulk.hpp"
#include "sim/usb_device.hpp"

namespace sim::cdc {

// Class requests (CDC PSTN 1.2 §6.3), bmRequestType 0x21 (OUT) / 0xA1 (IN).
inline constexpr uint8_t kRequestTypeOut = 0x21;
inline constexpr uint8_t kRequestTypeIn = 0xA1;
inline constexpr uint8_t SET_LINE_CODING = 0x20;
inline constexpr uint8_t GET_LINE_CODING = 0x21;
inline constexpr uint8_t SET_CONTROL_LINE_STATE = 0x22;
inline constexpr uint8_t SEND_BREAK = 0x23;
inline constexpr uint16_t kControlLineDtr = 0x0001;
inline constexpr uint16_t kControlLineRts = 0x0002;  // "carrier activate"
inline constexpr uint16_t kBreakUntilCleared = 0xFFFF;

// Notifications (PSTN 1.2 §6.5): 8-byte header, then wLength bytes.
inline constexpr uint8_t SERIAL_STATE = 0x20;
inline constexpr uint16_t kSerialStateRxCarrier = 1u << 0;  // DCD
inline constexpr uint16_t kSerialStateTxCarrier = 1u << 1;  // DSR
inline constexpr uint16_t kSerialStateBreak = 1u << 2;
inline constexpr uint16_t kSerialStateRingSignal = 1u << 3;
inline constexpr uint16_t kSerialStateFraming = 1u << 4;
inline constexpr uint16_t kSerialStateParity = 1u << 5;
inline constexpr uint16_t kSerialStateOverRun = 1u << 6;

// pid.codes test VID:PID.
inline constexpr uint16_t kDefaultVid = 0x1209;
inline constexpr uint16_t kDefaultPid = 0x0001;

inline constexpr uint8_t kBulkIn = 0x81;
inline constexpr uint8_t kBulkOut = 0x02;
inline constexpr uint8_t kNotifyIn = 0x83;

class CdcAcmDevice final : public SimDevice, private UartPort::Client {
 public:
  CdcAcmDevice(Bus& bus, SimOptions options);
  ~CdcAcmDevice() override;

  std::string_view chip() const override { return "cdc-acm"; }
  size_t port_count() const override { return 1; }
  UartPort& port(size_t index) override;

 private:
  IOReturnValue device_request(const UsbSetup& setup, std::span<uint8_t> data,
                               uint16_t& actual) override;
  IOReturnValue handle(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual);
  void endpoint_activity(Endpoint& ep) override;
  void interrupt_injected(std::vector<uint8_t> raw) override;
  void teardown() override;
  void uart_activity(UartPort& port) override;
  void uart_tx_space(UartPort& port) override;
  void uart_rx_full(UartPort& port) override;

  void queue_notification(std::vector<uint8_t> message);
  void pump();
  void pump_out();
  void pump_in();
  void pump_notify();
  uint16_t line_state() const;

  std::unique_ptr<UartPort> port_;
  Endpoint* in_ = nullptr;
  Endpoint* out_ = nullptr;
  Endpoint* notify_ = nullptr;
  std::unique_ptr<Bus::Task> pump_task_;
  std::unique_ptr<RawBulkIn> bulk_in_;
  Bus::TimerId break_timer_ = 0;
  std::array<uint8_t, 7> coding_{};
  std::deque<std::vector<uint8_t>> notifications_;
  size_t notify_offset_ = 0;
  uint16_t last_state_ = 0;
};

}  // namespace sim::cdc
