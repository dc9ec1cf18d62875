// Normalising constants on M (include/rbsm/numerics/cubature.hpp) and the KDE baseline (dist/kde.hpp),
// against closed forms.
#include "rbsm/numerics/cubature.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/kde.hpp"
#include "rbsm/dist/matrix_fisher.hpp"
#include "rbsm/dist/special.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"

namespace rbsm::numerics {
namespace {

using geometry::make_manifold;
using rbsm::kPi;

TEST(GaussLegendre, ExactForDegreeTwoNMinusOne) {
  for (int n : {1, 2, 5, 8, 20}) {
    Vec x, w;
    gauss_legendre(n, x, w);
    for (int k = 0; k <= 2 * n - 1; ++k) {
      const double exact = k % 2 ? 0.0 : 2.0 / (k + 1);
      EXPECT_NEAR((x.array().pow(k) * w.array()).sum(), exact, 1e-14) << n << " " << k;
    }
  }
}

TEST(Cubature, VmfEnergyGivesTheVmfNormaliser) {
  const auto S = make_manifold("sphere:2");
  Vec mu(3);
  mu << 0.3, -0.5, 0.8;
  mu.normalize();
  for (double kappa : {0.5, 20.0, 3000.0}) {  // 3000: a peak of width 0.018 rad
    CubatureOptions o;
    o.rel_tol = 1e-10;
    const auto r = log_normaliser(
        *S, [&](const Mat& Z) { return Vec(kappa * (Z * mu)); }, o);
    EXPECT_EQ(r.method, "adaptive-cubature");
    EXPECT_TRUE(r.converged);
    EXPECT_NEAR(r.log_z, -dist::log_vmf_normaliser(2, kappa), 1e-8) << kappa;
  }
}

TEST(Cubature, ErrorEstimateIsHonestAtTheDefaultTolerance) {
  const auto S = make_manifold("sphere:2");
  Vec mu(3);
  mu << 0, 0.6, 0.8;
  const double kappa = 1e5;  // width 0.003 rad: the sharpest fitted models on the earth data
  const auto r = log_normaliser(*S, [&](const Mat& Z) { return Vec(kappa * (Z * mu)); });
  EXPECT_TRUE(r.converged);
  EXPECT_LE(std::abs(r.log_z + dist::log_vmf_normaliser(2, kappa)), 1e-4);
}

TEST(Cubature, UniformAndVonMisesOnTheTori) {
  for (const auto& [spec, area] : std::vector<std::pair<std::string, double>>{
           {"torus:3,1", 4 * kPi * kPi * 3}, {"clifford-torus:1,2", 4 * kPi * kPi * 2}}) {
    const auto T = make_manifold(spec);
    const auto r = log_normaliser(*T, [](const Mat& Z) { return Vec(Vec::Zero(Z.rows())); });
    EXPECT_NEAR(r.log_z, std::log(area), 1e-10) << spec;
  }
  // exp(k cos(a1 - 1) + k cos(a2 + 2)) times the area element r1 r2 = 2: Z = 2 (2 pi I_0(k))^2.
  const auto C = make_manifold("clifford-torus:1,2");
  const double k = 40;
  CubatureOptions o;
  o.rel_tol = 1e-10;
  const auto r = log_normaliser(
      *C,
      [&](const Mat& Z) {
        Vec E(Z.rows());
        for (Eigen::Index i = 0; i < Z.rows(); ++i)
          E[i] = k * std::cos(std::atan2(Z(i, 1), Z(i, 0)) - 1) + k * std::cos(std::atan2(Z(i, 3), Z(i, 2)) + 2);
        return E;
      },
      o);
  EXPECT_NEAR(r.log_z, std::log(2.0) + 2 * (std::log(2 * kPi) + dist::log_bessel_i(0, k)), 1e-8);
}

TEST(Cubature, So3ByTheThreeDimensionalRule) {
  // Uniform: vol(SO(3)) = 16 sqrt(2) pi^2 in the Frobenius metric; matrix Fisher exp(tr(F^T R)), F = diag(f):
  // Z = vol E_Haar exp(tr(F^T R)) by the independent 1-D integral of dist/matrix_fisher.hpp (Wood 1993).
  const auto M = make_manifold("so3");
  const auto u = log_normaliser(*M, [](const Mat& Z) { return Vec(Vec::Zero(Z.rows())); });
  EXPECT_EQ(u.method, "adaptive-cubature");
  EXPECT_NEAR(u.log_z, std::log(geometry::so3_volume()), 1e-10);
  for (const Eigen::Vector3d f : {Eigen::Vector3d(2, 1, 0.5), Eigen::Vector3d(8, 4, -1), Eigen::Vector3d(30, 25, 20)}) {
    CubatureOptions o;
    o.rel_tol = 1e-8;
    const auto r = log_normaliser(
        *M, [&](const Mat& Z) { return Vec(f[0] * Z.col(0) + f[1] * Z.col(4) + f[2] * Z.col(8)); }, o);
    EXPECT_TRUE(r.converged) << f.transpose();
    EXPECT_NEAR(r.log_z, std::log(geometry::so3_volume()) + dist::log_matrix_fisher_haar_mean(f), 1e-7)
        << f.transpose();
  }
}

TEST(Cubature, ImportanceSamplingElsewhereWithinItsStandardError) {
  const auto S = make_manifold("sphere:6");
  Vec mu = Vec::Zero(7);
  mu[0] = 1;
  CubatureOptions o;
  o.samples = 400'000;
  const auto r = log_normaliser(
      *S, [&](const Mat& Z) { return Vec(2.0 * (Z * mu)); }, o);
  EXPECT_EQ(r.method, "importance-sampling");
  EXPECT_GT(r.error, 0);
  EXPECT_LT(std::abs(r.log_z + dist::log_vmf_normaliser(6, 2.0)), 4 * r.error);  // 4 se
}

TEST(Kde, IntegratesToOneOnSphereAndTorus) {
  for (const std::string spec : {"sphere:2", "torus:3,1"}) {
    std::shared_ptr<const geometry::Manifold> M = make_manifold(spec);
    Rng rng(3, 0);
    Mat refs(50, M->ambient_dim());
    for (int i = 0; i < 50; ++i) refs.row(i) = M->sample_uniform(rng).transpose();
    const dist::KernelDensity kde(M, refs, 30.0);
    CubatureOptions o;
    o.rel_tol = 1e-9;
    const auto r = log_normaliser(
        *M, [&](const Mat& Z) { return kde.log_density(Z, 1); }, o);
    EXPECT_NEAR(r.log_z, 0.0, 1e-8) << spec;
  }
}

TEST(Kde, BandwidthOnValidationBeatsUniformOnConcentratedData) {
  std::shared_ptr<const geometry::Manifold> S = make_manifold("sphere:2");
  const auto q = dist::make_density("vmf:kappa=10", S);
  Rng rng(5, 0);
  Mat tr(2000, 3), va(500, 3);
  for (int i = 0; i < 2000; ++i) tr.row(i) = q->sample(rng).transpose();
  for (int i = 0; i < 500; ++i) va.row(i) = q->sample(rng).transpose();
  const auto bw = dist::choose_kde_bandwidth(S, tr, va);
  // The true entropy of vMF(10) on S^2 is -log C(10) - 10 coth(10) + 1 = 0.6985 nats (closed form);
  // a KDE is worse than the truth but far better than uniform (log 4 pi = 2.531).
  const double entropy = -dist::log_vmf_normaliser(2, 10) - 10 / std::tanh(10.0) + 1;
  EXPECT_GT(bw.val_nll, entropy - 0.1);
  EXPECT_LT(bw.val_nll, entropy + 0.15);
  EXPECT_GT(bw.kappa, 10);
}

}  // namespace
}  // namespace rbsm::numerics
