// hostkit: IOService, IODispatchQueue, IOUserSerial (with the kernel side).
#include <DriverKit/DriverKit.h>
#include <SerialDriverKit/SerialDriverKit.h>

#include <cstdio>
#include <cstring>

#include "hostkit/runtime.hpp"
#include "hostkit/serial_client.hpp"

// ---------------------------------------------------------------------- IOService

kern_return_t IOService::Start_Impl(IOService*) {
  return kIOReturnSuccess;
}
kern_return_t IOService::Stop_Impl(IOService*) {
  return kIOReturnSuccess;
}

void IOService::hostkitAttach(hostkit::Runtime& runtime, IOService* provider,
                              uint64_t registry_id) {
  runtime_ = &runtime;
  provider_ = provider;
  registry_id_ = registry_id;
}

const char* IOService::hostkitName() const {
  return name_;
}

kern_return_t IOService::RegisterService() {
  if (runtime_ != nullptr) {
    runtime_->service_registered(this);
  }
  return kIOReturnSuccess;
}

kern_return_t IOService::SetProperties(OSDictionary* properties) {
  if (properties == nullptr) {
    return kIOReturnBadArgument;
  }
  if (properties_ == nullptr) {
    properties_ = OSDictionary::withCapacity(8);
  }
  properties->forEach([this](const std::string& key, OSObject* value) {
    properties_->setObject(key.c_str(), value);
  });
  return kIOReturnSuccess;
}

kern_return_t IOService::CopyProperties(OSDictionary** properties) {
  if (properties == nullptr) {
    return kIOReturnBadArgument;
  }
  auto* copy = OSDictionary::withCapacity(8);
  if (properties_ != nullptr) {
    properties_->forEach(
        [copy](const std::string& key, OSObject* value) { copy->setObject(key.c_str(), value); });
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
SerialQueues::SerialQueues(uint32_t ring_bytes) : rx_storage(ring_bytes), tx_storage(ring_bytes) {
  rx.attach(rx_storage);
  tx.attach(tx_storage);
}
}  // namespace hostkit

kern_return_t IOUserSerial::ConnectQueues_Impl(IOBufferMemoryDescriptor** ifmd,
                                               IOMemoryDescriptor** rxqmd,
                                               IOMemoryDescriptor** txqmd, IOMemoryDescriptor*,
                                               IOMemoryDescriptor*, uint32_t, uint32_t, uint8_t,
                                               uint8_t) {
  // Passing NULL buffers makes the framework allocate its default rings
  // (driverkit.md §1.2); hostkit always does that and hands out no descriptors.
  const uint32_t ring_bytes =
      hostkitRuntime() != nullptr ? hostkitRuntime()->tuning().ring_bytes : 16384;
  queues_ = std::make_unique<hostkit::SerialQueues>(ring_bytes);
  if (ifmd != nullptr) {
    *ifmd = nullptr;
  }
  if (rxqmd != nullptr) {
    *rxqmd = nullptr;
  }
  if (txqmd != nullptr) {
    *txqmd = nullptr;
  }
  return kIOReturnSuccess;
}

kern_return_t IOUserSerial::DisconnectQueues_Impl() {
  queues_.reset();
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

kern_return_t IOUserSerial::RegisterService() {
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
  queues_.reset();
  IOService::free();
}
