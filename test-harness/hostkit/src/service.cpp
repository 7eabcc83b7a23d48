// hostkit: IOService, IODispatchQueue, IOUserSerial (with the kernel side).
#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>
#include <SerialDriverKit/SerialPortInterface.h>

#include <bit>
#include <cstdio>
#include <cstring>
#include <utility>

#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"

// ---------------------------------------------------------------------- IOService

kern_return_t IOService::Start_Impl(IOService*) {
  return kIOReturnSuccess;
}
kern_return_t IOService::Stop_Impl(IOService*) {
  return kIOReturnSuccess;
}

HOSTKIT_METACLASS_DEFINE(IOService, OSObject);
HOSTKIT_METACLASS_DEFINE(IODispatchQueue, OSObject);
HOSTKIT_METACLASS_DEFINE(IOUserSerial, IOService);

namespace {
void merge_into(OSDictionary* target, const OSDictionary* source) {
  source->hostkitForEach(
      [target](const char* key, OSObject* value) { target->setObject(key, value); });
}
}  // namespace

void IOService::hostkitAttach(hostkit::Runtime& runtime, IOService* provider, uint64_t registry_id,
                              OSDictionary* personality) {
  runtime_ = &runtime;
  provider_ = provider;
  registry_id_ = registry_id;
  if (properties_ == nullptr) {
    properties_ = OSDictionary::withCapacity(16);
  }
  if (personality != nullptr) {
    merge_into(properties_, personality);
  }
}

void IOService::hostkitSetProperty(const char* key, const OSObject* value) {
  if (properties_ == nullptr) {
    properties_ = OSDictionary::withCapacity(16);
  }
  properties_->setObject(key, value);
}

OSObject* IOService::hostkitGetProperty(const char* key) const {
  return properties_ != nullptr ? properties_->getObject(key) : nullptr;
}

OSDictionary* IOService::hostkitCopyDriverProperties() const {
  const bool nested =
      runtime_ != nullptr &&
      runtime_->set_properties_model() == hostkit::SetPropertiesModel::user_service_properties;
  OSDictionary* source =
      nested ? OSDynamicCast(OSDictionary, hostkitGetProperty(kIOUserServicePropertiesKey))
             : properties_;
  if (source == nullptr) {
    return nullptr;
  }
  OSDictionary* copy = OSDictionary::withCapacity(16);
  merge_into(copy, source);
  return copy;
}

kern_return_t IOService::RegisterService() {
  if (runtime_ != nullptr) {
    runtime_->service_registered(this);
  }
  return kIOReturnSuccess;
}

// [U] Which of the two happens on a Mac depends on the closed-source kernel
// IOUserSerial (hostkit::SetPropertiesModel; docs/driverkit-assumptions.md).
kern_return_t IOService::SetProperties(OSDictionary* properties) {
  if (properties == nullptr) {
    return kIOReturnBadArgument;  // xnu: not an OSDictionary
  }
  if (runtime_ != nullptr &&
      runtime_->set_properties_model() == hostkit::SetPropertiesModel::user_service_properties) {
    // xnu IOService::SetProperties_Impl, kernel setProperties unsupported: a copy
    // of "IOUserServiceProperties" merged with the new keys replaces it.
    OSDictionary* merged = OSDictionary::withCapacity(16);
    if (auto* existing =
            OSDynamicCast(OSDictionary, hostkitGetProperty(kIOUserServicePropertiesKey))) {
      merge_into(merged, existing);
    }
    merge_into(merged, properties);
    hostkitSetProperty(kIOUserServicePropertiesKey, merged);
    merged->release();
    return kIOReturnSuccess;
  }
  if (properties_ == nullptr) {
    properties_ = OSDictionary::withCapacity(16);
  }
  merge_into(properties_, properties);
  return kIOReturnSuccess;
}

kern_return_t IOService::CopyProperties(OSDictionary** properties) {
  if (properties == nullptr) {
    return kIOReturnBadArgument;
  }
  auto* copy = OSDictionary::withCapacity(16);
  if (properties_ != nullptr) {
    merge_into(copy, properties_);
  }
  *properties = copy;
  return kIOReturnSuccess;
}

kern_return_t IOService::CopyDispatchQueue(const char*, IODispatchQueue** queue) {
  if (queue == nullptr || runtime_ == nullptr) {
    return kIOReturnBadArgument;
  }
  *queue = new IODispatchQueue(runtime_->queue());
  return kIOReturnSuccess;
}

kern_return_t IOService::Terminate(uint64_t) {
  return kIOReturnUnsupported;
}

kern_return_t IOService::GetRegistryEntryID(uint64_t* registryEntryID) {
  if (registryEntryID == nullptr) {
    return kIOReturnBadArgument;
  }
  *registryEntryID = registry_id_;
  return kIOReturnSuccess;
}

kern_return_t IOService::SetName(const char* name) {
  std::snprintf(name_, sizeof name_, "%s", name != nullptr ? name : "");
  return kIOReturnSuccess;
}

void IOService::free() {
  OSSafeReleaseNULL(properties_);
  OSObject::free();
}

// ---------------------------------------------------------------- IODispatchQueue

kern_return_t IODispatchQueue::Create(IODispatchQueueName, uint64_t, uint64_t,
                                      IODispatchQueue** queue) {
  // hostkit runs every service of the process on one queue; a driver asking for
  // another gets that one (its calls stay serialised, which is all a driver may rely on).
  hostkit::DriverQueue* current = hostkit::current_queue();
  if (queue == nullptr || current == nullptr) {
    return kIOReturnUnsupported;
  }
  *queue = new IODispatchQueue(*current);
  return kIOReturnSuccess;
}

void IODispatchQueue::DispatchAsync(IODispatchBlock block) {
  queue_.post(std::move(block));
}
void IODispatchQueue::DispatchSync(IODispatchBlock block) {
  queue_.sync(block);
}
bool IODispatchQueue::OnQueue() {
  return queue_.on_queue();
}

// -------------------------------------------------------------------- IOUserSerial

namespace hostkit {

int32_t SerialRings::map(IOBufferMemoryDescriptor* ifmd, IOMemoryDescriptor* rxqmd,
                         IOMemoryDescriptor* txqmd) {
  unmap();
  if (ifmd == nullptr || rxqmd == nullptr || txqmd == nullptr) {
    return kIOReturnBadArgument;
  }
  kern_return_t result = ifmd->CreateMapping(0, 0, 0, 0, 0, &control_);
  if (result == kIOReturnSuccess) {
    result = rxqmd->CreateMapping(0, 0, 0, 0, 0, &rx_map_);
  }
  if (result == kIOReturnSuccess) {
    result = txqmd->CreateMapping(0, 0, 0, 0, 0, &tx_map_);
  }
  if (result != kIOReturnSuccess) {
    unmap();
    return result;
  }
  if (control_->GetLength() < sizeof(driverkit::serial::SerialPortInterface)) {
    unmap();
    return kIOReturnBadArgument;
  }
  auto* control = reinterpret_cast<driverkit::serial::SerialPortInterface*>(control_->GetAddress());
  auto ring = [](IOMemoryMap* map, uint32_t offset, uint8_t logsz) -> std::span<uint8_t> {
    if (logsz >= 32 || offset > map->GetLength() ||
        (uint64_t{1} << logsz) > map->GetLength() - offset) {
      return {};
    }
    return {reinterpret_cast<uint8_t*>(map->GetAddress()) + offset, size_t{1} << logsz};
  };
  if (!rx_.attach(ring(rx_map_, control->rxqoffset, control->rxqlogsz), &control->rxPI,
                  &control->rxCI) ||
      !tx_.attach(ring(tx_map_, control->txqoffset, control->txqlogsz), &control->txPI,
                  &control->txCI)) {
    unmap();
    return kIOReturnBadArgument;
  }
  return kIOReturnSuccess;
}

void SerialRings::unmap() {
  rx_.detach();
  tx_.detach();
  OSSafeReleaseNULL(control_);
  OSSafeReleaseNULL(rx_map_);
  OSSafeReleaseNULL(tx_map_);
}

}  // namespace hostkit

namespace {

// One ring of ConnectQueues: the caller's buffer (retained) or a new one of the
// default size. Returns the descriptor and where the ring starts in it.
kern_return_t make_ring(IOMemoryDescriptor* given, uint32_t given_offset, uint8_t given_logsz,
                        uint32_t default_bytes, IOMemoryDescriptor*& ring, uint32_t& offset,
                        uint8_t& logsz) {
  if (given != nullptr) {
    // The caller's buffer: a power-of-two ring at `given_offset` (docs/driverkit-reference.md
    // §1.2).
    if (given_logsz == 0 ||
        given_logsz > driverkit::serial::SerialPortInterface::kSerialQueueLogSizeMax ||
        given_offset > given->hostkitLength() ||
        (uint64_t{1} << given_logsz) > given->hostkitLength() - given_offset) {
      return kIOReturnBadArgument;
    }
    given->retain();
    ring = given;
    offset = given_offset;
    logsz = given_logsz;
    return kIOReturnSuccess;
  }
  // NULL: the framework's own ring, whatever logsz says.
  IOBufferMemoryDescriptor* buffer = nullptr;
  const kern_return_t result =
      IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, default_bytes, 0, &buffer);
  if (result != kIOReturnSuccess) {
    return result;
  }
  ring = buffer;
  offset = 0;
  logsz = static_cast<uint8_t>(std::countr_zero(default_bytes));
  return kIOReturnSuccess;
}

template <typename T>
void hand_out(T* object, T** out) {
  if (out != nullptr) {
    if (object != nullptr) {
      object->retain();
    }
    *out = object;
  }
}

}  // namespace

kern_return_t IOUserSerial::ConnectQueues_Impl(
    IOBufferMemoryDescriptor** ifmd, IOMemoryDescriptor** rxqmd, IOMemoryDescriptor** txqmd,
    IOMemoryDescriptor* in_rxqmd, IOMemoryDescriptor* in_txqmd, uint32_t in_rxqoffset,
    uint32_t in_txqoffset, uint8_t in_rxqlogsz, uint8_t in_txqlogsz) {
  // Called again, it swaps in new rings (Apple's ConnectQueues documentation).
  release_queues();
  const uint32_t default_bytes =
      hostkitRuntime() != nullptr ? hostkitRuntime()->tuning().ring_bytes : 16384;
  if (!std::has_single_bit(default_bytes) ||
      std::countr_zero(default_bytes) >
          driverkit::serial::SerialPortInterface::kSerialQueueLogSizeMax) {
    return kIOReturnBadArgument;
  }
  driverkit::serial::SerialPortInterface geometry{};
  kern_return_t result = make_ring(in_rxqmd, in_rxqoffset, in_rxqlogsz, default_bytes, rxqmd_,
                                   geometry.rxqoffset, geometry.rxqlogsz);
  if (result == kIOReturnSuccess) {
    result = make_ring(in_txqmd, in_txqoffset, in_txqlogsz, default_bytes, txqmd_,
                       geometry.txqoffset, geometry.txqlogsz);
  }
  if (result == kIOReturnSuccess) {
    result = IOBufferMemoryDescriptor::Create(
        kIOMemoryDirectionInOut, sizeof(driverkit::serial::SerialPortInterface), 0, &ifmd_);
  }
  if (result != kIOReturnSuccess) {
    release_queues();
    return result;
  }
  // Both rings start empty: every index 0.
  IOAddressSegment control{};
  ifmd_->GetAddressRange(&control);
  std::memcpy(reinterpret_cast<void*>(control.address), &geometry, sizeof geometry);
  hand_out(ifmd_, ifmd);
  hand_out(rxqmd_, rxqmd);
  hand_out(txqmd_, txqmd);
  return kIOReturnSuccess;
}

void IOUserSerial::release_queues() {
  OSSafeReleaseNULL(ifmd_);
  OSSafeReleaseNULL(rxqmd_);
  OSSafeReleaseNULL(txqmd_);
}

kern_return_t IOUserSerial::DisconnectQueues_Impl() {
  release_queues();
  return kIOReturnSuccess;
}

kern_return_t IOUserSerial::HwActivate_Impl() {
  return kIOReturnSuccess;
}
kern_return_t IOUserSerial::HwDeactivate_Impl() {
  return kIOReturnSuccess;
}
kern_return_t IOUserSerial::HwResetFIFO_Impl(bool, bool) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwSendBreak_Impl(bool) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwGetModemStatus_Impl(bool*, bool*, bool*, bool*) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwProgramUART_Impl(uint32_t, uint8_t, uint8_t, uint8_t) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwProgramBaudRate_Impl(uint32_t) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwProgramMCR_Impl(bool, bool) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwProgramLatencyTimer_Impl(uint32_t) {
  return kIOReturnUnsupported;
}
kern_return_t IOUserSerial::HwProgramFlowControl_Impl(uint32_t, uint8_t, uint8_t) {
  return kIOReturnUnsupported;
}

kern_return_t IOUserSerial::SetModemStatus_Impl(bool cts, bool dsr, bool ri, bool dcd) {
  if (client_ != nullptr) {
    client_->modem_status_changed(cts, dsr, ri, dcd);
  }
  return kIOReturnSuccess;
}

kern_return_t IOUserSerial::RxError_Impl(bool overrun, bool gotBreak, bool framingError,
                                         bool parityError) {
  if (client_ != nullptr) {
    client_->rx_error(overrun, gotBreak, framingError, parityError);
  }
  return kIOReturnSuccess;
}

void IOUserSerial::RxDataAvailable_Impl() {
  if (client_ != nullptr) {
    client_->rx_data_available();
  }
}

void IOUserSerial::TxFreeSpaceAvailable_Impl() {
  if (client_ != nullptr) {
    client_->tx_free_space_available();
  }
}

void IOUserSerial::TxDataAvailable_Impl() {}
void IOUserSerial::RxFreeSpaceAvailable_Impl() {}

void IOUserSerial::hostkitKernelTtyName(char* base, size_t base_size, char* suffix,
                                        size_t suffix_size) const {
  std::snprintf(base, base_size, "serial-");
  std::snprintf(suffix, suffix_size, "%llX", static_cast<unsigned long long>(hostkitRegistryID()));
}

kern_return_t IOUserSerial::RegisterService() {
  // The kernel object fills in what the top level of the registry lacks; the
  // BSD client reads exactly these two keys from it (IOSerialBSDClient
  // createDevNodes). [U] Whether the kernel would also overwrite a base name the
  // personality carries is unknown; hostkit keeps it.
  char base[64];
  char suffix[128];
  hostkitKernelTtyName(base, sizeof base, suffix, sizeof suffix);
  for (const auto& [key, value] : {std::pair{kIOTTYBaseNameKey, base}, {kIOTTYSuffixKey, suffix}}) {
    if (OSDynamicCast(OSString, hostkitGetProperty(key)) == nullptr) {
      OSString* string = OSString::withCString(value);
      hostkitSetProperty(key, string);
      string->release();
    }
  }
  const kern_return_t result = IOService::RegisterService();
  if (result == kIOReturnSuccess && hostkitRuntime() != nullptr &&
      hostkitRuntime()->serial_observer() != nullptr) {
    hostkitRuntime()->serial_observer()->serial_registered(this);
  }
  return result;
}

IOUserSerial::IOUserSerial() = default;
IOUserSerial::~IOUserSerial() = default;

void IOUserSerial::free() {
  release_queues();
  IOService::free();
}
