#include "rbsm/dist/torus_von_mises.hpp"

#include <cmath>

#include <unsupported/Eigen/AutoDiff>

#include "detail.hpp"

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/torus.hpp"

namespace rbsm::dist {
using detail::number;

double sample_von_mises(double kappa, Rng& rng) {
  if (!(kappa >= 0.0) || !std::isfinite(kappa))
    throw InvalidArgument("von Mises: kappa = " + number(kappa) + " (expected a finite kappa >= 0)");
  if (kappa == 0.0) return kPi * (2.0 * rng.uniform() - 1.0);
  // Best & Fisher (1979), with rho = (tau - sqrt(2 tau)) / (2 kappa) rewritten as 2 kappa / (tau + sqrt(2 tau))
  // (no cancellation for small kappa).
  const double tau = 1.0 + std::sqrt(1.0 + 4.0 * kappa * kappa);
  const double rho = 2.0 * kappa / (tau + std::sqrt(2.0 * tau));
  const double r = (1.0 + rho * rho) / (2.0 * rho);
  for (;;) {
    const double z = std::cos(kPi * rng.uniform());
    const double f = (1.0 + r * z) / (r + z);
    const double c = kappa * (r - f);
    const double u2 = rng.uniform_open();
    if (c * (2.0 - c) - u2 > 0.0 || std::log(c / u2) + 1.0 - c >= 0.0) {
      const double theta = std::acos(std::max(-1.0, std::min(1.0, f)));
      return rng.uniform() < 0.5 ? -theta : theta;
    }
  }
}

TorusVonMises::TorusVonMises(std::shared_ptr<const geometry::Manifold> manifold, double kappa1, double kappa2,
                             const Eigen::Vector2d& mean_angles)
    : Density(std::move(manifold)), kappa1_(kappa1), kappa2_(kappa2), mean_(mean_angles) {
  clifford_ = dynamic_cast<const geometry::CliffordTorus*>(manifold_.get());
  revolution_ = dynamic_cast<const geometry::TorusOfRevolution*>(manifold_.get());
  if (clifford_) {
    c1_ = clifford_->r1();
    beta_ = clifford_->r2();
    gamma_ = 0.0;
  } else if (revolution_) {
    c1_ = revolution_->r();
    beta_ = revolution_->R();
    gamma_ = revolution_->r();
  } else {
    throw InvalidArgument("vonmises lives on the tori (clifford-torus:r1,r2 or torus:R,r), not on " +
                          manifold_->spec());
  }
  for (double k : {kappa1, kappa2})
    if (!(k >= 0.0) || !std::isfinite(k))
      throw InvalidArgument("vonmises: kappa = " + number(k) + " (expected finite kappa1, kappa2 >= 0)");
  for (double k : {kappa1, kappa2}) detail::check_concentration<InvalidArgument>(k, "vonmises: kappa");
  if (!mean_.allFinite()) throw InvalidArgument("vonmises: the mean angles are not finite");
  // log of c1 (2 pi)^2 I0(B) (beta I0(A) + gamma cos(m1) I1(A)) (docs/densities.md eq. 3.4).
  log_z_ = std::log(c1_) + 2.0 * std::log(2.0 * kPi) + log_bessel_i(0.0, kappa2_) + log_bessel_i(0.0, kappa1_) +
           std::log(beta_ + gamma_ * std::cos(mean_[0]) * bessel_ratio(2.0, kappa1_));
}

std::string TorusVonMises::spec() const { return "vonmises:kappa1=" + number(kappa1_) + ",kappa2=" + number(kappa2_); }

Eigen::Vector2d TorusVonMises::angles(const Vec& z) const {
  return clifford_ ? clifford_->angles(z) : revolution_->angles(z);
}

Vec TorusVonMises::point(double a1, double a2) const {
  return clifford_ ? clifford_->point(a1, a2) : revolution_->point(a1, a2);
}

double TorusVonMises::log_density_angles(double a1, double a2) const {
  return kappa1_ * std::cos(a1 - mean_[0]) + kappa2_ * std::cos(a2 - mean_[1]) - log_z_;
}

double TorusVonMises::log_density(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  return log_density_angles(a[0], a[1]);
}

Vec TorusVonMises::gradient_from_angles(double a1, double a2, double g1, double g2) const {
  const Mat T = clifford_ ? clifford_->coordinate_tangents(a1, a2) : revolution_->coordinate_tangents(a1, a2);
  const double h2 = beta_ + gamma_ * std::cos(a1);
  return (g1 / (c1_ * c1_)) * T.col(0) + (g2 / (h2 * h2)) * T.col(1);
}

Vec TorusVonMises::grad_log(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  return gradient_from_angles(a[0], a[1], -kappa1_ * std::sin(a[0] - mean_[0]), -kappa2_ * std::sin(a[1] - mean_[1]));
}

template <class T>
T TorusVonMises::laplacian_plus_grad2(const T& a1, const T& a2) const {
  using std::cos;
  using std::sin;
  const T f1 = -kappa1_ * sin(a1 - mean_[0]), f11 = -kappa1_ * cos(a1 - mean_[0]);
  const T f2 = -kappa2_ * sin(a2 - mean_[1]), f22 = -kappa2_ * cos(a2 - mean_[1]);
  const T h2 = beta_ + gamma_ * cos(a1), dh2 = -gamma_ * sin(a1);
  const double c2 = c1_ * c1_;
  const T laplacian = f11 / c2 + dh2 * f1 / (c2 * h2) + f22 / (h2 * h2);
  return laplacian + f1 * f1 / c2 + f2 * f2 / (h2 * h2);
}

double TorusVonMises::laplacian_log(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  const double a1 = a[0], a2 = a[1];
  const double f1 = -kappa1_ * std::sin(a1 - mean_[0]), f2 = -kappa2_ * std::sin(a2 - mean_[1]);
  const double h2 = beta_ + gamma_ * std::cos(a1);
  return laplacian_plus_grad2(a1, a2) - f1 * f1 / (c1_ * c1_) - f2 * f2 / (h2 * h2);
}

Vec TorusVonMises::heat_drift(const Vec& z) const {
  using AD = Eigen::AutoDiffScalar<Eigen::Vector2d>;
  const Eigen::Vector2d a = angles(z);
  const AD s = laplacian_plus_grad2(AD(a[0], 2, 0), AD(a[1], 2, 1));
  return 0.5 * gradient_from_angles(a[0], a[1], s.derivatives()[0], s.derivatives()[1]);
}

Vec TorusVonMises::sample(Rng& rng) const {
  const double a2 = mean_[1] + sample_von_mises(kappa2_, rng);
  double a1;
  do a1 = mean_[0] + sample_von_mises(kappa1_, rng);
  while (rng.uniform() * (beta_ + gamma_) >= beta_ + gamma_ * std::cos(a1));
  return point(a1, a2);
}

}  // namespace rbsm::dist
