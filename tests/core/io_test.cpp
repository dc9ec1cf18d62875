// Tests of the I/O and core utilities: atomic writes, spec parsing, deterministic RNG and parallelism.
#include <cmath>
#include <filesystem>
#include <numeric>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"
#include "rbsm/spec.hpp"

namespace fs = std::filesystem;

TEST(AtomicWrite, WritesAndLeavesNoTemporary) {
  const fs::path dir = fs::temp_directory_path() / "rbsm_io_test";
  fs::remove_all(dir);
  rbsm::io::atomic_write(dir / "a.txt", "hello");
  EXPECT_EQ(rbsm::io::read_file(dir / "a.txt"), "hello");
  int files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(AtomicWrite, FailingWriterKeepsOldFile) {
  const fs::path dir = fs::temp_directory_path() / "rbsm_io_test2";
  fs::remove_all(dir);
  rbsm::io::atomic_write(dir / "a.txt", "old");
  EXPECT_THROW(rbsm::io::atomic_write_with(dir / "a.txt",
                                           [](const fs::path& tmp) {
                                             rbsm::io::atomic_write(tmp, "partial");
                                             throw rbsm::IoError("disk full");
                                           }),
               rbsm::IoError);
  EXPECT_EQ(rbsm::io::read_file(dir / "a.txt"), "old");
  fs::remove_all(dir);
}

TEST(AtomicWrite, FullDiskIsAnIoError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  // Writing into /dev/full's directory is not possible; emulate with a path whose parent is a file.
  EXPECT_THROW(rbsm::io::atomic_write("/dev/full/x.txt", "data"), rbsm::IoError);
}

TEST(Spec, ParsesNumbersAndKeyValues) {
  const auto s = rbsm::Spec::parse("torus:3,1");
  EXPECT_EQ(s.name, "torus");
  EXPECT_EQ(s.numbers(2, 2), (std::vector<double>{3, 1}));
  EXPECT_THROW(s.numbers(1, 1), rbsm::InvalidArgument);
  const auto v = rbsm::Spec::parse("vmf:kappa=2.5");
  EXPECT_DOUBLE_EQ(v.keyvalues({"kappa"}).at("kappa"), 2.5);
  EXPECT_THROW(v.keyvalues({"mu"}), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::Spec::parse("sphere:x").numbers(1, 1), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::parse_vector("1,nan", "point"), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::parse_vector("1,,2", "point"), rbsm::InvalidArgument);
}

TEST(Table, RoundTripsDoublesExactly) {
  rbsm::io::Table t({"x"});
  t.add_row({0.1 + 0.2});
  const std::string csv = t.to_csv();
  EXPECT_EQ(std::stod(csv.substr(csv.find('\n') + 1)), 0.1 + 0.2);
  EXPECT_THROW(t.add_row({1, 2}), rbsm::InvalidArgument);
}

TEST(Rng, StreamsAreReproducibleAndDistinct) {
  rbsm::Rng a(7, 0), b(7, 0), c(7, 1);
  for (int i = 0; i < 10; ++i) {
    const auto x = a();
    EXPECT_EQ(x, b());
    EXPECT_NE(x, c());
  }
}

TEST(Rng, NormalMomentsMatch) {
  // z-test on mean and variance of 200k N(0,1) draws: |z| < 4.5 (Bonferroni over 2 checks at 1e-5).
  rbsm::Rng rng(42);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal();
    s += x;
    s2 += x * x;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_LT(std::abs(mean) / std::sqrt(1.0 / n), 4.5);
  EXPECT_LT(std::abs(var - 1.0) / std::sqrt(2.0 / n), 4.5);
}

TEST(Parallel, ResultIndependentOfThreadCount) {
  auto run = [](int threads) {
    std::vector<double> out(1000);
    rbsm::parallel_for(out.size(), threads, [&](std::size_t i) {
      rbsm::Rng rng(3, i);
      out[i] = rng.normal();
    });
    return out;
  };
  EXPECT_EQ(run(1), run(4));
}

TEST(Parallel, PropagatesExceptions) {
  EXPECT_THROW(rbsm::parallel_for(100, 3,
                                  [](std::size_t i) {
                                    if (i == 57) throw rbsm::NumericalError("boom");
                                  }),
               rbsm::NumericalError);
}
