// CDC-ACM (PSTN subclass) constants: class requests, line coding, control line
// state, notifications, ACM functional descriptor capabilities.
//
// Sources (restated in docs/usb-serial-reference.md §1.2, §1.3):
//   CDC 1.2 "Class-Specific Request Codes" / "Class-Specific Notification Codes" tables;
//   PSTN 1.20 Table 4 (ACM functional descriptor bmCapabilities), Table 17 (line
//   coding structure), Table 18 (SET_CONTROL_LINE_STATE wValue), §6.3.13 (SEND_BREAK),
//   Table 31 (SERIAL_STATE UART state bitmap);
//   Linux drivers/usb/class/cdc-acm.c and include/uapi/linux/usb/cdc.h, which use the same values.
#pragma once

#include <cstddef>
#include <cstdint>

namespace transport::chips::cdc {

// bmRequestType of every ACM class request: class, interface recipient
// (USB 2.0 §9.3.1); wIndex is the communication (control) interface number.
inline constexpr uint8_t kRequestTypeOut = 0x21;  // host-to-device | class | interface
inline constexpr uint8_t kRequestTypeIn = 0xA1;   // device-to-host | class | interface

// bRequest codes (CDC 1.2 class-specific request codes; PSTN 1.20 §6.3).
inline constexpr uint8_t kSetLineCoding = 0x20;        // SET_LINE_CODING, 7-byte data stage
inline constexpr uint8_t kGetLineCoding = 0x21;        // GET_LINE_CODING, 7 bytes back
inline constexpr uint8_t kSetControlLineState = 0x22;  // SET_CONTROL_LINE_STATE, no data
inline constexpr uint8_t kSendBreak = 0x23;            // SEND_BREAK, wValue = duration in ms

// Line coding structure (PSTN 1.20 Table 17), little-endian:
//   offset 0 dwDTERate (u32, bit/s), 4 bCharFormat, 5 bParityType, 6 bDataBits.
inline constexpr size_t kLineCodingLength = 7;
inline constexpr size_t kLineCodingRateOffset = 0;
inline constexpr size_t kLineCodingCharFormatOffset = 4;
inline constexpr size_t kLineCodingParityTypeOffset = 5;
inline constexpr size_t kLineCodingDataBitsOffset = 6;

// bCharFormat: stop bits.
inline constexpr uint8_t kCharFormat1StopBit = 0;
inline constexpr uint8_t kCharFormat1_5StopBits = 1;
inline constexpr uint8_t kCharFormat2StopBits = 2;

// bParityType.
inline constexpr uint8_t kParityTypeNone = 0;
inline constexpr uint8_t kParityTypeOdd = 1;
inline constexpr uint8_t kParityTypeEven = 2;
inline constexpr uint8_t kParityTypeMark = 3;
inline constexpr uint8_t kParityTypeSpace = 4;

// SET_CONTROL_LINE_STATE wValue bits (PSTN 1.20 Table 18).
inline constexpr uint16_t kControlLineDtr = 1u << 0;  // DTE present (DTR)
inline constexpr uint16_t kControlLineRts = 1u << 1;  // carrier control (RTS)

// SEND_BREAK wValue (PSTN 1.20 §6.3.13): 0xFFFF holds break until a SEND_BREAK
// with wValue 0 ends it.
inline constexpr uint16_t kBreakUntilCleared = 0xFFFF;
inline constexpr uint16_t kBreakOff = 0x0000;

// Notifications on the interrupt IN endpoint: an 8-byte header shaped like a
// setup packet (bmRequestType, bNotification, wValue, wIndex, wLength), then
// wLength data bytes (CDC 1.2 §6.3; reference §1.3).
inline constexpr size_t kNotificationHeaderLength = 8;
inline constexpr uint8_t kNotificationRequestType = 0xA1;  // device-to-host | class | interface
inline constexpr size_t kNotificationTypeOffset = 0;
inline constexpr size_t kNotificationCodeOffset = 1;
inline constexpr size_t kNotificationLengthOffset = 6;  // wLength, u16 LE

// bNotification codes (CDC 1.2 class-specific notification codes).
inline constexpr uint8_t kNetworkConnection = 0x00;      // NETWORK_CONNECTION, wValue = connected
inline constexpr uint8_t kResponseAvailable = 0x01;      // RESPONSE_AVAILABLE
inline constexpr uint8_t kSerialState = 0x20;            // SERIAL_STATE, 2 data bytes
inline constexpr uint8_t kConnectionSpeedChange = 0x2A;  // CONNECTION_SPEED_CHANGE, 8 data bytes

// SERIAL_STATE data: u16 LE UART state bitmap (PSTN 1.20 Table 31). bBreak,
// bRingSignal, bFraming, bParity and bOverRun are event bits (set once per
// event, as Linux cdc-acm.c acm_process_notification counts them).
inline constexpr uint16_t kSerialStateLength = 2;            // the only valid wLength
inline constexpr uint16_t kSerialStateRxCarrier = 1u << 0;   // bRxCarrier: DCD
inline constexpr uint16_t kSerialStateTxCarrier = 1u << 1;   // bTxCarrier: DSR
inline constexpr uint16_t kSerialStateBreak = 1u << 2;       // bBreak
inline constexpr uint16_t kSerialStateRingSignal = 1u << 3;  // bRingSignal: RI
inline constexpr uint16_t kSerialStateFraming = 1u << 4;     // bFraming
inline constexpr uint16_t kSerialStateParity = 1u << 5;      // bParity
inline constexpr uint16_t kSerialStateOverRun = 1u << 6;     // bOverRun

// Our cap on a notification's wLength. The largest notification an ACM
// function sends is CONNECTION_SPEED_CHANGE (8 bytes); a header announcing
// more than this is treated as garbage so it cannot make the decoder skip a
// long run of later notifications. (Our choice, not a spec number.)
inline constexpr uint16_t kMaxNotificationDataLength = 64;

// Abstract Control Management functional descriptor bmCapabilities (PSTN 1.20 Table 4).
inline constexpr uint8_t kAcmCapCommFeature = 1u << 0;        // D0: Set/Get/Clear_Comm_Feature
inline constexpr uint8_t kAcmCapLine = 1u << 1;               // D1: Set/Get_Line_Coding,
                                                              //     Set_Control_Line_State,
                                                              //     Serial_State
inline constexpr uint8_t kAcmCapSendBreak = 1u << 2;          // D2: Send_Break
inline constexpr uint8_t kAcmCapNetworkConnection = 1u << 3;  // D3: Network_Connection

}  // namespace transport::chips::cdc
