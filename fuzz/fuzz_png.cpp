// Fuzz target: PNG input (`rbsm anatomy --image FILE.png`) through read_png_gray.
#include <filesystem>

#include "fuzz_common.hpp"

#include "rbsm/io/image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 16)) return 0;
  const auto path = rbsm::fuzz::temp_file("input.png", data, size);
  rbsm::fuzz::expect_clean([&] {
    int w = 0, h = 0;
    const auto pixels = rbsm::io::read_png_gray(path, w, h);
    if (w <= 0 || h <= 0 || pixels.size() != static_cast<size_t>(w) * static_cast<size_t>(h)) std::abort();
  });
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return 0;
}
