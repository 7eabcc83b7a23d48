// hostkit: IOService (xnu iokit/DriverKit/IOService.iig), the subset serial drivers use.
//
// Registry properties. A matched service starts with its personality's keys.
// What SetProperties does with a dext's dictionary depends on the kernel object
// behind the service, and for the serial family that object (IOUserSerial in
// com.apple.driver.driverkit.serial) is closed source [U]. xnu's
// IOService::SetProperties_Impl calls the kernel object's setProperties; where
// that is unsupported, it merges the dictionary into the registry property
// "IOUserServiceProperties" instead of the top level. hostkit implements both
// candidates (hostkit::SetPropertiesModel, chosen per runtime), and the tests run
// both; see docs/driverkit-assumptions.md.
#pragma once

#include <stdint.h>

#include "DriverKit/IODispatchQueue.h"
#include "DriverKit/OSCollections.h"
#include "DriverKit/OSObject.h"

#define kIOServiceDefaultQueueName "Default"
#define kIOUserServicePropertiesKey "IOUserServiceProperties"

namespace hostkit {
class Runtime;
}  // namespace hostkit

class IOService : public OSObject {
  HOSTKIT_METACLASS(IOService)
  HOSTKIT_MESSAGE(IOService, kern_return_t, Start, (provider), IOService* provider);
  HOSTKIT_MESSAGE(IOService, kern_return_t, Stop, (provider), IOService* provider);

 public:
  // Publishes the service; for an IOUserSerial the kernel then attaches its BSD client.
  virtual kern_return_t RegisterService();
  kern_return_t SetProperties(OSDictionary* properties);
  // A copy of the registry properties, as the kernel object holds them.
  kern_return_t CopyProperties(OSDictionary** properties);
  kern_return_t CopyDispatchQueue(const char* name, IODispatchQueue** queue);
  kern_return_t Terminate(uint64_t options);
  kern_return_t GetRegistryEntryID(uint64_t* registryEntryID);
  kern_return_t SetName(const char* name);
  void free() override;

 public:
  // hostkit (the kernel side; a driver never calls these, and CI checks that
  // SerialDext names nothing of hostkit's): what the runtime needs to drive the object.
  void hostkitAttach(hostkit::Runtime& runtime, IOService* provider, uint64_t registry_id,
                     OSDictionary* personality);
  hostkit::Runtime* hostkitRuntime() const { return runtime_; }
  IOService* hostkitProvider() const { return provider_; }
  const char* hostkitName() const { return name_; }
  uint64_t hostkitRegistryID() const { return registry_id_; }
  // Sets or reads a registry property as the kernel object itself does (not
  // through SetProperties, whose model applies to the dext's calls only).
  void hostkitSetProperty(const char* key, const OSObject* value);
  OSObject* hostkitGetProperty(const char* key) const;
  // The dictionary the dext's SetProperties calls landed in: the top level, or
  // "IOUserServiceProperties" (retained copy; nullptr when there is none).
  OSDictionary* hostkitCopyDriverProperties() const;

 private:
  hostkit::Runtime* runtime_ = nullptr;
  IOService* provider_ = nullptr;
  OSDictionary* properties_ = nullptr;
  uint64_t registry_id_ = 0;
  char name_[128] = {};
};
