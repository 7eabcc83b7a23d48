// hostkit: USB descriptor structs (little-endian wire layout, packed) and the
// parsing helpers of <USBDriverKit/AppleUSBDescriptorParsing.h> (docs/driverkit-reference.md §2.6).
#pragma once

#include <cstdint>

#include "DriverKit/IOReturn.h"

#pragma pack(push, 1)
struct IOUSBDescriptorHeader {
  uint8_t bLength;
  uint8_t bDescriptorType;
};
struct IOUSBDeviceDescriptor {
  uint8_t bLength;
  uint8_t bDescriptorType;
  uint16_t bcdUSB;
  uint8_t bDeviceClass;
  uint8_t bDeviceSubClass;
  uint8_t bDeviceProtocol;
  uint8_t bMaxPacketSize0;
  uint16_t idVendor;
  uint16_t idProduct;
  uint16_t bcdDevice;
  uint8_t iManufacturer;
  uint8_t iProduct;
  uint8_t iSerialNumber;
  uint8_t bNumConfigurations;
};
struct IOUSBConfigurationDescriptor {
  uint8_t bLength;
  uint8_t bDescriptorType;
  uint16_t wTotalLength;
  uint8_t bNumInterfaces;
  uint8_t bConfigurationValue;
  uint8_t iConfiguration;
  uint8_t bmAttributes;
  uint8_t MaxPower;
};
struct IOUSBInterfaceDescriptor {
  uint8_t bLength;
  uint8_t bDescriptorType;
  uint8_t bInterfaceNumber;
  uint8_t bAlternateSetting;
  uint8_t bNumEndpoints;
  uint8_t bInterfaceClass;
  uint8_t bInterfaceSubClass;
  uint8_t bInterfaceProtocol;
  uint8_t iInterface;
};
struct IOUSBEndpointDescriptor {
  uint8_t bLength;
  uint8_t bDescriptorType;
  uint8_t bEndpointAddress;
  uint8_t bmAttributes;
  uint16_t wMaxPacketSize;
  uint8_t bInterval;
};
struct IOUSBBOSDescriptor {
  uint8_t bLength;
  uint8_t bDescriptorType;
  uint16_t wTotalLength;
  uint8_t bNumDeviceCaps;
};
struct IOUSBStringDescriptor {
  uint8_t bLength;
  uint8_t bDescriptorType;
  uint8_t bString[1];
};
#pragma pack(pop)

static_assert(sizeof(IOUSBDeviceDescriptor) == 18);
static_assert(sizeof(IOUSBConfigurationDescriptor) == 9);
static_assert(sizeof(IOUSBInterfaceDescriptor) == 9);
static_assert(sizeof(IOUSBEndpointDescriptor) == 7);
static_assert(sizeof(IOUSBBOSDescriptor) == 5);

// Frees a descriptor returned by a Copy*Descriptor method: one typed overload
// per descriptor kind, as in the SDK's USBDriverKitDefs.h (no const void* one).
void IOUSBHostFreeDescriptor(const IOUSBDeviceDescriptor* descriptor);
void IOUSBHostFreeDescriptor(const IOUSBConfigurationDescriptor* descriptor);
void IOUSBHostFreeDescriptor(const IOUSBBOSDescriptor* descriptor);
void IOUSBHostFreeDescriptor(const IOUSBStringDescriptor* descriptor);
