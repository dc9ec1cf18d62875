#include "rbsm/sampling/drifts.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/sampling/periodic_grid.hpp"
#include "rbsm/sampling/rb_field.hpp"

namespace rbsm::sampling {

using dsm::Correction;
using dsm::TangentField;

const std::vector<std::string>& drift_names() {
  static const std::vector<std::string> names{"true",    "rb",          "rb-extrinsic",    "rb-geometric",
                                              "rb-full", "first-order", "source-expansion"};
  return names;
}

namespace {

/// A unit vector orthogonal to mu.
Vec orthogonal_unit(const Vec& mu) {
  Vec w = Vec::Zero(mu.size());
  int j = 0;
  for (int i = 1; i < mu.size(); ++i)
    if (std::abs(mu[i]) < std::abs(mu[j])) j = i;
  w[j] = 1.0;
  w -= w.dot(mu) * mu;
  return w.normalized();
}

/// A tangent field on a torus tabulated as its frame coefficients on a periodic grid.
struct TorusGridField {
  const geometry::Manifold* M;
  const geometry::AngularChart* chart;
  std::shared_ptr<PeriodicGrid2D> u1, u2;
  bool spectral = false;

  TorusGridField(const geometry::Manifold& manifold, const geometry::AngularChart* ch, const TangentField& f, int n,
                 int threads, bool spectral_eval)
      : M(&manifold), chart(ch), spectral(spectral_eval) {
    // Evaluate f once per node (both coefficients from one call).
    std::vector<double> c1(static_cast<std::size_t>(n) * n), c2(c1.size());
    const PeriodicGrid2D index(
        n, n,
        [&](double a1, double a2) {
          const int k1 = static_cast<int>(std::lround(a1 / (2 * M_PI) * n)) % n;
          const int k2 = static_cast<int>(std::lround(a2 / (2 * M_PI) * n)) % n;
          const Vec z = chart->point(a1, a2);
          const geometry::Mat E = M->tangent_frame(z);
          const Vec b = f(z);
          c1[k1 * n + k2] = E.col(0).dot(b);
          c2[k1 * n + k2] = E.col(1).dot(b);
          return 0.0;
        },
        threads);
    u1 = std::make_shared<PeriodicGrid2D>(n, n, std::move(c1));
    u2 = std::make_shared<PeriodicGrid2D>(n, n, std::move(c2));
  }

  Vec operator()(const Vec& z) const {
    Eigen::Vector2d a = chart->angles(z);
    for (int i = 0; i < 2; ++i)
      if (a[i] < 0) a[i] += 2 * M_PI;
    const geometry::Mat E = M->tangent_frame(z);
    const double x1 = spectral ? u1->spectral(a[0], a[1]) : u1->cubic(a[0], a[1]);
    const double x2 = spectral ? u2->spectral(a[0], a[1]) : u2->cubic(a[0], a[1]);
    return E.col(0) * x1 + E.col(1) * x2;
  }
};

Correction correction_of(const std::string& name) {
  if (name == "rb") return Correction::none;
  if (name == "rb-extrinsic") return Correction::extrinsic;
  if (name == "rb-geometric") return Correction::geometric;
  return Correction::full;
}

/// The drifts that need no r_sigma, pointwise.
TangentField model_field(const std::string& name, const dist::Density& q, double sigma) {
  const dist::Density* Q = &q;
  if (name == "true") return [Q](const Vec& z) { return Q->grad_log(z); };
  if (name == "first-order") return [Q, sigma](const Vec& z) { return dsm::expansion_terms(*Q, z).expansion(sigma); };
  // source-expansion: grad + sigma^2 K grad
  return [Q, sigma](const Vec& z) {
    const Vec g = Q->grad_log(z);
    return Vec(g + sigma * sigma * (Q->manifold().correction_operator(z) * g));
  };
}

Drift axial_vmf_drift(const std::string& name, const dist::VonMisesFisher& q, double sigma, const DriftOptions& o) {
  const auto& M = q.manifold();
  const int d = M.dim();
  const Vec mu = q.mean();
  const double edge = 1e-4;  // the meridian read-off divides by 1 - t^2: stay off the poles
  auto clamp = [edge](double t) { return std::max(-1.0 + edge, std::min(1.0 - edge, t)); };
  std::function<double(double)> g;
  if (name == "true" || name == "first-order" || name == "source-expansion") {
    const TangentField f = model_field(name, q, sigma);
    g = [f, mu, clamp](double t) { return axial_coefficient(f, mu, clamp(t)); };
  } else {
    const dsm::VmfRbTarget target(d, q.kappa(), mu, sigma);
    const auto cheb = std::make_shared<dsm::ChebyshevTable>(target.tabulate(96));
    const std::function<double(double)> gr = [cheb](double t) { return (*cheb)(t); };
    const Correction c = correction_of(name);
    if (c == Correction::full) {
      g = [gr, d, sigma, clamp](double t) { return axial_full_correction(gr, d, sigma, clamp(t)); };
    } else {
      const TangentField r = [gr, mu](const Vec& z) { return Vec(gr(mu.dot(z)) * (mu - mu.dot(z) * z)); };
      const TangentField f = dsm::corrected_field(M, r, c, sigma);
      g = [f, mu, clamp](double t) { return axial_coefficient(f, mu, clamp(t)); };
    }
  }
  return axial_drift(name, mu, Table1D::tabulate(-1.0, 1.0, o.axial_grid, g));
}

}  // namespace

double axial_coefficient(const TangentField& b, const Vec& mu, double t) {
  const Vec w = orthogonal_unit(mu);
  const double s = std::sqrt(std::max(0.0, 1.0 - t * t));
  const Vec z = t * mu + s * w;
  return b(z).dot(mu - t * z) / (s * s);
}

double axial_full_correction(const std::function<double(double)>& g, int d, double sigma, double t, double h) {
  auto dg = [&](double x) { return (g(x + 0.1 * h) - g(x - 0.1 * h)) / (0.2 * h); };
  auto Phi = [&](double x) {
    const double gx = g(x);
    return dg(x) * (1 - x * x) - d * x * gx + gx * gx * (1 - x * x);
  };
  const double dPhi = (Phi(t + h) - Phi(t - h)) / (2 * h);
  return g(t) - sigma * sigma * (0.5 * dPhi + (1.0 - 0.5 * d) * g(t));
}

Drift field_drift(std::string name, const geometry::Manifold& M, TangentField s, Correction c, double sigma,
                  const DriftOptions& o) {
  if (c != Correction::none) dsm::check_sigma(sigma);
  Drift drift;
  drift.name = std::move(name);
  if (const auto* chart = geometry::angular_chart(M)) {
    TangentField base = s;
    if (c == Correction::full) {
      // differentiate a smooth (spectral) interpolant of s, then tabulate the corrected field
      auto smooth = std::make_shared<TorusGridField>(M, chart, s, o.rb_grid, o.threads, true);
      base = [smooth](const Vec& z) { return (*smooth)(z); };
    }
    const TangentField f = dsm::corrected_field(M, base, c, sigma > 0 ? sigma : 1.0);
    auto grid =
        std::make_shared<TorusGridField>(M, chart, c == Correction::none ? s : f, o.torus_grid, o.threads, false);
    drift.field = [grid](const Vec& z) { return (*grid)(z); };
    return drift;
  }
  drift.field = c == Correction::none ? s : dsm::corrected_field(M, s, c, sigma);
  return drift;
}

bool drift_has_potential(const std::string& name, const dist::Density& q) {
  if (name == "true") return true;
  const auto& names = drift_names();
  return dynamic_cast<const dist::VonMisesFisher*>(&q) && std::find(names.begin(), names.end(), name) != names.end();
}

namespace {

std::mutex& families_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, DriftFactory>& families() {
  static std::map<std::string, DriftFactory> f;
  return f;
}

}  // namespace

void register_drift_family(const std::string& prefix, DriftFactory factory) {
  std::lock_guard<std::mutex> lock(families_mutex());
  families()[prefix] = std::move(factory);
}

Drift build_drift(const std::string& name, const dist::Density& q, double sigma, const std::string& correction,
                  const DriftOptions& options) {
  const Correction c = dsm::parse_correction(correction);  // validated even where unused
  const auto colon = name.find(':');
  if (colon == std::string::npos) return make_drift(name, q, sigma, options);
  const std::string prefix = name.substr(0, colon);
  DriftFactory factory;
  {
    std::lock_guard<std::mutex> lock(families_mutex());
    const auto it = families().find(prefix);
    if (it != families().end()) factory = it->second;
  }
  if (!factory) {
    if (prefix == "model") throw InvalidArgument("drift '" + name + "': learned models need rbsm built with LibTorch");
    throw InvalidArgument("unknown drift '" + name + "' (no drift family '" + prefix + ":')");
  }
  return factory(name.substr(colon + 1), q, sigma, c, options);
}

Drift make_drift(const std::string& name, const dist::Density& q, double sigma, const DriftOptions& o) {
  bool known = false;
  for (const auto& n : drift_names()) known = known || n == name;
  if (!known)
    throw InvalidArgument("unknown drift '" + name +
                          "' (expected true, rb, rb-extrinsic, rb-geometric, rb-full, first-order, source-expansion "
                          "or model:PATH)");
  dsm::check_sigma(sigma);
  const auto& M = q.manifold();
  if (auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(&q)) return axial_vmf_drift(name, *vmf, sigma, o);

  Drift drift;
  if (name == "true" || name == "first-order" || name == "source-expansion") {
    drift = field_drift(name, M, model_field(name, q, sigma), Correction::none, sigma, o);
    if (name == "true") {
      const dist::Density* Q = &q;
      drift.log_target = [Q](const Vec& z) { return Q->log_density(z); };
    }
    return drift;
  }
  // The RB drifts: r_sigma pointwise (quadrature or estimator), tabulated on the tori.
  TangentField r = rb_field(q, sigma, o.references, o.seed);
  if (const auto* chart = geometry::angular_chart(M)) {
    auto grid = std::make_shared<TorusGridField>(M, chart, r, o.rb_grid, o.threads, true);
    r = [grid](const Vec& z) { return (*grid)(z); };
  }
  return field_drift(name, M, r, correction_of(name), sigma, o);
}

}  // namespace rbsm::sampling
