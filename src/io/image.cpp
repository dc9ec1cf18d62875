#include "rbsm/io/image.hpp"

#include <algorithm>
#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO_UNUSED
#include <stb_image_write.h>
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#include <stb_image.h>

namespace rbsm::io {

void write_png_gray(const std::filesystem::path& path, int width, int height, const std::vector<unsigned char>& pixels) {
  if (width <= 0 || height <= 0 || pixels.size() != static_cast<std::size_t>(width) * height)
    throw InvalidArgument("write_png_gray: " + std::to_string(pixels.size()) + " pixels for a " +
                          std::to_string(width) + "x" + std::to_string(height) + " image");
  atomic_write_with(path, [&](const std::filesystem::path& tmp) {
    if (!stbi_write_png(tmp.c_str(), width, height, 1, pixels.data(), width))
      throw IoError("cannot write PNG " + path.string());
  });
}

std::vector<unsigned char> read_png_gray(const std::filesystem::path& path, int& width, int& height) {
  const std::string bytes = read_file(path);
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
