#pragma once
#include "SerialDriverKit/SerialDriverKit.h"
#include "USBSerialDriverKit/IOUserUSBSerial.h"
