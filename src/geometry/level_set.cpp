#include "rbsm/geometry/level_set.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "rbsm/error.hpp"

namespace rbsm::geometry {
namespace {

constexpr int kMaxGaussNewton = 60;
constexpr int kMaxNewton = 40;
constexpr double kStepTolerance = 1e-13;

std::string format_point(const Vec& x) {
  std::ostringstream s;
  s.precision(6);
  s << "(";
  const int shown = static_cast<int>(std::min<Eigen::Index>(x.size(), 9));
  for (int i = 0; i < shown; ++i) s << (i ? ", " : "") << x(i);
  if (x.size() > shown) s << ", ...";
  s << ")";
  return s.str();
}

}  // namespace

LevelSetManifold::LevelSetManifold(LevelSetFunction F, LevelSetOptions options)
    : F_(std::move(F)), options_(std::move(options)) {
  if (F_.D < 1 || F_.k < 1 || F_.k >= F_.D)
    throw InvalidArgument("level set needs 1 <= k < D, got D = " + std::to_string(F_.D) +
                          ", k = " + std::to_string(F_.k));
  if (!F_.eval) throw InvalidArgument("level set " + options_.spec + ": no defining function");
  if (!(options_.reach > 0)) throw InvalidArgument("level set " + options_.spec + ": reach must be > 0");
  if (!options_.sample_uniform) throw InvalidArgument("level set " + options_.spec + ": no uniform sampler");
}

LevelSetJet LevelSetManifold::jet(const Vec& x, int order) const {
  LevelSetJet j = F_.eval(x, order);
  bool finite = j.F.allFinite() && (order < 1 || j.J.allFinite());
  if (order >= 2)
    for (const Mat& h : j.hessians) finite = finite && h.allFinite();
  if (!finite)
    throw GeometryError(spec() + ": the defining function or its derivatives are not finite at " + format_point(x) +
                        " (e.g. on the axis of a torus): no unique nearest point there");
  return j;
}

Mat LevelSetManifold::frame(const Vec& z) const {
  const LevelSetJet j = jet(z, 1);
  const Eigen::HouseholderQR<Mat> qr(j.J.transpose());
  return qr.householderQ() * Mat::Identity(F_.D, F_.D);
}

Mat LevelSetManifold::tangent_frame(const Vec& z) const { return frame(z).rightCols(dim()); }

Mat LevelSetManifold::normal_frame(const Vec& z) const { return frame(z).leftCols(F_.k); }

// W_nu (docs/level_set.md §2). Along a curve gamma on M with gamma' = u: F_i(gamma) = 0, so
// grad F_i . gamma'' = -u^T Hess F_i u. Writing P_N gamma'' = J^T mu gives mu = -(J J^T)^{-1} (u^T Hess F_i u)_i,
// hence <II(u, v), nu> = -sum_i lambda_i u^T Hess F_i v with lambda = (J J^T)^{-1} J nu.
Mat LevelSetManifold::weingarten(const Vec& z, const Vec& nu) const {
  check_ambient(nu, "normal vector");
  const LevelSetJet j = jet(z, 2);
  const Eigen::HouseholderQR<Mat> qr(j.J.transpose());
  const Mat Q = qr.householderQ() * Mat::Identity(F_.D, F_.D);
  const Mat E = Q.rightCols(dim());
  const Vec lambda = (j.J * j.J.transpose()).ldlt().solve(j.J * nu);
  Mat S = Mat::Zero(F_.D, F_.D);
  for (int i = 0; i < F_.k; ++i) S += lambda(i) * j.hessians[static_cast<std::size_t>(i)];
  return -E * (E.transpose() * S * E) * E.transpose();
}

// Minimum-norm Newton steps p <- p - J^+ F(p) until F(p) = 0 (lands on M near the start, not at the
// nearest point).
Vec LevelSetManifold::gauss_newton(const Vec& x, Vec p) const {
  for (int it = 0; it < kMaxGaussNewton; ++it) {
    const LevelSetJet j = jet(p, 1);
    const Eigen::ColPivHouseholderQR<Mat> qr(j.J.transpose());
    if (qr.rank() < F_.k)
      throw GeometryError(spec() + ": the gradients of F are linearly dependent at " + format_point(p) +
                          " while projecting " + format_point(x) +
                          " (no unique nearest point, e.g. the centre of a sphere)");
    const Vec step = j.J.transpose() * (j.J * j.J.transpose()).ldlt().solve(j.F);
    p -= step;
    if (!p.allFinite()) break;
    if (step.norm() <= kStepTolerance * (1 + p.norm())) return p;
  }
  throw GeometryError(spec() + ": Gauss-Newton onto F = 0 did not converge from " + format_point(x) +
                      " (too far from M?)");
}

// Nearest point: KKT conditions of min 1/2 |p - x|^2 s.t. F(p) = 0 are p - x + J^T mu = 0, F(p) = 0;
// Newton on them with the Hessian of the Lagrangian I + sum_i mu_i Hess F_i (docs/level_set.md §3).
Vec LevelSetManifold::project(const Vec& x) const {
  check_ambient(x, "point");
  Vec p = gauss_newton(x, options_.start ? options_.start(x) : x);
  const int D = F_.D, k = F_.k;
  Vec mu;
  {
    const LevelSetJet j = jet(p, 1);
    mu = (j.J * j.J.transpose()).ldlt().solve(j.J * (x - p));
  }
  bool converged = false;
  LevelSetJet j;
  for (int it = 0; it < kMaxNewton && !converged; ++it) {
    j = jet(p, 2);
    Mat A = Mat::Identity(D + k, D + k);
    for (int i = 0; i < k; ++i) A.topLeftCorner(D, D) += mu(i) * j.hessians[static_cast<std::size_t>(i)];
    A.topRightCorner(D, k) = j.J.transpose();
    A.bottomLeftCorner(k, D) = j.J;
    A.bottomRightCorner(k, k).setZero();
    Vec residual(D + k);
    residual << p - x + j.J.transpose() * mu, j.F;
    const Vec step = A.partialPivLu().solve(-residual);
    if (!step.allFinite()) break;
    p += step.head(D);
    mu += step.tail(k);
    converged = step.head(D).norm() <= kStepTolerance * (1 + x.norm());
  }
  if (!converged)
    throw GeometryError(spec() + ": the projection of " + format_point(x) +
                        " did not converge (Newton on the KKT system; the point is probably near a focal point)");
  if (options_.on_component && !options_.on_component(p))
    throw GeometryError(spec() + ": the point " + format_point(x) +
                        " is nearer to another component of the level set than to M");
  const double dist = (x - p).norm();
  if (dist >= options_.reach) {
    j = jet(p, 1);
    if (!(options_.certify_beyond_reach && options_.certify_beyond_reach(x, p, j.J))) {
      std::ostringstream s;
      s << spec() << ": the point " << format_point(x) << " is at distance " << dist << " from M, beyond its reach "
        << options_.reach << ", where the nearest point is not certified unique";
      throw GeometryError(s.str());
    }
  }
  return p;
}

bool convex_outside_certificate(const LevelSetFunction& F, const Vec& x, const Vec& p, const Mat& J) {
  if (F.k != 1) return false;
  return F.eval(x, 0).F(0) > 0 && J.row(0).dot(x - p) > 0;
}

}  // namespace rbsm::geometry
