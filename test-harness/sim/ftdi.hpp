// FTDI USB-UART simulator: FT232BM, FT232R, FT-X, FT2232C, FT232H, FT2232H, FT4232H.
//
// Sources (restated in docs/usb-serial-reference.md §2): Linux ftdi_sio.c / ftdi_sio.h for
// request codes,
// bit layouts and the bcdDevice table; AN232B-05 for the baud-rate divisor
// (ftdi_baud.hpp); AN232B-04 for when the chip sends data to the host;
// the FTDI datasheets' FIFO sizes as tabulated by pyftdi
// (jonas-schievink/ftdi-protocol README) for buffer depths.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/usb_device.hpp"

namespace sim::ftdi {

// Vendor requests (ftdi_sio.h FTDI_SIO_*), bmRequestType 0x40 (OUT) / 0xC0 (IN).
inline constexpr uint8_t kRequestTypeOut = 0x40;
inline constexpr uint8_t kRequestTypeIn = 0xC0;
inline constexpr uint8_t FTDI_SIO_RESET = 0x00;
inline constexpr uint8_t FTDI_SIO_MODEM_CTRL = 0x01;
inline constexpr uint8_t FTDI_SIO_SET_FLOW_CTRL = 0x02;
inline constexpr uint8_t FTDI_SIO_SET_BAUD_RATE = 0x03;
inline constexpr uint8_t FTDI_SIO_SET_DATA = 0x04;
inline constexpr uint8_t FTDI_SIO_GET_MODEM_STATUS = 0x05;
inline constexpr uint8_t FTDI_SIO_SET_EVENT_CHAR = 0x06;
inline constexpr uint8_t FTDI_SIO_SET_ERROR_CHAR = 0x07;
inline constexpr uint8_t FTDI_SIO_SET_LATENCY_TIMER = 0x09;
inline constexpr uint8_t FTDI_SIO_GET_LATENCY_TIMER = 0x0A;
inline constexpr uint8_t FTDI_SIO_SET_BITMODE = 0x0B;

// RESET wValue (libftdi >= 1.5 naming, confirmed by usb-serial-for-android).
inline constexpr uint16_t FTDI_SIO_RESET_SIO = 0;
inline constexpr uint16_t FTDI_SIO_TCOFLUSH = 1;  // purge host -> line (transmit) FIFO
inline constexpr uint16_t FTDI_SIO_TCIFLUSH = 2;  // purge line -> host (receive) FIFO

// MODEM_CTRL wValue.
inline constexpr uint16_t FTDI_SIO_SET_DTR_MASK = 0x0001;
inline constexpr uint16_t FTDI_SIO_SET_RTS_MASK = 0x0002;
inline constexpr uint16_t FTDI_SIO_SET_DTR_ENABLE = 0x0100;  // "apply DTR"
inline constexpr uint16_t FTDI_SIO_SET_RTS_ENABLE = 0x0200;  // "apply RTS"

// SET_DATA wValue fields.
inline constexpr uint16_t FTDI_SIO_SET_DATA_BITS_MASK = 0x00FF;
inline constexpr unsigned FTDI_SIO_SET_DATA_PARITY_SHIFT = 8;  // 0 none 1 odd 2 even 3 mark 4 space
inline constexpr unsigned FTDI_SIO_SET_DATA_STOP_SHIFT = 11;   // 0 = 1, 1 = 1.5, 2 = 2
inline constexpr uint16_t FTDI_SIO_SET_BREAK = 0x4000;

// Bulk IN status bytes (ftdi_sio.h), one pair at the start of every packet.
inline constexpr uint8_t FTDI_RS0_RESERVED = 0x01;  // low nibble reads 0x1
inline constexpr uint8_t FTDI_RS0_CTS = 0x10;
inline constexpr uint8_t FTDI_RS0_DSR = 0x20;
inline constexpr uint8_t FTDI_RS0_RI = 0x40;
inline constexpr uint8_t FTDI_RS0_RLSD = 0x80;  // DCD
inline constexpr uint8_t FTDI_RS_DR = 0x01;
inline constexpr uint8_t FTDI_RS_OE = 0x02;
inline constexpr uint8_t FTDI_RS_PE = 0x04;
inline constexpr uint8_t FTDI_RS_FE = 0x08;
inline constexpr uint8_t FTDI_RS_BI = 0x10;
inline constexpr uint8_t FTDI_RS_THRE = 0x20;
inline constexpr uint8_t FTDI_RS_TEMT = 0x40;

inline constexpr uint16_t kFtdiVid = 0x0403;
inline constexpr uint8_t kDefaultLatencyMs = 16;

// Which wIndex low-byte values select a channel.
enum class ChannelRule : uint8_t {
  zero_only,    // FT232BM, FT232R: 0 (their SET_BAUDRATE wIndex low bits are divisor bits)
  zero_or_one,  // FT-X, FT232H: 0 or 1 (Hovold's channel patch: both select the one channel)
  one_based,    // FT2232C/H, FT4232H: A = 1, B = 2, ...
};

struct Variant {
  const char* name;
  uint16_t bcd_device;
  uint16_t pid;
  uint8_t ports;
  bool high_speed;
  bool clock_12mhz;  // H series: bit 17 selects the 12 MHz reference
  ChannelRule channels;
  bool baud_bits_in_high_byte;  // SET_BAUDRATE divisor bits 17..16 in wIndex bits 9..8
  size_t line_to_usb_fifo;      // FTDI's "TX buffer" (named from the USB side)
  size_t usb_to_line_fifo;      // FTDI's "RX buffer"
  uint8_t max_packet0;
  const char* product;
};

// The parts we simulate (a table, with its sources in ftdi.cpp).
const Variant* find_variant(std::string_view name);
std::vector<std::string> variant_names();

class FtdiDevice final : public SimDevice, private UartPort::Client {
 public:
  FtdiDevice(Bus& bus, const Variant& variant, SimOptions options);
  ~FtdiDevice() override;

  std::string_view chip() const override { return variant_.name; }
  size_t port_count() const override { return variant_.ports; }
  UartPort& port(size_t index) override { return *channels_.at(index)->port; }
  const Variant& variant() const { return variant_; }

 private:
  struct Channel {
    size_t index = 0;
    std::unique_ptr<UartPort> port;
    Endpoint* in = nullptr;
    Endpoint* out = nullptr;
    std::unique_ptr<Bus::Task> pump;
    Bus::TimerId latency_timer = 0;
    SimTime latency_deadline{0};  // when the latency timer expires; the armed timer may be earlier
    bool flush_armed = false;
    uint8_t last_modem = 0;
    size_t scan_pos = 0;          // event-character scan position in the RX FIFO
    uint16_t data_word = 0x0008;  // last SET_DATA wValue without the break bit
  };

  IOReturnValue device_request(const UsbSetup& setup, std::span<uint8_t> data,
                               uint16_t& actual) override;
  void endpoint_activity(Endpoint& ep) override;
  void teardown() override;
  void uart_activity(UartPort& port) override;
  void uart_tx_space(UartPort& port) override;
  void uart_rx_full(UartPort& port) override;
  Channel* channel_of(const UartPort& port);

  Channel* select_channel(const UsbSetup& setup);
  IOReturnValue handle(Channel& ch, const UsbSetup& setup, std::span<uint8_t> data,
                       uint16_t& actual);
  void set_baud(Channel& ch, const UsbSetup& setup);
  void set_data(Channel& ch, uint16_t value);
  void reset_port(Channel& ch);
  uint8_t modem_byte(const Channel& ch) const;
  uint8_t line_byte(const Channel& ch) const;
  void pump(Channel& ch);
  void pump_out(Channel& ch);
  void pump_in(Channel& ch);
  void send_packet(Channel& ch, size_t n);
  void restart_latency(Channel& ch);
  void arm_latency(Channel& ch);

  const Variant& variant_;
  uint16_t max_packet_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::vector<uint8_t> packet_;
};

}  // namespace sim::ftdi
