// Samplers on an analytic target: data N(m, s^2 I) in R^D has the exact VP score
//   s(x, t) = -(x - alpha_t m) / (alpha_t^2 s^2 + sigma_t^2),
// so each sampler's output must have mean m and variance s^2, and its snapshot x_t the marginal
// N(alpha_t m, alpha_t^2 s^2 + sigma_t^2). Tolerances: 4.5 standard errors (Bonferroni over the
// 3 samplers x 2 times x (D means + 1 pooled variance) = 54 comparisons at family level 0.05 needs
// |z| < 3.9; 4.5 leaves room) plus a stated discretisation allowance.
#include <cmath>

#include <gtest/gtest.h>

#include "diffusion_fixtures.hpp"

#include "rbsm/error.hpp"
#include "rbsm/nn/sampler.hpp"

namespace rbsm::nn {
namespace {
namespace fs = std::filesystem;

constexpr std::int64_t kN = 4000, kD = 8;
constexpr double kS = 0.5;

torch::Tensor target_mean() { return torch::linspace(-0.6, 0.6, kD, torch::kFloat32); }

ScoreFn gaussian_score(const VPSDE& sde) {
  const auto m = target_mean();
  return [sde, m](const torch::Tensor& x, const torch::Tensor& t) {
    const auto a = broadcast_to_batch(sde.alpha(t), x), sg = broadcast_to_batch(sde.sigma(t), x);
    return -(x - a * m) / (a * a * kS * kS + sg * sg);
  };
}

void expect_moments(const torch::Tensor& x, const torch::Tensor& mean, double var, double allowance,
                    const std::string& what) {
  ASSERT_EQ(x.sizes(), (std::vector<std::int64_t>{kN, kD}));
  const auto xd = x.to(torch::kFloat64);
  const auto mu = xd.mean(0);
  const double se_mean = std::sqrt(var / kN);
  for (int d = 0; d < kD; ++d)
    EXPECT_NEAR(mu[d].item<double>(), mean[d].item<double>(), 4.5 * se_mean + allowance) << what << " mean, dim " << d;
  // Pooled variance over the D coordinates: relative standard error sqrt(2 / (D (N - 1))).
  const double v = (xd - mu).pow(2).sum(0).div(kN - 1).mean().item<double>();
  EXPECT_NEAR(v / var, 1.0, 4.5 * std::sqrt(2.0 / (kD * (kN - 1))) + allowance) << what << " variance";
}

class GaussianTarget : public ::testing::TestWithParam<SamplerKind> {};

TEST_P(GaussianTarget, OutputAndSnapshotMomentsMatch) {
  torch::set_num_threads(1);
  const VPSDE sde;
  const auto opts = SamplerOptions().kind(GetParam()).steps(500).snapshot_times({0.3});
  const auto r = sample(gaussian_score(sde), sde, {kN, kD}, opts, 11, torch::kCPU);
  // Discretisation allowance: 0.02 absolute on the mean, 2% relative on the variance (500 steps;
  // the final time eps = 1e-3 adds sigma_eps^2 = 2e-5, negligible).
  expect_moments(r.x0, target_mean(), kS * kS, 0.02, sampler_name(GetParam()) + " output");
  ASSERT_EQ(r.trajectory.times.size(), 1u);
  const double t = r.trajectory.times[0];
  EXPECT_LE(std::abs(t - 0.3), 0.5 * (1 - 1e-3) / 500 + 1e-12);  // the nearest grid time
  const double a = sde.alpha(t), sg = sde.sigma(t);
  expect_moments(r.trajectory.states[0], a * target_mean(), a * a * kS * kS + sg * sg, 0.02,
                 sampler_name(GetParam()) + " x_t at t = 0.3");
}

INSTANTIATE_TEST_SUITE_P(Samplers, GaussianTarget,
                         ::testing::Values(SamplerKind::EulerMaruyama, SamplerKind::PredictorCorrector,
                                           SamplerKind::ProbabilityFlow),
                         [](const auto& info) { return sampler_name(info.param); });

TEST(Sampler, AWrongScoreIsDetected) {
  // Sanity check of the test's power: with the score of N(0, I) data the output variance is 1, not s^2.
  const VPSDE sde;
  const auto r = sample([](const torch::Tensor& x, const torch::Tensor&) { return -x; }, sde, {kN, kD},
                        SamplerOptions().steps(200), 3, torch::kCPU);
  const double v = r.x0.var(0).mean().item<double>();
  EXPECT_GT(std::abs(v / (kS * kS) - 1.0), 0.5);
}

TEST(Sampler, DeterministicInTheSeed) {
  const VPSDE sde;
  const auto f = gaussian_score(sde);
  const auto o = SamplerOptions().kind(SamplerKind::PredictorCorrector).steps(20);
  const auto a = sample(f, sde, {16, kD}, o, 5, torch::kCPU).x0;
  EXPECT_TRUE(torch::equal(a, sample(f, sde, {16, kD}, o, 5, torch::kCPU).x0));
  EXPECT_FALSE(torch::equal(a, sample(f, sde, {16, kD}, o, 6, torch::kCPU).x0));
}

TEST(Sampler, InvalidOptions) {
  EXPECT_THROW(parse_sampler("rk45"), InvalidArgument);
  EXPECT_EQ(parse_sampler("ode"), SamplerKind::ProbabilityFlow);
  EXPECT_THROW(SamplerOptions().steps(0).validate(), InvalidArgument);
  EXPECT_THROW(SamplerOptions().eps(0).validate(), InvalidArgument);
  EXPECT_THROW(SamplerOptions().snapshot_times({1.5}).validate(), InvalidArgument);
  EXPECT_THROW(SamplerOptions().snapshot_times({1e-4}).validate(), InvalidArgument);
}

TEST(Sampler, ModelSamplesAndTrajectoryFile) {
  torch::set_num_threads(1);
  const auto dir = testing::fresh_dir("sampler");
  train_score_model(testing::bar_images(16), testing::tiny_unet(), VPSDE(), testing::fast_train(2), dir, torch::kCPU);
  const auto model = load_score_model(dir, torch::kCPU);
  Trajectory traj;
  const auto opts = SamplerOptions().steps(10).snapshot_times({1.0, 0.5, 0.05});
  const auto img = sample_images(model, 5, opts, 1, &traj, /*batch=*/2);
  EXPECT_EQ(img.sizes(), (std::vector<std::int64_t>{5, 1, 28, 28}));
  EXPECT_GE(img.min().item<double>(), 0.0);
  EXPECT_LE(img.max().item<double>(), 1.0);
  ASSERT_EQ(traj.states.size(), 3u);
  EXPECT_EQ(traj.states[1].sizes(), (std::vector<std::int64_t>{5, 1, 28, 28}));
  EXPECT_DOUBLE_EQ(traj.times[0], 1.0);
  // Each snapshot is at the grid time nearest to the request: within half a step (dt = (1 - eps) / 10).
  const double dt = (1.0 - opts.eps()) / 10.0;
  for (int k = 0; k < 3; ++k) EXPECT_LE(std::abs(traj.times[k] - opts.snapshot_times()[k]), 0.5 * dt + 1e-12) << k;
  EXPECT_DOUBLE_EQ(traj.times[1], 1.0 - 5.0 * dt);  // 0.5 is 5.005 steps from t = 1
  save_trajectory(dir / "trajectory.pt", traj, img);
  torch::Tensor back_img;
  const auto back = load_trajectory(dir / "trajectory.pt", &back_img);
  EXPECT_EQ(back.times, traj.times);
  EXPECT_EQ(back.requested_times, traj.requested_times);
  for (int k = 0; k < 3; ++k) EXPECT_TRUE(torch::equal(back.states[k], traj.states[k]));
  EXPECT_TRUE(torch::equal(back_img, img));
  EXPECT_THROW(load_trajectory(dir / "checkpoint.pt"), IoError);
  EXPECT_THROW(load_trajectory(dir / "missing.pt"), IoError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rbsm::nn
