// Exact RB target of vMF on S^d by one-dimensional quadrature (docs/targets.md §3.1).
#include "rbsm/dsm/rb_sphere.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "rbsm/dist/special.hpp"
#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/quadrature.hpp"
#include "rbsm/error.hpp"

namespace rbsm::dsm {

double log_bessel_b(double nu, double a) {
  if (!(nu >= -0.5) || !(a >= 0.0)) throw InvalidArgument("log_bessel_b: need nu >= -1/2 and a >= 0");
  if (a < 1e-3) return -nu * std::log(2.0) - std::lgamma(nu + 1.0) + a * a / (4.0 * (nu + 1.0));
  const double log_sqrt_2_over_pi = 0.5 * std::log(2.0 / M_PI);
  if (nu == -0.5) return log_sqrt_2_over_pi + a + std::log1p(std::exp(-2.0 * a)) - std::log(2.0);      // cosh
  if (nu == 0.5) return log_sqrt_2_over_pi + a + std::log1p(-std::exp(-2.0 * a)) - std::log(2.0 * a);  // sinh/a
  return dist::log_bessel_i(nu, a) - nu * std::log(a);
}

VmfRbTarget::VmfRbTarget(int d, double kappa, Vec mu, double sigma, double rel_tol)
    : d_(d), kappa_(kappa), sigma_(sigma), rel_tol_(rel_tol), mu_(std::move(mu)) {
  if (d < 1) throw InvalidArgument("VmfRbTarget: dimension d must be >= 1, got " + std::to_string(d));
  if (!(kappa >= 0.0) || !std::isfinite(kappa))
    throw InvalidArgument("VmfRbTarget: kappa must be finite and >= 0, got " + std::to_string(kappa));
  if (kappa > 700.0)
    throw InvalidArgument("VmfRbTarget: kappa must be <= 700 for the exact quadrature, got " + std::to_string(kappa));
  check_sigma(sigma);
  if (mu_.size() != d + 1 || !mu_.allFinite() || mu_.norm() == 0.0)
    throw InvalidArgument("VmfRbTarget: mean direction must be a non-zero vector in R^" + std::to_string(d + 1));
  mu_.normalize();
}

double VmfRbTarget::g(double t) const {
  if (!(t >= -1.0 - 1e-12 && t <= 1.0 + 1e-12))
    throw InvalidArgument("VmfRbTarget::g: t must lie in [-1, 1], got " + std::to_string(t));
  if (kappa_ == 0.0) return 0.0;
  t = std::clamp(t, -1.0, 1.0);
  const double s = std::sqrt(std::max(0.0, 1.0 - t * t));
  const double nu = 0.5 * d_ - 1.0;
  // log of the common part of both integrands (without the shift).
  auto log_common = [&](double th, double& log_sin, double& a) {
    const double sn = std::sin(th);
    log_sin = std::log(sn);
    a = kappa_ * s * sn;
    // 1 - cos^2 th as sin^2 th: exact to rounding at small th, where the weight's exponent divides it by sigma^2
    return kappa_ * t * std::cos(th) + log_sphere_ray_weight(d_, sigma_, std::cos(th), sn * sn) +
           (d_ > 1 ? (d_ - 1) * log_sin : 0.0);
  };
  const std::vector<double> breaks = peak_breaks(0.0, M_PI, 0.0, sigma_);
  // Shift: the largest log-integrand over a grid that contains the break points.
  double shift = -std::numeric_limits<double>::infinity();
  std::vector<double> probe = breaks;
  for (int i = 1; i < 128; ++i) probe.push_back(M_PI * i / 128.0);
  for (double th : probe) {
    if (th <= 0.0 || th >= M_PI) continue;
    double ls, a;
    shift = std::max(shift, log_common(th, ls, a) + log_bessel_b(nu, a));
  }
  const VectorIntegrand f = [&](double th, double* out) {
    if (th <= 0.0 || th >= M_PI) {
      out[0] = out[1] = 0.0;
      return;
    }
    double ls, a;
    const double lc = log_common(th, ls, a) - shift;
    out[0] = std::exp(lc + 2.0 * ls + log_bessel_b(nu + 1.0, a));  // numerator / (kappa s)
    out[1] = std::exp(lc + log_bessel_b(nu, a));                   // denominator
  };
  QuadratureOptions opt;
  opt.rel_tol = rel_tol_;
  opt.scale = Eigen::Array2d(1.0 / (sigma_ * sigma_), 1.0);
  const Eigen::ArrayXd I = integrate_adaptive(f, 2, breaks, opt);
  return kappa_ / (sigma_ * sigma_) * I[0] / I[1];
}

Vec VmfRbTarget::operator()(const Vec& y_in) const {
  if (y_in.size() != d_ + 1 || !y_in.allFinite() || y_in.norm() == 0.0)
    throw InvalidArgument("VmfRbTarget: point must be a non-zero finite vector in R^" + std::to_string(d_ + 1));
  const Vec y = y_in.normalized();
  const double t = y.dot(mu_);
  return g(t) * (mu_ - t * y);
}

ChebyshevTable VmfRbTarget::tabulate(int n) const {
  return ChebyshevTable([this](double t) { return g(t); }, n);
}

}  // namespace rbsm::dsm
