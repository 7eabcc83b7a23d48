// hostkit: IOMemoryDescriptor and IOBufferMemoryDescriptor (xnu iokit/DriverKit/*.iig).
#pragma once

#include <stdint.h>

#include "DriverKit/OSObject.h"

struct IOAddressSegment {
  uint64_t address;
  uint64_t length;
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
