// libplist changed two calls the tools use between 2.2 (Debian 12) and 2.3 (Homebrew ships
// newer): plist_from_memory gained a format out-parameter, and plist_to_xml_free /
// plist_to_bin_free gave way to plist_mem_free. USBSERIAL_LIBPLIST_2_3 is defined by the build
// (test-harness/cmake/UsbSerialDependencies.cmake) from the pkg-config version.
#pragma once

#include <plist/plist.h>

#include <cstdint>
#include <cstdlib>

namespace plist_compat {

// Parses an XML or binary property list; null when it does not parse.
inline plist_t from_memory(const char* data, uint32_t size) {
  plist_t root = nullptr;
#ifdef USBSERIAL_LIBPLIST_2_3
  plist_from_memory(data, size, &root, nullptr);
#else
  plist_from_memory(data, size, &root);
#endif
  return root;
}

// Frees a buffer from plist_to_xml or plist_to_bin.
inline void free_buffer(char* buffer) {
#ifdef USBSERIAL_LIBPLIST_2_3
  plist_mem_free(buffer);
#else
  std::free(buffer);  // what plist_to_xml_free and plist_to_bin_free do in 2.2
#endif
}

}  // namespace plist_compat
