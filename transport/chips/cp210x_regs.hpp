// Silicon Labs CP210x vendor-request constants (CP2102, CP2102N, CP2104, CP2105, CP2108).
//
// Names are AN571 "CP210x Virtual COM Port Interface" request names, as Linux
// drivers/usb/serial/cp210x.c spells them (CP210X_* requests, structure field names such as
// ulControlHandshake); the values are restated in docs/usb-serial-reference.md §3.
// Rates: AN205 "CP210x Baud Rate Support" (Table 1) and the CP2104 / CP2102N data sheets
// ("Baud Rate Generation", Equations 1 and 2).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace transport::chips::cp210x {

// ---------------------------------------------------------------------------------------
// bmRequestType. AN571: every UART request is a vendor request to the interface, with wIndex
// = the interface number; the vendor-specific reads (part number, firmware version) go to the
// device (Linux REQTYPE_HOST_TO_INTERFACE 0x41, REQTYPE_INTERFACE_TO_HOST 0xC1,
// REQTYPE_DEVICE_TO_HOST 0xC0).
inline constexpr uint8_t REQTYPE_HOST_TO_INTERFACE = 0x41;
inline constexpr uint8_t REQTYPE_INTERFACE_TO_HOST = 0xC1;
inline constexpr uint8_t REQTYPE_DEVICE_TO_HOST = 0xC0;

// ---------------------------------------------------------------------------------------
// bRequest codes (AN571 Table 6).
inline constexpr uint8_t CP210X_IFC_ENABLE = 0x00;
inline constexpr uint8_t CP210X_SET_LINE_CTL = 0x03;
inline constexpr uint8_t CP210X_SET_BREAK = 0x05;
inline constexpr uint8_t CP210X_SET_MHS = 0x07;
inline constexpr uint8_t CP210X_GET_MDMSTS = 0x08;
inline constexpr uint8_t CP210X_GET_COMM_STATUS = 0x10;
inline constexpr uint8_t CP210X_PURGE = 0x12;
inline constexpr uint8_t CP210X_SET_FLOW = 0x13;
inline constexpr uint8_t CP210X_GET_FLOW = 0x14;
inline constexpr uint8_t CP210X_EMBED_EVENTS = 0x15;
inline constexpr uint8_t CP210X_SET_CHARS = 0x19;
inline constexpr uint8_t CP210X_SET_BAUDRATE = 0x1E;
inline constexpr uint8_t CP210X_VENDOR_SPECIFIC = 0xFF;

// IFC_ENABLE wValue. The UART does nothing until it is enabled; disabling it also ends
// event insertion (AN571; Linux cp210x_close).
inline constexpr uint16_t UART_ENABLE = 0x0001;
inline constexpr uint16_t UART_DISABLE = 0x0000;

// ---------------------------------------------------------------------------------------
// VENDOR_SPECIFIC wValue selectors (Linux CP210X_GET_PARTNUM, CP210X_GET_FW_VER_2N).
inline constexpr uint16_t CP210X_GET_PARTNUM = 0x370B;    // 1 byte: the part number
inline constexpr uint16_t CP210X_GET_FW_VER_2N = 0x0010;  // CP2102N: 3 bytes, major.minor.build
inline constexpr uint16_t kPartNumberLength = 1;
inline constexpr uint16_t kPartNumberProbeLength = 2;  // the counterfeit probe (quirk table)
inline constexpr uint16_t kFirmwareVersionLength = 3;

// GET_PARTNUM answers (Linux CP210X_PARTNUM_*).
inline constexpr uint8_t CP210X_PARTNUM_CP2101 = 0x01;
inline constexpr uint8_t CP210X_PARTNUM_CP2102 = 0x02;
inline constexpr uint8_t CP210X_PARTNUM_CP2103 = 0x03;
inline constexpr uint8_t CP210X_PARTNUM_CP2104 = 0x04;
inline constexpr uint8_t CP210X_PARTNUM_CP2105 = 0x05;
inline constexpr uint8_t CP210X_PARTNUM_CP2108 = 0x08;
inline constexpr uint8_t CP210X_PARTNUM_CP2102N_QFN28 = 0x20;
inline constexpr uint8_t CP210X_PARTNUM_CP2102N_QFN24 = 0x21;
inline constexpr uint8_t CP210X_PARTNUM_CP2102N_QFN20 = 0x22;

// ---------------------------------------------------------------------------------------
// SET_LINE_CTL wValue (AN571): bits 0-3 stop bits, 4-7 parity, 8-15 data bits.
inline constexpr uint16_t BITS_STOP_1 = 0x0000;
inline constexpr uint16_t BITS_STOP_1_5 = 0x0001;
inline constexpr uint16_t BITS_STOP_2 = 0x0002;
inline constexpr uint16_t BITS_PARITY_NONE = 0x0000;
inline constexpr uint16_t BITS_PARITY_ODD = 0x0010;
inline constexpr uint16_t BITS_PARITY_EVEN = 0x0020;
inline constexpr uint16_t BITS_PARITY_MARK = 0x0030;
inline constexpr uint16_t BITS_PARITY_SPACE = 0x0040;
inline constexpr unsigned kDataBitsShift = 8;  // BITS_DATA_5 = 0x0500 ... BITS_DATA_8 = 0x0800

// SET_BREAK wValue.
inline constexpr uint16_t BREAK_ON = 0x0001;
inline constexpr uint16_t BREAK_OFF = 0x0000;

// SET_MHS wValue / GET_MDMSTS answer (AN571; Linux CONTROL_*). In SET_MHS, bits 8 and 9 say
// which of the two levels to apply.
inline constexpr uint16_t CONTROL_DTR = 0x0001;
inline constexpr uint16_t CONTROL_RTS = 0x0002;
inline constexpr uint8_t CONTROL_CTS = 0x10;
inline constexpr uint8_t CONTROL_DSR = 0x20;
inline constexpr uint8_t CONTROL_RING = 0x40;
inline constexpr uint8_t CONTROL_DCD = 0x80;
inline constexpr uint16_t CONTROL_WRITE_DTR = 0x0100;
inline constexpr uint16_t CONTROL_WRITE_RTS = 0x0200;
inline constexpr uint16_t kModemStatusLength = 1;

// ---------------------------------------------------------------------------------------
// PURGE wValue (AN571 names two bit pairs: bits 0 and 2 clear the transmit side, bits 1 and
// 3 the receive side). Linux sends all four on close (a CP2108 hangs otherwise);
// usb-serial-for-android sends 0x05 for the write side and 0x0A for the read side.
inline constexpr uint16_t PURGE_TX = 0x0005;
inline constexpr uint16_t PURGE_RX = 0x000A;
inline constexpr uint16_t PURGE_ALL = 0x000F;

// ---------------------------------------------------------------------------------------
// GET_FLOW / SET_FLOW: 16 bytes, four little-endian u32 (AN571 "SERIAL_HANDFLOW").
inline constexpr uint16_t kFlowLength = 16;
// ulControlHandshake.
inline constexpr uint32_t CP210X_SERIAL_DTR_MASK = 0x3u << 0;
inline constexpr uint32_t CP210X_SERIAL_DTR_INACTIVE = 0u << 0;
inline constexpr uint32_t CP210X_SERIAL_DTR_ACTIVE = 1u << 0;
inline constexpr uint32_t CP210X_SERIAL_DTR_FLOW_CTL = 2u << 0;
inline constexpr uint32_t CP210X_SERIAL_CTS_HANDSHAKE = 1u << 3;
inline constexpr uint32_t CP210X_SERIAL_DSR_HANDSHAKE = 1u << 4;
inline constexpr uint32_t CP210X_SERIAL_DCD_HANDSHAKE = 1u << 5;
inline constexpr uint32_t CP210X_SERIAL_DSR_SENSITIVITY = 1u << 6;
// ulFlowReplace.
inline constexpr uint32_t CP210X_SERIAL_AUTO_TRANSMIT = 1u << 0;   // obey XON/XOFF (IXON)
inline constexpr uint32_t CP210X_SERIAL_AUTO_RECEIVE = 1u << 1;    // send XON/XOFF (IXOFF)
inline constexpr uint32_t CP210X_SERIAL_ERROR_CHAR = 1u << 2;      // replace errored characters
inline constexpr uint32_t CP210X_SERIAL_NULL_STRIPPING = 1u << 3;  // drop received NULs
inline constexpr uint32_t CP210X_SERIAL_BREAK_CHAR = 1u << 4;      // insert a char on break
inline constexpr uint32_t CP210X_SERIAL_RTS_MASK = 0x3u << 6;
inline constexpr uint32_t CP210X_SERIAL_RTS_INACTIVE = 0u << 6;
inline constexpr uint32_t CP210X_SERIAL_RTS_ACTIVE = 1u << 6;
inline constexpr uint32_t CP210X_SERIAL_RTS_FLOW_CTL = 2u << 6;
// ulXonLimit / ulXoffLimit while the chip sends XON/XOFF (Linux cp210x_set_flow_control).
inline constexpr uint32_t kXonXoffLimit = 128;

// ---------------------------------------------------------------------------------------
// SET_CHARS: 6 bytes bEofChar, bErrorChar, bBreakChar, bEventChar, bXonChar, bXoffChar.
inline constexpr uint16_t kSpecialCharsLength = 6;
inline constexpr size_t kXonCharOffset = 4;
inline constexpr size_t kXoffCharOffset = 5;

// ---------------------------------------------------------------------------------------
// GET_COMM_STATUS: 19 bytes (AN571 "SERIAL_STATUS"): u32 ulErrors, u32 ulHoldReasons,
// u32 ulAmountInInQueue, u32 ulAmountInOutQueue, u8 bEofReceived, u8 bWaitForImmediate,
// u8 bReserved.
inline constexpr uint16_t kCommStatusLength = 19;
// ulErrors bits (the chip clears them when it answers).
inline constexpr uint32_t SERIAL_ERROR_BREAK = 1u << 0;
inline constexpr uint32_t SERIAL_ERROR_FRAMING = 1u << 1;
inline constexpr uint32_t SERIAL_ERROR_HW_OVERRUN = 1u << 2;
inline constexpr uint32_t SERIAL_ERROR_QUEUE_OVERRUN = 1u << 3;
inline constexpr uint32_t SERIAL_ERROR_PARITY = 1u << 4;

// ---------------------------------------------------------------------------------------
// EMBED_EVENTS: wValue is the escape character (0 turns insertion off). With it on, the chip
// inserts into the bulk-IN stream (Linux cp210x_process_char):
//   ESC 0x00           a data byte equal to ESC
//   ESC 0x01 LSR DATA  DATA received with the line-status bits in LSR
//   ESC 0x02 LSR       line status without data
//   ESC 0x03 MSR       modem status (layout not documented; skipped, as Linux does)
inline constexpr uint8_t CP210X_ESCCHAR = 0xEC;  // Linux's choice of escape character
inline constexpr uint8_t kEventEscapedEscape = 0x00;
inline constexpr uint8_t kEventLsrData = 0x01;
inline constexpr uint8_t kEventLsr = 0x02;
inline constexpr uint8_t kEventMsr = 0x03;
inline constexpr uint8_t CP210X_LSR_OVERRUN = 1u << 1;
inline constexpr uint8_t CP210X_LSR_PARITY = 1u << 2;
inline constexpr uint8_t CP210X_LSR_FRAME = 1u << 3;
inline constexpr uint8_t CP210X_LSR_BREAK = 1u << 4;

// ---------------------------------------------------------------------------------------
// Rates.
// CP2104, CP2105 ECI, CP2102N (data sheets, "Baud Rate Generation"):
//   divider = round(48 MHz / (2 x prescale x request)), actual = 48 MHz / (2 x prescale x divider),
//   prescale 4 for requests up to 365 Bd, else 1 (Linux cp210x_get_actual_rate).
inline constexpr uint32_t kClockHz = 48'000'000;
inline constexpr uint32_t kPrescaleLowRateMax = 365;
inline constexpr uint32_t kPrescaleLow = 4;

// AN205 Table 1, "Default Baud Rate Configuration" of CP2101/2/3: the 29 UART rates. The chip
// maps every request to one of them by ranges; a table rate falls in its own range, so
// sending one runs the UART at exactly that rate.
inline constexpr std::array<uint32_t, 29> kAn205Rates = {
    300,    600,    1200,   1800,   2400,   4000,   4800,   7200,   9600,   14400,
    16000,  19200,  28800,  38400,  51200,  56000,  57600,  64000,  76800,  115200,
    128000, 153600, 230400, 250000, 256000, 460800, 500000, 576000, 921600,
};

}  // namespace transport::chips::cp210x
