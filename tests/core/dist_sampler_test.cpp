// Chi-square tests of every exact sampler against its density (docs/densities.md §2.2, §3.2, §4.3).
// Fixed seeds; N = 20000 draws and 20 bins per test (bins with an expected count below 5 are merged);
// the family of kChiSquareTests tests is held at level 1e-3 by Bonferroni: each p-value must exceed
// 1e-3 / kChiSquareTests. Bin probabilities come from adaptive quadrature of the target law.
#include <cmath>
#include <functional>

#include <gtest/gtest.h>

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/matrix_fisher.hpp"
#include "rbsm/dist/special.hpp"
#include "rbsm/dist/torus_von_mises.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/stats.hpp"

using namespace rbsm;
using namespace rbsm::dist;
using geometry::Vec;
using rbsm::stats::chi_square_sf;
using rbsm::stats::chi_square_statistic;

namespace {
using rbsm::kPi;
constexpr int kChiSquareTests = 14;  // every call of expect_law below
constexpr double kAlpha = 1e-3 / kChiSquareTests;
constexpr int kDraws = 20000;
constexpr int kBins = 20;

std::shared_ptr<const geometry::Manifold> manifold(const std::string& spec) {
  return std::shared_ptr<const geometry::Manifold>(geometry::make_manifold(spec));
}

/// Chi-square test of `values` against the (unnormalised) density p on [lo, hi]: bins of equal width
/// with probabilities by quadrature, adjacent bins merged until each expects at least 5 draws.
void expect_law(const std::vector<double>& values, const std::function<double(double)>& p, double lo, double hi,
                const std::string& what) {
  std::vector<double> prob(kBins);
  double total = 0;
  for (int b = 0; b < kBins; ++b) {
    prob[b] = integrate(p, lo + (hi - lo) * b / kBins, lo + (hi - lo) * (b + 1) / kBins, 1e-10);
    total += prob[b];
  }
  std::vector<long> count(kBins, 0);
  for (double v : values) {
    ASSERT_TRUE(v >= lo - 1e-12 && v <= hi + 1e-12)
        << what << ": draw " << v << " outside [" << lo << ", " << hi << "]";
    count[std::min(kBins - 1, std::max(0, static_cast<int>((v - lo) / (hi - lo) * kBins)))]++;
  }
  std::vector<double> mp;
  std::vector<long> mc;
  double acc_p = 0;
  long acc_c = 0;
  for (int b = 0; b < kBins; ++b) {
    acc_p += prob[b] / total;
    acc_c += count[b];
    if (acc_p * values.size() >= 5) {
      mp.push_back(acc_p);
      mc.push_back(acc_c);
      acc_p = 0;
      acc_c = 0;
    }
  }
  if (acc_p > 0 || acc_c > 0) {
    mp.back() += acc_p;
    mc.back() += acc_c;
  }
  const double stat = chi_square_statistic(mc, mp);
  const double pvalue = chi_square_sf(stat, static_cast<double>(mp.size()) - 1);
  EXPECT_GT(pvalue, kAlpha) << what << ": chi^2 = " << stat << " on " << mp.size() - 1 << " dof";
}

double wrap(double a) { return std::remainder(a, 2 * kPi); }
}  // namespace

TEST(Samplers, VmfOnS1IsVonMises) {
  // d = 1: Wood's algorithm with the arcsine proposal; the signed angle to mu is von Mises(kappa).
  const auto M = manifold("sphere:1");
  const Vec mu = (Vec(2) << 0.6, -0.8).finished();
  VonMisesFisher q(M, 2.0, mu);
  Rng rng(101);
  std::vector<double> phi;
  for (int i = 0; i < kDraws; ++i) {
    const Vec z = q.sample(rng);
    phi.push_back(std::atan2(-mu[1] * z[0] + mu[0] * z[1], mu.dot(z)));
  }
  expect_law(
      phi, [](double a) { return std::exp(2.0 * std::cos(a)); }, -kPi, kPi, "vMF S^1 kappa 2");
}

TEST(Samplers, VmfCosineLawOnSpheres) {
  // t = <mu, z> has density ∝ exp(kappa t)(1 - t^2)^{(d-2)/2}; binned in theta = acos t (a monotone
  // map of t), whose density is ∝ exp(kappa cos theta) sin^{d-1} theta.
  struct C {
    int d;
    double kappa;
  };
  for (const C c : {C{2, 2.0}, C{2, 50.0}, C{6, 2.0}, C{10, 2.0}}) {
    const auto M = manifold("sphere:" + std::to_string(c.d));
    Vec mu = Vec::Ones(c.d + 1);
    VonMisesFisher q(M, c.kappa, mu);
    Rng rng(200 + c.d);
    std::vector<double> theta;
    double mean_t = 0;
    for (int i = 0; i < kDraws; ++i) {
      const Vec z = q.sample(rng);
      ASSERT_NEAR(z.norm(), 1.0, 1e-12);
      const double t = q.mean().dot(z);
      mean_t += t / kDraws;
      theta.push_back(std::acos(std::max(-1.0, std::min(1.0, t))));
    }
    const double hi = c.kappa > 10 ? 1.2 : kPi;  // beyond theta = 1.2 the kappa = 50 law has mass e^-30
    expect_law(
        theta, [&](double th) { return std::exp(c.kappa * (std::cos(th) - 1)) * std::pow(std::sin(th), c.d - 1); }, 0,
        hi, "vMF S^" + std::to_string(c.d) + " kappa " + std::to_string(c.kappa));
    // E t = A_{d+1}(kappa) (mean resultant length), within 5 standard errors (|t| <= 1).
    EXPECT_NEAR(mean_t, bessel_ratio(c.d + 1, c.kappa), 5.0 / std::sqrt(kDraws));
  }
}

TEST(Samplers, VmfAzimuthOnS2IsUniform) {
  const auto M = manifold("sphere:2");
  VonMisesFisher q(M, 2.0, (Vec(3) << 0, 0, 1).finished());
  Rng rng(300);
  std::vector<double> az;
  for (int i = 0; i < kDraws; ++i) {
    const Vec z = q.sample(rng);
    az.push_back(std::atan2(z[1], z[0]));
  }
  expect_law(
      az, [](double) { return 1.0; }, -kPi, kPi, "vMF S^2 azimuth");
}

TEST(Samplers, BestFisherVonMises) {
  for (double kappa : {0.5, 4.0, 60.0}) {
    Rng rng(400 + static_cast<int>(kappa));
    std::vector<double> a;
    for (int i = 0; i < kDraws; ++i) a.push_back(sample_von_mises(kappa, rng));
    const double hi = kappa > 10 ? 1.0 : kPi;  // kappa = 60: mass beyond |a| = 1 is below e^-27
    expect_law(
        a, [&](double x) { return std::exp(kappa * (std::cos(x) - 1)); }, -hi, hi,
        "Best-Fisher kappa " + std::to_string(kappa));
  }
}

TEST(Samplers, VonMisesMarginalsOnBothTori) {
  // Clifford torus: a1 ∝ exp(A cos(a1 - m1)); torus of revolution: a1 ∝ (R + r cos a1) exp(A cos(a1 - m1))
  // (the area element); a2 ∝ exp(B cos(a2 - m2)) on both.
  const double A = 1.5, B = 0.7, m1 = 2.0, m2 = -0.5;
  for (const std::string spec : {"clifford-torus:1,0.6", "torus:3,1"}) {
    const auto M = manifold(spec);
    TorusVonMises q(M, A, B, Eigen::Vector2d(m1, m2));
    const bool rev = spec == "torus:3,1";
    Rng rng(500 + rev);
    std::vector<double> a1, a2;
    for (int i = 0; i < kDraws; ++i) {
      const Eigen::Vector2d a = q.angles(q.sample(rng));
      a1.push_back(wrap(a[0]));
      a2.push_back(wrap(a[1]));
    }
    expect_law(
        a1, [&](double x) { return (rev ? 3 + std::cos(x) : 1.0) * std::exp(A * std::cos(x - m1)); }, -kPi, kPi,
        spec + " a1");
    expect_law(
        a2, [&](double x) { return std::exp(B * std::cos(x - m2)); }, -kPi, kPi, spec + " a2");
  }
}

TEST(Samplers, MatrixFisherRotationAngle) {
  // Under q ∝ exp(tr(F^T R)), with R = R(theta, n) in axis-angle form (Haar: (1 - cos theta)/pi x
  // uniform n) and tr(F R) = cos theta sum f + (1 - cos theta) sum f_i n_i^2, the rotation angle has density
  //   p(theta) ∝ (1 - cos theta) exp(cos theta sum f) int_{S^2} exp((1 - cos theta) sum f_i n_i^2) dn.
  const Eigen::Vector3d f(2, 1, -0.5);
  const auto M = manifold("so3");
  MatrixFisher q(M, f);
  auto p = [&](double th) {
    const double c = 1 - std::cos(th);
    const double sphere = integrate(
        [&](double u) {
          return integrate(
              [&](double phi) {
                const double s2 = 1 - u * u;
                return std::exp(c * (f[0] * s2 * std::cos(phi) * std::cos(phi) +
                                     f[1] * s2 * std::sin(phi) * std::sin(phi) + f[2] * u * u));
              },
              0, 2 * kPi, 1e-9);
        },
        -1, 1, 1e-9);
    return c * std::exp(std::cos(th) * f.sum()) * sphere;
  };
  Rng rng(600);
  std::vector<double> theta;
  for (int i = 0; i < kDraws; ++i) theta.push_back(geometry::rotation_angle(q.sample(rng)));
  expect_law(theta, p, 0, kPi, "matrix Fisher rotation angle");
  EXPECT_GT(q.acceptance_rate(), 0.05);
}
