// Local intrinsic dimension (include/rbsm/anatomy/lid*.hpp): the three estimators on the exact VP score
// of a Gaussian on a subspace (closed-form answers), FLIPD against an independent derivation, the
// normal-bundle gap rule, the manifold samplers, and a short training on a low-dimensional sphere.
#include "rbsm/anatomy/lid.hpp"

#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "diffusion_fixtures.hpp"

#include "rbsm/anatomy/lid_bench.hpp"
#include "rbsm/anatomy/lid_data.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/error.hpp"

namespace rbsm::anatomy {
namespace {

struct GaussianCase {
  std::int64_t D = 20, d = 4;
  Eigen::MatrixXd Q;
  TimeScoreModel model;
  torch::Tensor x0;  // a point of the data set: Q z, z ~ N(0, I_d)
  double x0_norm2 = 0;
  GaussianCase() {
    Rng rng(7);
    Q = random_isometry(D, d, rng);
    model = gaussian_subspace_vp_score(Q);
    Eigen::VectorXd z(d);
    for (auto& v : z) v = rng.normal();
    const Eigen::VectorXd x = Q * z;
    x0 = torch::from_blob(const_cast<double*>(x.data()), {D}, torch::kDouble).clone();
    x0_norm2 = z.squaredNorm();
  }
};

TEST(Lid, RandomIsometryHasOrthonormalColumnsAndIsSeeded) {
  Rng a(3), b(3);
  const auto Q = random_isometry(30, 7, a);
  EXPECT_TRUE((Q.transpose() * Q).isIdentity(1e-12));
  EXPECT_TRUE(Q.isApprox(random_isometry(30, 7, b)));
  Rng c(1);
  EXPECT_THROW(random_isometry(3, 4, c), InvalidArgument);
}

TEST(Lid, SingularValueRuleOnGaussianSubspace) {
  GaussianCase g;
  LidOptions o;
  o.t = 0.01;
  Eigen::VectorXd s;
  EXPECT_EQ(singular_value_lid(g.model, g.x0, o, &s), g.d);
  // exact spectrum: 1 (x d, tangent), 1/sigma_t^2 (x D-d, normal)
  const double s2 = std::pow(g.model.sde.sigma(o.t), 2);
  for (int i = 0; i < g.d; ++i) EXPECT_NEAR(s(i), 1.0, 1e-9);
  for (int i = static_cast<int>(g.d); i < g.D; ++i) EXPECT_NEAR(s(i) * s2, 1.0, 1e-9);
}

TEST(Lid, NormalBundleOnGaussianSubspace) {
  GaussianCase g;
  LidOptions o;
  o.t = 0.01;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    Rng rng(seed);
    Eigen::VectorXd sv;
    EXPECT_EQ(normal_bundle_lid(g.model, g.x0, o, rng, &sv), g.d) << "seed " << seed;
    EXPECT_EQ(sv.size(), g.D);
  }
}

TEST(Lid, CentredNormalBundleOffTheManifold) {
  // x0 = a data point plus a normal offset of 20 sigma_t (a "held-out" point off the learned subspace).
  // Every score then carries the same pull -alpha_t m / sigma_t^2 back to the subspace, sqrt(K) alpha_t
  // |m| / sigma_t^2 in the first singular value against ~sqrt(K) / sigma_t for the normal noise: the
  // largest gap is after the first value and the plain rule says D - 1. Centring removes the common
  // row and recovers d; on the subspace itself centring changes nothing (still d).
  GaussianCase g;
  LidOptions o;
  o.t = 0.01;
  const double sigma = g.model.sde.sigma(o.t);
  Eigen::MatrixXd P = Eigen::MatrixXd::Identity(g.D, g.D) - g.Q * g.Q.transpose();
  Eigen::VectorXd m = P.col(0).normalized() * 20 * sigma;
  const auto off = g.x0 + torch::from_blob(m.data(), {g.D}, torch::kDouble).clone();
  for (std::uint64_t seed = 0; seed < 3; ++seed) {
    Rng r1(seed), r2(seed), r3(seed);
    o.normal_centre = false;
    EXPECT_EQ(normal_bundle_lid(g.model, off, o, r1), g.D - 1) << "seed " << seed;
    o.normal_centre = true;
    EXPECT_EQ(normal_bundle_lid(g.model, off, o, r2), g.d) << "seed " << seed;
    EXPECT_EQ(normal_bundle_lid(g.model, g.x0, o, r3), g.d) << "seed " << seed;
  }
}

TEST(Lid, LargestGapRule) {
  Eigen::VectorXd sv(6);
  sv << 10, 9.5, 9, 1, 0.9, 0.1;  // normal dimension 3 (gap 8 after the third)
  EXPECT_EQ(largest_gap_dimension(sv, 6), 3);
  EXPECT_EQ(largest_gap_dimension(sv, 10), 7);  // K < D: missing values count as tangent
  Eigen::VectorXd bad(3);
  bad << 1, 2, 0;
  EXPECT_THROW(largest_gap_dimension(bad, 3), InvalidArgument);
}

/// FLIPD as defined by LIDL in variance-exploding coordinates: D + d log rho / d log delta with
/// rho(., delta) = N(0, diag(1 + delta^2 (x d), delta^2 (x D-d))) at x_0, by central finite differences
/// in log delta, delta = sigma_t / alpha_t. Independent of the VP formula in lid.cpp.
double lidl_reference(std::int64_t D, std::int64_t d, double x0_norm2, double delta) {
  auto log_rho = [&](double log_delta) {
    const double e2 = std::exp(2 * log_delta);
    return -0.5 * x0_norm2 / (1 + e2) - 0.5 * d * std::log(1 + e2) - 0.5 * (D - d) * std::log(e2);
  };
  const double h = 1e-5, l = std::log(delta);
  return D + (log_rho(l + h) - log_rho(l - h)) / (2 * h);
}

TEST(Lid, FlipdMatchesClosedFormAndTheVarianceExplodingDefinition) {
  GaussianCase g;
  for (double t : {0.005, 0.01, 0.05, 0.3}) {
    LidOptions o;
    o.t = t;
    Rng rng(0);
    const auto f = flipd_lid(g.model, g.x0, o, rng);
    const double a = g.model.sde.alpha(t), s = g.model.sde.sigma(t);
    EXPECT_NEAR(f.estimate, flipd_gaussian_subspace(g.d, s * s, a * a * g.x0_norm2), 1e-8) << "t " << t;
    EXPECT_NEAR(f.estimate, lidl_reference(g.D, g.d, g.x0_norm2, s / a), 1e-5) << "t " << t;
    EXPECT_NEAR(f.trace, -(g.d + (g.D - g.d) / (s * s)), 1e-6 * (g.D / (s * s)));
  }
  LidOptions o;
  o.t = 0.01;
  Rng rng(0);
  EXPECT_NEAR(flipd_lid(g.model, g.x0, o, rng).estimate, g.d, 0.05);  // -> d as t -> 0
}

TEST(Lid, HutchinsonTraceIsUnbiasedWithinItsStandardError) {
  GaussianCase g;
  const double t = 0.01, s2 = std::pow(g.model.sde.sigma(t), 2);
  // J = -Q Q^T - (I - Q Q^T) / sigma^2; Var(v^T J v) = 2 (|J|_F^2 - sum_i J_ii^2) for Rademacher v
  const Eigen::MatrixXd P = g.Q * g.Q.transpose();
  const Eigen::MatrixXd J = -P - (Eigen::MatrixXd::Identity(g.D, g.D) - P) / s2;
  const double var = 2 * (J.squaredNorm() - J.diagonal().squaredNorm());
  const std::int64_t m = 400;
  Rng rng(11);
  const double est = score_divergence(g.model, g.x0, t, m, 64, rng);
  EXPECT_NEAR(est, J.trace(), 4.0 * std::sqrt(var / m));  // 4 standard errors
  EXPECT_GT(std::abs(est - J.trace()), 0.0);              // a real estimate, not the exact trace
}

TEST(Lid, OptionsAndMethodNamesAreChecked) {
  LidOptions o;
  o.t = 0;
  EXPECT_THROW(o.validate(), InvalidArgument);
  o.t = 0.01;
  o.kappa = -1;
  EXPECT_THROW(o.validate(), InvalidArgument);
  EXPECT_EQ(parse_lid_method("flipd"), LidMethod::Flipd);
  EXPECT_THROW(parse_lid_method("mle"), InvalidArgument);
}

// An image score model as a TimeScoreModel (what `lid-bench --checkpoint` runs the estimators on):
// row i of the flattened output is the model's score of image i at its own time t_i, in x's dtype.
TEST(LidModel, ImageModelAsTimeScoreIsItsScoreRowByRow) {
  torch::manual_seed(3);
  nn::LoadedScoreModel m;
  m.net = nn::UNet(nn::testing::tiny_unet()).ptr();
  m.net->eval();
  {  // random weights everywhere (a fresh U-Net's output convolution is zero, so its score would be 0)
    torch::NoGradGuard no_grad;
    for (auto& p : m.net->parameters()) p.normal_(0.0, 0.1);
  }
  for (auto& p : m.net->parameters()) p.set_requires_grad(false);
  const auto ts = model_time_score(m);
  EXPECT_EQ(ts.dim, 784);
  EXPECT_EQ(ts.dtype, torch::kFloat32);
  const auto x = torch::randn({3, 1, 28, 28});
  const auto t = torch::tensor({0.01, 0.3, 0.7}, torch::kFloat64);
  const auto flat = ts.score(x.reshape({3, 784}).to(torch::kFloat64), t);
  ASSERT_EQ(flat.sizes(), (std::vector<std::int64_t>{3, 784}));
  EXPECT_EQ(flat.scalar_type(), torch::kFloat64);
  for (std::int64_t i = 0; i < 3; ++i) {
    const auto own = m.score(x.narrow(0, i, 1), t[i].item<double>()).reshape({784}).to(torch::kFloat64);
    EXPECT_LT((flat[i] - own).abs().max().item<double>(), 1e-5 * (1 + own.abs().max().item<double>())) << "row " << i;
  }
  EXPECT_GT(flat.abs().max().item<double>(), 1e-2);  // a non-trivial score
  // the times are not interchangeable: row 0 at t = 0.7 differs
  const auto other = m.score(x.narrow(0, 0, 1), 0.7).reshape({784}).to(torch::kFloat64);
  EXPECT_GT((flat[0] - other).abs().max().item<double>(), 1e-3);
  // no network -> a one-line error
  EXPECT_THROW(model_time_score(nn::LoadedScoreModel{}), InvalidArgument);
}

TEST(LidData, SamplersLieOnTheirManifolds) {
  Rng rng(5);
  const auto sphere = make_embedded_manifold("sphere:d=3,D=12", rng);
  const auto torus = make_embedded_manifold("torus:d=2,D=9", rng);
  const auto two = make_embedded_manifold("two-spheres:d1=1,d2=4,D=8", rng);
  Rng s(1);
  const Eigen::MatrixXd X = sphere.sample(50, s);
  const Eigen::MatrixXd Z = X * sphere.embedding;  // latent coordinates
  for (Eigen::Index i = 0; i < X.rows(); ++i) {
    EXPECT_NEAR(Z.row(i).norm(), 1.0, 1e-12);
    EXPECT_NEAR((X.row(i) - Z.row(i) * sphere.embedding.transpose()).norm(), 0.0, 1e-12);  // in span(E)
  }
  const Eigen::MatrixXd T = torus.sample(50, s) * torus.embedding;
  for (Eigen::Index i = 0; i < T.rows(); ++i)
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(T.row(i).segment(2 * k, 2).norm(), 1.0, 1e-12);
  std::vector<int> dims;
  const Eigen::MatrixXd W = two.sample(400, s, &dims) * two.embedding;
  int first = 0;
  const double c = 1.2 / std::sqrt(2.0);
  for (Eigen::Index i = 0; i < W.rows(); ++i) {
    Eigen::VectorXd z = W.row(i).transpose();
    if (dims[i] == 1) {
      ++first;
      z(0) -= c, z(2) -= c;
      EXPECT_NEAR(z.head(2).norm(), 1.0, 1e-12);
      EXPECT_NEAR(z.tail(5).norm(), 0.0, 1e-12);
    } else {
      EXPECT_EQ(dims[i], 4);
      z(0) += c, z(2) += c;
      EXPECT_NEAR(z.tail(5).norm(), 1.0, 1e-12);
      EXPECT_NEAR(z.head(2).norm(), 0.0, 1e-12);
    }
  }
  EXPECT_NEAR(first, 200, 4 * 10);  // Binomial(400, 1/2): sd 10
}

TEST(LidData, BadSpecsAreOneLineErrors) {
  Rng rng(0);
  EXPECT_THROW(make_embedded_manifold("sphere:d=5,D=5", rng), InvalidArgument);
  EXPECT_THROW(make_embedded_manifold("torus:d=3,D=5", rng), InvalidArgument);
  EXPECT_THROW(make_embedded_manifold("two-spheres:d1=3,d2=3,D=7", rng), InvalidArgument);
  EXPECT_THROW(make_embedded_manifold("cube:d=2,D=5", rng), InvalidArgument);
  EXPECT_THROW(make_embedded_manifold("sphere:d=2.5,D=5", rng), InvalidArgument);
  EXPECT_THROW(split_manifold_list("sphere:d=2,D=5;;"), InvalidArgument);
  EXPECT_EQ(split_manifold_list("sphere:d=2,D=5; torus:d=1,D=2").size(), 2u);
}

TEST(LidBench, ShortTrainingOnACircleInR4RecoversItsDimension) {
  // ~9 s on one thread. Measured with these settings: MAE 0 / 0 / 0.05 (singular-value / normal-bundle /
  // FLIPD); 3000 steps are not enough (MAE about 1: the score has not yet learnt the radial contraction).
  LidBenchOptions o;
  o.points = 8;
  o.train_points = 4096;
  o.train.steps = 6000;
  o.train.hidden = 128;
  const auto r = run_lid_benchmark("sphere:d=1,D=4", o, 1);
  ASSERT_EQ(r.methods.size(), 3u);
  EXPECT_EQ(r.mean_true_dim, 1.0);
  for (const auto& m : r.methods) {
    SCOPED_TRACE(to_string(m.method));
    EXPECT_LE(m.mae, 0.5);  // stated tolerance: within half a dimension on average
  }
}

}  // namespace
}  // namespace rbsm::anatomy
