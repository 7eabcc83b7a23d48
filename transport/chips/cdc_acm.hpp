// CDC-ACM (USB Communications Device Class, Abstract Control Model, PSTN
// subclass): the class protocol every "native" USB serial function speaks
// (CH343/CH9102, microcontroller USB stacks, modems), and the finder that
// locates the pipes of such a function in a configuration descriptor.
//
// Protocol facts: docs/usb-serial-reference.md §1 (CDC 1.2, PSTN 1.20,
// Linux drivers/usb/class/cdc-acm.c). Constants: cdc_acm_regs.hpp.
//
// Decisions where the class specification leaves room (each one documented on
// the method it affects):
//   - set_line() reads the line coding back with GET_LINE_CODING. A device that
//     answers 7 bytes tells us the rate it really runs at; a device that
//     stalls, answers short, answers a rate of 0 (a stub) or fails the GET
//     otherwise (many do not implement it) is taken to run at the requested
//     rate, which is all Linux ever assumes. Only a vanished device
//     (no_device) or a cancelled transfer (aborted) turns a failed GET into an
//     error.
//   - A redundant SET_LINE_CODING (the same 7 bytes as the last one that
//     succeeded since open()) is not sent at all, and neither is the GET: the
//     cached actual rate is returned. Linux skips the redundant request too,
//     because some devices lose bytes on every SET_LINE_CODING.
//   - When the read-back rate is off by more than 3 % the result is
//     baud_unreachable, and the last line coding that succeeded since open()
//     (if any) is sent again, so the rate the caller believes is in force
//     really is.
//   - SEND_BREAK is refused (unsupported, nothing sent) unless the ACM
//     functional descriptor sets bmCapabilities D2, as recent Linux does.
//   - Notifications are reassembled across interrupt transfers in a fixed
//     10-byte state (an 8-byte header and the 2 data bytes of SERIAL_STATE);
//     data of other notifications is counted off and dropped, never stored.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "../chip_protocol.hpp"
#include "../control.hpp"
#include "../descriptors.hpp"
#include "../line.hpp"
#include "../status.hpp"
#include "cdc_acm_regs.hpp"

namespace transport::chips {

class CdcAcm final : public ChipProtocol {
 public:
  CdcAcm() = default;

  // invalid_argument unless config.variant is ChipVariant::cdc_acm and
  // bulk_in_max_packet is non-zero. interface_number is the communication
  // (control) interface: the wIndex of every class request.
  // acm_capabilities is the ACM functional descriptor's bmCapabilities.
  // Resets the cached line coding and the notification reassembly.
  Status configure(const PortConfig& config) override;

  const char* name() const override;

  // Line errors (SERIAL_STATE), mark/space parity, 5/6 data bits, 1.5 stop
  // bits; break only when bmCapabilities D2 is set. No CTS input (the class
  // has no CTS bit), no purge, latency timer, flow control or modem polling.
  // min_baud 1, max_baud 0 (no limit the host can know of).
  Capabilities capabilities() const override;

  // Forgets the cached line coding and any half-reassembled notification.
  // Sends nothing: the class has no init sequence. not_open before configure().
  Status open(ControlSink& sink) override;

  // SET_CONTROL_LINE_STATE 0 (DTR and RTS low), as Linux does on close.
  Status close(ControlSink& sink) override;

  // SET_LINE_CODING, then GET_LINE_CODING to learn the rate actually in force.
  //   invalid_argument (nothing sent): baud 0, data bits outside 5..8, a parity
  //     or stop-bit value outside its enum.
  //   The request is skipped (nothing sent, ok, actual_baud = the cached
  //     actual rate) when its 7 bytes equal the last ones that succeeded since
  //     open().
  //   A failed SET is returned as is (the cache is dropped).
  //   GET answered with 7 bytes: actual_baud = dwDTERate; a rate more than 3 %
  //     from the request is baud_unreachable, after which the last line coding
  //     that succeeded since open() is re-sent (best effort) so the previous
  //     rate stays in force.
  //   GET stalled, short, answered dwDTERate 0 (a stub) or failed (timeout,
  //     io_error, ...): actual_baud = the request (the device does not
  //     implement GET, as many do not). The framing bytes of the answer are
  //     not compared: only the rate decides.
  //   GET failed with no_device or aborted: that status.
  Status set_line(ControlSink& sink, const LineSettings& line, uint32_t& actual_baud) override;

  // SET_CONTROL_LINE_STATE wValue = DTR | RTS << 1.
  Status set_modem_control(ControlSink& sink, ModemControl lines) override;

  // SEND_BREAK wValue 0xFFFF (held until cleared) or 0 (end). unsupported,
  // nothing sent, when bmCapabilities D2 (Send_Break) is clear.
  Status set_break(ControlSink& sink, bool on) override;

  // Bulk IN data is raw bytes (no in-band framing): returns transfer.size().
  uint32_t decode_rx(std::span<uint8_t> transfer, RxReport& report) override;

  // Decodes notifications; they may be split across transfers and several may
  // share one transfer (processed in order). SERIAL_STATE sets report.modem
  // (DCD, DSR, RI; CTS stays false: the class has no CTS) and counts the
  // break/framing/parity/overrun event bits into report.errors. Other
  // notifications (known or not) are consumed and ignored. Counted in
  // report.malformed:
  //   - a SERIAL_STATE whose wLength is not 2 (dropped, as Linux does; the
  //     stream stays in step because its wLength bytes are skipped);
  //   - a notification that does not start with bmRequestType 0xA1, or whose
  //     wLength exceeds cdc::kMaxNotificationDataLength: reassembly is reset
  //     and the rest of that transfer dropped, so the next transfer starts a
  //     fresh notification.
  // Returns ok, or malformed when this transfer contained anything counted.
  Status decode_interrupt(std::span<const uint8_t> transfer, RxReport& report) override;

 private:
  void reset_notification();
  // Acts on the notification held in header_/state_ once its data is complete.
  // Returns false when it was malformed.
  bool finish_notification(RxReport& report);

  PortConfig config_{};
  bool configured_ = false;

  // Line coding cache: the 7 bytes of the last SET_LINE_CODING that succeeded
  // since open(), and the actual rate found for it.
  std::array<uint8_t, cdc::kLineCodingLength> coding_{};
  bool coding_valid_ = false;
  uint32_t coding_actual_baud_ = 0;

  // Notification reassembly.
  std::array<uint8_t, cdc::kNotificationHeaderLength> header_{};
  uint8_t header_length_ = 0;    // header bytes held (0..8)
  uint16_t data_remaining_ = 0;  // data bytes of the current notification still to come
  std::array<uint8_t, cdc::kSerialStateLength> state_{};  // first data bytes (SERIAL_STATE)
  uint8_t state_length_ = 0;
};

// ---------------------------------------------------------------------------
// Finding the pipes of a CDC-ACM port.

// Which of Linux cdc-acm's probe fallbacks (acm_probe; reference §1.1) was taken.
struct CdcAcmFallbacks {
  bool call_management = false;     // no Union: data interface from Call Management bDataInterface
  bool swapped_interfaces = false;  // the named "data" interface was the communication one
  bool out_listed_first = false;    // the data OUT endpoint precedes the IN one
  bool interrupt_data_in = false;   // no bulk IN on the data interface: interrupt IN used
  bool interrupt_data_out = false;  // no bulk OUT on the data interface: interrupt OUT used
  bool single_interface = false;    // no usable Union / Call Management: one interface with
                                    // bulk IN, bulk OUT and interrupt IN ("castrated")
  bool broken_union = false;        // the Union's control interface is missing or of a wrong
                                    // class: treated as a single interface (Linux does too)
  bool union_same_interface = false;  // the Union names one interface as control and data
                                      // (Linux then forces NO_CAP_LINE: D1 is cleared)
  friend constexpr bool operator==(const CdcAcmFallbacks&, const CdcAcmFallbacks&) = default;
};

struct CdcAcmPort {
  uint8_t control_interface = 0;  // communication interface: wIndex of the class requests
  uint8_t data_interface = 0;     // equals control_interface for single-interface layouts
  usb::Endpoint data_in{};        // bulk IN (interrupt IN when fallbacks.interrupt_data_in)
  usb::Endpoint data_out{};       // bulk OUT (interrupt OUT when fallbacks.interrupt_data_out)
  bool has_notification = false;  // the control interface has an interrupt IN endpoint
  usb::Endpoint notification{};   // that endpoint, when has_notification
  uint8_t acm_capabilities = 0;   // ACM functional descriptor bmCapabilities (0 if absent)
  CdcAcmFallbacks fallbacks{};
};

// Finds the CDC-ACM port whose communication interface is `matched_interface`
// (the interface the port was matched on), following Linux acm_probe:
//   1. a Union functional descriptor on the matched interface names the control
//      (bControlInterface) and data (bSubordinateInterface0) interfaces; a Union
//      whose control interface is missing or neither class 0x02 nor 0x0A is
//      "broken" and the matched interface is tried as a single interface; a
//      Union naming the matched interface as both is a single interface too;
//   2. without a Union, the Call Management descriptor's bDataInterface, when it
//      names another interface of the configuration;
//   3. otherwise (or when 2 gives no usable pair) the matched interface alone,
//      when it has exactly three endpoints: bulk IN, bulk OUT, interrupt IN.
// For a two-interface pair: if the data interface is not class 0x0A but the
// control one is, they are swapped; the control interface must then be the
// matched one (the data interface of a function is never a port of its own).
// Data endpoints are found by direction in any order, bulk preferred, interrupt
// accepted; the control interface's interrupt IN endpoint is optional.
// Returns ok, invalid_argument (no interface `matched_interface` in config), or
// malformed (no usable data pipes); `out` is only filled on ok, never guessed.
Status find_cdc_acm_port(const usb::Configuration& config, uint8_t matched_interface,
                         CdcAcmPort& out);

// The PortConfig a CdcAcm needs for a found port.
PortConfig make_port_config(const CdcAcmPort& port);

}  // namespace transport::chips
