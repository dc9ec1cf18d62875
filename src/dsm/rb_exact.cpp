// Exact RB targets: dispatch, and the 2-D quadrature on the tori (docs/targets.md §3.2).
#include "rbsm/dsm/rb_exact.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/quadrature.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"

namespace rbsm::dsm {
namespace {

bool is_uniform(const dist::Density& q) { return q.spec() == "uniform"; }

/// The parametrisation of either torus: point(a1, a2), angles(z), area element, angular widths.
struct TorusChart {
  const geometry::CliffordTorus* clifford = nullptr;
  const geometry::TorusOfRevolution* revolution = nullptr;
  explicit TorusChart(const geometry::Manifold& M)
      : clifford(dynamic_cast<const geometry::CliffordTorus*>(&M)),
        revolution(dynamic_cast<const geometry::TorusOfRevolution*>(&M)) {}
  bool valid() const { return clifford || revolution; }
  Vec point(double a1, double a2) const { return clifford ? clifford->point(a1, a2) : revolution->point(a1, a2); }
  Eigen::Vector2d angles(const Vec& z) const { return clifford ? clifford->angles(z) : revolution->angles(z); }
  double log_area(double a1) const {
    return clifford ? std::log(clifford->r1() * clifford->r2())
                    : std::log(revolution->r() * (revolution->R() + revolution->r() * std::cos(a1)));
  }
  double radius1() const { return clifford ? clifford->r1() : revolution->r(); }
  double radius2() const { return clifford ? clifford->r2() : revolution->R() + revolution->r(); }
};

}  // namespace

bool has_exact_rb_target(const dist::Density& q) {
  if (dynamic_cast<const geometry::Sphere*>(&q.manifold()))
    return is_uniform(q) || dynamic_cast<const dist::VonMisesFisher*>(&q) != nullptr;
  return TorusChart(q.manifold()).valid();
}

Vec torus_rb_target(const dist::Density& q, const Vec& y_in, double sigma, FibreModel model, double rel_tol) {
  check_sigma(sigma);
  const TorusChart chart(q.manifold());
  if (!chart.valid())
    throw InvalidArgument("torus_rb_target: " + q.manifold().spec() + " is not clifford-torus:r1,r2 or torus:R,r");
  const auto fw = make_fibre_weight(q.manifold(), y_in, sigma, model);
  const Vec& y = fw->y();
  const Mat& P_T = fw->tangent_projector();
  const int D = static_cast<int>(y.size());
  const Eigen::Vector2d b = chart.angles(y);
  const double shift = q.log_density(y) + fw->log_weight(y) + chart.log_area(b[0]);
  QuadratureOptions inner_opt, outer_opt;
  Eigen::ArrayXd scale = Eigen::ArrayXd::Constant(D + 1, 1.0 / (sigma * sigma));
  scale[D] = 1.0;
  inner_opt.scale = outer_opt.scale = scale;
  outer_opt.rel_tol = rel_tol;
  inner_opt.rel_tol = 0.1 * rel_tol;
  inner_opt.max_intervals = 300;  // the inner integrand is one smooth peak; rounding limits it, not the rule
  inner_opt.throw_on_failure = false;
  outer_opt.max_intervals = 600;
  outer_opt.throw_on_failure = false;
  const std::vector<double> outer_breaks = peak_breaks(-M_PI, M_PI, 0.0, sigma / chart.radius1());
  const std::vector<double> inner_breaks = peak_breaks(-M_PI, M_PI, 0.0, sigma / chart.radius2());
  const VectorIntegrand outer = [&](double d1, double* out) {
    const double a1 = b[0] + d1;
    const double log_area = chart.log_area(a1);
    const VectorIntegrand inner = [&](double d2, double* o) {
      const Vec Z = chart.point(a1, b[1] + d2);
      const double lw = fw->log_weight(Z);
      if (lw == -std::numeric_limits<double>::infinity()) {
        for (int k = 0; k <= D; ++k) o[k] = 0.0;
        return;
      }
      const double w = std::exp(q.log_density(Z) + lw + log_area - shift);
      const Vec t = P_T * (Z - y);
      for (int k = 0; k < D; ++k) o[k] = w * t[k];
      o[D] = w;
    };
    const Eigen::ArrayXd I = integrate_adaptive(inner, D + 1, inner_breaks, inner_opt);
    for (int k = 0; k <= D; ++k) out[k] = I[k];
  };
  const Eigen::ArrayXd I = integrate_adaptive(outer, D + 1, outer_breaks, outer_opt);
  return (I.head(D) / (sigma * sigma * I[D])).matrix();
}

Vec exact_rb_quadrature(const dist::Density& q, const Vec& y, double sigma, double rel_tol) {
  check_sigma(sigma);
  const auto& M = q.manifold();
  if (!has_exact_rb_target(q))
    throw InvalidArgument(
        "no exact RB target for density " + q.spec() + " on " + M.spec() +
        " (exact: vmf or uniform on sphere:d, any density on clifford-torus or torus; use --method estimator)");
  M.check_ambient(y, "point");
  if (is_uniform(q) && dynamic_cast<const geometry::Sphere*>(&M)) return Vec::Zero(M.ambient_dim());
  if (dynamic_cast<const geometry::Sphere*>(&M)) {
    if (auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(&q))
      return VmfRbTarget(M.dim(), vmf->kappa(), vmf->mean(), sigma, std::min(rel_tol, 1e-11))(M.project(y));
  }
  return torus_rb_target(q, y, sigma, FibreModel::exact, rel_tol);
}

namespace {

std::string g3(double v) {
  char s[32];
  std::snprintf(s, sizeof s, "%.3g", v);
  return s;
}

}  // namespace

double exact_rb_switch_sigma(const geometry::Manifold& M) {
  const TorusChart chart(M);
  return 1e-3 * (chart.valid() ? std::min(chart.radius1(), chart.radius2()) : 1.0);
}

double exact_rb_quadrature_floor(const geometry::Manifold& M) {
  // Measured (docs/targets.md §3.3): the sphere's 1-D quadrature, with sin^2 th for 1 - cos^2 th, agrees
  // with the expansion to 1e-15 relative down to sigma = 1e-12 (vMF kappa = 2 on S^2); the tori's 2-D
  // quadrature forms Z - y from ambient coordinates, and that rounding divided by sigma^2 gives relative
  // errors 1e-11 at sigma = 1e-3 r, 1.7e-10 at 3e-4 r (von Mises on torus:3,1): 1e-10 near 5e-4 r.
  const TorusChart chart(M);
  return chart.valid() ? 5e-4 * std::min(chart.radius1(), chart.radius2()) : 1e-12;
}

Vec exact_rb_target(const dist::Density& q, const Vec& y, double sigma, double rel_tol, ExactRbInfo* info) {
  check_sigma(sigma);
  const auto& M = q.manifold();
  const bool sphere = dynamic_cast<const geometry::Sphere*>(&M) != nullptr;
  if (!has_exact_rb_target(q))
    throw InvalidArgument(
        "no exact RB target for density " + q.spec() + " on " + M.spec() +
        " (exact: vmf or uniform on sphere:d, any density on clifford-torus or torus; use --method estimator)");
  M.check_ambient(y, "point");
  ExactRbInfo local;
  ExactRbInfo& out = info ? *info : local;
  out = ExactRbInfo{};
  if (sphere && is_uniform(q)) return Vec::Zero(M.ambient_dim());
  const double s_sw = exact_rb_switch_sigma(M);
  out.switch_sigma = s_sw;
  if (sigma >= s_sw) return exact_rb_quadrature(q, y, sigma, rel_tol);
  // Small sigma: the expansion's remainder is O(sigma^4); measure it where the quadrature is accurate.
  const ExpansionTerms terms = expansion_terms(q, y);
  const Vec r_sw = exact_rb_quadrature(q, y, s_sw, rel_tol);
  const double e = (r_sw - terms.expansion(s_sw)).norm();
  const double tol = rel_tol * std::max({r_sw.norm(), terms.grad.norm(), 1e-300});
  // sigma_star: where e (sigma / s_sw)^4 reaches the tolerance (>= s_sw when e <= tol)
  const double sigma_star = e > 0.0 ? s_sw * std::pow(tol / e, 0.25) : s_sw;
  if (sigma <= sigma_star) {
    out.expansion = true;
    out.remainder = e * std::pow(sigma / s_sw, 4);
    return terms.expansion(sigma);
  }
  const double floor = exact_rb_quadrature_floor(M);
  if (sigma >= floor) return exact_rb_quadrature(q, y, sigma, rel_tol);
  throw InvalidArgument("the exact RB target of " + q.spec() + " on " + M.spec() + " at sigma = " + g3(sigma) +
                        " is out of reach: the quadrature is limited by rounding below sigma = " + g3(floor) +
                        ", and the sigma^2 expansion's remainder (" + g3(e) + " at sigma = " + g3(s_sw) +
                        ") exceeds the tolerance above sigma = " + g3(sigma_star) + " (use sigma >= " + g3(floor) +
                        " or <= " + g3(sigma_star) + ", or --method estimator)");
}

}  // namespace rbsm::dsm
