// Prolific PL2303 constants: class-style line requests, vendor register access, the vendor
// init sequence, flow-control and pipe-reset registers (old map and the HXN map), the UART
// state byte of the interrupt notification, and the baud-rate encodings.
//
// Prolific publishes no programming manual. Names follow Linux drivers/usb/serial/pl2303.c
// (SET_LINE_REQUEST, VENDOR_READ_NREQUEST, UART_*, PL2303_HXN_*, ...), the behavioural
// reference (v6.1 era, with the TA/TB/HXN support of v5.11-v5.13), without its prefixes
// where that reads better. docs/chips/pl2303.md says what each part does with them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace transport::chips::pl2303 {

// ---------------------------------------------------------------------------------------
// Class-style requests (CDC numbering, interface recipient, wIndex 0): pl2303.c
// SET_LINE_REQUEST / GET_LINE_REQUEST / SET_CONTROL_REQUEST / BREAK_REQUEST.
inline constexpr uint8_t kClassRequestTypeOut = 0x21;
inline constexpr uint8_t kClassRequestTypeIn = 0xA1;
inline constexpr uint8_t SET_LINE_REQUEST = 0x20;     // 7-byte line coding
inline constexpr uint8_t GET_LINE_REQUEST = 0x21;     // 7 bytes back (never needed by us)
inline constexpr uint8_t SET_CONTROL_REQUEST = 0x22;  // wValue: DTR, RTS
inline constexpr uint8_t BREAK_REQUEST = 0x23;        // wValue: BREAK_ON / BREAK_OFF

inline constexpr uint16_t CONTROL_DTR = 0x01;
inline constexpr uint16_t CONTROL_RTS = 0x02;
inline constexpr uint16_t BREAK_ON = 0xFFFF;
inline constexpr uint16_t BREAK_OFF = 0x0000;

// Line coding (the CDC layout): bytes 0-3 the rate field (direct rate or divisor, below),
// 4 stop bits (0 = 1, 1 = 1.5, 2 = 2), 5 parity (0 none, 1 odd, 2 even, 3 mark, 4 space),
// 6 data bits (5..8).
inline constexpr size_t kLineLength = 7;
inline constexpr size_t kLineStopBitsOffset = 4;
inline constexpr size_t kLineParityOffset = 5;
inline constexpr size_t kLineDataBitsOffset = 6;

// ---------------------------------------------------------------------------------------
// Vendor register access (device recipient, 1-byte reads). pl2303.c VENDOR_*_REQUEST(_TYPE).
// Every type but the HXN: bRequest 0x01 both ways; a read's wValue is the register | 0x80,
// a write's wValue is the register and its wIndex the value. The HXN (G series) uses
// bRequest 0x81 to read and 0x80 to write, with the plain register number, and refuses
// (STALLs) the old requests.
inline constexpr uint8_t VENDOR_WRITE_REQUEST_TYPE = 0x40;
inline constexpr uint8_t VENDOR_READ_REQUEST_TYPE = 0xC0;
inline constexpr uint8_t VENDOR_WRITE_REQUEST = 0x01;
inline constexpr uint8_t VENDOR_READ_REQUEST = 0x01;
inline constexpr uint8_t VENDOR_WRITE_NREQUEST = 0x80;  // HXN
inline constexpr uint8_t VENDOR_READ_NREQUEST = 0x81;   // HXN
inline constexpr uint16_t kRegisterReadFlag = 0x80;     // old map: read wValue = register | 0x80

// The type probe (pl2303.c pl2303_supports_hx_status): a TA or TB answers this old-style
// read; the G-series part with the same bcdDevice (GT, GE) refuses it.
inline constexpr uint16_t PL2303_READ_TYPE_HX_STATUS = 0x8080;

// ---------------------------------------------------------------------------------------
// The vendor init sequence every type but the HXN needs once after attach (pl2303.c
// pl2303_startup; usb-serial-for-android "doBlackMagic" sends the same). Its meaning is not
// documented; it is sent exactly as Linux sends it. The last write is register 2 = 0x24 on
// the legacy H and 0x44 on every later type.
struct InitStep {
  bool read;       // a 1-byte vendor read (its value is not used)
  uint16_t value;  // wValue
  uint16_t index;  // wIndex (writes: the register value)
};
inline constexpr std::array<InitStep, 10> kInitSequence = {{
    {true, 0x8484, 0},
    {false, 0x0404, 0},
    {true, 0x8484, 0},
    {true, 0x8383, 0},
    {true, 0x8484, 0},
    {false, 0x0404, 1},
    {true, 0x8484, 0},
    {true, 0x8383, 0},
    {false, 0x0000, 1},
    {false, 0x0001, 0},
}};
inline constexpr uint16_t kInitRegister2 = 0x0002;
inline constexpr uint16_t kInitRegister2Legacy = 0x24;  // H
inline constexpr uint16_t kInitRegister2Value = 0x44;   // HX, HXD, TA, TB

// ---------------------------------------------------------------------------------------
// Flow control, old map: register 0, bits 7..4 (pl2303.c PL2303_FLOWCTRL_MASK), changed by
// read-modify-write. RTS/CTS is 0x40 on the legacy H and 0x60 on later types; automatic
// XON/XOFF (DC1/DC3 only) is 0xC0 and not available on the H.
inline constexpr uint16_t kFlowControlRegister = 0x00;
inline constexpr uint8_t PL2303_FLOWCTRL_MASK = 0xF0;
inline constexpr uint8_t kFlowNone = 0x00;
inline constexpr uint8_t kFlowRtsCtsLegacy = 0x40;
inline constexpr uint8_t kFlowRtsCts = 0x60;
inline constexpr uint8_t kFlowXonXoff = 0xC0;

// Flow control, HXN map: register 0x0A, bits 4..2.
inline constexpr uint16_t PL2303_HXN_FLOWCTRL_REG = 0x0A;
inline constexpr uint8_t PL2303_HXN_FLOWCTRL_MASK = 0x1C;
inline constexpr uint8_t PL2303_HXN_FLOWCTRL_NONE = 0x1C;
inline constexpr uint8_t PL2303_HXN_FLOWCTRL_RTS_CTS = 0x18;
inline constexpr uint8_t PL2303_HXN_FLOWCTRL_XON_XOFF = 0x0C;

// The characters automatic XON/XOFF uses; Linux enables the mode only for these.
inline constexpr uint8_t kXon = 0x11;   // DC1
inline constexpr uint8_t kXoff = 0x13;  // DC3

// ---------------------------------------------------------------------------------------
// Pipe resets. Old map: writing 0 to register 8 resets the downstream (host -> line) pipe,
// to register 9 the upstream (line -> host) pipe; Linux writes both at open ("reset upstream
// data pipes"), usb-serial-for-android uses 8 to purge its write side and 9 its read side.
// HXN: one register whose bits select the pipes (pl2303.c PL2303_HXN_RESET_*).
inline constexpr uint16_t kResetDownstreamRegister = 0x08;
inline constexpr uint16_t kResetUpstreamRegister = 0x09;
inline constexpr uint16_t PL2303_HXN_RESET_REG = 0x07;
inline constexpr uint8_t PL2303_HXN_RESET_DOWNSTREAM_PIPE = 0x01;
inline constexpr uint8_t PL2303_HXN_RESET_UPSTREAM_PIPE = 0x02;

// ---------------------------------------------------------------------------------------
// Interrupt IN: a 10-byte notification shaped like CDC SERIAL_STATE (bmRequestType 0xA1,
// bNotification 0x20, ...); byte 8 is the UART state (pl2303.c UART_STATE_INDEX). Modem lines
// are active high there. The error bits are transient: they describe data just received.
inline constexpr size_t kNotificationLength = 10;
inline constexpr uint8_t kNotificationRequestType = 0xA1;
inline constexpr uint8_t kNotificationSerialState = 0x20;
inline constexpr size_t UART_STATE_INDEX = 8;
inline constexpr uint8_t UART_DCD = 0x01;
inline constexpr uint8_t UART_DSR = 0x02;
inline constexpr uint8_t UART_BREAK_ERROR = 0x04;
inline constexpr uint8_t UART_RING = 0x08;
inline constexpr uint8_t UART_FRAME_ERROR = 0x10;
inline constexpr uint8_t UART_PARITY_ERROR = 0x20;
inline constexpr uint8_t UART_OVERRUN_ERROR = 0x40;
inline constexpr uint8_t UART_CTS = 0x80;
inline constexpr uint8_t UART_STATE_MSR_MASK = 0x8B;        // CTS | RI | DSR | DCD
inline constexpr uint8_t UART_STATE_TRANSIENT_MASK = 0x74;  // overrun | parity | frame | break

// ---------------------------------------------------------------------------------------
// The rate field (bytes 0-3 of the line coding), pl2303.c pl2303_encode_baud_rate*.
//
// Direct: the rate itself, u32 little-endian. A type with divisors knows only the rates in
// kDirectRates; any other direct value makes the chip run at 9600 without a word (pl2303.c
// comment, confirmed by usb-serial-for-android's hardware tests). The HXN takes every rate
// directly and has no divisor mode.
inline constexpr std::array<uint32_t, 25> kDirectRates = {
    75,     150,    300,    600,     1200,    1800,    2400,    3600,   4800,
    7200,   9600,   14400,  19200,   28800,   38400,   57600,   115200, 230400,
    460800, 614400, 921600, 1228800, 2457600, 3000000, 6000000,
};

// Divisor: rate = 12 MHz * 32 / divisor, flagged by bit 7 of byte 3.
inline constexpr uint32_t kDivisorBaseline = 384'000'000;  // 12 MHz * 32
inline constexpr uint8_t kDivisorFlag = 0x80;              // byte 3
// Standard encoding (H, HX, HXD): divisor = mantissa * 4^exponent, mantissa 9 bits in
// byte 0 and bit 0 of byte 1, exponent 0..7 in bits 3..1 of byte 1.
inline constexpr uint32_t kStandardMantissaMax = 511;
inline constexpr uint32_t kStandardExponentMax = 7;
// Alternative encoding (TA, TB): divisor = mantissa * 2^exponent, mantissa 11 bits in byte 0
// and bits 2..0 of byte 1, exponent 0..15 with bits 3..1 in bits 7..5 of byte 1 and bit 0 in
// bit 0 of byte 2.
inline constexpr uint32_t kAltMantissaMax = 2047;
inline constexpr uint32_t kAltExponentMax = 15;

}  // namespace transport::chips::pl2303
