// DriverKit's IONewZero runs no constructor: an object with a vtable would keep a
// null vtable pointer and crash on its first virtual call.
// EXPECT: IONew/IONewZero return raw memory on DriverKit
#include <DriverKit/DriverKit.h>

#include <new>

struct Sink {
  virtual ~Sink() = default;
  virtual int send() { return 0; }
};

Sink* make_sink() {
#ifdef HOSTKIT_COMPILE_FAIL
  return IONewZero(Sink, 1);
#else
  void* memory = IOMallocZero(sizeof(Sink));
  return memory != nullptr ? new (memory) Sink() : nullptr;
#endif
}
