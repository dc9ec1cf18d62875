// Random Fourier features of the fit network and the batched MALA of fit::sample_model (issue 13,
// docs/fit.md §2 and §6).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/langevin.hpp"

namespace rbsm::fit {
namespace {

namespace fs = std::filesystem;

NoiseNetOptions fourier_net(std::int64_t dim, Parametrisation p = Parametrisation::energy) {
  NoiseNetOptions o;
  o.dim = dim;
  o.width = 32;
  o.depth = 2;
  o.frequencies = 4;
  o.fourier_features = 16;
  o.fourier_scale = 8;
  o.parametrisation = p;
  return o;
}

Mat uniform_points(const geometry::Manifold& M, int n, std::uint64_t seed) {
  Rng rng(seed, 0);
  Mat Z(n, M.ambient_dim());
  for (int i = 0; i < n; ++i) Z.row(i) = M.sample_uniform(rng).transpose();
  return Z;
}

TEST(FitFourier, MatrixShapesAndDescription) {
  const NoiseNetOptions o = fourier_net(3);
  const torch::Tensor B = fourier_matrix(o);
  ASSERT_EQ(B.sizes(), (std::vector<std::int64_t>{16, 3}));
  // a pure function of (N, D, S): S times the normals of Rng(kFourierSeed, 0), row by row
  Rng rng(kFourierSeed, 0);
  for (int i = 0; i < 16; ++i)
    for (int k = 0; k < 3; ++k) EXPECT_EQ(B[i][k].item<double>(), 8.0 * rng.normal());
  EXPECT_TRUE(torch::equal(B, fourier_matrix(fourier_net(3))));
  NoiseNetOptions none = o;
  none.fourier_features = 0;
  EXPECT_FALSE(fourier_matrix(none).defined());

  torch::manual_seed(0);
  NoiseNet e(o), v(fourier_net(3, Parametrisation::vector));
  EXPECT_EQ(e->input->weight.size(1), 3 + 2 * 16 + 2 * 4);  // [x, sin Bx, cos Bx, gamma(log sigma)]
  const torch::Tensor x = torch::randn({5, 3}, torch::kFloat64), s = torch::full({5}, 0.1, torch::kFloat64);
  EXPECT_EQ(e->forward(x, s).sizes(), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(v->forward(x, s).sizes(), (std::vector<std::int64_t>{5, 3}));
  EXPECT_EQ(e->parameters().size(), NoiseNet(none)->parameters().size()) << "B must not be a parameter";

  // description round trip; an old description (no fourier keys) reads as none and writes back unchanged
  const NoiseNetOptions back = NoiseNetOptions::from_json(o.to_json());
  EXPECT_EQ(back.fourier_features, 16);
  EXPECT_EQ(back.fourier_scale, 8.0);
  const nlohmann::json old = {
      {"dim", 3}, {"width", 32}, {"depth", 2}, {"frequencies", 4}, {"parametrisation", "energy"}};
  const NoiseNetOptions o_old = NoiseNetOptions::from_json(old);
  EXPECT_EQ(o_old.fourier_features, 0);
  EXPECT_EQ(o_old.to_json(), old);
  NoiseNetOptions bad = o;
  bad.fourier_features = -1;
  EXPECT_THROW(bad.validate(), InvalidArgument);
  bad = o;
  bad.fourier_scale = 0;
  EXPECT_THROW(bad.validate(), InvalidArgument);
  nlohmann::json no_scale = o.to_json();
  no_scale.erase("fourier_scale");
  EXPECT_THROW(NoiseNetOptions::from_json(no_scale), IoError);
}

TEST(FitFourier, EnergyScoreIsTheTangentGradientOfTheEnergy) {
  // P_T grad_x E by autograd through sin/cos(B x) against central differences along M
  FitOptions fo;
  fo.manifold = "sphere:2";
  fo.net = fourier_net(3);
  torch::manual_seed(2);
  NoiseNet net(fo.net);
  {
    torch::NoGradGuard g;
    net->output->weight.mul_(20.0);
  }
  FitModel m(fo, net, {});
  const auto& M = m.manifold();
  const Mat Z = uniform_points(M, 6, 3);
  for (const double sigma : {0.02, 0.3}) {
    const Mat S = m.score(Z, sigma);
    Vec E;
    Mat S2;
    m.energy_and_score(Z, sigma, E, S2);
    EXPECT_LT((S2 - S).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((E - m.energy(Z, sigma)).cwiseAbs().maxCoeff(), 1e-12);
    for (int i = 0; i < Z.rows(); ++i) {
      const Vec z = Z.row(i).transpose();
      const Mat Ef = M.tangent_frame(z);
      for (int a = 0; a < Ef.cols(); ++a) {
        const double h = 1e-6;
        Mat P(2, 3);
        P.row(0) = M.project(z + h * Ef.col(a)).transpose();
        P.row(1) = M.project(z - h * Ef.col(a)).transpose();
        const Vec e = m.energy(P, sigma);
        const double fd = (e[0] - e[1]) / (2 * h);
        EXPECT_NEAR(S.row(i).dot(Ef.col(a)), fd, 1e-5 * (1 + std::abs(fd))) << "sigma " << sigma;
      }
    }
  }
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm_fit_sharp_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TEST(FitFourier, CheckpointRoundTripAndBitIdenticalResume) {
  // 12 steps in one go vs 6 + resume 6 with Fourier features: the resumed run rebuilds the same B from the
  // checkpoint's description, so every parameter is bit-identical; the loaded model has the options.
  Mat train = uniform_points(*geometry::make_manifold("sphere:2"), 200, 5), val = train.topRows(40);
  FitOptions o;
  o.net = fourier_net(3);
  o.target = Target::raw;
  o.steps = 12;
  o.batch = 32;
  o.eval_every = 4;
  o.val_examples = 64;
  o.checkpoint_every = 100;
  o.patience = 0;
  o.levels = 4;
  const fs::path a = fresh_dir("a"), b = fresh_dir("b");
  torch::set_num_threads(1);
  train_fit(train, val, o, a);
  int polls = 0;
  FitHooks stop;
  stop.should_stop = [&polls] { return polls++ == 6; };
  EXPECT_TRUE(train_fit(train, val, o, b, false, stop).stopped);
  train_fit(train, val, o, b, /*resume=*/true);
  FitModel ma = FitModel::load(a), mb = FitModel::load(b);
  EXPECT_EQ(ma.options().net.fourier_features, 16);
  EXPECT_EQ(ma.options().net.fourier_scale, 8.0);
  EXPECT_TRUE(torch::equal(ma.net()->fourier, fourier_matrix(o.net)));
  const auto pa = ma.net()->parameters(), pb = mb.net()->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
  // resuming with other Fourier options is refused
  FitOptions other = o;
  other.net.fourier_scale = 4;
  EXPECT_THROW(train_fit(train, val, other, b, true), InvalidArgument);
  for (const auto& d : {a, b}) fs::remove_all(d);
}

// ------------------------------------------------------------------------------------------ batched MALA
// vMF(kappa, mu) on S^2 in closed form: log p = kappa <mu, z>, grad_M log p = kappa P_T mu.
BatchedLogTarget vmf_target(double kappa, const Vec& mu, double drift_factor) {
  return [=](const Mat& Z, Vec& logp, Mat& drift) {
    logp = kappa * (Z * mu);
    drift.resize(Z.rows(), Z.cols());
    for (Eigen::Index i = 0; i < Z.rows(); ++i) {
      const Vec z = Z.row(i).transpose();
      drift.row(i) = (drift_factor * kappa * (mu - z.dot(mu) * z)).transpose();
    }
  };
}

TEST(FitMala, BatchedMalaEqualsTheChainByChainSampler) {
  // the same chains (Rng(seed, c)), the same proposal and ratio as sampling::run_langevin's generic MALA:
  // the final states agree to rounding (the ratio's terms are summed in another order)
  const auto M = geometry::make_manifold("sphere:2");
  const Vec mu = Vec::Unit(3, 2);
  const double kappa = 6, h = 0.03;
  const Mat Z0 = uniform_points(*M, 64, 7);
  const SampleResult r = mala_batched(*M, vmf_target(kappa, mu, 1.0), Z0, 40, h, 11, 1);
  sampling::Drift d;
  d.name = "vmf";
  d.field = [&](const Vec& z) { return Vec(kappa * (mu - z.dot(mu) * z)); };
  d.log_target = [&](const Vec& z) { return kappa * mu.dot(z); };
  sampling::LangevinOptions lo;
  lo.chains = 64;
  lo.steps = 40;
  lo.burn_in = 39;
  lo.record_every = 1;
  lo.metropolis = true;
  lo.force_generic = true;
  lo.step_size = h;
  lo.seed = 11;
  lo.threads = 1;
  lo.initial = Z0;
  const sampling::LangevinResult ref = sampling::run_langevin(*M, d, lo);
  EXPECT_LT((r.samples - ref.samples).cwiseAbs().maxCoeff(), 1e-9);
  EXPECT_NEAR(r.acceptance_rate, ref.acceptance_rate, 1e-12);
}

TEST(FitMala, BatchedMalaSamplesAVmfWhateverTheDriftAndThreads) {
  // 2000 chains from uniform, 200 steps: the law of t = <mu, z> must be the vMF's, density prop. to
  // exp(kappa t) on [-1, 1]. Kolmogorov-Smirnov against the closed-form CDF (alpha = 0.001: D < 1.95 /
  // sqrt(n) = 0.044) and the mean against coth(kappa) - 1/kappa (4 standard errors). MALA is exact for
  // any drift: the law must hold with the right drift, half of it, and none (a random-walk Metropolis).
  const auto M = geometry::make_manifold("sphere:2");
  const Vec mu = Vec(Eigen::Vector3d(1, 2, 2) / 3.0);
  const double kappa = 10;
  const int n = 2000;
  const Mat Z0 = uniform_points(*M, n, 3);
  for (const double factor : {1.0, 0.5, 0.0}) {
    const SampleResult r = mala_batched(*M, vmf_target(kappa, mu, factor), Z0, 200, 0.02, 5, 1);
    EXPECT_GT(r.acceptance_rate, 0.2);
    EXPECT_LT(r.acceptance_rate, 1.0);
    std::vector<double> t(n);
    double mean = 0;
    Vec perp = Vec::Zero(3);
    for (int i = 0; i < n; ++i) {
      t[i] = r.samples.row(i).dot(mu);
      mean += t[i] / n;
      perp += (r.samples.row(i).transpose() - t[i] * mu) / n;
    }
    std::sort(t.begin(), t.end());
    double ks = 0;
    const double norm = std::exp(kappa) - std::exp(-kappa);
    for (int i = 0; i < n; ++i) {
      const double F = (std::exp(kappa * t[i]) - std::exp(-kappa)) / norm;
      ks = std::max({ks, std::abs(F - static_cast<double>(i) / n), std::abs(F - static_cast<double>(i + 1) / n)});
    }
    EXPECT_LT(ks, 1.95 / std::sqrt(static_cast<double>(n))) << "drift x" << factor;
    const double mean_t = 1 / std::tanh(kappa) - 1 / kappa;  // A(kappa); Var t = A'(kappa)
    const double sd_t = std::sqrt(1 / (kappa * kappa) - 1 / std::pow(std::sinh(kappa), 2));
    EXPECT_NEAR(mean, mean_t, 4 * sd_t / std::sqrt(static_cast<double>(n))) << "drift x" << factor;
    // E[z - <mu, z> mu] = 0 (rotational symmetry about mu); each coordinate's sd is below sqrt(1 - t^2) ~ 0.45
    EXPECT_LT(perp.norm(), 4 * 0.45 / std::sqrt(static_cast<double>(n))) << "drift x" << factor;
  }
  // the thread count changes no digit
  const Mat few = Z0.topRows(300);
  const SampleResult one = mala_batched(*M, vmf_target(kappa, mu, 1.0), few, 30, 0.02, 5, 1);
  const SampleResult two = mala_batched(*M, vmf_target(kappa, mu, 1.0), few, 30, 0.02, 5, 2);
  EXPECT_TRUE(one.samples == two.samples);
  EXPECT_EQ(one.acceptance_rate, two.acceptance_rate);
}

TEST(FitMala, SampleModelDependsOnTheSeedOnly) {
  FitOptions fo;
  fo.manifold = "sphere:2";
  fo.net = fourier_net(3);
  fo.levels = 4;
  torch::manual_seed(4);
  FitModel m(fo, NoiseNet(fo.net), {});
  SampleOptions so;
  so.n = 200;
  so.steps_per_level = 2;
  so.mala_steps = 10;
  so.sigma_eval = 0.1;
  so.seed = 9;
  so.threads = 1;
  const SampleResult a = sample_model(m, so);
  so.threads = 2;
  const SampleResult b = sample_model(m, so);
  EXPECT_TRUE(a.samples == b.samples);
  EXPECT_GT(a.acceptance_rate, 0.0);
  so.seed = 10;
  EXPECT_FALSE(sample_model(m, so).samples == a.samples);
  for (Eigen::Index i = 0; i < a.samples.rows(); ++i) EXPECT_NEAR(a.samples.row(i).norm(), 1.0, 1e-12);
}

}  // namespace
}  // namespace rbsm::fit
