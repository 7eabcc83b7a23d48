#include "tty_name.hpp"

namespace transport {
namespace {

constexpr bool keep(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

constexpr char kHex[] = "0123456789ABCDEF";

}  // namespace

bool make_tty_suffix(const char* serial, uint16_t vid, uint16_t pid, uint8_t port_index,
                     uint8_t port_count, std::span<char> out) {
  if (out.size() < kTtySuffixMax + 1) {
    return false;
  }
  size_t n = 0;
  if (serial != nullptr) {
    for (const char* p = serial; *p != '\0' && n < kTtySerialMax; ++p) {
      if (keep(*p)) {
        out[n++] = *p;
      }
    }
  }
  if (n == 0) {
    const uint32_t id = (static_cast<uint32_t>(vid) << 16) | pid;
    for (int shift = 28; shift >= 0; shift -= 4) {
      out[n++] = kHex[(id >> shift) & 0xF];
    }
  }
  if (port_count > 1 && port_index < 26) {
    out[n++] = static_cast<char>('A' + port_index);
  }
  out[n] = '\0';
  return true;
}

}  // namespace transport
