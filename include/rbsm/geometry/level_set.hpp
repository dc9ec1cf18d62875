#pragma once
/// The generic level-set manifold M = {x in R^D : F(x) = 0}, F: R^D -> R^k a submersion on M
/// (docs/level_set.md). Everything is derived from F, its Jacobian J (k x D, rows grad F_i) and the
/// Hessians Hess F_i, supplied analytically or by automatic differentiation (`autodiff_level_set`,
/// level_set_autodiff.hpp).
///
///   normal frame   N = first k columns of the Q of J^T = QR (orthonormalised grad F_i);
///   tangent frame  E = the remaining d = D - k columns (orthogonal complement);
///   Weingarten     W_nu = -P_T (sum_i lambda_i Hess F_i) P_T,  lambda = (J J^T)^{-1} J nu
///                  (docs/level_set.md §2; on F = |x|^2 - 1 this gives W_z = -P_T, as SPEC.md says);
///   projection     Gauss-Newton onto F = 0, then Newton on the KKT system of
///                  min 1/2 |p - x|^2 s.t. F(p) = 0, certified by |x - p| < reach (Federer 1959,
///                  Thm 4.8(12)) or by a manifold-specific certificate beyond the reach.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {

/// F and its derivatives at one point, up to the order asked for.
struct LevelSetJet {
  Vec F;                      ///< F(x), length k
  Mat J;                      ///< k x D, row i = grad F_i (order >= 1)
  std::vector<Mat> hessians;  ///< k matrices D x D, Hess F_i (order 2)
};

/// F: R^D -> R^k with derivatives: `eval(x, order)` fills F (order 0), J (>= 1), Hess F_i (2).
struct LevelSetFunction {
  int D = 0;
  int k = 0;
  std::function<LevelSetJet(const Vec& x, int order)> eval;
};

/// Everything a LevelSetManifold needs besides F.
struct LevelSetOptions {
  std::string spec;                         ///< spec string reported by spec()
  double reach = 0;                         ///< reach of M (> 0)
  double volume = 0;                        ///< Riemannian volume of M
  std::function<Vec(Rng&)> sample_uniform;  ///< exact sampler of the normalised volume
  /// Optional: a starting point for the projection of x (default: x itself). Used by so3 to start
  /// on the right side of det = 0.
  std::function<Vec(const Vec& x)> start;
  /// Optional: true when p (with F(p) = 0) lies on the component of F = 0 that is M (so3: det > 0).
  std::function<bool(const Vec& p)> on_component;
  /// Optional: certifies that the KKT point p is THE nearest point of x when |x - p| >= reach
  /// (e.g. convex hypersurfaces: x outside and x - p along the outward normal).
  std::function<bool(const Vec& x, const Vec& p, const Mat& J)> certify_beyond_reach;
};

class LevelSetManifold : public Manifold {
 public:
  LevelSetManifold(LevelSetFunction F, LevelSetOptions options);

  std::string spec() const override { return options_.spec; }
  int dim() const override { return F_.D - F_.k; }
  int ambient_dim() const override { return F_.D; }

  Vec project(const Vec& x) const override;
  Mat tangent_frame(const Vec& z) const override;
  Mat normal_frame(const Vec& z) const override;
  Mat weingarten(const Vec& z, const Vec& nu) const override;
  Vec sample_uniform(Rng& rng) const override { return options_.sample_uniform(rng); }
  double reach() const override { return options_.reach; }
  double volume() const override { return options_.volume; }

  /// F and its derivatives at x (for tests and for code that needs the defining function).
  LevelSetJet jet(const Vec& x, int order) const;

 private:
  /// Q of the full QR of J^T: first k columns span N_z M, the rest T_z M.
  Mat frame(const Vec& z) const;
  Vec gauss_newton(const Vec& x, Vec p) const;

  LevelSetFunction F_;
  LevelSetOptions options_;
};

/// Certificate for a closed convex hypersurface {F <= 0} (k = 1): x outside (F(x) > 0) and x - p
/// along the outward normal grad F(p) => p is the unique nearest point (projection onto a convex body).
bool convex_outside_certificate(const LevelSetFunction& F, const Vec& x, const Vec& p, const Mat& J);

// ------------------------------------------------------------ level-set versions of the closed forms
// Used by tests (closed form == generic) and benchmarks; they report the same spec as the closed form.
/// S^d = {|x|^2 - 1 = 0} in R^{d+1}, analytic derivatives.
std::unique_ptr<LevelSetManifold> level_set_sphere(int d);
/// S^1(r1) x S^1(r2) = {x1^2 + x2^2 - r1^2 = 0, x3^2 + x4^2 - r2^2 = 0} in R^4, analytic derivatives.
std::unique_ptr<LevelSetManifold> level_set_clifford_torus(double r1, double r2);
/// Torus of revolution {(sqrt(x^2 + y^2) - R)^2 + z^2 - r^2 = 0}, derivatives by AutoDiff.
std::unique_ptr<LevelSetManifold> level_set_torus(double R, double r);

}  // namespace rbsm::geometry
