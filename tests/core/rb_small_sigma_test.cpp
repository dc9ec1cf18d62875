// The exact RB target at small sigma (issue 16, "valid input refused"; docs/targets.md §3.3): below the
// switch point sigma_s the sigma^2 expansion replaces the quadrature. Justified here against the
// quadrature itself: at sigma_s the two agree to the quadrature's tolerance, their difference shrinks
// like sigma^4, and below sigma_s the quadrature (where rounding still lets it run) agrees with the
// expansion that exact_rb_target returns.
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/rb_exact.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace {

using rbsm::dsm::Vec;

struct Case {
  std::string manifold, dist;
  Vec y;
};

std::vector<Case> cases() {
  Vec ys(3), yt(3);
  ys << 0.3, 0.4, 0.8;
  yt << 3.5, 0.5, 0.6;
  return {{"sphere:2", "vmf:kappa=2", ys}, {"torus:3,1", "vonmises:kappa1=1,kappa2=2", yt}};
}

struct Problem {
  std::shared_ptr<const rbsm::geometry::Manifold> M;
  std::unique_ptr<rbsm::dist::Density> q;
  rbsm::dsm::ExpansionTerms terms;
  explicit Problem(const Case& c)
      : M(rbsm::geometry::make_manifold(c.manifold)), q(rbsm::dist::make_density(c.dist, M)) {
    terms = rbsm::dsm::expansion_terms(*q, c.y);
  }
};

// The switch is justified: at sigma_s the quadrature and the expansion agree to the tolerance 1e-10 |r|.
TEST(RbSmallSigma, QuadratureAndExpansionAgreeAtTheSwitchPoint) {
  for (const auto& c : cases()) {
    const Problem s(c);
    const double s_sw = rbsm::dsm::exact_rb_switch_sigma(*s.M);
    EXPECT_EQ(s_sw, 1e-3);
    const Vec r = rbsm::dsm::exact_rb_quadrature(*s.q, c.y, s_sw, 1e-10);
    const double e = (r - s.terms.expansion(s_sw)).norm();
    EXPECT_LT(e, 1e-10 * r.norm()) << c.dist;
    // and the sigma^2 term itself is resolved there (it is 1e4 times the tolerance)
    EXPECT_GT((r - s.terms.grad).norm(), 1e3 * e) << c.dist;
  }
}

// The remainder r - expansion is O(sigma^4): halving sigma divides it by 16 (to O(sigma^2)).
TEST(RbSmallSigma, RemainderOfTheExpansionScalesLikeSigma4) {
  for (const auto& c : cases()) {
    const Problem s(c);
    const double s1 = 0.02, s2 = 0.01;
    const double e1 = (rbsm::dsm::exact_rb_quadrature(*s.q, c.y, s1, 1e-10) - s.terms.expansion(s1)).norm();
    const double e2 = (rbsm::dsm::exact_rb_quadrature(*s.q, c.y, s2, 1e-10) - s.terms.expansion(s2)).norm();
    EXPECT_NEAR(e1 / e2, 16.0, 1.0) << c.dist << ": " << e1 << " " << e2;
  }
}

// Every sigma down to the smallest accepted: finite, the expansion below sigma_s with a stated remainder
// bound, and where the quadrature still runs below sigma_s it agrees with what exact_rb_target returns.
TEST(RbSmallSigma, FiniteAndWithinTheToleranceDownToTheSmallestSigma) {
  for (const auto& c : cases()) {
    const Problem s(c);
    const double s_sw = rbsm::dsm::exact_rb_switch_sigma(*s.M), floor = rbsm::dsm::exact_rb_quadrature_floor(*s.M);
    for (double sigma : {1e-3, 3e-4, 1e-4, 1e-6, 1e-12, 1e-50}) {
      rbsm::dsm::ExactRbInfo info;
      const Vec r = rbsm::dsm::exact_rb_target(*s.q, c.y, sigma, 1e-10, &info);
      ASSERT_TRUE(r.allFinite()) << c.dist << " sigma " << sigma;
      EXPECT_EQ(info.expansion, sigma < s_sw) << c.dist << " sigma " << sigma;
      const double diff = (r - s.terms.expansion(sigma)).norm();
      if (!info.expansion) {
        EXPECT_LT(diff, 1e-10 * r.norm()) << c.dist << " sigma " << sigma;
        continue;
      }
      EXPECT_EQ(diff, 0.0);
      const double scale = std::max(r.norm(), s.terms.grad.norm()) * (1 + 1e-6);
      EXPECT_LE(info.remainder, 1e-10 * scale * std::pow(sigma / s_sw, 4)) << c.dist << " sigma " << sigma;
      if (sigma >= floor) {  // the independent check: the quadrature at sigma itself
        const Vec quad = rbsm::dsm::exact_rb_quadrature(*s.q, c.y, sigma, 1e-10);
        EXPECT_LT((quad - r).norm(), 1e-10 * r.norm()) << c.dist << " sigma " << sigma;
      }
    }
  }
}

// Continuity across the switch: just below and at sigma_s the two methods give the same r.
TEST(RbSmallSigma, ContinuousAcrossTheSwitchPoint) {
  for (const auto& c : cases()) {
    const Problem s(c);
    const double s_sw = rbsm::dsm::exact_rb_switch_sigma(*s.M);
    rbsm::dsm::ExactRbInfo below, at;
    const Vec r_below = rbsm::dsm::exact_rb_target(*s.q, c.y, s_sw * (1 - 1e-9), 1e-10, &below);
    const Vec r_at = rbsm::dsm::exact_rb_target(*s.q, c.y, s_sw, 1e-10, &at);
    EXPECT_TRUE(below.expansion);
    EXPECT_FALSE(at.expansion);
    EXPECT_LT((r_below - r_at).norm(), 1e-10 * r_at.norm()) << c.dist;
  }
}

// A concentration whose sigma^4 term is still large at sigma_s: between the expansion's reach and the
// quadrature's floor the target is out of reach, and the error names both limits.
TEST(RbSmallSigma, OutOfReachNamesTheLimits) {
  std::shared_ptr<const rbsm::geometry::Manifold> M = rbsm::geometry::make_manifold("torus:3,1");
  const auto q = rbsm::dist::make_density("vonmises:kappa1=3000,kappa2=3000", M);
  Vec y(3);
  y << 3.5, 0.5, 0.6;
  std::string msg;
  try {
    rbsm::dsm::exact_rb_target(*q, y, 3e-4, 1e-10);
  } catch (const rbsm::InvalidArgument& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("is out of reach: the quadrature is limited by rounding below sigma = 0.0005"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("or --method estimator"), std::string::npos) << msg;
}

}  // namespace
