// Chi-square tests of the closed-form manifolds' samplers (sphere.hpp, torus.hpp; docs/geometry.md)
// against the volume measure: the coordinate marginal of the sphere, the uniform angles of the Clifford
// torus, the area element of the torus of revolution, and the power of the test itself.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"
#include "rbsm/stats.hpp"

namespace {

using namespace rbsm::geometry;
using rbsm::kPi;

// ------------------------------------------------------------------ chi-square machinery
// Family of chi-square tests in this file, Bonferroni-corrected to a family-wise level of 1e-3.
constexpr int kChiSquareTests = 7;
constexpr double kFamilyAlpha = 1e-3;

/// The chi-square p-value of `counts` against bin probabilities `probs` (which must sum to 1).
double chi_square_p_value(const std::vector<int>& counts, const std::vector<double>& probs) {
  double p_total = 0;
  for (double p : probs) p_total += p;
  EXPECT_NEAR(p_total, 1.0, 1e-9) << "bin probabilities must sum to 1";
  const double stat = rbsm::stats::chi_square_statistic(std::vector<long>(counts.begin(), counts.end()), probs);
  return rbsm::stats::chi_square_sf(stat, static_cast<double>(counts.size()) - 1);
}

/// Bins of an angle in [-pi, pi) into `bins` equal cells.
int angle_bin(double a, int bins) {
  const int b = static_cast<int>(std::floor((a + kPi) / (2 * kPi) * bins));
  return std::clamp(b, 0, bins - 1);
}

void expect_chi_square_passes(const std::vector<int>& counts, const std::vector<double>& probs,
                              const std::string& what) {
  const double p = chi_square_p_value(counts, probs);
  EXPECT_GT(p, kFamilyAlpha / kChiSquareTests)
      << what << ": chi-square p-value " << p << " with " << counts.size() - 1 << " degrees of freedom";
}

TEST(ClosedFormSamplers, SphereCoordinateHasTheVolumeMarginal) {
  // Under the volume measure on S^d, t = z_1 has density proportional to (1 - t^2)^{(d-2)/2} on
  // [-1, 1] (uniform on S^2: Archimedes). Bin probabilities by Simpson's rule; S^1 by angle.
  const int n = 20000, bins = 20;
  for (int d : {2, 6, 10}) {
    const Sphere S(d);
    rbsm::Rng rng(50 + d);
    std::vector<int> counts(bins, 0);
    for (int i = 0; i < n; ++i) {
      const double t = S.sample_uniform(rng)[0];
      ++counts[std::clamp(static_cast<int>((t + 1) / 2 * bins), 0, bins - 1)];
    }
    auto f = [d](double t) { return std::pow(1 - t * t, 0.5 * (d - 2)); };
    std::vector<double> probs(bins);
    double total = 0;
    for (int b = 0; b < bins; ++b) {
      const double lo = -1 + 2.0 * b / bins, hi = lo + 2.0 / bins;
      const int m = 200;  // Simpson sub-intervals (even)
      double s = f(lo) + f(hi);
      for (int k = 1; k < m; ++k) s += (k % 2 ? 4 : 2) * f(lo + (hi - lo) * k / m);
      probs[b] = s * (hi - lo) / (3 * m);
      total += probs[b];
    }
    for (double& p : probs) p /= total;
    expect_chi_square_passes(counts, probs, "sphere:" + std::to_string(d));
  }
  const Sphere S1(1);
  rbsm::Rng rng(51);
  std::vector<int> counts(bins, 0);
  for (int i = 0; i < n; ++i) {
    const Vec z = S1.sample_uniform(rng);
    ++counts[angle_bin(std::atan2(z[1], z[0]), bins)];
  }
  expect_chi_square_passes(counts, std::vector<double>(bins, 1.0 / bins), "sphere:1");
}

TEST(ClosedFormSamplers, CliffordTorusAnglesAreUniform) {
  const CliffordTorus C(0.7, 1.6);
  rbsm::Rng rng(61);
  const int n = 32000, bins = 8;
  std::vector<int> counts(bins * bins, 0);
  for (int i = 0; i < n; ++i) {
    const Vec z = C.sample_uniform(rng);
    EXPECT_NEAR(z.head<2>().norm(), 0.7, 1e-14);
    ++counts[angle_bin(std::atan2(z[1], z[0]), bins) * bins + angle_bin(std::atan2(z[3], z[2]), bins)];
  }
  expect_chi_square_passes(counts, std::vector<double>(bins * bins, 1.0 / (bins * bins)), "clifford-torus");
}

/// P(a1 in [lo, hi)) under the area element r (R + r cos a1) da1 da2: (R (hi - lo) + r (sin hi - sin lo)) / (2 pi R).
std::vector<double> torus_tube_angle_probabilities(double R, double r, int bins) {
  std::vector<double> p(bins);
  for (int b = 0; b < bins; ++b) {
    const double lo = -kPi + 2 * kPi * b / bins, hi = lo + 2 * kPi / bins;
    p[b] = (R * (hi - lo) + r * (std::sin(hi) - std::sin(lo))) / (2 * kPi * R);
  }
  return p;
}

TEST(ClosedFormSamplers, TorusOfRevolutionFollowsTheAreaElement) {
  const double R = 3, r = 1;
  const TorusOfRevolution T(R, r);
  rbsm::Rng rng(71);
  const int n = 20000, bins = 20;
  std::vector<int> tube(bins, 0), axis(bins, 0);
  for (int i = 0; i < n; ++i) {
    const Vec z = T.sample_uniform(rng);
    const double rho = std::hypot(z[0], z[1]);
    EXPECT_NEAR(std::hypot(rho - R, z[2]), r, 1e-12);
    ++tube[angle_bin(std::atan2(z[2], rho - R), bins)];
    ++axis[angle_bin(std::atan2(z[1], z[0]), bins)];
  }
  expect_chi_square_passes(tube, torus_tube_angle_probabilities(R, r, bins), "torus a1");
  expect_chi_square_passes(axis, std::vector<double>(bins, 1.0 / bins), "torus a2");
}

TEST(ClosedFormSamplers, ChiSquareTestHasPowerAgainstUniformAngles) {
  // The naive sampler (a1 uniform) must fail the same test: the test can tell the difference.
  const TorusOfRevolution T(3, 1);
  rbsm::Rng rng(72);
  const int n = 20000, bins = 20;
  std::vector<int> tube(bins, 0);
  for (int i = 0; i < n; ++i) ++tube[angle_bin(rng.uniform(-kPi, kPi), bins)];
  EXPECT_LT(chi_square_p_value(tube, torus_tube_angle_probabilities(3, 1, bins)), kFamilyAlpha / kChiSquareTests);
}

}  // namespace
