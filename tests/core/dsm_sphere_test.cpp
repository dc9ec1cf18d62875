// The exact RB target of vMF on S^d (docs/targets.md §3.1): its sigma -> 0 limits, a brute-force
// 2-D quadrature on S^2 that uses none of the symmetry reduction, and its Chebyshev table.
#include <cmath>
#include <functional>

#include <gtest/gtest.h>

#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/quadrature.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"
#include "rbsm/numerics/gauss_kronrod.hpp"

namespace {

using rbsm::numerics::integrate;  // the one scalar adaptive Gauss-Kronrod

using rbsm::dsm::Vec;
using rbsm::dsm::VmfRbTarget;

Vec e1(int D) { return Vec::Unit(D, 0); }

TEST(DsmSphere, LogBesselBMatchesSeries) {
  // B_nu(a) = sum_k (a^2/4)^k / (2^nu k! Gamma(nu + k + 1)), all terms positive.
  for (double nu : {-0.5, 0.0, 0.5, 1.0, 2.0, 4.0})
    for (double a : {0.0, 1e-4, 0.3, 2.0, 7.5}) {
      double s = 0.0;
      for (int k = 0; k < 80; ++k)
        s += std::exp(2 * k * std::log(std::max(a, 1e-300) / 2) * (k > 0) - std::lgamma(k + 1.0) -
                      std::lgamma(nu + k + 1.0));
      EXPECT_NEAR(rbsm::dsm::log_bessel_b(nu, a), std::log(s) - nu * std::log(2.0), 1e-12) << nu << " " << a;
    }
}

// (g(t) - kappa)/sigma^2 -> (1 - d - kappa t) kappa: b_q + K grad for vMF (SPEC.md), E_M = 0.
// One Richardson step over sigma and sigma/2 removes the O(sigma^2) remainder.
TEST(DsmSphere, ExpansionCoefficientIsBqPlusKGrad) {
  const double kappa = 2.0, sigma = 0.02;
  for (int d : {1, 2, 6, 10})
    for (double t : {-0.6, 0.0, 0.3, 0.9}) {
      const VmfRbTarget a(d, kappa, e1(d + 1), sigma), b(d, kappa, e1(d + 1), sigma / 2);
      const double ca = (a.g(t) - kappa) / (sigma * sigma), cb = (b.g(t) - kappa) / (sigma * sigma / 4);
      const double extrapolated = (4 * cb - ca) / 3;
      const double expected = (1.0 - d - kappa * t) * kappa;
      EXPECT_NEAR(extrapolated, expected, 2e-4 * (1 + std::abs(expected))) << "d = " << d << ", t = " << t;
      EXPECT_NEAR(a.g(t), kappa, 1.1 * sigma * sigma * std::abs(expected) + 1e-3 * sigma * sigma);
    }
}

// Brute force on S^2: r_sigma(y) = int q(Z) w(Z, y) P_T(y) Z dZ / (sigma^2 int q(Z) w(Z, y) dZ) over
// spherical coordinates of Z about y, with the ray weight integrated numerically over rho (no
// Bessel functions, no recurrence, no symmetry reduction).
TEST(DsmSphere, AgreesWithBruteForceQuadratureOnS2) {
  const double kappa = 2.0;
  const Vec mu = Vec(Eigen::Vector3d(0.3, -0.5, 0.8)).normalized();
  const Vec y = Vec(Eigen::Vector3d(0.9, 0.1, 0.4)).normalized();
  // Orthonormal frame (y, e, f).
  Vec e = (mu - mu.dot(y) * y).normalized();
  Vec f = Vec(y.head<3>().cross(Eigen::Vector3d(e.head<3>())));
  for (double sigma : {0.25, 0.6}) {
    auto ray = [&](double c) {
      auto h = [&](double rho) { return rho * rho * std::exp(-(rho * rho - 2 * rho * c + 1) / (2 * sigma * sigma)); };
      return integrate(h, 0.0, 1.0, 1e-12) + integrate(h, 1.0, 12.0, 1e-12);
    };
    const rbsm::dsm::VectorIntegrand outer = [&](double th, double* out) {
      const rbsm::dsm::VectorIntegrand inner = [&](double ph, double* o) {
        const Vec Z = std::cos(th) * y + std::sin(th) * (std::cos(ph) * e + std::sin(ph) * f);
        const double w = std::exp(kappa * mu.dot(Z)) * ray(std::cos(th)) * std::sin(th);
        o[0] = w * Z.dot(e);
        o[1] = w * Z.dot(f);
        o[2] = w;
      };
      const Eigen::ArrayXd I = rbsm::dsm::integrate_adaptive(inner, 3, {0.0, M_PI / 2, M_PI, 1.5 * M_PI, 2 * M_PI});
      for (int k = 0; k < 3; ++k) out[k] = I[k];
    };
    rbsm::dsm::QuadratureOptions opt;
    opt.rel_tol = 1e-9;
    const Eigen::ArrayXd I =
        rbsm::dsm::integrate_adaptive(outer, 3, rbsm::dsm::peak_breaks(0.0, M_PI, 0.0, sigma), opt);
    const double r_e = I[0] / (sigma * sigma * I[2]), r_f = I[1] / (sigma * sigma * I[2]);
    const Vec r = VmfRbTarget(2, kappa, mu, sigma)(y);
    EXPECT_NEAR(r.dot(e), r_e, 1e-7 * std::abs(r_e)) << "sigma = " << sigma;
    EXPECT_NEAR(r.dot(f), 0.0, 1e-12);
    EXPECT_NEAR(r_f, 0.0, 1e-7);
  }
}

TEST(DsmSphere, TableMatchesDirectEvaluation) {
  for (double sigma : {0.01, 0.3, 1.0}) {
    const VmfRbTarget target(6, 2.0, e1(7), sigma);
    const auto table = target.tabulate(48);
    for (double t : {-0.97, -0.3, 0.11, 0.5, 0.999}) EXPECT_NEAR(table(t), target.g(t), 1e-9 * std::abs(target.g(t)));
  }
}

TEST(DsmSphere, SymmetryAndLimits) {
  // r(y) is tangent, vanishes at y = +-mu, and kappa = 0 gives r = 0.
  const VmfRbTarget target(2, 3.0, e1(3), 0.2);
  const Vec y = Vec(Eigen::Vector3d(0.2, 0.7, -0.3)).normalized();
  EXPECT_NEAR(target(y).dot(y), 0.0, 1e-13);
  EXPECT_NEAR(target(e1(3)).norm(), 0.0, 1e-15);
  EXPECT_EQ(VmfRbTarget(2, 0.0, e1(3), 0.2)(y).norm(), 0.0);
  // d = 1 (the circle): g is finite and tends to kappa.
  EXPECT_NEAR(VmfRbTarget(1, 2.0, e1(2), 0.005).g(0.4), 2.0, 1e-3);
}

TEST(DsmSphere, RejectsBadInput) {
  EXPECT_THROW(VmfRbTarget(2, 2.0, e1(3), 0.0), rbsm::InvalidArgument);
  EXPECT_THROW(VmfRbTarget(2, 2.0, e1(3), std::nan("")), rbsm::InvalidArgument);
  EXPECT_THROW(VmfRbTarget(2, -1.0, e1(3), 0.1), rbsm::InvalidArgument);
  EXPECT_THROW(VmfRbTarget(0, 1.0, e1(1), 0.1), rbsm::InvalidArgument);
  EXPECT_THROW(VmfRbTarget(2, 1.0, e1(4), 0.1), rbsm::InvalidArgument);
}

}  // namespace
