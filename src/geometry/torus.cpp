#include "rbsm/geometry/torus.hpp"

#include <cmath>
#include <sstream>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::geometry {
namespace {
// Relative size below which a radial distance counts as zero (no unique nearest point).
constexpr double kFocalTolerance = 1e-12;

std::string num(double v) {
  std::ostringstream s;
  s.precision(12);
  s << v;
  return s.str();
}

void require_radius(double v, const std::string& name, const std::string& what) {
  if (!std::isfinite(v) || v <= 0)
    throw InvalidArgument(what + ": radius " + name + " = " + num(v) + " must be a finite number > 0");
}
}  // namespace

// ====================================================================== Clifford torus (R^4)

CliffordTorus::CliffordTorus(double r1, double r2) : r1_(r1), r2_(r2) {
  require_radius(r1, "r1", "clifford-torus");
  require_radius(r2, "r2", "clifford-torus");
}

std::string CliffordTorus::spec() const { return "clifford-torus:" + num(r1_) + "," + num(r2_); }

Eigen::Vector2d CliffordTorus::angles(const Vec& z) const {
  check_ambient(z, "z");
  return {std::atan2(z[1], z[0]), std::atan2(z[3], z[2])};
}

Vec CliffordTorus::point(double a1, double a2) const {
  Vec p(4);
  p << r1_ * std::cos(a1), r1_ * std::sin(a1), r2_ * std::cos(a2), r2_ * std::sin(a2);
  return p;
}

double CliffordTorus::log_area_element(double, double) const { return std::log(r1_ * r2_); }

Mat CliffordTorus::coordinate_tangents(double a1, double a2) const {
  Mat T = Mat::Zero(4, 2);
  T(0, 0) = -r1_ * std::sin(a1);
  T(1, 0) = r1_ * std::cos(a1);
  T(2, 1) = -r2_ * std::sin(a2);
  T(3, 1) = r2_ * std::cos(a2);
  return T;
}

Vec CliffordTorus::project(const Vec& x) const {
  check_ambient(x, "point");
  // The squared distance splits into |x_12 - p_1|^2 + |x_34 - p_2|^2 with p_i on a circle of
  // radius r_i, so each pair is projected onto its circle independently.
  const double n1 = x.head<2>().norm(), n2 = x.tail<2>().norm();
  if (n1 <= kFocalTolerance * r1_ || n2 <= kFocalTolerance * r2_)
    throw GeometryError(std::string("point has (x") + (n1 <= kFocalTolerance * r1_ ? "1, x2" : "3, x4") + ") = 0 on " +
                        spec() + ": no unique nearest point");
  Vec z(4);
  z << r1_ * x.head<2>() / n1, r2_ * x.tail<2>() / n2;
  return z;
}

Mat CliffordTorus::tangent_frame(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  Mat E = coordinate_tangents(a[0], a[1]);
  E.col(0) /= r1_;
  E.col(1) /= r2_;
  return E;
}

Mat CliffordTorus::normal_frame(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  Mat N = Mat::Zero(4, 2);
  N(0, 0) = std::cos(a[0]);
  N(1, 0) = std::sin(a[0]);
  N(2, 1) = std::cos(a[1]);
  N(3, 1) = std::sin(a[1]);
  return N;
}

Mat CliffordTorus::weingarten(const Vec& z, const Vec& nu) const {
  // Each circle of radius r_i has unit-speed acceleration -n_i / r_i, so II(e_i, e_i) = -n_i / r_i,
  // II(e_1, e_2) = 0, and W_nu = -sum_i (<nu, n_i> / r_i) e_i e_i^T (docs/geometry.md eq. 3.1).
  check_ambient(nu, "normal vector");
  const Mat E = tangent_frame(z), N = normal_frame(z);
  return -(nu.dot(N.col(0)) / r1_) * E.col(0) * E.col(0).transpose() -
         (nu.dot(N.col(1)) / r2_) * E.col(1) * E.col(1).transpose();
}

Mat CliffordTorus::ricci(const Vec& z) const {
  check_ambient(z, "z");
  return Mat::Zero(4, 4);
}

Vec CliffordTorus::geometric_drift(const Vec& z) const {
  check_ambient(z, "z");
  return Vec::Zero(4);
}

Vec CliffordTorus::sample_uniform(Rng& rng) const {
  const double a1 = rng.uniform(-kPi, kPi);
  const double a2 = rng.uniform(-kPi, kPi);
  return point(a1, a2);
}

double CliffordTorus::reach() const { return std::min(r1_, r2_); }
double CliffordTorus::volume() const { return 4 * kPi * kPi * r1_ * r2_; }

// ====================================================================== torus of revolution (R^3)

TorusOfRevolution::TorusOfRevolution(double R, double r) : R_(R), r_(r) {
  require_radius(R, "R", "torus");
  require_radius(r, "r", "torus");
  if (R <= r)
    throw InvalidArgument("torus: need R > r (got R = " + num(R) + ", r = " + num(r) +
                          "); with R <= r the surface intersects itself");
}

std::string TorusOfRevolution::spec() const { return "torus:" + num(R_) + "," + num(r_); }

Eigen::Vector2d TorusOfRevolution::angles(const Vec& z) const {
  check_ambient(z, "z");
  const double rho = std::hypot(z[0], z[1]);
  return {std::atan2(z[2], rho - R_), std::atan2(z[1], z[0])};
}

Vec TorusOfRevolution::point(double a1, double a2) const {
  const double rho = R_ + r_ * std::cos(a1);
  Vec p(3);
  p << rho * std::cos(a2), rho * std::sin(a2), r_ * std::sin(a1);
  return p;
}

double TorusOfRevolution::log_area_element(double a1, double) const { return std::log(r_ * (R_ + r_ * std::cos(a1))); }

Mat TorusOfRevolution::coordinate_tangents(double a1, double a2) const {
  const double c1 = std::cos(a1), s1 = std::sin(a1), c2 = std::cos(a2), s2 = std::sin(a2);
  const double rho = R_ + r_ * c1;
  Mat T(3, 2);
  T << -r_ * s1 * c2, -rho * s2, -r_ * s1 * s2, rho * c2, r_ * c1, 0.0;
  return T;
}

Eigen::Vector2d TorusOfRevolution::principal_curvatures(double a1) const {
  const double c1 = std::cos(a1);
  return {c1 / (R_ + r_ * c1), 1.0 / r_};
}

double TorusOfRevolution::gaussian_curvature(double a1) const {
  const double c1 = std::cos(a1);
  return c1 / (r_ * (R_ + r_ * c1));
}

Vec TorusOfRevolution::project(const Vec& x) const {
  check_ambient(x, "point");
  // For rho > 0 the nearest point lies in the half-plane through the axis and x; there it is the
  // nearest point of the tube's circle, centred at the core circle's point c.
  const double rho = std::hypot(x[0], x[1]);
  if (rho <= kFocalTolerance * R_)
    throw GeometryError("point is on the axis of " + spec() + " (x1 = x2 = 0): no unique nearest point");
  Vec c(3);
  c << R_ * x[0] / rho, R_ * x[1] / rho, 0.0;
  const Vec q = x - c;
  const double dq = q.norm();
  if (dq <= kFocalTolerance * r_)
    throw GeometryError("point is on the core circle of " + spec() + " (radius R = " + num(R_) +
                        " in the plane x3 = 0): no unique nearest point");
  return c + r_ * q / dq;
}

Mat TorusOfRevolution::tangent_frame(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  Mat E = coordinate_tangents(a[0], a[1]);
  E.col(0) /= r_;
  E.col(1) /= R_ + r_ * std::cos(a[0]);
  return E;
}

Mat TorusOfRevolution::normal_frame(const Vec& z) const {
  const Eigen::Vector2d a = angles(z);
  Mat N(3, 1);
  N << std::cos(a[0]) * std::cos(a[1]), std::cos(a[0]) * std::sin(a[1]), std::sin(a[0]);
  return N;
}

Mat TorusOfRevolution::weingarten(const Vec& z, const Vec& nu) const {
  // Meridian (radius r) and parallel (radius R + r cos a1) circles have unit-speed accelerations
  // whose n-components are -1/r and -cos a1/(R + r cos a1): II(e1, e1) = -k2 n, II(e2, e2) = -k1 n,
  // II(e1, e2) = 0 (docs/geometry.md eq. 4.1).
  check_ambient(nu, "normal vector");
  const Eigen::Vector2d a = angles(z);
  const Eigen::Vector2d k = principal_curvatures(a[0]);
  const Mat E = tangent_frame(z);
  const double t = nu.dot(normal_frame(z).col(0));
  return -t * (k[1] * E.col(0) * E.col(0).transpose() + k[0] * E.col(1) * E.col(1).transpose());
}

Mat TorusOfRevolution::ricci(const Vec& z) const {
  // Intrinsic: for ds^2 = du^2 + g(u)^2 da2^2 (u = r a1, g = R + r cos(u/r)), K_G = -g''/g.
  const Mat E = tangent_frame(z);
  return gaussian_curvature(angles(z)[0]) * E * E.transpose();
}

Vec TorusOfRevolution::geometric_drift(const Vec& z) const {
  // E_M = 1/2 k1 grad_M k1, grad_M k1 = (dk1/da1) / r * e1, dk1/da1 = -R sin a1 / (R + r cos a1)^2.
  const Eigen::Vector2d a = angles(z);
  const double c1 = std::cos(a[0]), s1 = std::sin(a[0]);
  const double rho = R_ + r_ * c1;
  const double k1 = c1 / rho;
  const double dk1 = -R_ * s1 / (rho * rho);
  return 0.5 * k1 * (dk1 / r_) * tangent_frame(z).col(0);
}

Vec TorusOfRevolution::sample_uniform(Rng& rng) const {
  // Area element r (R + r cos a1) da1 da2: a2 uniform; a1 by rejection from uniform with
  // acceptance (R + r cos a1) / (R + r) (mean acceptance R / (R + r) >= 1/2).
  const double a2 = rng.uniform(-kPi, kPi);
  for (;;) {
    const double a1 = rng.uniform(-kPi, kPi);
    if (rng.uniform() * (R_ + r_) < R_ + r_ * std::cos(a1)) return point(a1, a2);
  }
}

double TorusOfRevolution::reach() const { return std::min(r_, R_ - r_); }
double TorusOfRevolution::volume() const { return 4 * kPi * kPi * R_ * r_; }

const AngularChart* angular_chart(const Manifold& manifold) { return dynamic_cast<const AngularChart*>(&manifold); }

}  // namespace rbsm::geometry
