#include "rbsm/dist/vmf.hpp"

#include <cmath>

#include "detail.hpp"

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"

namespace rbsm::dist {
using detail::number;

double log_vmf_normaliser(int d, double kappa) {
  if (d < 1) throw InvalidArgument("vmf: sphere dimension " + std::to_string(d) + " (expected d >= 1)");
  if (!(kappa >= 0.0) || !std::isfinite(kappa))
    throw InvalidArgument("vmf: kappa = " + number(kappa) + " (expected a finite kappa >= 0)");
  if (kappa == 0.0) return -log_sphere_area(d);
  const double nu = 0.5 * (d - 1);
  return nu * std::log(kappa) - 0.5 * (d + 1) * std::log(2.0 * kPi) - log_bessel_i(nu, kappa);
}

double sample_vmf_cosine(int d, double kappa, Rng& rng, double* one_minus_t2) {
  // Wood (1994), with p = d + 1 and every difference written without cancellation:
  //   b = (p - 1) / (2 kappa + sqrt(4 kappa^2 + (p - 1)^2)),  x0 = (1 - b) / (1 + b),
  //   Z ~ Beta((p-1)/2, (p-1)/2),  W = (1 - (1 + b) Z) / (1 - (1 - b) Z),
  //   accept if kappa (W - x0) + (p - 1) log((1 - x0 W) / (1 - x0^2)) >= log U.
  const double m = d;  // p - 1
  const double b = m / (2.0 * kappa + std::sqrt(4.0 * kappa * kappa + m * m));
  const double eps1 = 2.0 * b / (1.0 + b);                           // 1 - x0
  const double log_1mx02 = std::log(4.0 * b) - 2.0 * std::log1p(b);  // log(1 - x0^2)
  for (;;) {
    const double Z = rng.beta(0.5 * m, 0.5 * m);
    const double den = 1.0 - (1.0 - b) * Z;
    const double eps2 = 2.0 * b * Z / den;                   // 1 - W
    const double one_minus_x0w = eps1 + eps2 - eps1 * eps2;  // 1 - x0 W
    const double log_u = std::log(rng.uniform_open());
    if (kappa * (eps1 - eps2) + m * (std::log(one_minus_x0w) - log_1mx02) >= log_u) {
      if (one_minus_t2) *one_minus_t2 = 4.0 * b * Z * (1.0 - Z) / (den * den);  // (1 - W)(1 + W)
      return 1.0 - eps2;
    }
  }
}

VonMisesFisher::VonMisesFisher(std::shared_ptr<const geometry::Manifold> manifold, double kappa, const Vec& mean)
    : Density(std::move(manifold)), d_(manifold_->dim()), kappa_(kappa) {
  if (!dynamic_cast<const geometry::Sphere*>(manifold_.get()))
    throw InvalidArgument("vmf lives on spheres (sphere:d), not on " + manifold_->spec());
  if (!(kappa >= 0.0) || !std::isfinite(kappa))
    throw InvalidArgument("vmf: kappa = " + number(kappa) + " (expected a finite kappa >= 0)");
  detail::check_concentration<InvalidArgument>(kappa, "vmf: kappa");
  if (mean.size() != manifold_->ambient_dim())
    throw InvalidArgument("vmf: the mean has " + std::to_string(mean.size()) + " coordinates, but " +
                          manifold_->spec() + " lives in R^" + std::to_string(manifold_->ambient_dim()));
  if (!mean.allFinite()) throw InvalidArgument("vmf: the mean has a NaN or infinite coordinate");
  const double scale = mean.cwiseAbs().maxCoeff();  // scaled first: |mean|^2 overflows near 1e308
  if (!(scale > 0.0)) throw InvalidArgument("vmf: the mean direction is the zero vector (expected a non-zero vector)");
  const Vec u = mean / scale;
  mu_ = u / u.norm();
  log_c_ = log_vmf_normaliser(d_, kappa_);
}

std::string VonMisesFisher::spec() const { return "vmf:kappa=" + number(kappa_); }

double VonMisesFisher::log_density(const Vec& z) const { return log_c_ + kappa_ * mu_.dot(z); }

Vec VonMisesFisher::grad_log(const Vec& z) const { return kappa_ * (mu_ - mu_.dot(z) * z); }

double VonMisesFisher::laplacian_log(const Vec& z) const { return -d_ * kappa_ * mu_.dot(z); }

Vec VonMisesFisher::heat_drift(const Vec& z) const {
  const double t = mu_.dot(z);
  return -(0.5 * d_ + kappa_ * t) * kappa_ * (mu_ - t * z);
}

Vec VonMisesFisher::sample(Rng& rng) const {
  double s2 = 0.0;
  const double t = sample_vmf_cosine(d_, kappa_, rng, &s2);
  // x = (t, sqrt(1 - t^2) v) around e_1 with v uniform on the unit sphere of e_1's orthogonal complement.
  Vec x(d_ + 1);
  x[0] = t;
  Vec v(d_);
  double vn = 0.0;
  do {
    for (int i = 0; i < d_; ++i) v[i] = rng.normal();
    vn = v.norm();
  } while (vn == 0.0);
  x.tail(d_) = (std::sqrt(s2) / vn) * v;
  // An orthogonal map sending e_1 to mu: a Householder reflection, with the sign chosen so that
  // |u| >= 1 (no cancellation when mu is close to +-e_1). v's law is invariant, so any such map will do.
  Vec u = -mu_;
  if (mu_[0] >= 0.0) {  // u = e_1 + mu: H e_1 = -mu, so use -H
    u = mu_;
    u[0] += 1.0;
    return -(x - (2.0 * u.dot(x) / u.squaredNorm()) * u);
  }
  u[0] += 1.0;  // u = e_1 - mu: H e_1 = mu
  return x - (2.0 * u.dot(x) / u.squaredNorm()) * u;
}

}  // namespace rbsm::dist
