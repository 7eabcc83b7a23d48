// hostkit's object model: reference counting, collections, buffers.
#include <gtest/gtest.h>

#include <DriverKit/DriverKit.h>

namespace {

int g_freed = 0;

class Counted final : public OSObject {
 public:
  void free() override {
    ++g_freed;
    OSObject::free();
  }
};

TEST(HostkitObjects, LastReleaseCallsFreeOnce) {
  g_freed = 0;
  auto* object = OSTypeAlloc(Counted);
  object->retain();
  object->release();
  EXPECT_EQ(g_freed, 0);
  object->release();
  EXPECT_EQ(g_freed, 1);
}

TEST(HostkitObjects, DictionaryRetainsAndReleasesValues) {
  g_freed = 0;
  auto* dictionary = OSDictionary::withCapacity(2);
  auto* value = OSTypeAlloc(Counted);
  ASSERT_TRUE(dictionary->setObject("a", value));
  value->release();  // the dictionary keeps it alive
  EXPECT_EQ(g_freed, 0);
  EXPECT_EQ(dictionary->getObject("a"), value);
  auto* replacement = OSTypeAlloc(Counted);
  dictionary->setObject("a", replacement);  // the old value is released
  EXPECT_EQ(g_freed, 1);
  replacement->release();
  dictionary->release();
  EXPECT_EQ(g_freed, 2);
  EXPECT_FALSE(dictionary == nullptr);
}

TEST(HostkitObjects, NumbersKeepTheirWidth) {
  OSNumber* n = OSNumber::withNumber(0x1FF, 8);
  EXPECT_EQ(n->unsigned64BitValue(), 0xFFu);
  n->release();
}

TEST(HostkitObjects, BufferLengthIsBoundedByCapacity) {
  IOBufferMemoryDescriptor* buffer = nullptr;
  ASSERT_EQ(IOBufferMemoryDescriptor::Create(kIOMemoryDirectionInOut, 64, 0, &buffer),
            kIOReturnSuccess);
  IOAddressSegment range{};
  ASSERT_EQ(buffer->GetAddressRange(&range), kIOReturnSuccess);
  EXPECT_EQ(range.length, 64u);
  EXPECT_EQ(buffer->SetLength(65), kIOReturnBadArgument);
  EXPECT_EQ(buffer->SetLength(10), kIOReturnSuccess);
  uint64_t length = 0;
  buffer->GetLength(&length);
  EXPECT_EQ(length, 10u);
  buffer->release();
  EXPECT_EQ(IOBufferMemoryDescriptor::Create(0, 0, 0, &buffer), kIOReturnBadArgument);
}

}  // namespace
