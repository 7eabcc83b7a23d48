// hostkit: IOUSBHostDevice, IOUSBHostInterface, IOUSBHostPipe over a UsbDeviceBackend.
#include <DriverKit/IOLib.h>
#include <USBDriverKit/USBDriverKit.h>

#include <cstdlib>
#include <cstring>

#include "hostkit/runtime.hpp"
#include "hostkit/usb_device.hpp"

namespace {

const void* copy_bytes(const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) {
    return nullptr;
  }
  void* copy = std::malloc(bytes.size());
  std::memcpy(copy, bytes.data(), bytes.size());
  return copy;
}

// A configuration descriptor is usable only when its wTotalLength fits what was read.
bool configuration_usable(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 9 && bytes[1] == transport::usb::kDescriptorConfiguration &&
         static_cast<size_t>(bytes[2] | (bytes[3] << 8)) <= bytes.size();
}

}  // namespace

// The four typed overloads of the SDK's USBDriverKitDefs.h; there is no untyped one.
void IOUSBHostFreeDescriptor(const IOUSBDeviceDescriptor* descriptor) {
  std::free(const_cast<IOUSBDeviceDescriptor*>(descriptor));
}
void IOUSBHostFreeDescriptor(const IOUSBConfigurationDescriptor* descriptor) {
  std::free(const_cast<IOUSBConfigurationDescriptor*>(descriptor));
}
void IOUSBHostFreeDescriptor(const IOUSBBOSDescriptor* descriptor) {
  std::free(const_cast<IOUSBBOSDescriptor*>(descriptor));
}
void IOUSBHostFreeDescriptor(const IOUSBStringDescriptor* descriptor) {
  std::free(const_cast<IOUSBStringDescriptor*>(descriptor));
}

HOSTKIT_METACLASS_DEFINE(IOUSBHostDevice, IOService);
HOSTKIT_METACLASS_DEFINE(IOUSBHostInterface, IOService);
HOSTKIT_METACLASS_DEFINE(IOUSBHostPipe, OSObject);

namespace hostkit {

UsbDevice::UsbDevice(Runtime& runtime, std::shared_ptr<UsbDeviceBackend> backend,
                     uint32_t location_id)
    : runtime_(runtime),
      backend_(std::move(backend)),
      device_descriptor_(backend_->device_descriptor()),
      configuration_descriptor_(backend_->configuration_descriptor()),
      location_id_(location_id) {}

UsbDevice::~UsbDevice() {
  release_nubs();
}

IOUSBHostInterface* UsbDevice::interface_nub(uint8_t number) const {
  for (IOUSBHostInterface* nub : interfaces_) {
    if (nub->hostkitNumber() == number) {
      return nub;
    }
  }
  return nullptr;
}

void UsbDevice::configure() {
  if (configured_) {
    return;
  }
  configured_ = true;
  transport::usb::Configuration config;
  if (transport::usb::parse_configuration(configuration_descriptor_, config) !=
      transport::Status::ok) {
    return;
  }
  for (size_t i = 0; i < config.interface_count; ++i) {
    auto* nub = new IOUSBHostInterface(shared_from_this(), config.interfaces[i].number);
    nub->hostkitAttach(runtime_, device_nub_, runtime_.next_registry_id(), nullptr);
    interfaces_.push_back(nub);
  }
}

void UsbDevice::release_nubs() {
  for (IOUSBHostInterface*& nub : interfaces_) {
    OSSafeReleaseNULL(nub);
  }
  interfaces_.clear();
  OSSafeReleaseNULL(device_nub_);
}

}  // namespace hostkit

// ----------------------------------------------------------------- IOUSBHostDevice

namespace {

kern_return_t control_request(hostkit::UsbDevice& device, uint8_t bmRequestType, uint8_t bRequest,
                              uint16_t wValue, uint16_t wIndex, uint16_t wLength,
                              IOMemoryDescriptor* dataBuffer, uint16_t* bytesTransferred) {
  if (bytesTransferred != nullptr) {
    *bytesTransferred = 0;
  }
  if (wLength != 0 && (dataBuffer == nullptr || dataBuffer->hostkitLength() < wLength)) {
    return kIOReturnBadArgument;
  }
  if (device.detached()) {
    return kIOReturnNoDevice;
  }
  const hostkit::UsbSetup setup{bmRequestType, bRequest, wValue, wIndex, wLength};
  uint16_t actual = 0;
  std::span<uint8_t> data;
  if (wLength != 0) {
    data = {dataBuffer->hostkitBytes(), wLength};
  }
  const kern_return_t result = device.backend().control(setup, data, actual);
  if (bytesTransferred != nullptr) {
    *bytesTransferred = actual;
  }
  return result;
}

}  // namespace

kern_return_t IOUSBHostDevice::Open(IOService* forClient, IOOptionBits, uintptr_t) {
  if (forClient == nullptr) {
    return kIOReturnBadArgument;
  }
  if (device_->detached()) {
    return kIOReturnNoDevice;
  }
  if (opener_ != nullptr && opener_ != forClient) {
    return kIOReturnExclusiveAccess;  // one session at a time
  }
  opener_ = forClient;
  return kIOReturnSuccess;
}

kern_return_t IOUSBHostDevice::Close(IOService* forClient, IOOptionBits) {
  if (forClient == nullptr || opener_ != forClient) {
    return kIOReturnNotOpen;
  }
  opener_ = nullptr;
  iterators_.clear();
  return kIOReturnSuccess;
}

kern_return_t IOUSBHostDevice::SetConfiguration(uint8_t bConfigurationValue, bool matchInterfaces) {
  if (opener_ == nullptr || opener_ == this) {
    return kIOReturnNotOpen;  // only the driver holding the session configures the device
  }
  if (matchInterfaces) {
    return kIOReturnUnsupported;  // not modelled by hostkit
  }
  const auto& bytes = device_->configuration_descriptor();
  if (bytes.size() < 9 || bytes[5] != bConfigurationValue) {
    return kIOReturnBadArgument;
  }
  // USB 2.0 §9.4.7 SET_CONFIGURATION.
  const kern_return_t result =
      control_request(*device_, 0x00, 0x09, bConfigurationValue, 0, 0, nullptr, nullptr);
  if (result == kIOReturnSuccess) {
    device_->configure();
  }
  return result;
}

kern_return_t IOUSBHostDevice::CreateInterfaceIterator(uintptr_t* ref) {
  if (ref == nullptr) {
    return kIOReturnBadArgument;
  }
  if (opener_ == nullptr || opener_ == this) {
    // A driver that did not open the device has no way to its interfaces.
    return kIOReturnNotOpen;
  }
  *ref = next_iterator_++;
  iterators_.emplace_back(*ref, 0);
  return kIOReturnSuccess;
}

kern_return_t IOUSBHostDevice::CopyInterface(uintptr_t ref, IOUSBHostInterface** interface) {
  if (interface == nullptr) {
    return kIOReturnBadArgument;
  }
  *interface = nullptr;
  for (auto& [id, position] : iterators_) {
    if (id != ref) {
      continue;
    }
    const auto& nubs = device_->interface_nubs();
    if (position < nubs.size()) {
      nubs[position]->retain();
      *interface = nubs[position++];
    }
    return kIOReturnSuccess;
  }
  return kIOReturnBadArgument;
}

kern_return_t IOUSBHostDevice::DestroyInterfaceIterator(uintptr_t ref) {
  for (auto it = iterators_.begin(); it != iterators_.end(); ++it) {
    if (it->first == ref) {
      iterators_.erase(it);
      return kIOReturnSuccess;
    }
  }
  return kIOReturnBadArgument;
}

kern_return_t IOUSBHostDevice::DeviceRequest(IOService* forClient, uint8_t bmRequestType,
                                             uint8_t bRequest, uint16_t wValue, uint16_t wIndex,
                                             uint16_t wLength, IOMemoryDescriptor* dataBuffer,
                                             uint16_t* bytesTransferred, uint32_t) {
  if (forClient == nullptr || forClient != opener_) {
    // [U] Apple's rule for a client without a session is undocumented; hostkit refuses.
    if (bytesTransferred != nullptr) {
      *bytesTransferred = 0;
    }
    return kIOReturnNotOpen;
  }
  return control_request(*device_, bmRequestType, bRequest, wValue, wIndex, wLength, dataBuffer,
                         bytesTransferred);
}

kern_return_t IOUSBHostDevice::CreateIOBuffer(IOOptionBits options, uint64_t capacity,
                                              IOBufferMemoryDescriptor** buffer) {
  return IOBufferMemoryDescriptor::Create(options, capacity, 0, buffer);
}

const IOUSBDeviceDescriptor* IOUSBHostDevice::CopyDeviceDescriptor() {
  const auto& bytes = device_->device_descriptor();
  if (bytes.size() < sizeof(IOUSBDeviceDescriptor)) {
    return nullptr;
  }
  return static_cast<const IOUSBDeviceDescriptor*>(copy_bytes(bytes));
}

const IOUSBConfigurationDescriptor* IOUSBHostDevice::CopyConfigurationDescriptor(uint8_t index) {
  const auto& bytes = device_->configuration_descriptor();
  if (index != 0 || !configuration_usable(bytes)) {
    return nullptr;
  }
  return static_cast<const IOUSBConfigurationDescriptor*>(copy_bytes(bytes));
}

const IOUSBStringDescriptor* IOUSBHostDevice::CopyStringDescriptor(uint8_t index) {
  if (index == 0 || device_->detached()) {
    return nullptr;
  }
  return static_cast<const IOUSBStringDescriptor*>(
      copy_bytes(device_->backend().string_descriptor(index)));
}

// -------------------------------------------------------------- IOUSBHostInterface

IOUSBHostInterface::IOUSBHostInterface(std::shared_ptr<hostkit::UsbDevice> device, uint8_t number)
    : device_(std::move(device)), number_(number) {}

kern_return_t IOUSBHostInterface::Open(IOService* forClient, IOOptionBits, uint8_t*) {
  if (forClient == nullptr) {
    return kIOReturnBadArgument;
  }
  if (device_->detached()) {
    return kIOReturnNoDevice;
  }
  if (opener_ != nullptr && opener_ != forClient) {
    return kIOReturnExclusiveAccess;  // one opener at a time (docs/driverkit-reference.md §2.3)
  }
  // The driver matched on this interface, or the one holding the device's session.
  IOUSBHostDevice* device = device_->device_nub();
  if (forClient->hostkitProvider() != this &&
      (device == nullptr || device->hostkitOpener() != forClient)) {
    return kIOReturnNotPermitted;
  }
  opener_ = forClient;
  return kIOReturnSuccess;
}

kern_return_t IOUSBHostInterface::Close(IOService* forClient, IOOptionBits) {
  if (opener_ != forClient) {
    return kIOReturnNotOpen;
  }
  opener_ = nullptr;
  return kIOReturnSuccess;
}

const IOUSBConfigurationDescriptor* IOUSBHostInterface::CopyConfigurationDescriptor() {
  const auto& bytes = device_->configuration_descriptor();
  if (!configuration_usable(bytes)) {
    return nullptr;
  }
  return static_cast<const IOUSBConfigurationDescriptor*>(copy_bytes(bytes));
}

const IOUSBInterfaceDescriptor* IOUSBHostInterface::GetInterfaceDescriptor(
    const IOUSBConfigurationDescriptor* configDescriptor) {
  if (configDescriptor == nullptr) {
    return nullptr;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(configDescriptor);
  const size_t total = configDescriptor->wTotalLength;
  size_t offset = configDescriptor->bLength;
  while (offset + 2 <= total) {
    const uint8_t length = bytes[offset];
    if (length < 2 || offset + length > total) {
      return nullptr;
    }
    if (bytes[offset + 1] == transport::usb::kDescriptorInterface &&
        length >= sizeof(IOUSBInterfaceDescriptor) && bytes[offset + 2] == number_ &&
        bytes[offset + 3] == 0) {
      return reinterpret_cast<const IOUSBInterfaceDescriptor*>(bytes + offset);
    }
    offset += length;
  }
  return nullptr;
}

const IOUSBStringDescriptor* IOUSBHostInterface::CopyStringDescriptor(uint8_t index) {
  IOUSBHostDevice* device = device_->device_nub();
  return device != nullptr ? device->CopyStringDescriptor(index) : nullptr;
}

kern_return_t IOUSBHostInterface::CopyPipe(uint8_t address, IOUSBHostPipe** pipe) {
  if (pipe == nullptr) {
    return kIOReturnBadArgument;
  }
  if (device_->detached()) {
    return kIOReturnNoDevice;
  }
  if (opener_ == nullptr) {
    return kIOReturnNotOpen;
  }
  transport::usb::Configuration config;
  if (transport::usb::parse_configuration(device_->configuration_descriptor(), config) !=
      transport::Status::ok) {
    return kIOReturnError;
  }
  const transport::usb::Interface* itf = config.find_interface(number_);
  if (itf == nullptr) {
    return kIOReturnNotFound;
  }
  for (size_t i = 0; i < itf->endpoint_count; ++i) {
    if (itf->endpoints[i].address == address) {
      *pipe = new IOUSBHostPipe(device_, address, itf->endpoints[i].max_packet);
      return kIOReturnSuccess;
    }
  }
  return kIOReturnNotFound;
}

kern_return_t IOUSBHostInterface::CopyDevice(IOUSBHostDevice** device) {
  if (device == nullptr || device_->device_nub() == nullptr) {
    return kIOReturnBadArgument;
  }
  device_->device_nub()->retain();
  *device = device_->device_nub();
  return kIOReturnSuccess;
}

kern_return_t IOUSBHostInterface::CreateIOBuffer(IOOptionBits options, uint64_t capacity,
                                                 IOBufferMemoryDescriptor** buffer) {
  return IOBufferMemoryDescriptor::Create(options, capacity, 0, buffer);
}

kern_return_t IOUSBHostInterface::DeviceRequest(uint8_t bmRequestType, uint8_t bRequest,
                                                uint16_t wValue, uint16_t wIndex, uint16_t wLength,
                                                IOMemoryDescriptor* dataBuffer,
                                                uint16_t* bytesTransferred, uint32_t) {
  return control_request(*device_, bmRequestType, bRequest, wValue, wIndex, wLength, dataBuffer,
                         bytesTransferred);
}

// ------------------------------------------------------------------- IOUSBHostPipe

IOUSBHostPipe::IOUSBHostPipe(std::shared_ptr<hostkit::UsbDevice> device, uint8_t address,
                             uint16_t maxPacket)
    : device_(std::move(device)), address_(address), max_packet_(maxPacket) {}

struct IOUSBHostPipe::PendingIo final : hostkit::QueueDelivery {
  IOUSBHostPipe* pipe = nullptr;  // retained while the transfer is in flight
  IOMemoryDescriptor* buffer = nullptr;
  OSAction* completion = nullptr;
  std::shared_ptr<hostkit::QueueLink> link;
  hostkit::IOReturnValue status = 0;
  uint32_t actual = 0;

  void run(bool delivered, uint64_t drained_at) override {
    if (delivered) {
      completion->hostkitDeliver<IOReturn, uint32_t, uint64_t>(kOSActionTypeCompleteAsyncIO, status,
                                                               actual, drained_at);
    }
    completion->release();
    buffer->release();
    IOUSBHostPipe* owner = pipe;
    owner->give_back(this);
    owner->release();  // may free the pipe, and this record with it
  }
};

IOUSBHostPipe::PendingIo* IOUSBHostPipe::take_pending() {
  std::lock_guard lock(pool_mutex_);
  if (free_.empty()) {
    pool_.push_back(std::make_unique<PendingIo>());
    free_.reserve(pool_.size());
    return pool_.back().get();
  }
  PendingIo* io = free_.back();
  free_.pop_back();
  return io;
}

void IOUSBHostPipe::give_back(PendingIo* io) {
  std::lock_guard lock(pool_mutex_);
  free_.push_back(io);
}

kern_return_t IOUSBHostPipe::AsyncIO(IOMemoryDescriptor* dataBuffer, uint32_t dataBufferLength,
                                     OSAction* completion, uint32_t) {
  if (dataBuffer == nullptr || completion == nullptr ||
      dataBuffer->hostkitLength() < dataBufferLength ||
      !completion->hostkitIsType(kOSActionTypeCompleteAsyncIO) || completion->hostkitCancelled()) {
    // An action made for another TYPE has another message ID: the pipe cannot
    // complete into it.
    return kIOReturnBadArgument;
  }
  if (device_->detached()) {
    return kIOReturnNoDevice;
  }
  PendingIo* io = take_pending();
  retain();
  dataBuffer->retain();
  completion->retain();
  io->pipe = this;
  io->buffer = dataBuffer;
  io->completion = completion;
  // The completion runs on the driver queue; if that queue has gone (the
  // runtime shut down with transfers pending) it only releases what it holds.
  if (io->link == nullptr) {
    io->link = device_->runtime().queue().link();
  }
  const kern_return_t result =
      device_->backend().submit(address_, {dataBuffer->hostkitBytes(), dataBufferLength},
                                [io](hostkit::IOReturnValue status, uint32_t actual) {
                                  io->status = status;
                                  io->actual = actual;
                                  io->link->deliver(io);
                                });
  if (result != kIOReturnSuccess) {
    io->run(false, 0);
  }
  return result;
}

kern_return_t IOUSBHostPipe::Abort(IOOptionBits, kern_return_t, IOService*) {
  device_->backend().abort(address_);
  return kIOReturnSuccess;
}

kern_return_t IOUSBHostPipe::ClearStall(bool) {
  if (device_->detached()) {
    return kIOReturnNoDevice;
  }
  return device_->backend().clear_halt(address_);
}
