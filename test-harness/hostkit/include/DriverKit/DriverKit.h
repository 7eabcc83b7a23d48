// hostkit: the DriverKit umbrella header.
#pragma once

#include "DriverKit/IOBufferMemoryDescriptor.h"
#include "DriverKit/IODispatchQueue.h"
#include "DriverKit/IOLib.h"
#include "DriverKit/IOMemoryDescriptor.h"
#include "DriverKit/IOMemoryMap.h"
#include "DriverKit/IOReturn.h"
#include "DriverKit/IOService.h"
#include "DriverKit/IOTimerDispatchSource.h"
#include "DriverKit/OSAction.h"
#include "DriverKit/OSCollections.h"
#include "DriverKit/OSObject.h"
