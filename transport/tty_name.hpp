// The /dev node name of a port: "cu." + IOTTYBaseName + IOTTYSuffix.
//
// Users script against names, so a name must not move when the adapter moves
// to another USB socket or hub (Apple's location-based fallback does; see
// docs/field-notes.md §8 item 6). Rules:
//   suffix = sanitised USB serial string, plus a port letter on multi-port chips
//            ("FT1234" -> "FT1234A", "FT1234B" on an FT2232H);
//   sanitising keeps A-Z a-z 0-9 '-' '_' and drops everything else, then keeps
//            at most kTtySerialMax characters;
//   fallback when nothing is left (no serial string, or only odd characters):
//            the VID and PID as 8 upper-case hex digits ("04036001"), plus the
//            port letter. Two serial-less adapters of one model then share a
//            suffix; the BSD layer numbers the second one, as macOS does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace transport {

inline constexpr const char* kTtyBaseName = "usbserial-";
inline constexpr size_t kTtySerialMax = 24;
inline constexpr size_t kTtySuffixMax = kTtySerialMax + 1;  // + port letter

// Writes the NUL-terminated suffix into out (which must hold kTtySuffixMax + 1
// bytes, else nothing is written and false is returned). `serial` may be null.
bool make_tty_suffix(const char* serial, uint16_t vid, uint16_t pid, uint8_t port_index,
                     uint8_t port_count, std::span<char> out);

}  // namespace transport
