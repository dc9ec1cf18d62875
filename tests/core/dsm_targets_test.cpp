// DSM targets, the Pythagorean risk identity and the variance slope (docs/targets.md §1, §6).
#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/dsm/studies.hpp"
#include "rbsm/dsm/targets.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace {

using rbsm::dsm::Vec;

TEST(DsmTargets, DecompositionOfTheAmbientTarget) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("torus:3,1");
  const auto q = rbsm::dist::make_density("uniform", M);
  const auto p = rbsm::dsm::sample_pairs(*q, 0.2, 50, 1, 2);
  for (int i = 0; i < 50; ++i) {
    const Vec Z = p.Z.row(i).transpose(), X = p.X.row(i).transpose();
    const Vec y = M->project(X);
    const Vec raw = rbsm::dsm::raw_target(Z, X, 0.2), nor = rbsm::dsm::normal_target(*M, X, 0.2),
              tan = rbsm::dsm::tangent_target(*M, Z, X, 0.2);
    // raw = T + P_N(y)(Z - X)/sigma^2, and the normal target is normal at y.
    EXPECT_LT((M->tangent_projector(y) * raw - tan).norm(), 1e-10 * (1 + raw.norm()));
    EXPECT_LT((M->tangent_projector(y) * nor).norm(), 1e-9 * (1 + nor.norm()));
  }
  // Same pairs for any thread count.
  const auto a = rbsm::dsm::sample_pairs(*q, 0.2, 300, 4, 1), b = rbsm::dsm::sample_pairs(*q, 0.2, 300, 4, 2);
  EXPECT_EQ((a.X - b.X).cwiseAbs().maxCoeff(), 0.0);
}

// E|T - h|^2 = E|T - r|^2 + E|r - h|^2 for h a function of pi(X) (source document,
// "Rao-Blackwellization"): the cross term 2 E<T - r, r - h> vanishes. Monte Carlo with 60000 pairs
// on S^2, vMF(kappa = 2), sigma = 0.3, for h = grad log q and h = 0 (2 tests: 4.5 standard
// errors each, two-sided p ~ 7e-6 total). Power check: with r replaced by 1.3 r the cross term is
// more than 10 standard errors from 0.
TEST(DsmTargets, PythagoreanRiskIdentity) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:2");
  const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
  const double sigma = 0.3, kappa = 2.0;
  const int n = 60000;
  const auto p = rbsm::dsm::sample_pairs(*q, sigma, n, 11, 2);
  const auto g = rbsm::dsm::VmfRbTarget(2, kappa, Vec::Unit(3, 0), sigma).tabulate(48);
  for (double scale : {1.0, 1.3})
    for (int which : {0, 1}) {
      double lhs = 0, a = 0, b = 0, cross = 0, cross2 = 0;
      for (int i = 0; i < n; ++i) {
        const Vec Z = p.Z.row(i).transpose(), X = p.X.row(i).transpose();
        const Vec y = X.normalized();
        const Vec T = (Z - Z.dot(y) * y) / (sigma * sigma);
        const Vec pmu = Vec::Unit(3, 0) - y[0] * y;
        const Vec r = scale * g(y[0]) * pmu;
        const Vec h = which == 0 ? Vec(kappa * pmu) : Vec(Vec::Zero(3));
        lhs += (T - h).squaredNorm();
        a += (T - r).squaredNorm();
        b += (r - h).squaredNorm();
        const double c = 2 * (T - r).dot(r - h);
        cross += c;
        cross2 += c * c;
      }
      lhs /= n, a /= n, b /= n, cross /= n, cross2 /= n;
      const double se = std::sqrt((cross2 - cross * cross) / n);
      EXPECT_NEAR(lhs, a + b + cross, 1e-9 * lhs);  // algebra
      if (scale == 1.0)
        EXPECT_LT(std::abs(cross), 4.5 * se) << "h = " << (which == 0 ? "grad log q" : "0");
      else
        EXPECT_GT(std::abs(cross), 10 * se);
    }
}

// Theorem 1: sigma^2 E|T|^2 -> d, slope -2; E|r|^2 -> E|grad log q|^2 = kappa d A_{d+1}(kappa).
TEST(DsmTargets, VarianceSlopeAndBoundedRbMoment) {
  for (int d : {2, 6}) {
    std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("sphere:" + std::to_string(d));
    const auto q = rbsm::dist::make_density("vmf:kappa=2", M);
    const auto rows = rbsm::dsm::variance_study(*q, {0.01, 0.02, 0.04}, 20000, 0, 5, 2);
    std::vector<double> s, t;
    for (const auto& r : rows) {
      s.push_back(r.sigma);
      t.push_back(r.ET2);
      EXPECT_NEAR(r.ET2 * r.sigma * r.sigma, d, 4 * r.ET2_se * r.sigma * r.sigma + 0.01 * d) << "d " << d;
    }
    EXPECT_NEAR(rbsm::dsm::loglog_slope(s, t), -2.0, 0.03);
    // E|grad|^2 = kappa^2 E[1 - t^2] = kappa d A(kappa), A = I_{(d+1)/2}/I_{(d-1)/2}; d = 2: coth k - 1/k.
    if (d == 2) {
      const double expected = 2.0 * 2.0 * (1.0 / std::tanh(2.0) - 0.5);
      EXPECT_NEAR(rows[0].Er2, expected, 5 * rows[0].Er2_se + 0.01 * expected);
    }
    EXPECT_NEAR(rows[0].Er2 / rows[0].Egrad2, 1.0, 0.05);
  }
}

}  // namespace
