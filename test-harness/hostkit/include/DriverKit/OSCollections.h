// hostkit: the OSString / OSNumber / OSBoolean / OSDictionary subset drivers use
// to publish registry properties (OSDictionary::withCapacity, OSString::withCString,
// OSNumber::withNumber; driverkit-reference §2.8). Storage is private to hostkit,
// so these headers give a driver no C++ library types that DriverKit's do not.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "DriverKit/OSObject.h"

class OSString final : public OSObject {
  HOSTKIT_METACLASS(OSString)

 public:
  static OSString* withCString(const char* text);
  const char* getCStringNoCopy() const { return text_; }
  size_t getLength() const { return length_; }
  void free() override;

 private:
  char* text_ = nullptr;
  size_t length_ = 0;
};

class OSNumber final : public OSObject {
  HOSTKIT_METACLASS(OSNumber)

 public:
  static OSNumber* withNumber(uint64_t value, size_t numberOfBits);
  uint64_t unsigned64BitValue() const { return value_; }
  uint32_t unsigned32BitValue() const { return static_cast<uint32_t>(value_); }
  size_t numberOfBits() const { return bits_; }

 private:
  uint64_t value_ = 0;
  size_t bits_ = 64;
};

class OSBoolean final : public OSObject {
  HOSTKIT_METACLASS(OSBoolean)

 public:
  static OSBoolean* withBoolean(bool value);
  bool isTrue() const { return value_; }

 private:
  bool value_ = false;
};

// Keys are C strings; values are retained. Iteration order is by key.
class OSDictionary final : public OSObject {
  HOSTKIT_METACLASS(OSDictionary)

 public:
  static OSDictionary* withCapacity(uint32_t capacity);
  bool setObject(const char* key, const OSObject* object);
  OSObject* getObject(const char* key) const;
  bool removeObject(const char* key);
  uint32_t getCount() const;
  void free() override;

  // hostkit extension: visit every entry in key order (registry dumps, merges).
  template <typename Visitor>
  void hostkitForEach(Visitor&& visit) const {
    for_each_entry([](void* context, const char* key,
                      OSObject* value) { (*static_cast<Visitor*>(context))(key, value); },
                   &visit);
  }

 private:
  struct Entries;
  void for_each_entry(void (*visit)(void*, const char*, OSObject*), void* context) const;
  Entries* entries_ = nullptr;
};
