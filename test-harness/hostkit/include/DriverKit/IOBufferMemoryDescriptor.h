#pragma once
#include "DriverKit/IOMemoryDescriptor.h"
