#pragma once
#include "USBDriverKit/AppleUSBDescriptorParsing.h"
#include "USBDriverKit/IOUSBHostDevice.h"
#include "USBDriverKit/IOUSBHostInterface.h"
#include "USBDriverKit/IOUSBHostPipe.h"
