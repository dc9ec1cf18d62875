#pragma once
/// The unit sphere S^d in R^{d+1} in closed form (SPEC.md "Conventions"; docs/geometry.md §2).
///
/// With the outward unit normal z: II(u, v) = -<u, v> z, W_nu = -<nu, z> P_T, H = -d z, W_H = d P_T,
/// Ric# = (d - 1) P_T (from the constant sectional curvature 1, not from the Gauss equation, so the
/// Gauss residual is a real check), K = (1 - d/2) P_T — the source document's alpha_d = 1 - d/2
/// ("S^2 Cancellation"). II is parallel, so E_M = 0.
#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {

class Sphere final : public Manifold {
 public:
  /// S^d, d >= 1; throws InvalidArgument otherwise.
  explicit Sphere(int d);

  std::string spec() const override;
  int dim() const override { return d_; }
  int ambient_dim() const override { return d_ + 1; }

  /// pi(x) = x / |x|; GeometryError at the centre (no unique nearest point).
  Vec project(const Vec& x) const override;
  /// Columns 2..D of the Householder reflection that maps e_1 to +-z (orthonormal, smooth away
  /// from the reflection's switch of sign, exact to rounding everywhere).
  Mat tangent_frame(const Vec& z) const override;
  /// The outward normal z as a D x 1 matrix.
  Mat normal_frame(const Vec& z) const override;
  /// W_nu = -<nu, z> P_T (docs/geometry.md eq. 2.1).
  Mat weingarten(const Vec& z, const Vec& nu) const override;
  /// Ric# = (d - 1) P_T, intrinsically (constant sectional curvature 1).
  Mat ricci(const Vec& z) const override;
  /// E_M = 0: II is parallel on the round sphere.
  Vec geometric_drift(const Vec& z) const override;
  /// Exact: a standard normal vector in R^{d+1}, normalised.
  Vec sample_uniform(Rng& rng) const override;
  double reach() const override { return 1.0; }
  /// |S^d| = 2 pi^{(d+1)/2} / Gamma((d+1)/2).
  double volume() const override;

 private:
  int d_;
};

}  // namespace rbsm::geometry
