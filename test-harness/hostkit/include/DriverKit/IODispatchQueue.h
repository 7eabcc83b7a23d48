// hostkit: IODispatchQueue. Every service of a hostkit "dext process" runs on the
// runtime's one serial queue (stronger than DriverKit's one queue per service;
// the serialisation drivers rely on is the same). Blocks are std::function.
#pragma once

#include <functional>

#include "DriverKit/OSObject.h"

typedef const char* IODispatchQueueName;
typedef std::function<void()> IODispatchBlock;

namespace hostkit {
class DriverQueue;
}

class IODispatchQueue final : public OSObject {
  HOSTKIT_METACLASS(IODispatchQueue)

 public:
  static kern_return_t Create(IODispatchQueueName name, uint64_t options, uint64_t priority,
                              IODispatchQueue** queue);
  void DispatchAsync(IODispatchBlock block);
  void DispatchSync(IODispatchBlock block);
  bool OnQueue();

  explicit IODispatchQueue(hostkit::DriverQueue& queue) : queue_(queue) {}
  hostkit::DriverQueue& hostkitQueue() const { return queue_; }

 private:
  hostkit::DriverQueue& queue_;
};
