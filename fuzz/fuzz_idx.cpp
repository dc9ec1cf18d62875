// Fuzz target: IDX image + label files (MNIST format, gzip or plain). The input is split at its first
// byte: bytes [1, 1 + k) are the image file, the rest the label file (k = data[0] * size / 256).
#include <filesystem>

#include "fuzz_common.hpp"

#include "rbsm/data/images.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1u << 16)) return 0;
  const size_t k = static_cast<size_t>(data[0]) * (size - 1) / 255;
  const auto images = rbsm::fuzz::temp_file("images.idx", data + 1, k);
  const auto labels = rbsm::fuzz::temp_file("labels.idx", data + 1 + k, size - 1 - k);
  rbsm::fuzz::expect_clean([&] {
    const auto set = rbsm::data::load_idx(images, labels);
    if (set.size() <= 0) std::abort();
  });
  std::error_code ec;
  std::filesystem::remove(images, ec);
  std::filesystem::remove(labels, ec);
  return 0;
}
