// heap_allocations: every heap allocation of the process so far, counted by
// wrapping glibc's malloc family (operator new and the C library both come
// there). Linking this library replaces malloc, so builds with a sanitizer,
// which brings its own allocator, leave it out (bridge/CMakeLists.txt).
#pragma once

#include <cstdint>

namespace bridge {

uint64_t heap_allocations();

}  // namespace bridge
