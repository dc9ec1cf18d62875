#include "rbsm/geometry/sphere.hpp"

#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::geometry {
namespace {
// Below this norm x / |x| is not a well-defined nearest point (the centre is the focal set).
constexpr double kCentreTolerance = 1e-12;
}  // namespace

Sphere::Sphere(int d) : d_(d) {
  if (d < 1) throw InvalidArgument("sphere dimension d = " + std::to_string(d) + " must be >= 1");
}

std::string Sphere::spec() const { return "sphere:" + std::to_string(d_); }

Vec Sphere::project(const Vec& x) const {
  check_ambient(x, "point");
  // Scaled by the largest coordinate first: |x|^2 of a point with coordinates near 1e308 overflows.
  const double s = x.cwiseAbs().maxCoeff();
  if (!(s > 0.0) || s * std::sqrt(static_cast<double>(x.size())) <= kCentreTolerance)
    throw GeometryError("point is at the centre of " + spec() + " (|x| <= 1e-12): no unique nearest point");
  const Vec u = x / s;
  const double n = u.norm();
  if (s * n <= kCentreTolerance)
    throw GeometryError("point is at the centre of " + spec() + " (|x| <= 1e-12): no unique nearest point");
  return u / n;
}

Mat Sphere::tangent_frame(const Vec& z) const {
  check_ambient(z, "z");
  // Householder reflection Q = I - 2 v v^T / |v|^2 with v = u + s e_1, u = z/|z|, s = sign(u_1):
  // Q e_1 = -s u, so Q's other columns are an orthonormal basis of u^perp = T_z S^d. Choosing the
  // sign of u_1 avoids cancellation in v, so the frame is orthonormal to rounding for every z.
  const int D = ambient_dim();
  const Vec u = z.normalized();
  Vec v = u;
  v[0] += u[0] >= 0 ? 1.0 : -1.0;
  Mat Q = Mat::Identity(D, D) - (2.0 / v.squaredNorm()) * v * v.transpose();
  return Q.rightCols(d_);
}

Mat Sphere::normal_frame(const Vec& z) const {
  check_ambient(z, "z");
  return z.normalized();
}

Mat Sphere::weingarten(const Vec& z, const Vec& nu) const {
  // <II(u, v), nu> = -<u, v> <z, nu>  =>  W_nu = -<nu, z> P_T  (docs/geometry.md eq. 2.1).
  check_ambient(z, "z");
  check_ambient(nu, "normal vector");
  const Vec u = z.normalized();
  const Mat P_T = Mat::Identity(ambient_dim(), ambient_dim()) - u * u.transpose();
  return -nu.dot(u) * P_T;
}

Mat Sphere::ricci(const Vec& z) const {
  // Constant sectional curvature 1: Ric(u, u) = sum over d - 1 planes = (d - 1)|u|^2.
  check_ambient(z, "z");
  const Vec u = z.normalized();
  return (d_ - 1) * (Mat::Identity(ambient_dim(), ambient_dim()) - u * u.transpose());
}

Vec Sphere::geometric_drift(const Vec& z) const {
  check_ambient(z, "z");
  return Vec::Zero(ambient_dim());
}

Vec Sphere::sample_uniform(Rng& rng) const {
  // A standard Gaussian is rotation invariant, so its direction is uniform on S^d.
  Vec g(ambient_dim());
  double n = 0;
  do {
    for (int i = 0; i < g.size(); ++i) g[i] = rng.normal();
    n = g.norm();
  } while (n == 0.0);
  return g / n;
}

double Sphere::volume() const {
  const double h = 0.5 * (d_ + 1);
  return 2.0 * std::pow(kPi, h) / std::tgamma(h);
}

}  // namespace rbsm::geometry
