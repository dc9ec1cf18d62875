// Tests of the tangent-score MLP (docs/langevin.md §4): checkpoints written atomically reload
// bit-identically; the Eigen evaluation used by Langevin equals the LibTorch forward pass projected onto
// T_z M; regression on noiseless tangent targets of a smooth field reaches a small error; bad
// checkpoints fail with IoError.
#include "rbsm/nn/mlp.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace fs = std::filesystem;
using rbsm::geometry::Mat;
using rbsm::geometry::Vec;

namespace {
fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm_mlp_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(Mlp, CheckpointReloadsBitIdentically) {
  const fs::path dir = temp_dir("ckpt");
  torch::manual_seed(3);
  rbsm::nn::MLP model(rbsm::nn::MLPOptions().in(4).out(4).hidden(16).layers(2));
  model->to(torch::kDouble);
  rbsm::nn::save_mlp(dir / "m.pt", model, {{"note", "test"}});
  // only the final file, no temporary left behind
  int files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);
  nlohmann::json cfg;
  auto loaded = rbsm::nn::load_mlp(dir / "m.pt", &cfg);
  EXPECT_EQ(cfg["note"], "test");
  const auto a = model->parameters(), b = loaded->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].dtype(), b[i].dtype());
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
  }
  const auto x = torch::randn({5, 4}, torch::kDouble);
  torch::NoGradGuard g;
  EXPECT_TRUE(torch::equal(model->forward(x), loaded->forward(x)));
  fs::remove_all(dir);
}

TEST(Mlp, BadCheckpointsThrowIoError) {
  const fs::path dir = temp_dir("bad");
  EXPECT_THROW(rbsm::nn::load_mlp(dir / "missing.pt"), rbsm::IoError);
  std::ofstream(dir / "junk.pt") << "not a checkpoint";
  EXPECT_THROW(rbsm::nn::load_mlp(dir / "junk.pt"), rbsm::IoError);
  fs::remove_all(dir);
}

TEST(Mlp, EigenFieldEqualsTorchForwardProjected) {
  const auto M = rbsm::geometry::make_manifold("sphere:3");
  torch::manual_seed(5);
  rbsm::nn::MLP model(rbsm::nn::MLPOptions().in(4).out(4).hidden(8).layers(3));
  model->to(torch::kDouble);
  const auto field = rbsm::nn::mlp_field(model, *M);
  rbsm::Rng rng(1, 1);
  for (int k = 0; k < 5; ++k) {
    const Vec z = M->sample_uniform(rng);
    auto x = torch::from_blob(const_cast<double*>(z.data()), {1, 4}, torch::kDouble).clone();
    torch::NoGradGuard g;
    const auto f = model->forward(x).contiguous();
    const Vec fv = Eigen::Map<const Vec>(f.data_ptr<double>(), 4);
    const Mat E = M->tangent_frame(z);
    EXPECT_LT((field(z) - E * (E.transpose() * fv)).norm(), 1e-12);
  }
  const auto T = rbsm::geometry::make_manifold("torus:3,1");
  EXPECT_THROW(rbsm::nn::mlp_field(model, *T), rbsm::InvalidArgument);
}

TEST(Mlp, RegressionFitsASmoothTangentField) {
  // Target: the vMF score field kappa P_T mu on S^2 (noiseless). After training, the relative test error
  // is below 1% (a field the MLP can represent).
  const auto M = rbsm::geometry::make_manifold("sphere:2");
  rbsm::Rng rng(2, 0);
  const int n = 512;
  Mat Y(n, 3), T(n, 3);
  Vec mu(3);
  mu << 1, 0, 0;
  auto target = [&](const Vec& z) { return Vec(2.0 * (mu - mu.dot(z) * z)); };
  for (int i = 0; i < n; ++i) {
    const Vec z = M->sample_uniform(rng);
    Y.row(i) = z.transpose();
    T.row(i) = target(z).transpose();
  }
  rbsm::nn::RegressionOptions o;
  o.steps = 600, o.batch = 128, o.seed = 4;
  o.mlp.hidden(32).layers(2);
  double loss = 0;
  auto model = rbsm::nn::fit_tangent_regression(Y, T, *M, o, &loss);
  const auto field = rbsm::nn::mlp_field(model, *M);
  double err = 0, norm = 0;
  for (int k = 0; k < 200; ++k) {
    const Vec z = M->sample_uniform(rng);
    err += (field(z) - target(z)).squaredNorm();
    norm += target(z).squaredNorm();
  }
  EXPECT_LT(err / norm, 0.01) << "final training loss " << loss;
  // deterministic for a seed
  auto again = rbsm::nn::fit_tangent_regression(Y, T, *M, o);
  const auto a = model->parameters(), b = again->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}

TEST(Mlp, EarlyStoppingKeepsTheFitFromMemorisingNoise) {
  // Targets are pure tangent noise (the regression function is 0) on 128 points of S^2: a large MLP
  // trained for long memorises them, and its error against 0 on fresh points grows with training. Early
  // stopping on every 10th point returns the weights with the lowest held-out loss, which must be closer
  // to 0 than the fully trained ones (same seed, same data).
  const auto M = rbsm::geometry::make_manifold("sphere:2");
  rbsm::Rng rng(9, 0);
  const int n = 128;
  Mat Y(n, 3), T(n, 3);
  for (int i = 0; i < n; ++i) {
    const Vec z = M->sample_uniform(rng);
    Vec xi(3);
    for (int a = 0; a < 3; ++a) xi[a] = 3.0 * rng.normal();
    Y.row(i) = z.transpose();
    T.row(i) = (xi - xi.dot(z) * z).transpose();
  }
  rbsm::nn::RegressionOptions o;
  o.steps = 1500, o.batch = 64, o.seed = 1, o.lr = 5e-3, o.eval_every = 25;
  o.mlp.hidden(128).layers(3);
  auto error_against_zero = [&](rbsm::nn::MLP& model) {
    const auto field = rbsm::nn::mlp_field(model, *M);
    rbsm::Rng test(10, 0);
    double e = 0;
    for (int k = 0; k < 400; ++k) e += field(M->sample_uniform(test)).squaredNorm() / 400;
    return e;
  };
  auto stopped = rbsm::nn::fit_tangent_regression(Y, T, *M, o);
  o.validation_fraction = 0;
  auto full = rbsm::nn::fit_tangent_regression(Y, T, *M, o);
  const double e_stopped = error_against_zero(stopped), e_full = error_against_zero(full);
  EXPECT_LT(e_stopped, 0.5 * e_full) << "early-stopped " << e_stopped << ", fully trained " << e_full;
  o.validation_fraction = 1.0;  // nothing left to fit
  EXPECT_THROW(rbsm::nn::fit_tangent_regression(Y, T, *M, o), rbsm::InvalidArgument);
}
