// SerialDriverKit / IOSerialFamily constants that arrive in Hw* arguments.
//
// Values restated from IOSerialFamily's IORS232SerialStreamSync.h, which the
// SerialDriverKit "Hardware Constants" page lists with the same values
// (docs/driverkit-reference.md §1.5). transport/ cannot include Apple headers.
#pragma once

#include <cstdint>

namespace transport::pd {

// HwProgramUART `parity` argument.
inline constexpr uint8_t kParityDefault = 0;
inline constexpr uint8_t kParityNone = 1;
inline constexpr uint8_t kParityOdd = 2;
inline constexpr uint8_t kParityEven = 3;
inline constexpr uint8_t kParityMark = 4;
inline constexpr uint8_t kParitySpace = 5;
inline constexpr uint8_t kParityAny = 6;

// HwProgramUART `nHalfStopBits`: IOSerialBSDClient sends 2 (CSTOPB clear) or 4 (CSTOPB set).
inline constexpr uint8_t kHalfStopBitsOne = 2;
inline constexpr uint8_t kHalfStopBitsOneAndHalf = 3;
inline constexpr uint8_t kHalfStopBitsTwo = 4;

// HwProgramFlowControl `arg`: the PD_RS232_A_* word IOSerialBSDClient builds from termios
// (IXON->TXO, IXOFF->RXO, CRTS_IFLOW->RFR, CCTS_OFLOW->CTS, CDTR_IFLOW->DTR, IXANY->XANY).
inline constexpr uint32_t kFlowDtr = 0x002;   // PD_RS232_A_DTR: DTR input flow control
inline constexpr uint32_t kFlowRfr = 0x004;   // PD_RS232_A_RFR: RTS input flow control
inline constexpr uint32_t kFlowTxo = 0x008;   // PD_RS232_A_TXO: XON/XOFF on output (IXON)
inline constexpr uint32_t kFlowRxo = 0x010;   // PD_RS232_A_RXO: XON/XOFF on input (IXOFF)
inline constexpr uint32_t kFlowCts = 0x020;   // PD_RS232_A_CTS: CTS output flow control
inline constexpr uint32_t kFlowDsr = 0x100;   // PD_RS232_A_DSR: DSR output flow control
inline constexpr uint32_t kFlowXany = 0x400;  // PD_RS232_A_XANY

}  // namespace transport::pd
