// Tests of the regression study (rbsm/nn/regression_study.hpp; docs/langevin.md §4): the log-log sample-factor
// interpolation is exact on a power law; cross-fitted RB targets do not depend on their own reference; a tiny
// study depends on the seed only (not on the thread count) and tables every fit.
#include "rbsm/nn/regression_study.hpp"

#include <cmath>
#include <filesystem>
#include <memory>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/random.hpp"

namespace fs = std::filesystem;
using rbsm::geometry::Mat;
using rbsm::geometry::Vec;
using rbsm::nn::samples_to_reach;

TEST(RegressionStudy, SampleFactorIsExactOnAPowerLaw) {
  // err(n) = 3 n^-0.7 is a line in log-log: the interpolated size for err(2000) is 2000.
  const std::vector<int> n{256, 1024, 4096, 16384};
  std::vector<double> err;
  for (int k : n) err.push_back(3.0 * std::pow(k, -0.7));
  const auto f = samples_to_reach(n, err, 3.0 * std::pow(2000.0, -0.7));
  EXPECT_NEAR(f.n, 2000.0, 1e-8);
  EXPECT_NEAR(f.factor, 16384.0 / 2000.0, 1e-10);
  EXPECT_FALSE(f.lower_bound);
  // at or below the target from the smallest size: a lower bound n_max / n_min
  const auto lb = samples_to_reach(n, err, 1.0);
  EXPECT_TRUE(lb.lower_bound);
  EXPECT_EQ(lb.n, 256.0);
  EXPECT_EQ(lb.factor, 64.0);
  // never reaching it: NaN
  EXPECT_TRUE(std::isnan(samples_to_reach(n, err, 1e-9).n));
  EXPECT_THROW(samples_to_reach(n, {1.0}, 0.5), rbsm::InvalidArgument);
}

TEST(RegressionStudy, CrossFittedTargetsIgnoreTheirOwnReference) {
  const std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:2");
  const int n = 40;
  const double sigma = 0.3;
  Mat Z(n, 3), Y(n, 3);
  rbsm::Rng rng(5, 0);
  for (int i = 0; i < n; ++i) {
    Vec z(3), x(3);
    for (int a = 0; a < 3; ++a) z[a] = rng.normal();
    z.normalize();
    for (int a = 0; a < 3; ++a) x[a] = z[a] + sigma * rng.normal();
    Z.row(i) = z.transpose();
    Y.row(i) = M->project(x).transpose();
  }
  // move reference 3 (fold 3 of 8) onto reference 4: with 8 folds R_3 stays and R_4 (fold 4, which has
  // reference 3) changes; with all references R_3 changes
  Mat Z2 = Z;
  Z2.row(3) = Z.row(4);
  const Mat cross = rbsm::nn::rb_training_targets(M, Z, Y, sigma, 8, 1);
  const Mat cross2 = rbsm::nn::rb_training_targets(M, Z2, Y, sigma, 8, 1);
  EXPECT_TRUE(cross.row(3) == cross2.row(3));
  EXPECT_TRUE(cross.row(11) == cross2.row(11));  // 11 is in fold 3 too
  EXPECT_GT((cross.row(4) - cross2.row(4)).norm(), 1e-6);
  const Mat all = rbsm::nn::rb_training_targets(M, Z, Y, sigma, 1, 1);
  const Mat all2 = rbsm::nn::rb_training_targets(M, Z2, Y, sigma, 1, 1);
  EXPECT_GT((all.row(3) - all2.row(3)).norm(), 1e-6);
  // every target is tangent at its point
  for (int i = 0; i < n; ++i) EXPECT_NEAR(cross.row(i).dot(Y.row(i)), 0.0, 1e-9);
}

TEST(RegressionStudy, TinyStudyDependsOnTheSeedOnly) {
  const fs::path dir = fs::temp_directory_path() / "rbsm_regression_study_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  rbsm::nn::RegressionStudyOptions o;
  o.samples = {16, 8};
  o.seeds = 2, o.test = 20, o.steps = 5, o.batch = 8, o.hidden = 8, o.layers = 1, o.langevin_chains = 0;
  o.seed = 7, o.threads = 1;
  const auto a = rbsm::nn::regression_study(o, dir);
  o.threads = 2;
  const auto b = rbsm::nn::regression_study(o, dir);
  EXPECT_EQ(a.summary.dump(), b.summary.dump());
  EXPECT_EQ(a.samples, (std::vector<int>{8, 16}));
  EXPECT_EQ(a.raw.mean.size(), 2u);
  EXPECT_TRUE(fs::exists(dir / "model_raw.pt") && fs::exists(dir / "model_rb.pt"));
  o.seed = 8;
  EXPECT_NE(rbsm::nn::regression_study(o, dir).summary.dump(), a.summary.dump());
  o.rb_refs = "some";
  EXPECT_THROW(rbsm::nn::regression_study(o, dir), rbsm::InvalidArgument);
  fs::remove_all(dir);
}
