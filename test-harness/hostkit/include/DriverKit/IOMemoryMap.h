// hostkit: IOMemoryMap (xnu iokit/DriverKit/IOMemoryMap.iig): a mapping of an
// IOMemoryDescriptor into the dext, made by IOMemoryDescriptor::CreateMapping
// (docs/driverkit-reference.md §2.7). It keeps its descriptor alive until it is released.
#pragma once

#include <stdint.h>

#include "DriverKit/OSObject.h"

class IOMemoryDescriptor;

class IOMemoryMap final : public OSObject {
  HOSTKIT_METACLASS(IOMemoryMap)

 public:
  uint64_t GetAddress() { return address_; }
  uint64_t GetLength() { return length_; }
  uint64_t GetOffset() { return offset_; }
  void free() override;

  // hostkit: made only by IOMemoryDescriptor::CreateMapping.
  IOMemoryMap(IOMemoryDescriptor* descriptor, uint64_t offset, uint64_t length);

 private:
  IOMemoryDescriptor* descriptor_;  // retained
  uint64_t address_ = 0;
  uint64_t offset_ = 0;
  uint64_t length_ = 0;
};
