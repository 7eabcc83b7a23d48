// Prolific PL2303 simulator: pl2303-h, pl2303-hx, pl2303-ta, pl2303-tb, pl2303-hxn (a G-series
// PL2303GC).
//
// Sources: the PL2303HXD datasheet (ds_pl2303HXD v1.1 §6: one configuration, one interface,
// the device descriptor fields), Linux drivers/usb/serial/pl2303.c (request codes, register
// map, vendor init sequence, type rules, rate-field layouts, UART state bits) and
// usb-serial-for-android ProlificSerialDriver (pipe-reset registers as purges, hardware
// finding that an unknown direct rate runs at 9600), as restated for this project in
// docs/chips/pl2303.md. Nothing here uses transport/: the rate field, the registers and the
// notifications are decoded and built from those facts.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/raw_bulk.hpp"
#include "sim/usb_device.hpp"

namespace sim::pl2303 {

// Class-style requests (CDC numbering), bmRequestType 0x21 / 0xA1, wIndex 0.
inline constexpr uint8_t kClassOut = 0x21;
inline constexpr uint8_t kClassIn = 0xA1;
inline constexpr uint8_t SET_LINE_REQUEST = 0x20;
inline constexpr uint8_t GET_LINE_REQUEST = 0x21;
inline constexpr uint8_t SET_CONTROL_REQUEST = 0x22;
inline constexpr uint8_t BREAK_REQUEST = 0x23;
inline constexpr uint16_t CONTROL_DTR = 0x01;
inline constexpr uint16_t CONTROL_RTS = 0x02;

// Vendor register access, bmRequestType 0x40 / 0xC0.
inline constexpr uint8_t kVendorOut = 0x40;
inline constexpr uint8_t kVendorIn = 0xC0;
inline constexpr uint8_t VENDOR_REQUEST = 0x01;         // old map, both directions
inline constexpr uint8_t VENDOR_WRITE_NREQUEST = 0x80;  // G series
inline constexpr uint8_t VENDOR_READ_NREQUEST = 0x81;   // G series

// UART state byte (byte 8 of the 10-byte notification).
inline constexpr uint8_t UART_DCD = 0x01;
inline constexpr uint8_t UART_DSR = 0x02;
inline constexpr uint8_t UART_BREAK_ERROR = 0x04;
inline constexpr uint8_t UART_RING = 0x08;
inline constexpr uint8_t UART_FRAME_ERROR = 0x10;
inline constexpr uint8_t UART_PARITY_ERROR = 0x20;
inline constexpr uint8_t UART_OVERRUN_ERROR = 0x40;
inline constexpr uint8_t UART_CTS = 0x80;

inline constexpr uint16_t kProlificVid = 0x067B;
inline constexpr uint8_t kInterruptIn = 0x81;
inline constexpr uint8_t kBulkOut = 0x02;
inline constexpr uint8_t kBulkIn = 0x83;

enum class Divisors : uint8_t {
  none,         // G series: every rate field is a direct rate
  standard,     // 384 MHz / (m * 4^e), m 9 bits, e 3 bits
  alternative,  // TA/TB: 384 MHz / (m * 2^e), m 11 bits, e 4 bits
};

struct Variant {
  const char* name;
  uint16_t bcd_usb;
  uint8_t max_packet0;
  uint16_t pid;
  uint16_t bcd_device;
  uint32_t max_baud;
  Divisors divisors;
  bool legacy;  // the H: RTS/CTS is 0x40, no XON/XOFF, init writes register 2 = 0x24
};

const Variant* find_variant(std::string_view name);
std::vector<std::string> variant_names();

class Pl2303Device final : public SimDevice, private UartPort::Client {
 public:
  Pl2303Device(Bus& bus, const Variant& variant, SimOptions options);
  ~Pl2303Device() override;

  std::string_view chip() const override { return variant_.name; }
  size_t port_count() const override { return 1; }
  UartPort& port(size_t index) override;
  const Variant& variant() const { return variant_; }

  // What the host did, for tests (any thread).
  struct Observed {
    bool initialised = false;        // the whole vendor init sequence arrived, in order
    uint32_t set_line_requests = 0;  // SET_LINE requests accepted
    uint32_t type_probes = 0;        // old-style reads of 0x8080 answered
    uint8_t flow_register = 0;       // old map register 0, or G-series register 0x0A
  };
  Observed observed() const;

 private:
  IOReturnValue device_request(const UsbSetup& setup, std::span<uint8_t> data,
                               uint16_t& actual) override;
  IOReturnValue class_request(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual);
  IOReturnValue vendor_request(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual);
  void write_register(uint8_t reg, uint8_t value);
  void track_init(bool read, uint16_t value, uint16_t index);
  void set_line(std::span<const uint8_t> coding);
  void apply_flow(uint8_t value);
  void endpoint_activity(Endpoint& ep) override;
  void interrupt_injected(std::vector<uint8_t> raw) override;
  void teardown() override;
  void uart_activity(UartPort& port) override;
  void uart_tx_space(UartPort& port) override;
  void uart_rx_full(UartPort& port) override;

  void queue_notification(std::vector<uint8_t> message);
  uint8_t modem_state() const;
  void pump();
  void pump_out();
  void pump_in();
  void pump_notify();

  const Variant& variant_;
  std::unique_ptr<UartPort> port_;
  Endpoint* in_ = nullptr;
  Endpoint* out_ = nullptr;
  Endpoint* notify_ = nullptr;
  std::unique_ptr<Bus::Task> pump_task_;
  std::unique_ptr<RawBulkIn> bulk_in_;
  std::array<uint8_t, 7> coding_{};
  std::array<uint8_t, 256> registers_{};
  size_t init_step_ = 0;
  Observed observed_;
  std::deque<std::vector<uint8_t>> notifications_;
  uint8_t last_modem_ = 0;
};

}  // namespace sim::pl2303
