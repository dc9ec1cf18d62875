// Fibre weights (docs/targets.md §2) against direct numerical integration and the projection itself.
#include <cmath>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/quadrature.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/numerics/gauss_kronrod.hpp"
#include "rbsm/random.hpp"

namespace {

using rbsm::numerics::integrate;  // the one scalar adaptive Gauss-Kronrod

using rbsm::dsm::Vec;
using Mat = Eigen::MatrixXd;

// log of int_0^inf v^n exp(-(v - m)^2/2) dv by adaptive quadrature, with the Gaussian factor
// exp(-m^2/2) taken out analytically when m < 0 (so that nothing underflows).
double log_moment_by_quadrature(int n, double m) {
  const double centre = std::max(0.0, m);
  const double shift = m < 0 ? -0.5 * m * m : 0.0;
  auto f = [&](double v) { return std::pow(v, n) * std::exp(-0.5 * (v - m) * (v - m) - shift); };
  const double hi = centre + 40.0 + 4.0 * std::sqrt(n + 1.0);
  double total = 0.0;
  // Pieces around the peak so the adaptive rule sees it.
  const double peak = m > 0 ? 0.5 * (m + std::sqrt(m * m + 4.0 * n)) : (n > 0 ? n / (std::abs(m) + 1.0) : 0.0);
  double prev = 0.0;
  for (double b : {0.5 * peak, peak, peak + 2.0, peak + 8.0, hi}) {
    if (b <= prev) continue;
    total += integrate(f, prev, b, 1e-13);
    prev = b;
  }
  return std::log(total) + shift;
}

TEST(DsmFibre, HalfLineMomentMatchesQuadrature) {
  for (int n : {0, 1, 2, 3, 6, 10, 25})
    for (double m : {-80.0, -12.0, -4.5, -4.0, -3.9, -1.0, 0.0, 0.7, 3.0, 9.0, 40.0}) {
      const double expected = log_moment_by_quadrature(n, m);
      EXPECT_NEAR(rbsm::dsm::log_half_line_moment(n, m), expected, 1e-10 * std::max(1.0, std::abs(expected)))
          << "n = " << n << ", m = " << m;
    }
}

TEST(DsmFibre, ErfcxMatchesDefinitionAndAsymptotics) {
  for (double x : {0.0, 0.3, 2.0, 10.0, 24.9})
    EXPECT_NEAR(rbsm::dsm::erfcx(x), std::exp(x * x) * std::erfc(x), 1e-14 * std::exp(x * x) * std::erfc(x));
  // Continuity across the switch to the asymptotic series at x = 25, and erfcx(x) ~ 1/(x sqrt(pi)).
  EXPECT_NEAR(rbsm::dsm::erfcx(25.0 - 1e-12) / rbsm::dsm::erfcx(25.0), 1.0, 1e-13);
  EXPECT_NEAR(rbsm::dsm::erfcx(1e6) * 1e6 * std::sqrt(M_PI), 1.0, 1e-12);
}

TEST(DsmFibre, GaussPolyIntegralMatchesQuadrature) {
  struct Case {
    double p0, p1, p2, a, b;
  };
  const double inf = std::numeric_limits<double>::infinity();
  for (const Case& c : {Case{1, 0, 0, -inf, inf}, Case{2, 0.5, 0.1, -1.0, 3.0}, Case{1, 0.3, 0.0, -2.0, inf},
                        Case{0.5, 1.0, 0.2, 6.0, inf}, Case{0.5, 1.0, 0.2, 30.0, 31.0},
                        Case{3.0, -0.2, 0.01, -inf, -25.0}, Case{1.0, 1.0, 0.0, 40.0, inf}}) {
    // Reference: shift by the largest exponent on the interval.
    const double lo = std::isinf(c.a) ? -40.0 : c.a, hi = std::isinf(c.b) ? std::max(lo, 0.0) + 40.0 : c.b;
    const double u0 = (lo > 0) ? lo : (hi < 0 ? hi : 0.0);
    auto f = [&](double u) {
      return (c.p0 + c.p1 * u + c.p2 * u * u) * std::exp(-0.5 * (u * u - u0 * u0)) / std::sqrt(2 * M_PI);
    };
    double ref = 0.0, prev = lo;
    for (double b : {u0 - 2.0, u0, u0 + 2.0, hi}) {
      if (b <= prev || b > hi) continue;
      ref += integrate(f, prev, b, 1e-13);
      prev = b;
    }
    const double expected = std::log(ref) - 0.5 * u0 * u0;
    EXPECT_NEAR(rbsm::dsm::log_gauss_poly_integral(c.p0, c.p1, c.p2, c.a, c.b), expected,
                1e-9 * std::max(1.0, std::abs(expected)))
        << c.p0 << " " << c.p1 << " " << c.p2 << " [" << c.a << ", " << c.b << "]";
  }
}

TEST(DsmFibre, SphereRayWeightIsTheRayIntegralAndIncreasing) {
  for (int d : {1, 2, 6, 10})
    for (double sigma : {0.01, 0.1, 1.0}) {
      double prev = -std::numeric_limits<double>::infinity();
      for (double c = -1.0; c <= 1.0; c += 0.125) {
        const double lw = rbsm::dsm::log_sphere_ray_weight(d, sigma, c);
        EXPECT_GT(lw, prev);
        prev = lw;
      }
      // Direct integral over rho at sigma = 1 (no underflow there).
      if (sigma == 1.0) {
        for (double c : {-0.8, 0.2, 1.0}) {
          auto f = [&](double rho) { return std::pow(rho, d) * std::exp(-(rho * rho - 2 * rho * c + 1) / 2); };
          const double ref = integrate(f, 0.0, 2.0, 1e-13) + integrate(f, 2.0, 40.0, 1e-13);
          EXPECT_NEAR(rbsm::dsm::log_sphere_ray_weight(d, 1.0, c), std::log(ref), 1e-11);
        }
      }
    }
}

// The exact fibres of the tori: inside them, pi(y + c n) = y; just outside, it is not.
TEST(DsmFibre, TorusOfRevolutionFibreBoundsAreWhereProjectionChanges) {
  const rbsm::geometry::TorusOfRevolution T(3.0, 1.0);
  for (double a1 : {0.0, 1.0, 2.5, M_PI}) {
    const Vec y = T.point(a1, 0.4);
    const Vec n = T.normal_frame(y).col(0);
    const double lo = -1.0, hi = std::cos(a1) < 0 ? 3.0 / std::abs(std::cos(a1)) - 1.0 : 50.0;
    for (double c : {lo + 1e-3, 0.5 * (lo + hi), hi - 1e-3}) EXPECT_LT((T.project(y + c * n) - y).norm(), 1e-9);
    EXPECT_GT((T.project(y + (lo - 1e-3) * n) - y).norm(), 1e-3);
    if (std::cos(a1) < 0) EXPECT_GT((T.project(y + (hi + 1e-3) * n) - y).norm(), 1e-3);
  }
}

// log w(Z, y) differences against a direct integral over the exact normal fibre.
TEST(DsmFibre, TorusWeightsMatchDirectFibreIntegral) {
  const double sigma = 0.4;
  const rbsm::geometry::TorusOfRevolution T(3.0, 1.0);
  const Vec y = T.point(2.3, 0.2);
  const Vec n = T.normal_frame(y).col(0);
  const Eigen::Vector2d k = T.principal_curvatures(2.3);
  const double hi = 3.0 / std::abs(std::cos(2.3)) - 1.0;
  auto direct = [&](const Vec& Z) {
    auto f = [&](double c) {
      return std::exp(-(y + c * n - Z).squaredNorm() / (2 * sigma * sigma)) * (1 + c * k[0]) * (1 + c * k[1]);
    };
    return std::log(integrate(f, -1.0, hi, 1e-13));
  };
  const auto w = rbsm::dsm::make_fibre_weight(T, y, sigma);
  const Vec Z0 = T.point(2.0, 0.1);
  for (const Vec& Z : {Vec(T.point(2.4, 0.3)), Vec(T.point(-0.8, 0.2)), Vec(T.point(2.3, 0.2 + M_PI))})
    EXPECT_NEAR(w->log_weight(Z) - w->log_weight(Z0), direct(Z) - direct(Z0), 1e-9);

  const rbsm::geometry::CliffordTorus C(1.0, 0.7);
  const Vec yc = C.point(0.3, -1.0);
  const Eigen::MatrixXd N = C.normal_frame(yc);
  auto direct_c = [&](const Vec& Z) {
    double lw = 0.0;
    for (int i = 0; i < 2; ++i) {
      const double r = i == 0 ? 1.0 : 0.7;
      auto f = [&](double c) {
        const Vec x = yc + c * N.col(i);
        return std::exp(-std::pow(N.col(i).dot(x - Z), 2) / (2 * sigma * sigma)) * (1 + c / r);
      };
      lw += std::log(integrate(f, -r, 10.0, 1e-13));
    }
    const Eigen::MatrixXd E = C.tangent_frame(yc);
    return lw - (E.transpose() * (Z - yc)).squaredNorm() / (2 * sigma * sigma);
  };
  const auto wc = rbsm::dsm::make_fibre_weight(C, yc, sigma);
  const Vec Zc0 = C.point(0.1, -0.8);
  for (const Vec& Z : {Vec(C.point(0.5, -1.2)), Vec(C.point(0.3 + M_PI, -1.0)), Vec(C.point(2.0, 1.0))})
    EXPECT_NEAR(wc->log_weight(Z) - wc->log_weight(Zc0), direct_c(Z) - direct_c(Zc0), 1e-9);
}

TEST(DsmFibre, WholeNormalSpaceIsDetPlusSigmaSquaredGaussCurvature) {
  // E[det(I - W_nu)] = det(I - W_m) + sigma^2 K_G for a surface (SPEC.md), by the Gauss-Hermite rule.
  const double sigma = 0.3;
  const rbsm::geometry::TorusOfRevolution T(3.0, 1.0);
  const Vec y = T.point(0.7, 1.1), Z = T.point(0.9, 1.2);
  const Vec n = T.normal_frame(y).col(0);
  const Eigen::Vector2d k = T.principal_curvatures(0.7);
  const double m = n.dot(Z - y);
  const double t2 = (T.tangent_frame(y).transpose() * (Z - y)).squaredNorm();
  const double expected =
      -t2 / (2 * sigma * sigma) + std::log((1 + m * k[0]) * (1 + m * k[1]) + sigma * sigma * k[0] * k[1]);
  const auto w = rbsm::dsm::make_fibre_weight(T, y, sigma, rbsm::dsm::FibreModel::whole_normal_space);
  EXPECT_NEAR(w->log_weight(Z), expected, 1e-12);
  EXPECT_EQ(w->log_weight(T.point(0.7 + M_PI, 1.1)), -std::numeric_limits<double>::infinity());  // beyond the reach
}

TEST(DsmFibre, WholeNormalSpaceOnSo3MatchesAGaussHermiteGrid) {
  // d = 3, k = 6: the closed form det B + tr(B sigma^2 sum_a adj W_a) against the expectation of
  // det(I - sum_a (m_a + sigma xi_a) W_a) over the 2^6 sign vectors xi in {-1, 1}^6, weight 2^-6 (the
  // two-node Gauss-Hermite rule, exact for this cubic), built here from the manifold's Weingarten maps.
  const auto M = rbsm::geometry::make_manifold("so3");
  const double sigma = 0.25;
  rbsm::Rng rng(4);
  for (int trial = 0; trial < 3; ++trial) {
    const Vec y = M->sample_uniform(rng);
    const Mat E = M->tangent_frame(y), N = M->normal_frame(y);
    Vec step(9);
    for (int i = 0; i < 9; ++i) step[i] = rng.normal();
    const Vec Z = M->project(y + 0.2 * step.normalized());
    const Vec diff = Z - y, m = N.transpose() * diff;
    std::vector<Mat> W;
    for (int a = 0; a < 6; ++a) W.push_back(E.transpose() * M->weingarten(y, N.col(a)) * E);
    double expectation = 0;
    for (int signs = 0; signs < 64; ++signs) {
      Mat A = Mat::Identity(3, 3);
      for (int a = 0; a < 6; ++a) A -= (m[a] + sigma * ((signs >> a) & 1 ? 1.0 : -1.0)) * W[a];
      expectation += A.determinant() / 64;
    }
    const double expected = -(E.transpose() * diff).squaredNorm() / (2 * sigma * sigma) + std::log(expectation);
    const auto w = rbsm::dsm::make_fibre_weight(*M, y, sigma, rbsm::dsm::FibreModel::whole_normal_space);
    EXPECT_NEAR(w->log_weight(Z), expected, 1e-10) << "trial " << trial;
  }
}

TEST(DsmFibre, RejectsBadSigma) {
  const rbsm::geometry::Sphere S(2);
  const Vec y = Vec::Unit(3, 0);
  EXPECT_THROW(rbsm::dsm::make_fibre_weight(S, y, 0.0), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::dsm::make_fibre_weight(S, y, -1.0), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::dsm::make_fibre_weight(S, y, std::nan("")), rbsm::InvalidArgument);
}

}  // namespace
