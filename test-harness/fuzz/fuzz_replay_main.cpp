// Runs a fuzz target's corpus through it without libFuzzer, so the project's
// own toolchain and its sanitizer build replay every input too:
//   fuzz_replay_<target> DIR_OR_FILE...
// Exits non-zero (or aborts, under a sanitizer) on the first input that fails.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

size_t replay(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    if (std::filesystem::is_directory(path)) {
      for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) {
          inputs += replay(entry.path());
        }
      }
    } else {
      inputs += replay(path);
    }
  }
  if (inputs == 0) {
    std::fprintf(stderr, "fuzz_replay: no inputs in the given paths\n");
    return 1;
  }
  std::printf("fuzz_replay: %zu inputs replayed\n", inputs);
  return 0;
}
