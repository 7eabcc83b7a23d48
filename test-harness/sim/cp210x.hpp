// Silicon Labs CP210x USB-UART simulator: CP2102, CP2102N, CP2104, CP2105 (ECI + SCI), CP2108.
//
// Sources (restated in docs/usb-serial-reference.md §0 and §3): AN571 "CP210x Virtual
// COM Port Interface" for the requests and their layouts (as Linux cp210x.c and Zephyr's
// usb_cp210x.h spell them), AN205 and the data sheets for the rates (cp210x_baud.hpp), the
// data sheets for buffer sizes and data formats, usb-serial-for-android for CP2105's SCI port
// (32-byte endpoints, 2400..921600, 8 data bits, no mark/space, 1 stop bit, a STALL for a
// rate it cannot make). Independent of transport/: nothing here includes the code under test.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/cp210x_baud.hpp"
#include "sim/usb_device.hpp"

namespace sim::cp210x {

// bmRequestType: vendor requests to the interface (wIndex = interface number), and the
// vendor-specific reads to the device.
inline constexpr uint8_t kRequestTypeOut = 0x41;
inline constexpr uint8_t kRequestTypeIn = 0xC1;
inline constexpr uint8_t kRequestTypeDeviceIn = 0xC0;

// AN571 request codes.
inline constexpr uint8_t IFC_ENABLE = 0x00;
inline constexpr uint8_t SET_LINE_CTL = 0x03;
inline constexpr uint8_t GET_LINE_CTL = 0x04;
inline constexpr uint8_t SET_BREAK = 0x05;
inline constexpr uint8_t SET_MHS = 0x07;
inline constexpr uint8_t GET_MDMSTS = 0x08;
inline constexpr uint8_t GET_COMM_STATUS = 0x10;
inline constexpr uint8_t PURGE = 0x12;
inline constexpr uint8_t SET_FLOW = 0x13;
inline constexpr uint8_t GET_FLOW = 0x14;
inline constexpr uint8_t EMBED_EVENTS = 0x15;
inline constexpr uint8_t SET_CHARS = 0x19;
inline constexpr uint8_t GET_BAUDRATE = 0x1D;
inline constexpr uint8_t SET_BAUDRATE = 0x1E;
inline constexpr uint8_t VENDOR_SPECIFIC = 0xFF;
inline constexpr uint16_t kGetPartNumber = 0x370B;
inline constexpr uint16_t kGetFirmwareVersion = 0x000E;    // CP2105, CP2108
inline constexpr uint16_t kGetFirmwareVersion2n = 0x0010;  // CP2102N

// SET_FLOW / GET_FLOW bits (AN571 SERIAL_HANDFLOW).
inline constexpr uint32_t kDtrModeMask = 0x03;  // ulControlHandshake bits 0-1: 0 off, 1 on, 2 flow
inline constexpr uint32_t kCtsHandshake = 1u << 3;
inline constexpr uint32_t kDsrHandshake = 1u << 4;
inline constexpr uint32_t kAutoTransmit = 1u << 0;  // ulFlowReplace: obey XON/XOFF
inline constexpr uint32_t kAutoReceive = 1u << 1;   // send XON/XOFF
inline constexpr uint32_t kRtsModeShift = 6;        // bits 6-7: 0 off, 1 on, 2 flow

// GET_COMM_STATUS ulErrors bits.
inline constexpr uint32_t kErrorBreak = 1u << 0;
inline constexpr uint32_t kErrorFraming = 1u << 1;
inline constexpr uint32_t kErrorQueueOverrun = 1u << 3;
inline constexpr uint32_t kErrorParity = 1u << 4;

// Event insertion (EMBED_EVENTS): ESC 00 literal, ESC 01 LSR DATA, ESC 02 LSR, ESC 03 MSR.
inline constexpr uint8_t kLsrOverrun = 0x02;
inline constexpr uint8_t kLsrParity = 0x04;
inline constexpr uint8_t kLsrFraming = 0x08;
inline constexpr uint8_t kLsrBreak = 0x10;

inline constexpr uint16_t kSilabsVid = 0x10C4;

// One UART of a part.
struct UartSpec {
  RateRule rule;
  uint32_t min_baud;  // the documented range of requests
  uint32_t max_baud;
  uint32_t exact_from;      // AN205 parts: requests from here up run as sent (0: none)
  bool narrow_format;       // 8 data bits, parity none/odd/even, 1 stop bit only
  bool stall_out_of_range;  // a request outside the range is refused (else: undefined)
  uint16_t max_packet;      // bulk endpoints
  size_t rx_fifo;           // line -> USB
  size_t tx_fifo;           // USB -> line
};

struct Variant {
  const char* name;
  uint16_t pid;
  uint8_t part_number;  // GET_PARTNUM
  uint8_t ports;
  const char* product;
  std::array<uint8_t, 3> firmware;  // major, minor, build (0.0.0: the part has no such read)
  std::array<UartSpec, 4> uarts;    // the first `ports` are used
};

const Variant* find_variant(std::string_view name);
std::vector<std::string> variant_names();

// Behaviours of particular chips, for tests (not reachable by name).
struct Quirks {
  // Answers a GET_PARTNUM of any length with one byte and refuses EMBED_EVENTS (the CP2102
  // Linux's cp2102_determine_quirks calls possibly counterfeit).
  bool one_byte_part_number = false;
  // CP2102N firmware up to 1.0.4 (erratum E104): SET_FLOW's ulXonLimit is taken as
  // ulFlowReplace. Set by a firmware version at or below 1.0.4.
  std::array<uint8_t, 3> firmware = {0, 0, 0};  // 0.0.0: the variant's own
};

class Cp210xDevice final : public SimDevice, private UartPort::Client {
 public:
  Cp210xDevice(Bus& bus, const Variant& variant, SimOptions options, Quirks quirks = {});
  ~Cp210xDevice() override;

  std::string_view chip() const override { return variant_.name; }
  size_t port_count() const override { return variant_.ports; }
  UartPort& port(size_t index) override { return *channels_.at(index)->port; }

  // Chip state the shared snapshot does not show (any thread).
  struct State {
    bool enabled = false;            // IFC_ENABLE
    uint8_t escape = 0;              // EMBED_EVENTS escape character, 0 = off
    uint16_t line_ctl = 0;           // as last accepted
    uint32_t baud_request = 0;       // SET_BAUDRATE as last accepted
    std::array<uint32_t, 4> flow{};  // the SET_FLOW words as the chip took them
    std::array<uint8_t, 6> chars{};  // SET_CHARS
    uint32_t errors = 0;             // ulErrors not yet read
  };
  State state(size_t port);

 private:
  struct Channel {
    size_t index = 0;
    const UartSpec* spec = nullptr;
    std::unique_ptr<UartPort> port;
    Endpoint* in = nullptr;
    Endpoint* out = nullptr;
    std::unique_ptr<Bus::Task> pump;
    Bus::TimerId frame_timer = 0;
    bool frame_due = false;
    State state;
    std::deque<uint8_t> carry;  // encoded bytes that did not fit the last packet
    uint8_t last_msr = 0;
    std::vector<uint8_t> packet;  // the IN packet being built (wMaxPacketSize)
  };

  IOReturnValue device_request(const UsbSetup& setup, std::span<uint8_t> data,
                               uint16_t& actual) override;
  IOReturnValue vendor_read(const UsbSetup& setup, std::span<uint8_t> data, uint16_t& actual);
  IOReturnValue handle(Channel& ch, const UsbSetup& setup, std::span<uint8_t> data,
                       uint16_t& actual);
  IOReturnValue set_baudrate(Channel& ch, std::span<const uint8_t> data);
  void set_line_ctl(Channel& ch, uint16_t value);
  void set_flow(Channel& ch, std::span<const uint8_t> data);
  void apply_flow(Channel& ch);
  void endpoint_activity(Endpoint& ep) override;
  void teardown() override;
  void uart_activity(UartPort& port) override;
  void uart_tx_space(UartPort& port) override;
  void uart_rx_full(UartPort& port) override;
  Channel* channel_of(const UartPort& port);

  uint8_t modem_status(const Channel& ch) const;
  void pump(Channel& ch);
  void pump_out(Channel& ch);
  void pump_in(Channel& ch);
  void send_in(Channel& ch, size_t limit);
  void arm_frame_timer(Channel& ch);

  const Variant& variant_;
  Quirks quirks_;
  std::vector<std::unique_ptr<Channel>> channels_;
};

}  // namespace sim::cp210x
