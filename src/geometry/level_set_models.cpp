// Level-set versions of the closed-form manifolds (sphere, Clifford torus, torus of revolution), for
// the closed form == generic tests and the benchmarks (docs/level_set.md §5).
#include <cmath>
#include <sstream>

#include "rbsm/error.hpp"
#include "rbsm/geometry/level_set_autodiff.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::geometry {
namespace {

/// F(x) = (sqrt(x0^2 + x1^2) - R)^2 + x2^2 - r^2 (torus of revolution about the x2 axis).
struct TorusFunction {
  double R, r;
  template <class T>
  Eigen::Matrix<T, Eigen::Dynamic, 1> operator()(const Eigen::Matrix<T, Eigen::Dynamic, 1>& x) const {
    using std::sqrt;
    const T rho = sqrt(x(0) * x(0) + x(1) * x(1));
    Eigen::Matrix<T, Eigen::Dynamic, 1> out(1);
    out(0) = (rho - R) * (rho - R) + x(2) * x(2) - r * r;
    return out;
  }
};

}  // namespace

std::unique_ptr<LevelSetManifold> level_set_sphere(int d) {
  if (d < 1) throw InvalidArgument("sphere dimension must be >= 1, got " + std::to_string(d));
  const int D = d + 1;
  LevelSetFunction F;
  F.D = D;
  F.k = 1;
  F.eval = [D](const Vec& x, int order) {
    LevelSetJet j;
    j.F = Vec::Constant(1, x.squaredNorm() - 1);
    if (order >= 1) j.J = 2 * x.transpose();
    if (order >= 2) j.hessians.assign(1, 2 * Mat::Identity(D, D));
    return j;
  };
  LevelSetOptions o;
  o.spec = "sphere:" + std::to_string(d);
  o.reach = 1;
  o.volume = 2 * std::pow(kPi, 0.5 * D) / std::tgamma(0.5 * D);
  o.sample_uniform = [D](Rng& rng) {
    Vec g(D);
    for (int i = 0; i < D; ++i) g(i) = rng.normal();
    return Vec(g / g.norm());
  };
  o.certify_beyond_reach = [F](const Vec& x, const Vec& p, const Mat& J) {
    return convex_outside_certificate(F, x, p, J);
  };
  return std::make_unique<LevelSetManifold>(F, o);
}

std::unique_ptr<LevelSetManifold> level_set_clifford_torus(double r1, double r2) {
  if (!(r1 > 0) || !(r2 > 0))
    throw InvalidArgument("clifford-torus radii must be > 0, got " + std::to_string(r1) + ", " + std::to_string(r2));
  LevelSetFunction F;
  F.D = 4;
  F.k = 2;
  F.eval = [r1, r2](const Vec& x, int order) {
    LevelSetJet j;
    j.F = Vec(2);
    j.F << x(0) * x(0) + x(1) * x(1) - r1 * r1, x(2) * x(2) + x(3) * x(3) - r2 * r2;
    if (order >= 1) {
      j.J = Mat::Zero(2, 4);
      j.J.row(0).head(2) = 2 * x.head(2).transpose();
      j.J.row(1).tail(2) = 2 * x.tail(2).transpose();
    }
    if (order >= 2) {
      j.hessians.assign(2, Mat::Zero(4, 4));
      j.hessians[0].topLeftCorner(2, 2) = 2 * Mat::Identity(2, 2);
      j.hessians[1].bottomRightCorner(2, 2) = 2 * Mat::Identity(2, 2);
    }
    return j;
  };
  LevelSetOptions o;
  std::ostringstream s;
  s << "clifford-torus:" << r1 << "," << r2;
  o.spec = s.str();
  o.reach = std::min(r1, r2);
  o.volume = 4 * kPi * kPi * r1 * r2;
  o.sample_uniform = [r1, r2](Rng& rng) {
    const double a1 = rng.uniform(0, 2 * kPi), a2 = rng.uniform(0, 2 * kPi);
    Vec z(4);
    z << r1 * std::cos(a1), r1 * std::sin(a1), r2 * std::cos(a2), r2 * std::sin(a2);
    return z;
  };
  // Each factor circle: the nearest point of u != 0 is r u/|u|; the KKT point is it iff <u, p_i> > 0.
  o.certify_beyond_reach = [](const Vec& x, const Vec& p, const Mat&) {
    return x.head(2).dot(p.head(2)) > 0 && x.tail(2).dot(p.tail(2)) > 0;
  };
  return std::make_unique<LevelSetManifold>(F, o);
}

std::unique_ptr<LevelSetManifold> level_set_torus(double R, double r) {
  if (!(r > 0) || !(R > r))
    throw InvalidArgument("torus needs R > r > 0, got R = " + std::to_string(R) + ", r = " + std::to_string(r));
  LevelSetOptions o;
  std::ostringstream s;
  s << "torus:" << R << "," << r;
  o.spec = s.str();
  o.reach = std::min(r, R - r);  // core circle (distance r) and axis (distance R - r)
  o.volume = 4 * kPi * kPi * R * r;
  // ((R + r cos a1) cos a2, (R + r cos a1) sin a2, r sin a1) with area element r (R + r cos a1):
  // a2 uniform, a1 by rejection with acceptance (R + r cos a1) / (R + r).
  o.sample_uniform = [R, r](Rng& rng) {
    double a1;
    do a1 = rng.uniform(0, 2 * kPi);
    while (rng.uniform() * (R + r) > R + r * std::cos(a1));
    const double a2 = rng.uniform(0, 2 * kPi);
    Vec z(3);
    z << (R + r * std::cos(a1)) * std::cos(a2), (R + r * std::cos(a1)) * std::sin(a2), r * std::sin(a1);
    return z;
  };
  return std::make_unique<LevelSetManifold>(autodiff_level_set(3, 1, TorusFunction{R, r}), o);
}

}  // namespace rbsm::geometry
