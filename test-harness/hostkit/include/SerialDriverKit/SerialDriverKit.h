// hostkit: SerialDriverKit constants (docs/driverkit-reference.md §1.1, §3.3).
#pragma once

#include "SerialDriverKit/IOUserSerial.h"

#define kIOTTYBaseNameKey "IOTTYBaseName"
#define kIOTTYSuffixKey "IOTTYSuffix"
