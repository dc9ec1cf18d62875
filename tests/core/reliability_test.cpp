// Reliability rules of the library (docs/reliability.md; the run folder's are in
// run_folder_reliability_test.cpp): the option validators, the checkpoint CRC check, and inputs at the
// edge of double precision whose expected values are closed forms (a projection of (1e308, 1e308, 0),
// mixture weights near 1e308).
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/io/zip_check.hpp"
#include "rbsm/spec.hpp"
#include "rbsm/validate.hpp"

namespace fs = std::filesystem;
using rbsm::geometry::Vec;

namespace {
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm-reliability-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(d);
  return d;
}
}  // namespace

TEST(Validate, SeedsAreNonNegative64BitIntegers) {
  EXPECT_EQ(rbsm::validate::seed_text("0"), "");
  EXPECT_EQ(rbsm::validate::seed_text("18446744073709551615"), "");
  EXPECT_NE(rbsm::validate::seed_text("-1").find("negative"), std::string::npos);
  EXPECT_NE(rbsm::validate::seed_text("18446744073709551616").find("larger than"), std::string::npos);
  EXPECT_NE(rbsm::validate::seed_text("1.5").find("not a non-negative integer"), std::string::npos);
  EXPECT_NE(rbsm::validate::seed_text("").find("empty"), std::string::npos);
}

TEST(Validate, ThreadCountsHaveAnUpperBound) {
  EXPECT_EQ(rbsm::validate::threads_text("0"), "");
  EXPECT_EQ(rbsm::validate::threads_text(std::to_string(rbsm::validate::kMaxThreads)), "");
  EXPECT_NE(rbsm::validate::threads_text(std::to_string(rbsm::validate::kMaxThreads + 1)).find("more than"),
            std::string::npos);
  EXPECT_NE(rbsm::validate::threads_text("100000000000").find("more than"), std::string::npos);
  EXPECT_NE(rbsm::validate::threads_text("-2").find("negative"), std::string::npos);
}

TEST(Validate, NumbersAndMemory) {
  EXPECT_THROW(rbsm::validate::positive(0.0, "--sigma"), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::validate::positive(std::nan(""), "--sigma"), rbsm::InvalidArgument);
  EXPECT_NO_THROW(rbsm::validate::positive(1e-300, "--sigma"));
  EXPECT_THROW(rbsm::validate::count(0, "--n", 1, 10), rbsm::InvalidArgument);
  EXPECT_NO_THROW(rbsm::validate::memory(1e6, "--n"));
  try {
    rbsm::validate::memory(1e30, "--chains 1e9 x --steps 1e9");
    FAIL();
  } catch (const rbsm::InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).rfind("--chains 1e9 x --steps 1e9 would need", 0), 0u) << e.what();
  }
}

TEST(EdgeOfDouble, ProjectionOfAHugePointOnTheSphere) {
  // pi(x) = x / |x| = (1, 1, 0) / sqrt(2) for x = (1e308, 1e308, 0), whose |x|^2 overflows.
  const auto M = rbsm::geometry::make_manifold("sphere:2");
  const Vec z = M->project(Vec((Eigen::Vector3d() << 1e308, 1e308, 0.0).finished()));
  EXPECT_NEAR(z(0), std::sqrt(0.5), 1e-15);
  EXPECT_NEAR(z(1), std::sqrt(0.5), 1e-15);
  EXPECT_EQ(z(2), 0.0);
}

TEST(EdgeOfDouble, MixtureWeightsNear1e308NormaliseToOneHalf) {
  // Two identical vMF components: the mixture is that vMF, log q(e1) = log(kappa / (4 pi sinh kappa)) + kappa.
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:2");
  const auto q = rbsm::dist::make_mixture_json(
      R"({"weights": [1e308, 1e308], "components": [{"dist": "vmf:kappa=2"}, {"dist": "vmf:kappa=2"}]})", M);
  const double expected = std::log(2.0 / (4.0 * M_PI * std::sinh(2.0))) + 2.0;
  EXPECT_NEAR(q->log_density(Vec::Unit(3, 0)), expected, 1e-12);
}

TEST(EdgeOfDouble, ConcentrationsBeyondDoublePrecisionAreRefused) {
  std::shared_ptr<const rbsm::geometry::Manifold> S2 = rbsm::geometry::make_manifold("sphere:2");
  EXPECT_THROW(rbsm::dist::make_density("vmf:kappa=1e308", S2), rbsm::InvalidArgument);
  EXPECT_NO_THROW(rbsm::dist::make_density("vmf:kappa=1e6", S2));
  std::shared_ptr<const rbsm::geometry::Manifold> T = rbsm::geometry::make_manifold("torus:3,1");
  EXPECT_THROW(rbsm::dist::make_density("vonmises:kappa1=1e300,kappa2=1", T), rbsm::InvalidArgument);
}

TEST(EdgeOfDouble, NumbersWithAnEmbeddedNulAreRefused) {
  // found by fuzz_density_spec: strtod stopped at the NUL and "1\0e5" was read as 1
  EXPECT_THROW(rbsm::parse_double(std::string("1\0e5", 4), "--point"), rbsm::InvalidArgument);
  EXPECT_EQ(rbsm::parse_double("1e5", "--point"), 1e5);
}

// ------------------------------------------------------------------ checkpoint integrity (zip CRC-32)
namespace {
/// CRC-32 (IEEE, reflected polynomial 0xEDB88320) bit by bit: independent of zlib, which the library uses.
std::uint32_t crc32_bitwise(const std::string& s) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}
void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}
/// A zip archive of stored (uncompressed) records, as LibTorch writes them.
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string zip, cd;
  for (const auto& [name, data] : records) {
    const std::uint32_t crc = crc32_bitwise(data);
    const std::size_t local = zip.size();
    put(zip, 0x04034b50, 4), put(zip, 20, 2), put(zip, 0, 2), put(zip, 0, 2), put(zip, 0, 4);
    put(zip, crc, 4), put(zip, data.size(), 4), put(zip, data.size(), 4), put(zip, name.size(), 2), put(zip, 0, 2);
    zip += name + data;
    put(cd, 0x02014b50, 4), put(cd, 20, 2), put(cd, 20, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 4);
    put(cd, crc, 4), put(cd, data.size(), 4), put(cd, data.size(), 4), put(cd, name.size(), 2), put(cd, 0, 2);
    put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 2), put(cd, 0, 4), put(cd, local, 4);
    cd += name;
  }
  const std::size_t cd_offset = zip.size();
  zip += cd;
  put(zip, 0x06054b50, 4), put(zip, 0, 2), put(zip, 0, 2), put(zip, records.size(), 2), put(zip, records.size(), 2);
  put(zip, cd.size(), 4), put(zip, cd_offset, 4), put(zip, 0, 2);
  return zip;
}
}  // namespace

TEST(ZipCheck, Crc32OfTheTestImplementationMatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32_bitwise("123456789"), 0xCBF43926u);  // the catalogued check value of CRC-32/ISO-HDLC
}

TEST(ZipCheck, AnIntactArchivePassesAndAFlippedByteInARecordIsACorruptedCheckpoint) {
  const fs::path d = fresh_dir("zip");
  fs::create_directories(d);
  const std::string tensor(4000, '\x3f');  // the bytes of a tensor record
  const std::string zip = make_zip({{"archive/data.pkl", "config"}, {"archive/data/0", tensor}});
  std::ofstream(d / "ok.pt", std::ios::binary) << zip;
  EXPECT_EQ(rbsm::io::verify_zip_checksums(d / "ok.pt"), 2);

  std::string flipped = zip;
  const std::size_t at = zip.find(tensor) + 1234;
  flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
  std::ofstream(d / "flipped.pt", std::ios::binary) << flipped;
  try {
    rbsm::io::verify_zip_checksums(d / "flipped.pt");
    FAIL() << "a flipped byte inside a tensor record was not noticed";
  } catch (const rbsm::IoError& e) {
    const std::string expected =
        "checkpoint " + (d / "flipped.pt").string() + " is corrupted (checksum mismatch): record 'archive/data/0'";
    EXPECT_EQ(std::string(e.what()).rfind(expected, 0), 0u) << e.what();
  }

  std::ofstream(d / "cut.pt", std::ios::binary) << zip.substr(0, zip.size() / 2);  // a torn write
  try {
    rbsm::io::verify_zip_checksums(d / "cut.pt", "MLP checkpoint");
    FAIL();
  } catch (const rbsm::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("MLP checkpoint " + (d / "cut.pt").string() + " is truncated or corrupt"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(d);
}
