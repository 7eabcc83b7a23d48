// hostkit: IOService (XNU iokit/DriverKit/IOService.iig), the subset serial drivers use.
#pragma once

#include <cstdint>

#include "DriverKit/IODispatchQueue.h"
#include "DriverKit/OSCollections.h"
#include "DriverKit/OSObject.h"

#define kIOServiceDefaultQueueName "Default"

namespace hostkit {
class Runtime;
}

class IOService : public OSObject {
 public:
  HOSTKIT_MESSAGE(IOService, kern_return_t, Start, (provider), IOService* provider);
  HOSTKIT_MESSAGE(IOService, kern_return_t, Stop, (provider), IOService* provider);

  // Publishes the service; for an IOUserSerial the kernel then attaches its BSD client.
  virtual kern_return_t RegisterService();
  // Merges `properties` into the service's registry properties.
  kern_return_t SetProperties(OSDictionary* properties);
  // A retained copy of the registry properties.
  kern_return_t CopyProperties(OSDictionary** properties);
  kern_return_t CopyDispatchQueue(const char* name, IODispatchQueue** queue);
  kern_return_t Terminate(uint64_t options);
  kern_return_t GetRegistryEntryID(uint64_t* registryEntryID);
  kern_return_t SetName(const char* name);

  // hostkit: what the runtime needs to drive the object.
  void hostkitAttach(hostkit::Runtime& runtime, IOService* provider, uint64_t registry_id);
  hostkit::Runtime* hostkitRuntime() const { return runtime_; }
  IOService* hostkitProvider() const { return provider_; }
  const char* hostkitName() const;
  void free() override;

 private:
  hostkit::Runtime* runtime_ = nullptr;
  IOService* provider_ = nullptr;
  OSDictionary* properties_ = nullptr;
  uint64_t registry_id_ = 0;
  char name_[128] = {};
};
