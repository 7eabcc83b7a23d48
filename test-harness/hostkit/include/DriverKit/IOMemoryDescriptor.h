// hostkit: IOMemoryDescriptor and IOBufferMemoryDescriptor (XNU iokit/DriverKit/*.iig).
#pragma once

#include <cstdint>
#include <vector>

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
 public:
  kern_return_t GetLength(uint64_t* returnLength);
  // hostkit: the bytes behind the descriptor.
  virtual uint8_t* hostkitBytes() = 0;
  virtual uint64_t hostkitLength() const = 0;
};

class IOBufferMemoryDescriptor final : public IOMemoryDescriptor {
 public:
  static kern_return_t Create(uint64_t options, uint64_t capacity, uint64_t alignment,
                              IOBufferMemoryDescriptor** memory);
  kern_return_t GetAddressRange(IOAddressSegment* range);
  kern_return_t SetLength(uint64_t length);

  uint8_t* hostkitBytes() override { return bytes_.data(); }
  uint64_t hostkitLength() const override { return length_; }

 private:
  std::vector<uint8_t> bytes_;
  uint64_t length_ = 0;
  uint64_t options_ = 0;
};
