// WCH CH34x USB-UART simulator: CH340 and CH341A in UART mode, genuine or a "limited" clone.
//
// Sources (restated in docs/usb-serial-reference.md §0 and §4): the CH340 and CH341 data
// sheets (formats, rates, active-low modem pins, the CH340's default IDs and 98 mA power),
// Linux drivers/usb/serial/ch341.c (requests, registers, the version rules, the status
// bytes its comments expect, the clone quirk), WCH's Linux driver V1.8 (interrupt event types,
// the flow-control register) and usb-serial-for-android (32-byte bulk endpoints). Written
// from those facts; nothing here includes or calls transport/.
//
// What the simulated chip does with what the host sends:
//   0x5F READ_VERSION  -> {version, 0}
//   0xA1 SERIAL_INIT   (0, 0): 9600 Bd 8N1, no break, no flow control, DTR/RTS released
//                      (Linux commit "fix baud rate and line-control handling": the init
//                      command deasserts DTR/RTS); other values are counted as invalid
//   0x9A WRITE_REG     wValue = regB << 8 | regA, wIndex = valB << 8 | valA
//   0x95 READ_REG      -> {regA, regB}; 0x06 is the inverted pin state, 0x07 reads 0xEE
//   0xA4 MODEM_CTRL    wValue low byte, inverted: bit 5 DTR, bit 6 RTS
// Registers: 0x12 prescaler (ps | fact << 2 | bit 7 "no buffering"), 0x13 = 256 - div,
// 0x18 LCR (version >= 0x30), 0x25 LCR2 (0), 0x05 bit 0 NOT-break, 0x27 flow (0x01 RTS/CTS).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/usb_device.hpp"

namespace sim::ch34x {

inline constexpr uint8_t kRequestTypeOut = 0x40;
inline constexpr uint8_t kRequestTypeIn = 0xC0;
inline constexpr uint8_t CH341_REQ_READ_VERSION = 0x5F;
inline constexpr uint8_t CH341_REQ_WRITE_REG = 0x9A;
inline constexpr uint8_t CH341_REQ_READ_REG = 0x95;
inline constexpr uint8_t CH341_REQ_SERIAL_INIT = 0xA1;
inline constexpr uint8_t CH341_REQ_MODEM_CTRL = 0xA4;

inline constexpr uint8_t CH341_REG_BREAK = 0x05;
inline constexpr uint8_t CH341_REG_STATUS = 0x06;
inline constexpr uint8_t CH341_REG_STATUS2 = 0x07;
inline constexpr uint8_t CH341_REG_PRESCALER = 0x12;
inline constexpr uint8_t CH341_REG_DIVISOR = 0x13;
inline constexpr uint8_t CH341_REG_LCR = 0x18;
inline constexpr uint8_t CH341_REG_LCR2 = 0x25;
inline constexpr uint8_t CH341_REG_FLOW = 0x27;

inline constexpr uint8_t kEndpointIn = 0x82;
inline constexpr uint8_t kEndpointOut = 0x02;
inline constexpr uint8_t kEndpointStatus = 0x81;
inline constexpr uint16_t kBulkMaxPacket = 32;
inline constexpr uint16_t kStatusMaxPacket = 8;

inline constexpr uint16_t kWchVid = 0x1A86;

struct Variant {
  const char* name;
  uint16_t pid;
  uint16_t bcd_device;
  uint8_t version;  // READ_VERSION byte 0
  const char* product;
};

// Sim-only knobs for the parts the device table cannot tell apart.
struct Quirks {
  std::optional<uint8_t> version;  // replaces the variant's READ_VERSION answer
  bool limited_clone = false;      // STALLs register 0x05; fact 1 only at ps 3
};

const Variant* find_variant(std::string_view name);
std::vector<std::string> variant_names();

// What the baud-rate generator makes of registers 0x12 and 0x13 (reference §4.4):
// rate = 48 MHz / (2^(12 - 3 ps - fact) * div), div = 256 - reg13 (reg13 = 0: 256).
// Valid: div >= 2 with fact 0, div >= 9 with fact 1, and on a limited clone fact 1 only at
// ps 3 ("some devices require a lower base clock", ch341.c).
struct DivisorDecode {
  unsigned ps = 0;
  unsigned fact = 0;
  unsigned div = 0;
  bool valid = false;
  double baud = 0;
};
DivisorDecode decode_divisor(uint8_t prescaler, uint8_t divisor, bool limited_clone);

// Bit 7 of the prescaler register: above version 0x27 set means "send what you have" (else
// the chip holds data until a full 32-byte packet); on 0x27 and older it is inverted
// (ch341.c: "at least one device with version 0x27 appears to have this bit inverted").
bool sends_partial_packets(uint8_t prescaler, uint8_t version);

class Ch34xDevice final : public SimDevice, private UartPort::Client {
 public:
  Ch34xDevice(Bus& bus, const Variant& variant, SimOptions options, Quirks quirks = {});
  ~Ch34xDevice() override;

  std::string_view chip() const override { return variant_.name; }
  size_t port_count() const override { return 1; }
  UartPort& port(size_t index) override;
  uint8_t version() const { return version_; }
  // The register file as the host last left it (bus thread, or with the bus idle).
  uint8_t reg(uint8_t address) const { return regs_[address]; }

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

  void write_register(uint8_t address, uint8_t value);
  void serial_init();
  void apply_baud();
  void apply_lcr();
  void apply_line_state();  // break, transmitter/receiver enables
  uint8_t status_register() const;
  void queue_status(std::vector<uint8_t> packet);
  void pump();
  void pump_out();
  void pump_in();
  void pump_status();
  void arm_frame_timer();  // the next 1 ms frame tick (the receive-timeout check)

  const Variant& variant_;
  Quirks quirks_;
  uint8_t version_;
  std::unique_ptr<UartPort> port_;
  Endpoint* in_ = nullptr;
  Endpoint* out_ = nullptr;
  Endpoint* status_ = nullptr;
  std::unique_ptr<Bus::Task> pump_task_;
  Bus::TimerId frame_timer_ = 0;
  bool frame_due_ = false;
  uint64_t received_at_last_frame_ = 0;  // rx_line_bytes at the last frame tick
  uint8_t regs_[256] = {};
  uint8_t last_status_ = 0;
  std::deque<std::vector<uint8_t>> status_packets_;
  std::vector<uint8_t> packet_;
};

}  // namespace sim::ch34x
