// Tests of the post-hoc corrections and the drifts built from them (docs/langevin.md §2). Expected
// values come from closed forms of the densities (b_q, Delta_M log q: dist's closed forms and
// AutoDiff), from SPEC.md's expansion on spheres (b_q + K grad = (1 - d - kappa t) kappa P_T mu), and
// from the exact RB target by quadrature (dsm::VmfRbTarget); never from the code under test.
#include "rbsm/dsm/corrections.hpp"

#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/sampling/drifts.hpp"

using rbsm::geometry::Mat;
using rbsm::geometry::Vec;
namespace dsm = rbsm::dsm;
namespace rs = rbsm::sampling;

namespace {
std::shared_ptr<const rbsm::geometry::Manifold> manifold(const std::string& spec) {
  return rbsm::geometry::make_manifold(spec);
}
Vec point_on(const rbsm::geometry::Manifold& M, std::uint64_t seed) {
  rbsm::Rng rng(seed, 3);
  return M.sample_uniform(rng);
}
}  // namespace

TEST(Corrections, HeatTermOfTheScoreIsBq) {
  // 1/2 grad_M(div_M grad log q + |grad log q|^2) = b_q (definition), with div_M grad = Delta_M:
  // the finite-difference route against the densities' closed forms / AutoDiff.
  const std::vector<std::pair<std::string, std::string>> cases{
      {"sphere:2", "vmf:kappa=2"},
      {"sphere:6", "vmf:kappa=2"},
      {"torus:3,1", "vonmises:kappa1=1,kappa2=0.5"},
      {"clifford-torus:1,1", "vonmises:kappa1=1.5,kappa2=0.7"}};
  for (const auto& [ms, qs] : cases) {
    const auto M = manifold(ms);
    const auto q = rbsm::dist::make_density(qs, M);
    const dsm::TangentField s = [&](const Vec& z) { return q->grad_log(z); };
    for (std::uint64_t k = 0; k < 3; ++k) {
      const Vec z = point_on(*M, k);
      EXPECT_NEAR(dsm::tangent_divergence(*M, s, z), q->laplacian_log(z), 1e-7) << ms << " " << qs;
      EXPECT_LT((dsm::heat_term(*M, s, z) - q->heat_drift(z)).norm(), 1e-6 * (1 + q->heat_drift(z).norm()))
          << ms << " " << qs;
    }
  }
}

TEST(Corrections, EmbeddingDriftTermVanishesWhereIIIsParallel) {
  // E_M = 0 on spheres and the Clifford torus: the geometric correction equals the extrinsic one
  // exactly; on the torus of revolution they differ by sigma^2 E_M (E_M != 0 off a1 in {0, pi/2, pi}).
  const double sigma = 0.3;
  for (const std::string ms : {"sphere:2", "sphere:10", "clifford-torus:1,2"}) {
    const auto M = manifold(ms);
    for (std::uint64_t k = 0; k < 3; ++k) {
      const Vec z = point_on(*M, k);
      const Vec s = M->tangent_frame(z).col(0);
      EXPECT_EQ(dsm::geometric_correction(*M, z, s, sigma), dsm::extrinsic_correction(*M, z, s, sigma)) << ms;
    }
  }
  const auto T = std::make_shared<rbsm::geometry::TorusOfRevolution>(3, 1);
  const Vec z = T->point(0.7, 0.2);
  const Vec s = T->tangent_frame(z).col(1);
  const Vec diff = dsm::extrinsic_correction(*T, z, s, sigma) - dsm::geometric_correction(*T, z, s, sigma);
  // E_M = -R sin a1 cos a1 / (2 r (R + r cos a1)^3) e1 (SPEC.md: 1/2 k1 grad k1)
  const double a1 = 0.7, expected = -3 * std::sin(a1) * std::cos(a1) / (2 * std::pow(3 + std::cos(a1), 3));
  EXPECT_NEAR(diff.dot(T->tangent_frame(z).col(0)), sigma * sigma * expected, 1e-12);
}

TEST(Corrections, ZeroOnTheFlatTorusWhereTheyShouldBe) {
  // Clifford torus (Ric# = 0, E_M = 0), uniform q: grad = b_q = E_M = 0, so the first-order model is
  // exactly zero; a parallel (constant-coefficient) field has div = 0 and constant |s|^2, so its heat
  // term vanishes and the full correction reduces to the extrinsic one.
  const auto M = manifold("clifford-torus:1,1.5");
  const auto q = rbsm::dist::make_density("uniform", M);
  const auto* C = dynamic_cast<const rbsm::geometry::CliffordTorus*>(M.get());
  const dsm::TangentField parallel = [C](const Vec& z) {
    const Mat E = C->tangent_frame(z);
    return Vec(0.8 * E.col(0) - 0.3 * E.col(1));
  };
  for (std::uint64_t k = 0; k < 4; ++k) {
    const Vec z = point_on(*M, k);
    EXPECT_EQ(dsm::expansion_terms(*q, z).expansion(0.3).norm(), 0.0);
    EXPECT_LT(dsm::heat_term(*M, parallel, z).norm(), 1e-8);
    EXPECT_LT((dsm::full_correction(*M, parallel, z, 0.3) - dsm::extrinsic_correction(*M, z, parallel(z), 0.3)).norm(),
              1e-8);
  }
}

TEST(Corrections, AxialClosedFormOfTheFullCorrectionMatchesFiniteDifferences) {
  // rb-full on S^d for the exact vMF RB target: the closed form in t (docs/langevin.md §2.3) against the
  // generic finite differences along M.
  for (int d : {2, 6}) {
    const double sigma = 0.2;
    const auto M = manifold("sphere:" + std::to_string(d));
    Vec mu = Vec::Zero(d + 1);
    mu[0] = 1;
    const dsm::VmfRbTarget target(d, 2.0, mu, sigma);
    const dsm::TangentField r = [&](const Vec& y) { return target(y); };
    for (double t : {-0.6, 0.1, 0.8}) {
      const double g_closed = rs::axial_full_correction([&](double x) { return target.g(x); }, d, sigma, t);
      const double g_fd =
          rs::axial_coefficient([&](const Vec& z) { return dsm::full_correction(*M, r, z, sigma); }, mu, t);
      EXPECT_NEAR(g_closed, g_fd, 2e-5 * std::abs(g_closed)) << "d = " << d << " t = " << t;
    }
  }
}

TEST(Corrections, FullCorrectionRemovesTheSigmaSquaredTerm) {
  // r_sigma = grad + sigma^2 (b_q + K grad) + o(sigma^2) on S^6 (vMF, E = 0). After the full correction
  // the residual to grad is o(sigma^2): residual / sigma^2 shrinks (at least 2x when sigma halves),
  // while the extrinsic correction leaves sigma^2 b_q (its residual / sigma^2 tends to |b_q| != 0).
  const int d = 6;
  const double kappa = 2.0, t = 0.3;
  Vec mu = Vec::Zero(d + 1);
  mu[0] = 1;
  double previous_full = 0;
  for (double sigma : {0.1, 0.05, 0.025}) {
    const dsm::VmfRbTarget target(d, kappa, mu, sigma);
    const auto g = [&](double x) { return target.g(x); };
    const double full = std::abs(rs::axial_full_correction(g, d, sigma, t) - kappa) / (sigma * sigma);
    const double extrinsic = std::abs((1 - sigma * sigma * (1 - 0.5 * d)) * target.g(t) - kappa) / (sigma * sigma);
    const double bq = (0.5 * d + kappa * t) * kappa;  // |b_q| coefficient, SPEC.md
    EXPECT_NEAR(extrinsic, bq, 0.15 * bq) << sigma;
    if (previous_full > 0) EXPECT_LT(full, 0.5 * previous_full) << sigma;
    EXPECT_LT(full, 0.1 * bq) << sigma;
    previous_full = full;
  }
}

TEST(Drifts, SphereDriftsMatchTheExpansionClosedForms) {
  // make_drift's tabulated axial g against SPEC.md: true g = kappa; first-order
  // g = kappa + sigma^2 (1 - d - kappa t) kappa; source-expansion g = kappa (1 + sigma^2 (1 - d/2)).
  const int d = 10;
  const double kappa = 2, sigma = 0.29;
  const auto M = manifold("sphere:10");
  const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
  const auto tr = rs::make_drift("true", *q, sigma), fo = rs::make_drift("first-order", *q, sigma),
             se = rs::make_drift("source-expansion", *q, sigma);
  ASSERT_TRUE(tr.axial && fo.axial && se.axial);
  for (double t : {-0.9, -0.2, 0.4, 0.95}) {
    EXPECT_NEAR(tr.axial->g(t), kappa, 1e-9);
    EXPECT_NEAR(fo.axial->g(t), kappa + sigma * sigma * (1 - d - kappa * t) * kappa, 1e-6);
    EXPECT_NEAR(se.axial->g(t), kappa * (1 + sigma * sigma * (1 - 0.5 * d)), 1e-9);
  }
  EXPECT_THROW(rs::make_drift("nonsense", *q, sigma), rbsm::InvalidArgument);
  EXPECT_THROW(rs::make_drift("rb", *q, -1.0), rbsm::InvalidArgument);
  EXPECT_THROW(rs::make_drift("rb", *q, std::nan("")), rbsm::InvalidArgument);
}
