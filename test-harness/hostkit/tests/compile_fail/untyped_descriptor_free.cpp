// The SDK has four typed IOUSBHostFreeDescriptor overloads and no untyped one.
// EXPECT: no matching function for call to 'IOUSBHostFreeDescriptor
#include <DriverKit/DriverKit.h>
#include <USBDriverKit/USBDriverKit.h>

void release_descriptor(const IOUSBConfigurationDescriptor* descriptor) {
#ifdef HOSTKIT_COMPILE_FAIL
  IOUSBHostFreeDescriptor(static_cast<const void*>(descriptor));
#else
  IOUSBHostFreeDescriptor(descriptor);
#endif
}
