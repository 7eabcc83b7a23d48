// WCH CH34x (CH340, CH341/CH341A in UART mode) vendor requests, registers and status bits.
//
// WCH publishes no register map for these chips. The names below are those of the Linux
// driver drivers/usb/serial/ch341.c (CH341_REQ_*, CH341_REG_*, CH341_LCR_*, CH341_BIT_*,
// v6.x) and, for what Linux does not use, of WCH's own Linux driver ch341.c/ch341.h V1.8
// (CH341_CTT_* interrupt types, the flow-control register), as restated in
// docs/usb-serial-reference.md §4. The data sheets (CH340DS1, CH341DS1) give the
// pins, formats and rate range: 5-8 data bits, 1 or 2 stop bits, odd/even/mark/space
// parity, 50 Bd to 2 MBd, active-low modem pins (CTS#, DSR#, RI#, DCD#, DTR#, RTS#).
#pragma once

#include <cstdint>

namespace transport::chips::ch34x {

// ---------------------------------------------------------------------------------------
// bmRequestType: vendor request to the device (USB 2.0 §9.3.1), wIndex 0 unless noted.
inline constexpr uint8_t kRequestTypeOut = 0x40;
inline constexpr uint8_t kRequestTypeIn = 0xC0;

// bRequest codes (ch341.c).
inline constexpr uint8_t CH341_REQ_READ_VERSION = 0x5F;  // IN, 2 bytes: version, 0
inline constexpr uint8_t CH341_REQ_WRITE_REG = 0x9A;     // two registers in one request
inline constexpr uint8_t CH341_REQ_READ_REG = 0x95;      // IN, 2 bytes: two registers
inline constexpr uint8_t CH341_REQ_SERIAL_INIT = 0xA1;   // wValue 0, wIndex 0: UART init
inline constexpr uint8_t CH341_REQ_MODEM_CTRL = 0xA4;    // wValue = inverted DTR/RTS bits

// Answer lengths: READ_VERSION and READ_REG return two bytes (ch341.c reads exactly 2).
inline constexpr uint16_t kVersionLength = 2;
inline constexpr uint16_t kRegisterPairLength = 2;

// WRITE_REG / READ_REG address two registers at once: wValue = regB << 8 | regA, and for a
// write wIndex = valB << 8 | valA; a read answers {valA, valB}.
constexpr uint16_t register_pair(uint8_t reg_a, uint8_t reg_b) {
  return static_cast<uint16_t>(reg_b << 8 | reg_a);
}

// ---------------------------------------------------------------------------------------
// Registers (ch341.c CH341_REG_*; 0x06/0x07 and 0x27 from WCH's driver).
inline constexpr uint8_t CH341_REG_BREAK = 0x05;      // bit 0: NOT break (1 = line idle)
inline constexpr uint8_t CH341_REG_STATUS = 0x06;     // inverted modem inputs (and outputs)
inline constexpr uint8_t CH341_REG_STATUS2 = 0x07;    // read with 0x06; not interpreted
inline constexpr uint8_t CH341_REG_PRESCALER = 0x12;  // ps | fact << 2 | BIT(7)
inline constexpr uint8_t CH341_REG_DIVISOR = 0x13;    // 256 - div
inline constexpr uint8_t CH341_REG_LCR = 0x18;        // line control (version >= 0x30)
inline constexpr uint8_t CH341_REG_LCR2 = 0x25;       // written 0 next to LCR (version >= 0x30)
inline constexpr uint8_t CH341_REG_FLOW = 0x27;       // WCH driver: 0x01 in both = RTS/CTS

// The register pairs the driver uses.
inline constexpr uint16_t kBaudRegisters = register_pair(CH341_REG_PRESCALER, CH341_REG_DIVISOR);
inline constexpr uint16_t kLcrRegisters = register_pair(CH341_REG_LCR, CH341_REG_LCR2);
inline constexpr uint16_t kBreakRegisters = register_pair(CH341_REG_BREAK, CH341_REG_LCR);
inline constexpr uint16_t kStatusRegisters = register_pair(CH341_REG_STATUS, CH341_REG_STATUS2);
inline constexpr uint16_t kFlowRegisters = register_pair(CH341_REG_FLOW, CH341_REG_FLOW);
// The quirk probe reads the break register alone (ch341.c ch341_detect_quirks: wValue
// CH341_REG_BREAK); a STALL marks the "limited" clones.
inline constexpr uint16_t kBreakProbeRegisters = register_pair(CH341_REG_BREAK, 0x00);

// CH341_REG_BREAK bit 0 (ch341.c CH341_NBREAK_BITS): 1 = no break, 0 = TXD held low.
inline constexpr uint8_t CH341_NBREAK_BITS = 0x01;

// WCH driver: wIndex of WRITE_REG 0x2727 (the value goes to both halves).
inline constexpr uint16_t kFlowRtsCts = 0x0101;
inline constexpr uint16_t kFlowNone = 0x0000;

// ---------------------------------------------------------------------------------------
// CH341_REG_LCR (ch341.c CH341_LCR_*). Parity: enable 0x08, even 0x10, mark/space 0x20, so
// odd 0x08, even 0x18, mark 0x28, space 0x38. Data bits in bits 1:0 (5 = 0 ... 8 = 3).
inline constexpr uint8_t CH341_LCR_ENABLE_RX = 0x80;
inline constexpr uint8_t CH341_LCR_ENABLE_TX = 0x40;
inline constexpr uint8_t CH341_LCR_MARK_SPACE = 0x20;
inline constexpr uint8_t CH341_LCR_PAR_EVEN = 0x10;
inline constexpr uint8_t CH341_LCR_ENABLE_PAR = 0x08;
inline constexpr uint8_t CH341_LCR_STOP_BITS_2 = 0x04;
inline constexpr uint8_t CH341_LCR_CS5 = 0x00;
inline constexpr uint8_t CH341_LCR_CS6 = 0x01;
inline constexpr uint8_t CH341_LCR_CS7 = 0x02;
inline constexpr uint8_t CH341_LCR_CS8 = 0x03;
// 8N1 with receiver and transmitter on: the one format a chip older than 0x30 runs.
inline constexpr uint8_t kLcr8N1 = CH341_LCR_ENABLE_RX | CH341_LCR_ENABLE_TX | CH341_LCR_CS8;

// ---------------------------------------------------------------------------------------
// Chip versions (READ_VERSION byte 0; ch341.c ch341_set_baudrate_lcr).
// Above 0x27: BIT(7) of the prescaler register must be set, or the CH341A holds received data
// until a full 32-byte packet; at least one 0x27 part has the bit inverted, so it stays clear
// there.
inline constexpr uint8_t kVersionPrescalerBit7 = 0x28;  // first version that gets BIT(7)
// From 0x30 the format lives in CH341_REG_LCR (LCR2 = 0); older chips use other, unknown
// registers, so Linux writes no LCR to them.
inline constexpr uint8_t kVersionLcr = 0x30;
inline constexpr uint8_t CH341_PRESCALER_NO_BUFFERING = 0x80;  // BIT(7)

// ---------------------------------------------------------------------------------------
// Baud-rate generator (ch341.c, reference §4.4):
//   rate = 48 MHz / (2^(12 - 3 ps - fact) * div),  ps 0..3, fact 0..1,
//   div 2..256 with fact 0, 9..256 with fact 1.
// Prescaler register = ps | fact << 2 (| BIT(7)); divisor register = 256 - div (0 = 256).
inline constexpr uint32_t CH341_CLKRATE = 48'000'000;
inline constexpr uint8_t kPrescalerMax = 3;
inline constexpr uint8_t kFactShift = 2;
inline constexpr uint16_t kDivisorMax = 256;
inline constexpr uint16_t kDivisorMinFact0 = 2;
inline constexpr uint16_t kDivisorMinFact1 = 9;
// The clock divider 2^(12 - 3 ps - fact).
constexpr uint32_t clock_divider(uint8_t ps, uint8_t fact) {
  return 1u << (12 - 3 * ps - fact);
}
static_assert(clock_divider(0, 0) == 4096 && clock_divider(3, 1) == 4);

// ---------------------------------------------------------------------------------------
// CH341_REQ_MODEM_CTRL wValue: the complement of the control byte (the pins are active low).
// ch341.c CH341_BIT_DTR / CH341_BIT_RTS; Linux sends ~mcr as 16 bits (0xFF9F = both on).
inline constexpr uint8_t CH341_BIT_DTR = 1 << 5;
inline constexpr uint8_t CH341_BIT_RTS = 1 << 6;

// Modem inputs, inverted in CH341_REG_STATUS and in byte 2 of an interrupt packet
// (ch341.c CH341_BIT_CTS ... CH341_BITS_MODEM_STAT): status = ~byte & 0x0F.
inline constexpr uint8_t CH341_BIT_CTS = 0x01;
inline constexpr uint8_t CH341_BIT_DSR = 0x02;
inline constexpr uint8_t CH341_BIT_RI = 0x04;
inline constexpr uint8_t CH341_BIT_DCD = 0x08;
inline constexpr uint8_t CH341_BITS_MODEM_STAT = 0x0F;

// ---------------------------------------------------------------------------------------
// Interrupt-IN status packet. ch341.c needs at least 4 bytes and uses byte 2 (the inverted
// modem inputs); byte 1 bit 2 (CH341_MULT_STAT) says several changes happened; byte 3 is
// "normally 0xee". Byte 0 is the event type; its bits come from WCH's driver (ch341.h
// CH341_CTT_*): framing is bits 2 and 6 together, parity bit 2 alone.
inline constexpr uint32_t kStatusPacketLength = 4;
inline constexpr uint32_t kStatusTypeByte = 0;
inline constexpr uint32_t kStatusModemByte = 2;
inline constexpr uint8_t CH341_CTT_M = 1 << 3;  // modem status changed (not required: byte 2
                                                // is read from every packet, as ch341.c does)
inline constexpr uint8_t CH341_CTT_O = 1 << 1;  // overrun
inline constexpr uint8_t CH341_CTT_P = 1 << 2;  // parity error
inline constexpr uint8_t CH341_CTT_F = (1 << 2) | (1 << 6);  // framing error

// ---------------------------------------------------------------------------------------
// Limited clones (reference §4.1; ch341.c ch341_simulate_break): no break register, so a
// break is emulated by one NUL character at the lowest rate: start bit and 8 data bits are a
// space of 9 bit times at 46 Bd, about 196 ms. The rate may be restored only once the NUL is
// out: ch341.c waits 11 bit times (start, 8 data, stop, one bit of margin).
inline constexpr uint32_t kEmulatedBreakSpaceBits = 9;
inline constexpr uint32_t kEmulatedBreakHoldBits = 11;

}  // namespace transport::chips::ch34x
