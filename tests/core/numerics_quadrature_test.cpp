// The one adaptive Gauss-Kronrod integrator (rbsm/numerics/gauss_kronrod.hpp) against closed forms.
#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/numerics/gauss_kronrod.hpp"

namespace {

using rbsm::kPi;
using rbsm::numerics::integrate;
using rbsm::numerics::integrate_adaptive;
using rbsm::numerics::peak_breaks;
using rbsm::numerics::QuadratureOptions;

TEST(GaussKronrod, VectorComponentsShareOnePartition) {
  // int_0^pi (sin x, x sin x, exp(-x), cos^2 x) dx = (2, pi, 1 - e^-pi, pi / 2).
  const auto f = [](double x, double* o) {
    o[0] = std::sin(x);
    o[1] = x * std::sin(x);
    o[2] = std::exp(-x);
    o[3] = std::cos(x) * std::cos(x);
  };
  const Eigen::ArrayXd I = integrate_adaptive(f, 4, {0.0, kPi});
  EXPECT_NEAR(I[0], 2.0, 1e-13);
  EXPECT_NEAR(I[1], kPi, 1e-13);
  EXPECT_NEAR(I[2], 1.0 - std::exp(-kPi), 1e-13);
  EXPECT_NEAR(I[3], 0.5 * kPi, 1e-13);
}

TEST(GaussKronrod, ScaleResolvesASmallComponentRelativeToALargeOne) {
  // A narrow peak of width s: (1e-8 * x^2 g, g) with g = exp(-x^2 / (2 s^2)) on [-1, 1].
  // int g = s sqrt(2 pi) (erf(1 / (s sqrt 2)) = 1 to double precision), int x^2 g = s^3 sqrt(2 pi).
  const double s = 1e-3;
  const auto f = [s](double x, double* o) {
    const double g = std::exp(-0.5 * x * x / (s * s));
    o[0] = 1e-8 * x * x * g;
    o[1] = g;
  };
  QuadratureOptions opt;
  opt.rel_tol = 1e-10;
  opt.scale = Eigen::Array2d(1e8 / (s * s), 1.0);
  const Eigen::ArrayXd I = integrate_adaptive(f, 2, peak_breaks(-1.0, 1.0, 0.0, s), opt);
  const double root = std::sqrt(2 * kPi);
  EXPECT_NEAR(I[1] / (s * root), 1.0, 1e-10);
  EXPECT_NEAR(I[0] / (1e-8 * s * s * s * root), 1.0, 1e-9);
}

TEST(GaussKronrod, AbsoluteToleranceAndBudget) {
  // An integral that cancels to zero: the absolute tolerance is reachable, the relative one alone is not
  // (|int f| = 0), and the budget then either throws or, asked to, returns the estimate reached.
  const auto f = [](double x, double* o) { o[0] = std::sin(40.0 * x); };
  QuadratureOptions opt;
  opt.rel_tol = 0.0;
  opt.abs_tol = 1e-12;
  EXPECT_NEAR(integrate_adaptive(f, 1, {0.0, 2 * kPi}, opt)[0], 0.0, 1e-12);
  const auto rough = [](double x, double* o) { o[0] = std::sin(1e5 * x) + 1.0; };
  QuadratureOptions tight;
  tight.rel_tol = 1e-14;
  tight.max_intervals = 20;
  EXPECT_THROW(integrate_adaptive(rough, 1, {0.0, 1.0}, tight), rbsm::NumericalError);
  tight.throw_on_failure = false;
  EXPECT_TRUE(std::isfinite(integrate_adaptive(rough, 1, {0.0, 1.0}, tight)[0]));
  EXPECT_THROW(integrate_adaptive(f, 1, {0.0}), rbsm::InvalidArgument);
  EXPECT_THROW(integrate_adaptive([](double, double* o) { o[0] = INFINITY; }, 1, {0.0, 1.0}), rbsm::NumericalError);
}

TEST(GaussKronrod, ScalarIntegrandsSignsAndSingularities) {
  EXPECT_NEAR(integrate([](double x) { return std::exp(x); }, 1, 0), 1 - std::exp(1.0), 1e-14);
  EXPECT_EQ(integrate([](double x) { return x; }, 0.5, 0.5), 0.0);
  // int_0^{2 pi} sin = 0: the relative tolerance is measured against int |sin| = 4, so it is reached.
  EXPECT_NEAR(integrate([](double x) { return std::sin(x); }, 0, 2 * kPi), 0.0, 1e-14);
  // int_0^1 log x = -1 (an endpoint singularity).
  EXPECT_NEAR(integrate([](double x) { return std::log(x); }, 0, 1, 1e-10), -1.0, 1e-9);
  // A kink inside the interval: int_{-1}^{2} |x - 1/3| = (4/3)^2 / 2 + (5/3)^2 / 2.
  EXPECT_NEAR(integrate([](double x) { return std::abs(x - 1.0 / 3.0); }, -1, 2), (16.0 + 25.0) / 18.0, 1e-12);
}

TEST(GaussKronrod, PeakBreaksBracketThePeak) {
  const std::vector<double> b = peak_breaks(0.0, 1.0, 0.25, 0.01);
  ASSERT_GE(b.size(), 5u);
  EXPECT_EQ(b.front(), 0.0);
  EXPECT_EQ(b.back(), 1.0);
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
  EXPECT_NE(std::find(b.begin(), b.end(), 0.25), b.end());
  EXPECT_NE(std::find(b.begin(), b.end(), 0.25 + 0.0025), b.end());  // centre + width / 4
}

}  // namespace
