// IOReturn values hostkit and its backends use, as named in IOKit's IOReturn.h
// and USB.h. The numbers come from transport/kern_status.hpp (one source).
#pragma once

#include "transport/kern_status.hpp"

#ifndef kIOReturnSuccess
#define kIOReturnSuccess (::transport::kern::kSuccess)
#define kIOReturnError (::transport::kern::kError)
#define kIOReturnNoMemory (::transport::kern::kNoMemory)
#define kIOReturnNoResources (::transport::kern::kNoResources)
#define kIOReturnNoDevice (::transport::kern::kNoDevice)
#define kIOReturnBadArgument (::transport::kern::kBadArgument)
#define kIOReturnUnsupported (::transport::kern::kUnsupported)
#define kIOReturnIOError (::transport::kern::kIOError)
#define kIOReturnNotOpen (::transport::kern::kNotOpen)
#define kIOReturnBusy (::transport::kern::kBusy)
#define kIOReturnTimeout (::transport::kern::kTimeout)
#define kIOReturnNoSpace (::transport::kern::kNoSpace)
#define kIOReturnNotPermitted (::transport::kern::kNotPermitted)
#define kIOReturnUnderrun (::transport::kern::kUnderrun)
#define kIOReturnOverrun (::transport::kern::kOverrun)
#define kIOReturnAborted (::transport::kern::kAborted)
#define kIOReturnNotResponding (::transport::kern::kNotResponding)
#define kIOReturnNotFound (::transport::kern::kNotFound)
#define kIOReturnExclusiveAccess (::transport::kern::kExclusiveAccess)
#define kIOUSBPipeStalled (::transport::kern::kUsbPipeStalled)
#define kIOUSBTransactionTimeout (::transport::kern::kUsbTransactionTimeout)
#endif
