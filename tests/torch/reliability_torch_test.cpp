// Reliability of the LibTorch commands' library parts (issue 16, docs/reliability.md): `evaluate
// --classifier DIR` never trains a classifier into another kind of run, and the analytic anatomy
// fields stay finite and fast at parameters near the edge of double precision.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/error.hpp"
#include "rbsm/nn/classifier_run.hpp"

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
