// Reliability of the LibTorch commands' library parts (issue 16, docs/reliability.md): `evaluate
// --classifier DIR` never trains a classifier into another kind of run, and the analytic anatomy
// fields stay finite and fast at parameters near the edge of double precision.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/error.hpp"
#include "rbsm/nn/classifier_run.hpp"
#include "rbsm/nn/mlp.hpp"

namespace fs = std::filesystem;

TEST(Reliability, ClassifierIsNeverTrainedIntoAnotherRun) {
  const fs::path d = fs::temp_directory_path() / ("rbsm-rel-clf-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  std::ofstream(d / "config.json") << R"({"command": "train-vae"})";
  try {
    rbsm::nn::load_or_train_classifier(d, torch::kCPU, false, [] { return false; });
    FAIL() << "a classifier was loaded or trained in a VAE run";
  } catch (const rbsm::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("it is a 'train-vae' run"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(d / "classifier.pt"));
  EXPECT_EQ(std::distance(fs::directory_iterator(d), fs::directory_iterator()), 1);  // only config.json
  fs::remove_all(d);
}

TEST(Reliability, BesselRatioAtHugeArgumentsIsFastAndMatchesTheClosedForm) {
  // A_3(k) = coth k - 1/k; the continued fraction needed O(k) terms (an endless loop at k = 1e308).
  const auto t0 = std::chrono::steady_clock::now();
  for (double k : {2e4, 1e6, 1e12, 1e100, 1e308}) {
    const double expected = 1.0 / std::tanh(k) - 1.0 / k;
    EXPECT_NEAR(rbsm::anatomy::bessel_ratio_A(k, 3), expected, 1e-15) << k;
  }
  // A_2(k) = I_1(k) / I_0(k) ~ 1 - 1/(2k) - 1/(8k^2) - 1/(8k^3) for large k (Hankel expansions).
  const double k = 1e5;
  EXPECT_NEAR(rbsm::anatomy::bessel_ratio_A(k, 2), 1 - 1 / (2 * k) - 1 / (8 * k * k) - 1 / (8 * k * k * k), 1e-15);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 1.0);
}

TEST(Reliability, AnalyticFieldSpecsAtTheEdgeOfDoubleAreRefused) {
  EXPECT_THROW(rbsm::anatomy::make_analytic_field("noisy-sphere:D=50,d=2,kappa=2,sigma=1e-300"), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::anatomy::make_analytic_field("linear:D=50,skew=0.5,d=1e308"), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::anatomy::make_analytic_field("linear:D=50,skew=0.5,seed=1e308"), rbsm::InvalidArgument);
}

TEST(Reliability, ACheckpointWithAFlippedTensorByteIsRefused) {
  // LibTorch's reader skips the zip CRC-32s: a flipped byte inside a tensor used to load silently.
  const fs::path d = fs::temp_directory_path() / ("rbsm-rel-crc-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  torch::manual_seed(5);
  rbsm::nn::MLP model(rbsm::nn::MLPOptions().in(3).out(3).hidden(16).layers(2));
  model->to(torch::kDouble);
  {
    torch::NoGradGuard g;
    model->parameters()[0].fill_(0.123456789);  // a byte pattern to find in the file
  }
  rbsm::nn::save_mlp(d / "m.pt", model, {{"note", "test"}});
  EXPECT_NO_THROW(rbsm::nn::load_mlp(d / "m.pt"));
  std::string bytes;
  {
    std::ifstream in(d / "m.pt", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const double v = 0.123456789;
  const std::string pattern(reinterpret_cast<const char*>(&v), sizeof v);
  const auto at = bytes.find(pattern + pattern + pattern);
  ASSERT_NE(at, std::string::npos) << "the tensor's bytes are not stored as they are";
  bytes[at + 8 + 3] = static_cast<char>(bytes[at + 8 + 3] ^ 0x10);  // one weight changes, by a tiny amount
  std::ofstream(d / "flipped.pt", std::ios::binary) << bytes;
  try {
    rbsm::nn::load_mlp(d / "flipped.pt");
    FAIL() << "a checkpoint with a flipped tensor byte loaded";
  } catch (const rbsm::IoError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "MLP checkpoint " + (d / "flipped.pt").string() + " is corrupted (checksum mismatch): record '", 0),
              0u)
        << e.what();
  }
  fs::remove_all(d);
}
