// hostkit: DriverKit's IOReturn / kern_return_t.
#pragma once

#include <cstdint>

#include "hostkit/ioreturn.hpp"

typedef int kern_return_t;
typedef kern_return_t IOReturn;
typedef uint32_t IOOptionBits;
