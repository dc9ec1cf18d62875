// The drift of an axial profile and one step of manifold Langevin on any manifold (include/rbsm/sampling/langevin.hpp,
// docs/langevin.md §1): the projected Euler-Maruyama step, the model-free half of MALA with the projection retraction
// (§1.2), and the checks of the options. The chains themselves run in langevin.cpp.
#include <cmath>
#include <string>
#include <utility>

#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/sampling/langevin.hpp"
#include "rbsm/validate.hpp"

namespace rbsm::sampling {

Drift axial_drift(std::string name, const Vec& mu, Table1D g) {
  if (std::abs(mu.norm() - 1.0) > 1e-12) throw InvalidArgument("axial_drift: mu must be a unit vector");
  Drift d;
  d.name = std::move(name);
  d.axial = AxialProfile{mu, g};
  d.field = [mu, g](const Vec& z) -> Vec {
    const double t = mu.dot(z);
    return g(t) * (mu - t * z);
  };
  const Table1D G = g.antiderivative();
  d.log_target = [mu, G](const Vec& z) { return G(mu.dot(z)); };
  return d;
}

namespace {

/// The reverse move in given frames: w = E_y a with E_z^T (y + E_y a - z) = 0 (y + w - z normal at z).
Vec inverse_in_frames(const Mat& Ey, const Mat& Ez, const Vec& y, const Vec& z) {
  return Ey * (Ez.transpose() * Ey).fullPivLu().solve(Ez.transpose() * (z - y));
}

/// log |det(I - E_y^T W_n E_y)|, the curvature part of the projection's Jacobian at x = y + n (n normal
/// at y): d pi(x) = (I - W_n)^{-1} P_T(y).
double curvature_log_factor(const geometry::Manifold& manifold, const Vec& y, const Mat& Ey, const Vec& n) {
  const int d = manifold.dim();
  return std::log(std::abs((Mat::Identity(d, d) - Ey.transpose() * manifold.weingarten(y, n) * Ey).determinant()));
}

}  // namespace

Vec retraction_inverse(const geometry::Manifold& manifold, const Vec& y, const Vec& z) {
  return inverse_in_frames(manifold.tangent_frame(y), manifold.tangent_frame(z), y, z);
}

MalaProposal mala_propose(const geometry::Manifold& manifold, const Vec& z, const Vec& b, double h, const Vec& xi) {
  MalaProposal p;
  const Mat Ez = manifold.tangent_frame(z);
  const Vec v = h * b + std::sqrt(2.0 * h) * (Ez * (Ez.transpose() * xi));
  try {
    const Vec x = z + v;
    p.y = manifold.project(x);
    const Mat Ey = manifold.tangent_frame(p.y);
    p.w = inverse_in_frames(Ey, Ez, p.y, z);
    if ((manifold.project(p.y + p.w) - z).norm() >= 1e-9) return p;  // z must be the nearest point of y + w
    p.log_ratio = (v - h * b).squaredNorm() / (4.0 * h) - curvature_log_factor(manifold, p.y, Ey, x - p.y) +
                  curvature_log_factor(manifold, z, Ez, p.y + p.w - z);
    p.ok = std::isfinite(p.log_ratio);
  } catch (const GeometryError&) {
    // the proposal left the reach of M (no nearest point): rejected
  }
  return p;
}

double retraction_log_jacobian(const geometry::Manifold& manifold, const Vec& z, const Vec& v) {
  // restricted to T_z M and read in the orthonormal frames E_z, E_y, d pi(z + v) has determinant
  // det(E_y^T E_z) / det(I - E_y^T W_{x - y} E_y)
  const Vec x = z + v, y = manifold.project(x);
  const Mat Ez = manifold.tangent_frame(z), Ey = manifold.tangent_frame(y);
  return std::log(std::abs((Ey.transpose() * Ez).determinant())) - curvature_log_factor(manifold, y, Ey, x - y);
}

bool is_sphere(const geometry::Manifold& manifold) {
  return dynamic_cast<const geometry::Sphere*>(&manifold) != nullptr;
}

Vec langevin_step(const geometry::Manifold& manifold, const Drift& drift, const Vec& z, double h, const Vec& xi) {
  const Mat E = manifold.tangent_frame(z);
  const Vec noise = E * (E.transpose() * xi);
  return manifold.project(z + h * drift.field(z) + std::sqrt(2.0 * h) * noise);
}

std::string mala_without_potential_message(const std::string& drift_name) {
  return "langevin: --mala needs a drift with a known potential (true, or an axial drift on a sphere); '" + drift_name +
         "' has none";
}

void check_langevin_options(const geometry::Manifold& manifold, const Drift& drift, const LangevinOptions& o_in) {
  LangevinOptions o = o_in;
  if (o.burn_in < -1)
    throw InvalidArgument("langevin: --burn-in must be >= 0 (or -1 for steps / 2), got " + std::to_string(o.burn_in));
  if (o.burn_in < 0) o.burn_in = o.steps / 2;
  if (o.chains < 1) throw InvalidArgument("langevin: --chains must be >= 1, got " + std::to_string(o.chains));
  if (o.steps < 1) throw InvalidArgument("langevin: --steps must be >= 1, got " + std::to_string(o.steps));
  if (!(o.step_size > 0.0) || !std::isfinite(o.step_size))
    throw InvalidArgument("langevin: --step-size must be a positive number, got " + std::to_string(o.step_size));
  if (o.record_every < 1)
    throw InvalidArgument("langevin: record_every must be >= 1, got " + std::to_string(o.record_every));
  if (o.burn_in >= o.steps)
    throw InvalidArgument("langevin: burn-in (" + std::to_string(o.burn_in) + ") must be below --steps (" +
                          std::to_string(o.steps) + ")");
  if ((o.steps - o.burn_in) / o.record_every < 1)
    throw InvalidArgument("langevin: --steps " + std::to_string(o.steps) + " with burn-in " +
                          std::to_string(o.burn_in) + " and --record-every " + std::to_string(o.record_every) +
                          " records no state (give more steps)");
  // The recorded samples are allocated at once: refuse a run that cannot fit in memory.
  const double records = static_cast<double>(o.steps - o.burn_in) / o.record_every;
  validate::memory(static_cast<double>(o.chains) * records * manifold.ambient_dim() * sizeof(double),
                   "langevin: --chains " + std::to_string(o.chains) + " x --steps " + std::to_string(o.steps));
  if (!drift.field) throw InvalidArgument("langevin: drift '" + drift.name + "' has no field");
  if (o.metropolis) {
    if (!drift.log_target) throw InvalidArgument(mala_without_potential_message(drift.name));
  }
  if (o.initial && (o.initial->rows() != o.chains || o.initial->cols() != manifold.ambient_dim()))
    throw InvalidArgument("langevin: initial states must be chains x D");
}

}  // namespace rbsm::sampling
