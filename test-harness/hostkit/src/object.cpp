// hostkit: OSObject, collections, memory descriptors, OSAction, IOLib, os_log.
#include <DriverKit/DriverKit.h>
#include <os/log.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <thread>

#include "hostkit/runtime.hpp"

void OSObject::release() const {
  if (refcount_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    auto* self = const_cast<OSObject*>(this);
    self->free();
    delete self;
  }
}

// ------------------------------------------------------------------ collections

OSString* OSString::withCString(const char* text) {
  auto* string = new OSString();
  string->text_ = text != nullptr ? text : "";
  return string;
}

OSNumber* OSNumber::withNumber(uint64_t value, size_t numberOfBits) {
  auto* number = new OSNumber();
  number->bits_ = numberOfBits;
  number->value_ = numberOfBits >= 64 ? value : (value & ((uint64_t{1} << numberOfBits) - 1));
  return number;
}

OSBoolean* OSBoolean::withBoolean(bool value) {
  auto* boolean = new OSBoolean();
  boolean->value_ = value;
  return boolean;
}

OSDictionary* OSDictionary::withCapacity(uint32_t) {
  return new OSDictionary();
}

bool OSDictionary::setObject(const char* key, const OSObject* object) {
  if (key == nullptr || object == nullptr) {
    return false;
  }
  object->retain();
  auto [it, inserted] = entries_.try_emplace(key, const_cast<OSObject*>(object));
  if (!inserted) {
    it->second->release();
    it->second = const_cast<OSObject*>(object);
  }
  return true;
}

OSObject* OSDictionary::getObject(const char* key) const {
  const auto it = entries_.find(key != nullptr ? key : "");
  return it == entries_.end() ? nullptr : it->second;
}

bool OSDictionary::removeObject(const char* key) {
  const auto it = entries_.find(key != nullptr ? key : "");
  if (it == entries_.end()) {
    return false;
  }
  it->second->release();
  entries_.erase(it);
  return true;
}

void OSDictionary::free() {
  for (auto& [key, object] : entries_) {
    object->release();
  }
  entries_.clear();
  OSObject::free();
}

// ----------------------------------------------------------- memory descriptors

kern_return_t IOMemoryDescriptor::GetLength(uint64_t* returnLength) {
  if (returnLength == nullptr) {
    return kIOReturnBadArgument;
  }
  *returnLength = hostkitLength();
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::Create(uint64_t options, uint64_t capacity, uint64_t,
                                               IOBufferMemoryDescriptor** memory) {
  if (memory == nullptr || capacity == 0 || capacity > (uint64_t{1} << 30)) {
    return kIOReturnBadArgument;
  }
  auto* buffer = new IOBufferMemoryDescriptor();
  buffer->bytes_.assign(capacity, 0);
  buffer->length_ = capacity;
  buffer->options_ = options;
  *memory = buffer;
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::GetAddressRange(IOAddressSegment* range) {
  if (range == nullptr) {
    return kIOReturnBadArgument;
  }
  range->address = reinterpret_cast<uint64_t>(bytes_.data());
  range->length = length_;
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::SetLength(uint64_t length) {
  if (length > bytes_.size()) {
    return kIOReturnBadArgument;
  }
  length_ = length;
  return kIOReturnSuccess;
}

// ---------------------------------------------------------------------- OSAction

OSAction* OSAction::hostkitCreate(Callback callback) {
  auto* action = new OSAction();
  action->callback_ = std::move(callback);
  return action;
}

void OSAction::hostkitInvoke(IOReturn status, uint32_t actual, uint64_t timestamp) const {
  if (callback_) {
    callback_(status, actual, timestamp);
  }
}

// ------------------------------------------------------------------------- IOLib

void* IOMalloc(size_t length) {
  return std::malloc(length);
}
void* IOMallocZero(size_t length) {
  return std::calloc(1, length);
}
void IOFree(void* address, size_t) {
  std::free(address);
}
void IOSleep(uint64_t milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
}
void IODelay(uint64_t microseconds) {
  std::this_thread::sleep_for(std::chrono::microseconds(microseconds));
}
uint64_t mach_absolute_time() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}
uint64_t clock_gettime_nsec_np(int) {
  return mach_absolute_time();
}

namespace hostkit {
namespace {
std::function<void(int, const std::string&)>& log_sink() {
  static std::function<void(int, const std::string&)> sink;
  return sink;
}

void emit(int type, const std::string& line) {
  if (log_sink()) {
    log_sink()(type, line);
    return;
  }
  std::fprintf(stderr, "%s\n", line.c_str());
}

// Apple's privacy annotations ("%{public}s") mean nothing to vsnprintf.
std::string strip_privacy(const char* format) {
  std::string out;
  for (const char* p = format; *p != '\0'; ++p) {
    out += *p;
    if (*p == '%' && p[1] == '{') {
      const char* close = std::strchr(p, '}');
      if (close != nullptr) {
        p = close;
      }
    }
  }
  return out;
}
}  // namespace

void set_log_sink(std::function<void(int type, const std::string& line)> sink) {
  log_sink() = std::move(sink);
}
}  // namespace hostkit

void IOLog(const char* format, ...) {
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  std::string text = line;
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  hostkit::emit(OS_LOG_TYPE_DEFAULT, text);
}

void hostkit_os_log(os_log_t, hostkit_os_log_type type, const char* format, ...) {
  const std::string plain = hostkit::strip_privacy(format);
  char line[1024];
  va_list args;
  va_start(args, format);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  std::vsnprintf(line, sizeof line, plain.c_str(), args);
#pragma GCC diagnostic pop
  va_end(args);
  hostkit::emit(type, line);
}
