// hostkit: IOMemoryDescriptor and IOBufferMemoryDescriptor (xnu iokit/DriverKit/*.iig).
#pragma once

#include <stdint.h>

#include "DriverKit/OSObject.h"

struct IOAddressSegment {
  uint64_t address;
  uint64_t length;
};

class IOMemoryMap;

// IOMemoryDescriptor::CreateMapping options (xnu IOMemoryDescriptor.iig).
enum {
  kIOMemoryMapFixedAddress = 0x00000001,
  kIOMemoryMapReadOnly = 0x00000002,
  kIOMemoryMapCacheModeDefault = 0x00000000,
};

enum {
  kIOMemoryDirectionIn = 0x00000001,
  kIOMemoryDirectionOut = 0x00000002,
  kIOMemoryDirectionOutIn = 0x00000003,
  kIOMemoryDirectionInOut = kIOMemoryDirectionOutIn,
};

class IOMemoryDescriptor : public OSObject {
  HOSTKIT_METACLASS(IOMemoryDescriptor)

 public:
  kern_return_t GetLength(uint64_t* returnLength);
  // Maps [offset, offset + length) of the memory into the dext (length 0: to the
  // end). address must be 0 (hostkit places every mapping) and the range must
  // lie inside the descriptor; alignment is ignored.
  kern_return_t CreateMapping(uint64_t options, uint64_t address, uint64_t offset, uint64_t length,
                              uint64_t alignment, IOMemoryMap** map);
  // hostkit (the kernel side): the bytes behind the descriptor.
  virtual uint8_t* hostkitBytes() = 0;
  virtual uint64_t hostkitLength() const = 0;
};

class IOBufferMemoryDescriptor final : public IOMemoryDescriptor {
  HOSTKIT_METACLASS(IOBufferMemoryDescriptor)

 public:
  static kern_return_t Create(uint64_t options, uint64_t capacity, uint64_t alignment,
                              IOBufferMemoryDescriptor** memory);
  kern_return_t GetAddressRange(IOAddressSegment* range);
  kern_return_t SetLength(uint64_t length);
  void free() override;

  uint8_t* hostkitBytes() override { return bytes_; }
  uint64_t hostkitLength() const override { return length_; }

 private:
  uint8_t* bytes_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t length_ = 0;
  uint64_t options_ = 0;
};
