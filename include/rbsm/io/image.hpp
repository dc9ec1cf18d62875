#pragma once
/// PNG output of images (MNIST samples, singular vectors) through stb_image_write, atomically.
#include <filesystem>
#include <vector>

#include <Eigen/Core>

namespace rbsm::io {

/// Writes an 8-bit grayscale PNG, row-major `pixels` of size width*height.
void write_png_gray(const std::filesystem::path& path, int width, int height, const std::vector<unsigned char>& pixels);

/// Reads a PNG as 8-bit grayscale (colour is converted), row-major; sets width and height. Throws
/// IoError naming the file if it is missing or not a readable PNG.
std::vector<unsigned char> read_png_gray(const std::filesystem::path& path, int& width, int& height);

/// Lays out `images` (each a vector of h*w values) in a grid with `cols` columns and a 2-pixel border;
/// each image is mapped linearly from [lo, hi] to [0, 255] (clamped); `scale` enlarges pixels.
void write_image_grid(const std::filesystem::path& path, const std::vector<Eigen::VectorXf>& images, int h, int w,
                      int cols, float lo, float hi, int scale = 1);

/// Same, with each image scaled symmetrically by its own max |value| (for signed vectors:
/// singular vectors, eigenvectors), so 0 is mid-grey.
void write_signed_image_grid(const std::filesystem::path& path, const std::vector<Eigen::VectorXf>& images, int h,
                             int w, int cols, int scale = 1);

}  // namespace rbsm::io
