// hostkit: the OSString / OSNumber / OSBoolean / OSDictionary subset drivers use
// to publish registry properties (OSDictionary::withCapacity, OSString::withCString,
// OSNumber::withNumber; reference/driverkit.md §2.8).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "DriverKit/OSObject.h"

class OSString final : public OSObject {
 public:
  static OSString* withCString(const char* text);
  const char* getCStringNoCopy() const { return text_.c_str(); }
  size_t getLength() const { return text_.size(); }

 private:
  std::string text_;
};

class OSNumber final : public OSObject {
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
 public:
  static OSBoolean* withBoolean(bool value);
  bool isTrue() const { return value_; }

 private:
  bool value_ = false;
};

// Keys are C strings; values are retained. Iteration order is by key.
class OSDictionary final : public OSObject {
 public:
  static OSDictionary* withCapacity(uint32_t capacity);
  bool setObject(const char* key, const OSObject* object);
  OSObject* getObject(const char* key) const;
  bool removeObject(const char* key);
  uint32_t getCount() const { return static_cast<uint32_t>(entries_.size()); }
  // hostkit extension: visit every entry (used to dump the registry as JSON).
  template <typename Visitor>
  void forEach(Visitor&& visit) const {
    for (const auto& [key, object] : entries_) {
      visit(key, object);
    }
  }
  void free() override;

 private:
  std::map<std::string, OSObject*> entries_;
};
