// FTDI vendor-request and status constants (FT232BM, FT232R, FT-X, FT2232C/D, FT232H,
// FT2232H, FT4232H).
//
// Names follow libftdi's ftdi.h (SIO_RESET ... SIO_SET_DATA, SIO_TCIFLUSH/SIO_TCOFLUSH,
// SIO_*_HS) and Linux drivers/usb/serial/ftdi_sio.h (FTDI_SIO_* requests, FTDI_RS0_* /
// FTDI_RS_* status bits), without their library prefixes where the two agree. Values as
// restated in docs/usb-serial-reference.md §2.2-§2.4. Baud-rate divisor facts come from
// FTDI AN232B-05 "Configuring FT232R, FT2232 and FT232B Baud Rates" and AN_120 (H series).
#pragma once

#include <array>
#include <cstdint>

namespace transport::chips::ftdi {

// ---------------------------------------------------------------------------------------
// bmRequestType (USB 2.0 §9.3.1): vendor request to the device. ftdi_sio.h:
// FTDI_SIO_*_REQUEST_TYPE 0x40 for OUT, 0xC0 for IN.
inline constexpr uint8_t kRequestTypeOut = 0x40;
inline constexpr uint8_t kRequestTypeIn = 0xC0;

// ---------------------------------------------------------------------------------------
// bRequest codes. libftdi ftdi.h (SIO_RESET .. SIO_SET_DATA, SIO_*_REQUEST) and
// ftdi_sio.h (FTDI_SIO_RESET .. FTDI_SIO_SET_BITMODE, FTDI_SIO_READ_EEPROM).
inline constexpr uint8_t SIO_RESET = 0x00;              // reset port / purge one FIFO
inline constexpr uint8_t SIO_MODEM_CTRL = 0x01;         // DTR / RTS
inline constexpr uint8_t SIO_SET_FLOW_CTRL = 0x02;      // handshake mode
inline constexpr uint8_t SIO_SET_BAUD_RATE = 0x03;      // divisor (wValue + wIndex)
inline constexpr uint8_t SIO_SET_DATA = 0x04;           // data bits, parity, stop, break
inline constexpr uint8_t SIO_GET_MODEM_STATUS = 0x05;   // IN, 2 bytes (libftdi: POLL_MODEM_STATUS)
inline constexpr uint8_t SIO_SET_EVENT_CHAR = 0x06;     // char that flushes the RX buffer early
inline constexpr uint8_t SIO_SET_ERROR_CHAR = 0x07;     // replacement for parity-error chars
inline constexpr uint8_t SIO_SET_LATENCY_TIMER = 0x09;  // ms, 1..255 (chip default 16)
inline constexpr uint8_t SIO_GET_LATENCY_TIMER = 0x0A;  // IN, 1 byte
inline constexpr uint8_t SIO_SET_BITMODE = 0x0B;        // UART / bitbang / MPSSE selection
inline constexpr uint8_t SIO_READ_PINS = 0x0C;          // IN, 1 byte
inline constexpr uint8_t SIO_READ_EEPROM = 0x90;        // IN, 2 bytes, wIndex = word address

// Length of the SIO_GET_MODEM_STATUS answer on every part we drive (1 byte only on the SIO,
// which we do not drive): ftdi_sio.c ftdi_get_modem_status.
inline constexpr uint16_t kModemStatusLength = 2;

// ---------------------------------------------------------------------------------------
// SIO_RESET wValue. 0 resets the port (flow control off, event char disabled, both FIFOs
// purged, DTR/RTS low; baud rate and data format kept: ftdi_sio.h FTDI_SIO_RESET comment).
// 1 and 2 purge one FIFO each. The Linux header calls 1 "PURGE_RX" and 2 "PURGE_TX"; libftdi
// >= 1.5 found that backwards by test and renamed them SIO_TCOFLUSH = 1 (host->device,
// transmit FIFO) and SIO_TCIFLUSH = 2 (device->host, receive FIFO). usb-serial-for-android
// FtdiSerialDriver agrees (write-buffer purge sends 1, read-buffer purge sends 2). Not
// confirmed by an FTDI document (reference §9).
inline constexpr uint16_t SIO_RESET_SIO = 0;
inline constexpr uint16_t SIO_TCOFLUSH = 1;  // purge the transmit (host->line) FIFO
inline constexpr uint16_t SIO_TCIFLUSH = 2;  // purge the receive (line->host) FIFO

// ---------------------------------------------------------------------------------------
// SIO_MODEM_CTRL wValue (ftdi_sio.h FTDI_SIO_SET_DTR_* / FTDI_SIO_SET_RTS_*): bit 0 DTR level,
// bit 1 RTS level, bit 8 "apply DTR", bit 9 "apply RTS". Both lines in one request is what
// Linux sends (it ORs the masks); the header notes very old chips needed two requests.
inline constexpr uint16_t SIO_SET_DTR_MASK = 0x1;
inline constexpr uint16_t SIO_SET_RTS_MASK = 0x2;
inline constexpr uint16_t SIO_SET_DTR_HIGH = 1 | (SIO_SET_DTR_MASK << 8);  // 0x0101
inline constexpr uint16_t SIO_SET_DTR_LOW = 0 | (SIO_SET_DTR_MASK << 8);   // 0x0100
inline constexpr uint16_t SIO_SET_RTS_HIGH = 2 | (SIO_SET_RTS_MASK << 8);  // 0x0202
inline constexpr uint16_t SIO_SET_RTS_LOW = 0 | (SIO_SET_RTS_MASK << 8);   // 0x0200
// Both "apply" bits: every MODEM_CTRL we send carries this.
inline constexpr uint16_t kModemCtrlApplyBoth = (SIO_SET_DTR_MASK | SIO_SET_RTS_MASK) << 8;

// ---------------------------------------------------------------------------------------
// SIO_SET_FLOW_CTRL: the mode goes in the HIGH byte of wIndex (the channel in the low byte);
// for XON/XOFF, wValue = XON char | XOFF char << 8. libftdi ftdi.h SIO_*_HS, ftdi_sio.h
// FTDI_SIO_*_HS.
inline constexpr uint16_t SIO_DISABLE_FLOW_CTRL = 0x0;
inline constexpr uint16_t SIO_RTS_CTS_HS = 0x1 << 8;
inline constexpr uint16_t SIO_DTR_DSR_HS = 0x2 << 8;
inline constexpr uint16_t SIO_XON_XOFF_HS = 0x4 << 8;

// ---------------------------------------------------------------------------------------
// SIO_SET_DATA wValue (ftdi_sio.h FTDI_SIO_SET_DATA_*): bits 0-7 data bits (7 or 8; the
// chips do not do 5 or 6), bits 8-10 parity, bits 11-13 stop bits, bit 14 break.
inline constexpr uint16_t SIO_SET_DATA_PARITY_NONE = 0x0 << 8;
inline constexpr uint16_t SIO_SET_DATA_PARITY_ODD = 0x1 << 8;
inline constexpr uint16_t SIO_SET_DATA_PARITY_EVEN = 0x2 << 8;
inline constexpr uint16_t SIO_SET_DATA_PARITY_MARK = 0x3 << 8;
inline constexpr uint16_t SIO_SET_DATA_PARITY_SPACE = 0x4 << 8;
inline constexpr uint16_t SIO_SET_DATA_STOP_BITS_1 = 0x0 << 11;
inline constexpr uint16_t SIO_SET_DATA_STOP_BITS_15 = 0x1 << 11;
inline constexpr uint16_t SIO_SET_DATA_STOP_BITS_2 = 0x2 << 11;
inline constexpr uint16_t SIO_SET_BREAK = 0x1 << 14;

// ---------------------------------------------------------------------------------------
// SIO_SET_EVENT_CHAR / SIO_SET_ERROR_CHAR wValue: bits 0-7 char, bit 8 enable (ftdi_sio.h).
// 0 = disabled. AN232B-04: an enabled event char flushes the RX buffer early.
inline constexpr uint16_t kCharEnable = 0x0100;
inline constexpr uint16_t kCharDisabled = 0x0000;

// ---------------------------------------------------------------------------------------
// SIO_SET_BITMODE wValue: high byte mode, low byte pin mask (libftdi ftdi.h BITMODE_*).
// BITMODE_RESET puts the chip back into its UART function.
inline constexpr uint16_t BITMODE_RESET = 0x00 << 8;
inline constexpr uint16_t BITMODE_BITBANG = 0x01 << 8;
inline constexpr uint16_t BITMODE_MPSSE = 0x02 << 8;

// SIO_SET_LATENCY_TIMER range in ms (ftdi_sio.h FTDI_SIO_SET_LATENCY_TIMER comment; default 16).
inline constexpr uint8_t kLatencyMinMs = 1;
inline constexpr uint8_t kLatencyMaxMs = 255;
inline constexpr uint8_t kLatencyDefaultMs = 16;

// ---------------------------------------------------------------------------------------
// Status bytes: the first two bytes of every bulk-IN packet and the SIO_GET_MODEM_STATUS
// answer (ftdi_sio.h "IN Endpoint" comment, FTDI_RS0_* / FTDI_RS_*).
// Byte 0, modem status. Bits 0-3 are reserved (low nibble reads 0x01 on most parts).
inline constexpr uint8_t FTDI_RS0_CTS = 1 << 4;
inline constexpr uint8_t FTDI_RS0_DSR = 1 << 5;
inline constexpr uint8_t FTDI_RS0_RI = 1 << 6;
inline constexpr uint8_t FTDI_RS0_RLSD = 1 << 7;  // DCD
// Byte 1, line status.
inline constexpr uint8_t FTDI_RS_DR = 1 << 0;    // data ready
inline constexpr uint8_t FTDI_RS_OE = 1 << 1;    // overrun error
inline constexpr uint8_t FTDI_RS_PE = 1 << 2;    // parity error
inline constexpr uint8_t FTDI_RS_FE = 1 << 3;    // framing error
inline constexpr uint8_t FTDI_RS_BI = 1 << 4;    // break interrupt
inline constexpr uint8_t FTDI_RS_THRE = 1 << 5;  // transmitter holding register empty
inline constexpr uint8_t FTDI_RS_TEMT = 1 << 6;  // transmitter empty
inline constexpr uint8_t FTDI_RS_FIFO = 1 << 7;  // error in the RX FIFO
inline constexpr uint32_t kStatusHeaderLength = 2;

// ---------------------------------------------------------------------------------------
// Baud-rate divisor (AN232B-05; AN_120 for the H series; Linux ftdi_232bm_baud_base_to_divisor
// and ftdi_2232h_baud_base_to_divisor).
//
// rate = reference / (n + f/8), n an integer 2..16383 (14 bits) and f in eighths. The
// encoded value carries n in bits 0-13 and a 3-bit code for f in bits 14-16; bit 17 selects
// the 12 MHz reference on the H series. Two encodings are special: 0 means divisor 1 and
// 1 means divisor 1.5. Every other divisor below 2 is "not allowed" (AN232B-05); the
// mev.co.uk measurements of an FT232BM show they all run at 2 MBd.
inline constexpr uint32_t kReference3MHz = 3'000'000;    // 48 MHz / 16
inline constexpr uint32_t kReference12MHz = 12'000'000;  // 120 MHz / 10 (H series, bit 17)
// Below this rate the H series use the 3 MHz reference, as Linux get_ftdi_divisor does; the
// 12 MHz path below 1200 Bd is not hardware-verified (reference §9).
inline constexpr uint32_t kHighSpeedClockMinBaud = 1200;

inline constexpr uint32_t kDivisorIntegerMin = 2;
inline constexpr uint32_t kDivisorIntegerMax = 16383;  // 0x3FFF, 14 bits
inline constexpr uint32_t kDivisorIntegerMask = 0x3FFF;
inline constexpr uint32_t kDivisorFractionShift = 14;  // code in bits 16..14
inline constexpr uint32_t kDivisorClock12MHz = 1u << 17;
inline constexpr uint32_t kEncodedDivisorOne = 0;         // divisor 1.0: 3 MBd / 12 MBd
inline constexpr uint32_t kEncodedDivisorOneAndHalf = 1;  // divisor 1.5: 2 MBd / 8 MBd

// Divisors in eighths (the unit all arithmetic here uses).
inline constexpr uint32_t kEighthsDivisorOne = 8;          // 1.0
inline constexpr uint32_t kEighthsDivisorOneAndHalf = 12;  // 1.5
inline constexpr uint32_t kEighthsDivisorMinRegular = 16;  // 2.0
inline constexpr uint32_t kEighthsDivisorMax = 131071;     // 16383.875

// Sub-integer code for eighths 0..7 (AN232B-05 table: .000 -> 0, .125 -> 3, .25 -> 2,
// .375 -> 4, .5 -> 1, .625 -> 5, .75 -> 6, .875 -> 7; Linux divfrac[]).
inline constexpr std::array<uint8_t, 8> kFractionCode = {0, 3, 2, 4, 1, 5, 6, 7};

}  // namespace transport::chips::ftdi
