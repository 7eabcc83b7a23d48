// libFuzzer target: every chip family's decode_rx and decode_interrupt, which
// read what the device sends on its bulk and interrupt IN pipes (untrusted).
// The family comes from the device table's variant list, so a new family is
// fuzzed as soon as it is in ChipSet.
//
// Input: byte 0 picks the variant, byte 1 the packet sizes and port; then
// records of [kind][length][bytes...]: kind bit 0 set = one interrupt-IN
// transfer, clear = one bulk-IN transfer of the bytes repeated 1 + (kind >> 1) % 8
// times (transfers span several packets). State (split notifications, escapes)
// carries across records, as it does across transfers.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "transport/chips/chip_set.hpp"
#include "transport/device_table.hpp"

namespace {

void require(bool condition) {
  if (!condition) {
    std::abort();  // an invariant broke: libFuzzer reports the input
  }
}

constexpr std::array<uint16_t, 6> kBulkPacketSizes = {8, 16, 32, 64, 512, 1024};
constexpr std::array<uint16_t, 4> kInterruptPacketSizes = {0, 8, 16, 64};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace transport;
  if (size < 2) {
    return 0;
  }
  const std::span<const VariantInfo> variants = all_variants();
  const VariantInfo& variant = variants[data[0] % variants.size()];
  PortConfig config;
  config.variant = variant.variant;
  config.port_index = static_cast<uint8_t>((data[1] >> 5) % variant.port_count);
  config.interface_number = config.port_index;
  config.data_interface = config.port_index;
  config.bulk_in_max_packet = kBulkPacketSizes[data[1] % kBulkPacketSizes.size()];
  config.interrupt_max_packet =
      kInterruptPacketSizes[(data[1] >> 3) % kInterruptPacketSizes.size()];
  config.acm_capabilities = data[1];

  static chips::ChipSet chips;  // one object per family, as in the driver's ivars
  ChipProtocol* chip = chips.select(variant.family);
  require(chip != nullptr);
  if (chip->configure(config) != Status::ok) {
    return 0;
  }

  static uint8_t transfer[4096];
  RxReport report;
  size_t offset = 2;
  while (offset + 2 <= size) {
    const uint8_t kind = data[offset];
    const size_t length = std::min<size_t>(data[offset + 1], size - offset - 2);
    const uint8_t* bytes = data + offset + 2;
    offset += 2 + length;
    if ((kind & 1) != 0) {
      (void)chip->decode_interrupt({bytes, length}, report);
      continue;
    }
    const size_t total = std::min<size_t>(sizeof transfer, length * (1 + (kind >> 1) % 8));
    for (size_t i = 0; i < total; ++i) {
      transfer[i] = length != 0 ? bytes[i % length] : 0;
    }
    const uint32_t kept = chip->decode_rx({transfer, total}, report);
    require(kept <= total);
  }
  return 0;
}
