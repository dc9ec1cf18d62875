#include "rbsm/dist/matrix_fisher.hpp"

#include <algorithm>
#include <cmath>

#include "detail.hpp"

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"

namespace rbsm::dist {
using detail::number;

namespace {
/// max over SO(3) of tr(diag(f) R) = max_i b_i with tr(diag(f) R(q)) = sum_i b_i q_i^2 for the unit
/// quaternion q: b = (f1+f2+f3, f1-f2-f3, -f1+f2-f3, -f1-f2+f3) (docs/densities.md §4.2).
double max_trace(const Eigen::Vector3d& f) {
  return std::max({f[0] + f[1] + f[2], f[0] - f[1] - f[2], -f[0] + f[1] - f[2], -f[0] - f[1] + f[2]});
}
}  // namespace

double log_matrix_fisher_haar_mean(const Eigen::Vector3d& f) {
  if (!f.allFinite()) throw InvalidArgument("matrix-fisher: the concentrations f are not finite");
  const double m = max_trace(f);
  const double s = 0.5 * (f[1] + f[2]), t = 0.5 * (f[1] - f[2]);
  // The log-integrand is at most m (I0(x) <= e^|x|), so after subtracting m it is at most 0.
  auto integrand = [&](double u) {
    return std::exp(f[0] * u + log_bessel_i(0.0, std::abs((1.0 + u) * s)) + log_bessel_i(0.0, std::abs((1.0 - u) * t)) -
                    m);
  };
  // The log-integrand is a sum of terms of size ~|f|, so each value carries a relative rounding error of
  // ~|f| eps: ask for no more than that (a tighter tolerance is noise the integrator would chase forever).
  const double rel_tol = std::max(1e-12, 8.0 * 2.220446049250313e-16 * (f.cwiseAbs().sum() + 1.0));
  // The integrand peaks within ~1/|f| of where the exponent is largest: split there so the adaptive rule
  // sees the peak instead of sampling around it.
  // The exponent is convex in u (log I0 is convex), so its maximum on [-1, 1] is at an end: about
  // f1 + 2|s| at u = 1 and -f1 + 2|t| at u = -1.
  const double u_peak = (f[0] + 2.0 * std::abs(s) >= -f[0] + 2.0 * std::abs(t)) ? 1.0 : -1.0;
  const double width = std::min(1.0, 20.0 / (1.0 + std::abs(f[0]) + std::abs(s) + std::abs(t)));
  const double cut = u_peak - u_peak * width;
  // The far part only needs to be accurate relative to the whole (it may be e^-1000 of it, down in the
  // denormals, where a relative tolerance of its own could never be met).
  const double near = u_peak > 0 ? integrate(integrand, cut, 1.0, rel_tol) : integrate(integrand, -1.0, cut, rel_tol);
  const double far_tol = rel_tol * std::abs(near);
  const double far =
      u_peak > 0 ? integrate(integrand, -1.0, cut, 0.0, far_tol) : integrate(integrand, cut, 1.0, 0.0, far_tol);
  return m + std::log(0.5 * (near + far));
}

MatrixFisher::MatrixFisher(std::shared_ptr<const geometry::Manifold> manifold, const Eigen::Vector3d& f)
    : Density(std::move(manifold)), f_(f) {
  if (manifold_->spec() != "so3" || manifold_->ambient_dim() != 9)
    throw InvalidArgument("matrix-fisher lives on so3, not on " + manifold_->spec());
  if (!f.allFinite()) throw InvalidArgument("matrix-fisher: the concentrations f are not finite");
  for (int i = 0; i < 3; ++i)
    detail::check_concentration<InvalidArgument>(f[i], "matrix-fisher: f" + std::to_string(i + 1));
  a_ = Vec::Zero(9);
  a_[0] = f[0];
  a_[4] = f[1];
  a_[8] = f[2];
  max_linear_ = max_trace(f);
  double log_mean = 0.0;
  try {
    log_mean = log_matrix_fisher_haar_mean(f);
  } catch (const NumericalError& e) {  // name the spec, not only the quadrature (found by fuzz_density_spec)
    throw NumericalError("matrix-fisher: the normaliser of " + spec() + " could not be computed to double accuracy (" +
                         e.what() + "); concentrations up to about 1e3 work");
  }
  log_z_ = std::log(manifold_->volume()) + log_mean;
  acceptance_ = std::exp(log_mean - max_linear_);
}

std::string MatrixFisher::spec() const {
  return "matrix-fisher:" + number(f_[0]) + "," + number(f_[1]) + "," + number(f_[2]);
}

double MatrixFisher::log_density(const Vec& z) const { return a_.dot(z) - log_z_; }

Vec MatrixFisher::grad_log(const Vec& z) const { return manifold_->tangent_projector(z) * a_; }

double MatrixFisher::laplacian_log(const Vec& z) const { return a_.dot(manifold_->mean_curvature(z)); }

Vec MatrixFisher::heat_drift(const Vec& z) const {
  const Mat P_T = manifold_->tangent_projector(z);
  const Vec a_t = P_T * a_, a_n = a_ - a_t;
  return -0.5 * (manifold_->weingarten_mean(z) * a_t) + manifold_->weingarten(z, a_n) * a_t;
}

Vec MatrixFisher::sample(Rng& rng) const {
  if (acceptance_ < 1e-7)
    throw InvalidArgument("matrix-fisher: concentrations " + spec() + " are too large for rejection from Haar " +
                          "(acceptance rate " + number(acceptance_) + ")");
  for (;;) {
    Vec R = manifold_->sample_uniform(rng);
    if (std::log(rng.uniform_open()) <= a_.dot(R) - max_linear_) return R;
  }
}

}  // namespace rbsm::dist
