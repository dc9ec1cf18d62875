#include "rbsm/io/image.hpp"

#include <algorithm>
#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

// The stb implementations live in stb_impl.cpp (compiled without UBSan's nonnull-attribute check).
#include <stb_image_write.h>
#define STBI_ONLY_PNG
#include <stb_image.h>

namespace rbsm::io {

void write_png_gray(const std::filesystem::path& path, int width, int height,
                    const std::vector<unsigned char>& pixels) {
  if (width <= 0 || height <= 0 || pixels.size() != static_cast<std::size_t>(width) * height)
    throw InvalidArgument("write_png_gray: " + std::to_string(pixels.size()) + " pixels for a " +
                          std::to_string(width) + "x" + std::to_string(height) + " image");
  atomic_write_with(path, [&](const std::filesystem::path& tmp) {
    if (!stbi_write_png(tmp.c_str(), width, height, 1, pixels.data(), width))
      throw IoError("cannot write PNG " + path.string());
  });
}

namespace {
/// The PNG's chunk layout checked before stb decodes it: every chunk's declared length must fit in the
/// file (stb allocates a declared IDAT length up front: a 271-byte file declaring 1.2 GB took 12 s
/// under ASan; found by fuzz_png), and the image at most kMaxPixels.
void check_png_layout(const std::string& b, const std::filesystem::path& path) {
  constexpr unsigned long long kMaxPixels = 1ull << 24;  // 4096 x 4096 (a 271-byte file declaring 8.4M x 28 took > 1 s)
  const auto u32 = [&](std::size_t at) {
    return (static_cast<unsigned long long>(static_cast<unsigned char>(b[at])) << 24) |
           (static_cast<unsigned long long>(static_cast<unsigned char>(b[at + 1])) << 16) |
           (static_cast<unsigned long long>(static_cast<unsigned char>(b[at + 2])) << 8) |
           static_cast<unsigned long long>(static_cast<unsigned char>(b[at + 3]));
  };
  const std::string bad = "cannot read PNG " + path.string() + ": ";
  if (b.size() < 8 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return;  // not a PNG: stb names it
  std::size_t at = 8;
  while (at + 8 <= b.size()) {
    const unsigned long long len = u32(at);
    if (len > b.size() - at - 8) throw IoError(bad + "truncated or corrupt (a chunk is longer than the file)");
    if (b.compare(at + 4, 4, "IHDR") == 0 && len >= 8 && u32(at + 8) * u32(at + 12) > kMaxPixels)
      throw IoError(bad + std::to_string(u32(at + 8)) + "x" + std::to_string(u32(at + 12)) +
                    " pixels is too large (at most 2^24 = 4096 x 4096)");
    if (b.compare(at + 4, 4, "IEND") == 0) break;
    at += 12 + len;  // length, type, data, CRC
  }
}
}  // namespace

std::vector<unsigned char> read_png_gray(const std::filesystem::path& path, int& width, int& height) {
  const std::string bytes = read_file(path);
  check_png_layout(bytes, path);
  int channels = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &width, &height, &channels, 1);
  if (!data) throw IoError("cannot read PNG " + path.string() + ": " + stbi_failure_reason());
  std::vector<unsigned char> px(data, data + static_cast<std::size_t>(width) * height);
  stbi_image_free(data);
  return px;
}

namespace {
void grid(const std::filesystem::path& path, const std::vector<Eigen::VectorXf>& images, int h, int w, int cols,
          int scale, const std::vector<std::pair<float, float>>& ranges) {
  if (images.empty()) throw InvalidArgument("image grid: no images");
  for (const auto& im : images)
    if (im.size() != h * w)
      throw InvalidArgument("image grid: image of " + std::to_string(im.size()) + " values, expected " +
                            std::to_string(h * w));
  const int n = static_cast<int>(images.size());
  cols = std::max(1, std::min(cols, n));
  const int rows = (n + cols - 1) / cols, pad = 2;
  const int W = cols * (w * scale + pad) + pad, H = rows * (h * scale + pad) + pad;
  std::vector<unsigned char> px(static_cast<std::size_t>(W) * H, 255);
  for (int k = 0; k < n; ++k) {
    const int r0 = pad + (k / cols) * (h * scale + pad), c0 = pad + (k % cols) * (w * scale + pad);
    const auto [lo, hi] = ranges[k];
    for (int i = 0; i < h * scale; ++i)
      for (int j = 0; j < w * scale; ++j) {
        float v = images[k][(i / scale) * w + j / scale];
        v = std::isfinite(v) ? (v - lo) / (hi - lo) : 0.f;
        px[static_cast<std::size_t>(r0 + i) * W + c0 + j] =
            static_cast<unsigned char>(std::lround(255.f * std::clamp(v, 0.f, 1.f)));
      }
  }
  write_png_gray(path, W, H, px);
}
}  // namespace

void write_image_grid(const std::filesystem::path& path, const std::vector<Eigen::VectorXf>& images, int h, int w,
                      int cols, float lo, float hi, int scale) {
  if (!(hi > lo)) throw InvalidArgument("image grid: empty value range");
  grid(path, images, h, w, cols, scale, std::vector<std::pair<float, float>>(images.size(), {lo, hi}));
}

void write_signed_image_grid(const std::filesystem::path& path, const std::vector<Eigen::VectorXf>& images, int h,
                             int w, int cols, int scale) {
  std::vector<std::pair<float, float>> ranges;
  for (const auto& im : images) {
    const float m = std::max(im.size() ? im.cwiseAbs().maxCoeff() : 0.f, 1e-12f);
    ranges.emplace_back(-m, m);
  }
  grid(path, images, h, w, cols, scale, ranges);
}

}  // namespace rbsm::io
