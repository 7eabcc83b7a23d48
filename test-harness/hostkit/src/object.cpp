// hostkit: OSObject, collections, memory descriptors, OSAction, IOLib, os_log.
#include <DriverKit/DriverKit.h>
#include <os/log.h>

#include <time.h>
#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "hostkit/driver_queue.hpp"
#include "hostkit/runtime.hpp"

const OSMetaClass OSObject::gMetaClass("OSObject", nullptr);
HOSTKIT_METACLASS_DEFINE(OSString, OSObject);
HOSTKIT_METACLASS_DEFINE(OSNumber, OSObject);
HOSTKIT_METACLASS_DEFINE(OSBoolean, OSObject);
HOSTKIT_METACLASS_DEFINE(OSDictionary, OSObject);
HOSTKIT_METACLASS_DEFINE(IOMemoryDescriptor, OSObject);
HOSTKIT_METACLASS_DEFINE(IOBufferMemoryDescriptor, IOMemoryDescriptor);
HOSTKIT_METACLASS_DEFINE(OSAction, OSObject);
HOSTKIT_METACLASS_DEFINE(IOMemoryMap, OSObject);

const OSMetaClassBase* OSMetaClassBase::safeMetaCast(const OSMetaClassBase* object,
                                                     const OSMetaClass* target) {
  if (object == nullptr || target == nullptr) {
    return nullptr;
  }
  for (const OSMetaClass* meta = object->getMetaClass(); meta != nullptr;
       meta = meta->getSuperClass()) {
    if (meta == target) {
      return object;
    }
  }
  return nullptr;
}

void* OSObject::operator new(size_t size) {
  void* memory = IOMallocZero(size);
  if (memory == nullptr) {
    std::abort();  // as operator new cannot return null
  }
  return memory;
}

void OSObject::operator delete(void* memory, size_t size) {
  IOFree(memory, size);
}

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
  const char* source = text != nullptr ? text : "";
  string->length_ = std::strlen(source);
  string->text_ = new char[string->length_ + 1];
  std::memcpy(string->text_, source, string->length_ + 1);
  return string;
}

void OSString::free() {
  delete[] text_;
  text_ = nullptr;
  OSObject::free();
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

struct OSDictionary::Entries {
  std::map<std::string, OSObject*> map;
};

OSDictionary* OSDictionary::withCapacity(uint32_t) {
  auto* dictionary = new OSDictionary();
  dictionary->entries_ = new Entries();
  return dictionary;
}

bool OSDictionary::setObject(const char* key, const OSObject* object) {
  if (key == nullptr || object == nullptr) {
    return false;
  }
  object->retain();
  auto [it, inserted] = entries_->map.try_emplace(key, const_cast<OSObject*>(object));
  if (!inserted) {
    it->second->release();
    it->second = const_cast<OSObject*>(object);
  }
  return true;
}

OSObject* OSDictionary::getObject(const char* key) const {
  const auto it = entries_->map.find(key != nullptr ? key : "");
  return it == entries_->map.end() ? nullptr : it->second;
}

bool OSDictionary::removeObject(const char* key) {
  const auto it = entries_->map.find(key != nullptr ? key : "");
  if (it == entries_->map.end()) {
    return false;
  }
  it->second->release();
  entries_->map.erase(it);
  return true;
}

uint32_t OSDictionary::getCount() const {
  return static_cast<uint32_t>(entries_->map.size());
}

void OSDictionary::for_each_entry(void (*visit)(void*, const char*, OSObject*),
                                  void* context) const {
  for (const auto& [key, object] : entries_->map) {
    visit(context, key.c_str(), object);
  }
}

void OSDictionary::free() {
  if (entries_ != nullptr) {
    for (auto& [key, object] : entries_->map) {
      object->release();
    }
    delete entries_;
    entries_ = nullptr;
  }
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

kern_return_t IOMemoryDescriptor::CreateMapping(uint64_t, uint64_t address, uint64_t offset,
                                                uint64_t length, uint64_t, IOMemoryMap** map) {
  if (map == nullptr) {
    return kIOReturnBadArgument;
  }
  *map = nullptr;
  const uint64_t total = hostkitLength();
  if (address != 0) {
    return kIOReturnUnsupported;  // a fixed address: hostkit places every mapping
  }
  if (offset > total || length > total - offset) {
    return kIOReturnBadArgument;
  }
  *map = new IOMemoryMap(this, offset, length != 0 ? length : total - offset);
  return kIOReturnSuccess;
}

IOMemoryMap::IOMemoryMap(IOMemoryDescriptor* descriptor, uint64_t offset, uint64_t length)
    : descriptor_(descriptor),
      address_(reinterpret_cast<uint64_t>(descriptor->hostkitBytes() + offset)),
      offset_(offset),
      length_(length) {
  descriptor_->retain();
}

void IOMemoryMap::free() {
  OSSafeReleaseNULL(descriptor_);
  OSObject::free();
}

kern_return_t IOBufferMemoryDescriptor::Create(uint64_t options, uint64_t capacity, uint64_t,
                                               IOBufferMemoryDescriptor** memory) {
  if (memory == nullptr || capacity == 0 || capacity > (uint64_t{1} << 30)) {
    return kIOReturnBadArgument;
  }
  auto* buffer = new IOBufferMemoryDescriptor();
  buffer->bytes_ = new uint8_t[capacity]();
  buffer->capacity_ = capacity;
  buffer->length_ = capacity;
  buffer->options_ = options;
  *memory = buffer;
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::GetAddressRange(IOAddressSegment* range) {
  if (range == nullptr) {
    return kIOReturnBadArgument;
  }
  range->address = reinterpret_cast<uint64_t>(bytes_);
  range->length = length_;
  return kIOReturnSuccess;
}

kern_return_t IOBufferMemoryDescriptor::SetLength(uint64_t length) {
  if (length > capacity_) {
    return kIOReturnBadArgument;
  }
  length_ = length;
  return kIOReturnSuccess;
}

void IOBufferMemoryDescriptor::free() {
  delete[] bytes_;
  bytes_ = nullptr;
  IOMemoryDescriptor::free();
}

// ---------------------------------------------------------------------- OSAction

kern_return_t OSAction::hostkitCreate(const char* type, OSObject* target, size_t referenceSize,
                                      Invoker invoke, OSAction** action) {
  if (action == nullptr || target == nullptr || invoke == nullptr) {
    return kIOReturnBadArgument;
  }
  auto* created = new OSAction();
  if (referenceSize != 0) {
    created->reference_ = IOMallocZero(referenceSize);
    if (created->reference_ == nullptr) {
      created->release();
      return kIOReturnNoMemory;
    }
    created->reference_size_ = referenceSize;
  }
  created->type_ = type;
  created->invoke_ = invoke;
  target->retain();
  created->target_ = target;
  *action = created;
  return kIOReturnSuccess;
}

OSAction* OSAction::hostkitCreateIo(IoCallback callback) {
  auto* action = new OSAction();
  action->type_ = kOSActionTypeCompleteAsyncIO;
  action->callback_ = std::move(callback);
  return action;
}

void OSAction::deliver(const char* type, const void* arguments) {
  if (!hostkitIsType(type)) {
    std::fprintf(stderr, "hostkit: a %s completion delivered to an action of type %s\n", type,
                 type_);
    std::abort();
  }
  if (cancelled_) {
    return;
  }
  if (callback_) {
    const auto& [status, actual, timestamp] =
        *static_cast<const std::tuple<IOReturn, uint32_t, uint64_t>*>(arguments);
    callback_(status, actual, timestamp);
    return;
  }
  retain();  // the target may release this action from inside its method
  invoke_(this, arguments);
  release();
}

kern_return_t OSAction::Cancel(OSActionCancelHandler handler) {
  if (cancelled_) {
    return kIOReturnSuccess;
  }
  cancelled_ = true;
  OSSafeReleaseNULL(target_);
  callback_ = nullptr;
  if (handler) {
    if (hostkit::DriverQueue* queue = hostkit::current_queue()) {
      queue->post(std::move(handler));
    } else {
      handler();
    }
  }
  return kIOReturnSuccess;
}

void OSAction::free() {
  OSSafeReleaseNULL(target_);
  if (reference_ != nullptr) {
    IOFree(reference_, reference_size_);
    reference_ = nullptr;
  }
  OSObject::free();
}

// ------------------------------------------------------------------------- IOLib

namespace {
// Live IOMalloc allocations and their sizes: IOFree must name the size.
struct Allocations {
  std::mutex mutex;
  std::unordered_map<void*, size_t> sizes;
};
Allocations& allocations() {
  static Allocations* table = new Allocations();  // never destroyed: frees may come late
  return *table;
}
void* io_allocate(size_t length, bool zero) {
  void* address =
      zero ? std::calloc(1, length != 0 ? length : 1) : std::malloc(length != 0 ? length : 1);
  if (address != nullptr) {
    std::lock_guard lock(allocations().mutex);
    allocations().sizes[address] = length;
  }
  return address;
}
}  // namespace

void* IOMalloc(size_t length) {
  return io_allocate(length, false);
}
void* IOMallocZero(size_t length) {
  return io_allocate(length, true);
}
void IOFree(void* address, size_t length) {
  if (address == nullptr) {
    return;
  }
  {
    std::lock_guard lock(allocations().mutex);
    const auto it = allocations().sizes.find(address);
    if (it == allocations().sizes.end() || it->second != length) {
      std::fprintf(stderr, "hostkit: IOFree(%p, %zu) of %s\n", address, length,
                   it == allocations().sizes.end() ? "memory IOMalloc did not return"
                                                   : "a block of another size");
      std::abort();
    }
    allocations().sizes.erase(it);
  }
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
uint64_t clock_gettime_nsec_np(clockid_t clock_id) {
  clockid_t linux_id = CLOCK_MONOTONIC_RAW;
  switch (clock_id) {
    case CLOCK_REALTIME:
      linux_id = CLOCK_REALTIME;
      break;
    case CLOCK_MONOTONIC:  // Darwin's counts time asleep
      linux_id = CLOCK_BOOTTIME;
      break;
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_RAW_APPROX:
      linux_id = CLOCK_MONOTONIC_RAW;
      break;
    case CLOCK_UPTIME_RAW:
    case CLOCK_UPTIME_RAW_APPROX:
      linux_id = CLOCK_MONOTONIC;
      break;
    default:
      errno = EINVAL;
      return 0;
  }
  timespec now{};
  clock_gettime(linux_id, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(now.tv_nsec);
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

namespace hostkit::oslog {

void render(char* out, size_t size, const char* format, const Value* values, size_t count) {
  std::string line;
  size_t next = 0;
  for (const char* p = format; *p != '\0';) {
    if (*p != '%') {
      line += *p++;
      continue;
    }
    const Conversion c = parse_conversion(p + 1);
    if (c.end == nullptr) {  // unreachable: the format was checked at compile time
      line += *p++;
      continue;
    }
    if (c.literal_percent) {
      line += '%';
      p = c.end;
      continue;
    }
    // The spec without the annotation and without length modifiers.
    std::string spec = "%";
    const char* q = p + 1;
    if (*q == '{') {
      q = std::strchr(q, '}') + 1;
    }
    for (; q + 1 < c.end; ++q) {
      if (std::strchr("hlzjt", *q) == nullptr) {
        spec += *q;
      }
    }
    const char conversion = c.end[-1];
    p = c.end;
    if (next >= count) {
      break;
    }
    const Value& v = values[next++];
    const bool redacted = c.is_private || (v.kind == Kind::string && !c.is_public);
    if (redacted) {
      line += "<private>";
      continue;
    }
    char piece[512];
    const bool is_unsigned = std::strchr("uoxX", conversion) != nullptr;
    switch (v.kind) {
      case Kind::int32:
      case Kind::int64: {
        spec.insert(spec.size(), "ll");
        spec += conversion;
        const bool narrow = v.kind == Kind::int32;
        if (is_unsigned) {
          const unsigned long long value =
              narrow ? static_cast<uint32_t>(v.integer) : static_cast<uint64_t>(v.integer);
          std::snprintf(piece, sizeof piece, spec.c_str(), value);
        } else {
          const long long value = narrow ? static_cast<int32_t>(v.integer) : v.integer;
          std::snprintf(piece, sizeof piece, spec.c_str(), value);
        }
        break;
      }
      case Kind::float64:
        spec += conversion;
        std::snprintf(piece, sizeof piece, spec.c_str(), v.real);
        break;
      case Kind::string:
        spec += conversion;
        std::snprintf(piece, sizeof piece, spec.c_str(), v.string != nullptr ? v.string : "(null)");
        break;
      default:
        spec += conversion;
        std::snprintf(piece, sizeof piece, spec.c_str(), v.pointer);
        break;
    }
    line += piece;
  }
  std::snprintf(out, size, "%s", line.c_str());
}

void emit(os_log_t, hostkit_os_log_type type, const char* format, const Value* values,
          size_t count) {
  char line[1024];
  render(line, sizeof line, format, values, count);
  hostkit::emit(type, line);
}

}  // namespace hostkit::oslog
