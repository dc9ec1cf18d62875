#include "rbsm/geometry/ellipsoid.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::geometry {
namespace {

void check_semi_axes(const std::vector<double>& a) {
  if (a.size() < 2) throw InvalidArgument("ellipsoid needs at least 2 semi-axes, got " + std::to_string(a.size()));
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] > 0) || !std::isfinite(a[i])) {
      std::ostringstream s;
      s << "ellipsoid semi-axis a" << i + 1 << " = " << a[i] << " must be a finite number > 0";
      throw InvalidArgument(s.str());
    }
}
}  // namespace

double ellipsoid_area(const std::vector<double>& a) {
  check_semi_axes(a);
  const int D = static_cast<int>(a.size());
  // E sqrt(Q), Q = sum g_i^2 / a_i^2: with t = e^y the integrand (1 - prod (1 + 2t b_i)^{-1/2}) e^{-y/2}
  // is analytic in the strip |Im y| < pi and decays like e^{-|y|/2}: the trapezoidal rule with step
  // 0.1 on |y - y0| <= 100 is exact to rounding (error ~ exp(-2 pi^2 / 0.1) + e^{-50}).
  double mean_b = 0;
  for (double ai : a) mean_b += 1 / (ai * ai * D);
  const double y0 = -std::log(mean_b), h = 0.1;
  double sum = 0;
  for (int n = -1000; n <= 1000; ++n) {
    const double y = y0 + n * h, t = std::exp(y);
    double log_prod = 0;
    for (double ai : a) log_prod += -0.5 * std::log1p(2 * t / (ai * ai));
    sum += -std::expm1(log_prod) * std::exp(-0.5 * y);
  }
  const double mean_sqrt_q = sum * h / (2 * std::sqrt(kPi));
  double prod = 1;
  for (double ai : a) prod *= ai;
  return prod * std::sqrt(2.0) * std::pow(kPi, 0.5 * D) / std::tgamma(0.5 * (D + 1)) * mean_sqrt_q;
}

std::unique_ptr<LevelSetManifold> make_ellipsoid(const std::vector<double>& a) {
  check_semi_axes(a);
  const int D = static_cast<int>(a.size());
  Vec inv_a2(D), semi(D);
  for (int i = 0; i < D; ++i) {
    semi(i) = a[static_cast<std::size_t>(i)];
    inv_a2(i) = 1 / (semi(i) * semi(i));
  }
  LevelSetFunction F;
  F.D = D;
  F.k = 1;
  F.eval = [inv_a2](const Vec& x, int order) {
    LevelSetJet j;
    j.F = Vec::Constant(1, x.cwiseProduct(x).dot(inv_a2) - 1);
    if (order >= 1) j.J = 2 * x.cwiseProduct(inv_a2).transpose();
    if (order >= 2) j.hessians.assign(1, Mat(2 * inv_a2.asDiagonal()));
    return j;
  };
  LevelSetOptions o;
  std::ostringstream s;
  s.precision(15);
  s << "ellipsoid:";
  for (int i = 0; i < D; ++i) s << (i ? "," : "") << semi(i);
  o.spec = s.str();
  const double a_min = semi.minCoeff(), a_max = semi.maxCoeff();
  o.reach = a_min * a_min / a_max;
  o.volume = ellipsoid_area(a);
  // Williamson (1987): u uniform on S^{D-1}, x = diag(a) u; the area element of x is
  // prod(a) |diag(a)^{-1} u| times that of u, so accept with probability a_min |diag(a)^{-1} u| <= 1.
  o.sample_uniform = [semi, a_min, D](Rng& rng) {
    for (;;) {
      Vec u(D);
      for (int i = 0; i < D; ++i) u(i) = rng.normal();
      u /= u.norm();
      if (rng.uniform() < a_min * u.cwiseQuotient(semi).norm()) return Vec(semi.cwiseProduct(u));
    }
  };
  o.certify_beyond_reach = [F](const Vec& x, const Vec& p, const Mat& J) {
    return convex_outside_certificate(F, x, p, J);
  };
  return std::make_unique<LevelSetManifold>(F, o);
}

}  // namespace rbsm::geometry
