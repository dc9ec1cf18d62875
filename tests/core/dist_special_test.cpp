// Special functions behind the densities (docs/densities.md §5): log I_nu against closed forms
// (half-integer orders), the C++17 library Bessel function, and the recurrence; quadrature; chi-square tails.
#include <cmath>

#include <gtest/gtest.h>

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

using namespace rbsm::dist;

namespace {
using rbsm::kPi;
/// log sinh x and log cosh x without overflow.
double log_sinh(double x) { return x + std::log(-std::expm1(-2 * x)) - std::log(2.0); }
}  // namespace

TEST(LogBesselI, HalfIntegerClosedForms) {
  // I_{1/2}(x) = sqrt(2/(pi x)) sinh x;  I_{3/2}(x) = sqrt(2/(pi x)) (cosh x - sinh x / x).
  for (double x : {1e-6, 1e-3, 0.3, 5.0, 49.9, 50.1, 300.0, 1e4, 1e6}) {
    const double expected = 0.5 * std::log(2 / (kPi * x)) + (x < 1e-3 ? std::log(x * (1 + x * x / 6)) : log_sinh(x));
    EXPECT_NEAR(log_bessel_i(0.5, x), expected, 1e-12 * std::max(1.0, std::abs(expected))) << "x = " << x;
  }
  for (double x : {0.5, 3.0, 20.0, 49.9, 50.1, 700.0, 1e5}) {
    // cosh x - sinh x / x = e^x/2 ((1 - 1/x) + e^{-2x}(1 + 1/x))
    const double expected =
        0.5 * std::log(2 / (kPi * x)) + x - std::log(2.0) + std::log((1 - 1 / x) + std::exp(-2 * x) * (1 + 1 / x));
    EXPECT_NEAR(log_bessel_i(1.5, x), expected, 1e-12 * std::max(1.0, std::abs(expected))) << "x = " << x;
  }
}

TEST(LogBesselI, MatchesStandardLibrary) {
  for (double nu : {0.0, 1.0, 2.5, 4.5, 10.0})
    for (double x : {0.01, 1.0, 10.0, 49.0, 51.0, 100.0, 600.0}) {
      const double ref = std::log(std::cyl_bessel_i(nu, x));
      EXPECT_NEAR(log_bessel_i(nu, x), ref, 1e-12 * std::max(1.0, std::abs(ref))) << nu << " " << x;
    }
}

TEST(LogBesselI, RecurrenceAtLargeOrder) {
  // I_{nu-1}(x) - I_{nu+1}(x) = (2 nu / x) I_nu(x), across the series/Hankel switch at x = 2 nu^2.
  for (double nu : {7.0, 30.0})
    for (double x : {0.5, 5.0, 97.0, 99.0, 1799.0, 1801.0, 5000.0}) {
      const double l = log_bessel_i(nu, x);
      const double lhs = std::exp(log_bessel_i(nu - 1, x) - l) - std::exp(log_bessel_i(nu + 1, x) - l);
      EXPECT_NEAR(lhs, 2 * nu / x, 1e-11 * (1 + 2 * nu / x)) << nu << " " << x;  // lhs: difference of two O(1) ratios
    }
}

TEST(LogBesselI, EdgesAndErrors) {
  EXPECT_EQ(log_bessel_i(0.0, 0.0), 0.0);
  EXPECT_TRUE(std::isinf(log_bessel_i(1.0, 0.0)));
  EXPECT_THROW(log_bessel_i(-1.0, 1.0), rbsm::InvalidArgument);
  EXPECT_THROW(log_bessel_i(1.0, -1.0), rbsm::InvalidArgument);
  EXPECT_THROW(log_bessel_i(1.0, std::nan("")), rbsm::InvalidArgument);
  // A_p(kappa) -> 1 - (p-1)/(2 kappa) for large kappa; A_3(kappa) = coth kappa - 1/kappa exactly.
  for (double k : {0.1, 2.0, 30.0, 1e4}) EXPECT_NEAR(bessel_ratio(3, k), 1 / std::tanh(k) - 1 / k, 1e-12);
  EXPECT_EQ(bessel_ratio(3, 0.0), 0.0);
}

TEST(SphereArea, KnownValues) {
  EXPECT_NEAR(std::exp(log_sphere_area(1)), 2 * kPi, 1e-13);
  EXPECT_NEAR(std::exp(log_sphere_area(2)), 4 * kPi, 1e-13);
  EXPECT_NEAR(std::exp(log_sphere_area(3)), 2 * kPi * kPi, 1e-12);
  EXPECT_NEAR(std::exp(log_sphere_area(0)), 2.0, 1e-14);
}

TEST(Integrate, SmoothPeakedAndSingular) {
  EXPECT_NEAR(integrate([](double x) { return std::exp(x); }, 0, 1), std::exp(1.0) - 1, 1e-14);
  // A narrow Gaussian far from the centre of the interval.
  EXPECT_NEAR(integrate([](double x) { return std::exp(-1e4 * (x - 0.93) * (x - 0.93)); }, 0, 1), std::sqrt(kPi / 1e4),
              1e-12);
  // An integrable endpoint singularity: int_0^1 x^{-1/2} = 2.
  EXPECT_NEAR(integrate([](double x) { return 1 / std::sqrt(x); }, 0, 1, 1e-8), 2.0, 1e-6);
  EXPECT_THROW(integrate([](double) { return std::nan(""); }, 0, 1), rbsm::NumericalError);
}
