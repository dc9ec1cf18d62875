#pragma once
/// The two tori of rbsm in closed form (SPEC.md "Conventions" and "Parametrisations";
/// docs/geometry.md §3 and §4).
///
/// - CliffordTorus: the flat torus S^1(r1) x S^1(r2) in R^4. Ric# = 0 and
///   K = diag(1/(2 r1^2), 1/(2 r2^2)): for r1 = r2 = 1 this is the "+1/2" that the source document
///   ("S^2 Cancellation") attributes to "T^2 in R^3".
/// - TorusOfRevolution: the doughnut in R^3 with radii R > r > 0. It is NOT intrinsically flat:
///   its Gaussian curvature cos(a1) / (r (R + r cos a1)) changes sign, Ric# = K_G P_T, and K varies
///   along M; E_M = 1/2 k1 grad_M k1 != 0.
///
/// The angle helpers are public: densities on the tori (von Mises products) are written in these
/// angles, and tests use them as an independent parametrisation.
#include <Eigen/Core>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {

/// The angular chart (a1, a2) in (-pi, pi]^2 that both tori share, so that algorithms on a torus
/// (densities in angles, quadrature, data in angles) need no concrete type.
class AngularChart {
 public:
  virtual ~AngularChart() = default;
  /// (a1, a2) in (-pi, pi]^2 of a point z on M.
  virtual Eigen::Vector2d angles(const Vec& z) const = 0;
  /// p(a1, a2).
  virtual Vec point(double a1, double a2) const = 0;
  /// D x 2 matrix with columns dp/da1, dp/da2.
  virtual Mat coordinate_tangents(double a1, double a2) const = 0;
  /// log sqrt(det J^T J) of J = coordinate_tangents: the Riemannian area element in the angles.
  virtual double log_area_element(double a1, double a2) const = 0;
};
/// The chart of `manifold` if it is a torus, else nullptr.
const AngularChart* angular_chart(const Manifold& manifold);

/// S^1(r1) x S^1(r2) in R^4, p(a1, a2) = (r1 cos a1, r1 sin a1, r2 cos a2, r2 sin a2).
class CliffordTorus final : public Manifold, public AngularChart {
 public:
  /// r1, r2 > 0 (finite); throws InvalidArgument otherwise.
  CliffordTorus(double r1, double r2);

  double r1() const { return r1_; }
  double r2() const { return r2_; }
  /// (a1, a2) in (-pi, pi]^2 of a point z on M (atan2 of each coordinate pair).
  Eigen::Vector2d angles(const Vec& z) const override;
  /// p(a1, a2).
  Vec point(double a1, double a2) const override;
  /// D x 2 matrix with columns dp/da1, dp/da2 (not normalised: lengths r1, r2).
  Mat coordinate_tangents(double a1, double a2) const override;
  /// log(r1 r2).
  double log_area_element(double a1, double a2) const override;

  std::string spec() const override;
  int dim() const override { return 2; }
  int ambient_dim() const override { return 4; }

  /// Each coordinate pair scaled to its radius; GeometryError where a pair is ~0 (no unique nearest
  /// point: the focal set, at distance r_i from M).
  Vec project(const Vec& x) const override;
  /// Unit coordinate tangents (-sin a1, cos a1, 0, 0), (0, 0, -sin a2, cos a2).
  Mat tangent_frame(const Vec& z) const override;
  /// Outward unit normals (cos a1, sin a1, 0, 0), (0, 0, cos a2, sin a2).
  Mat normal_frame(const Vec& z) const override;
  /// W_nu = -(<nu, n1>/r1) e1 e1^T - (<nu, n2>/r2) e2 e2^T (docs/geometry.md eq. 3.1).
  Mat weingarten(const Vec& z, const Vec& nu) const override;
  /// Ric# = 0: the induced metric r1^2 da1^2 + r2^2 da2^2 is flat.
  Mat ricci(const Vec& z) const override;
  /// E_M = 0: II is parallel.
  Vec geometric_drift(const Vec& z) const override;
  /// Exact: the area element r1 r2 da1 da2 is constant, so uniform angles.
  Vec sample_uniform(Rng& rng) const override;
  double reach() const override;   ///< min(r1, r2)
  double volume() const override;  ///< 4 pi^2 r1 r2

 private:
  double r1_, r2_;
};

/// The torus of revolution in R^3, R > r > 0:
/// p(a1, a2) = ((R + r cos a1) cos a2, (R + r cos a1) sin a2, r sin a1); a1 goes around the tube,
/// a2 around the axis (SPEC.md "Parametrisations"). Unit normal n = (cos a1 cos a2, cos a1 sin a2,
/// sin a1), pointing outward (away from the core circle).
class TorusOfRevolution final : public Manifold, public AngularChart {
 public:
  /// Requires R > r > 0 (finite); throws InvalidArgument otherwise.
  TorusOfRevolution(double R, double r);

  double R() const { return R_; }
  double r() const { return r_; }
  /// (a1, a2) in (-pi, pi]^2 of a point z on M.
  Eigen::Vector2d angles(const Vec& z) const override;
  /// p(a1, a2).
  Vec point(double a1, double a2) const override;
  /// D x 2 matrix with columns dp/da1, dp/da2 (lengths r and R + r cos a1).
  Mat coordinate_tangents(double a1, double a2) const override;
  /// log(r (R + r cos a1)).
  double log_area_element(double a1, double a2) const override;
  /// Principal curvatures (k1, k2) with respect to the inward normal -n:
  /// k1 = cos a1 / (R + r cos a1) along the parallels (a2 direction), k2 = 1/r along the
  /// meridians (a1 direction). Gaussian curvature K_G = k1 k2 (docs/geometry.md eq. 4.2).
  Eigen::Vector2d principal_curvatures(double a1) const;
  /// K_G = cos a1 / (r (R + r cos a1)).
  double gaussian_curvature(double a1) const;

  std::string spec() const override;
  int dim() const override { return 2; }
  int ambient_dim() const override { return 3; }

  /// Nearest point in the half-plane through the axis and x; GeometryError on the axis or on the
  /// core circle (no unique nearest point).
  Vec project(const Vec& x) const override;
  /// Unit coordinate tangents e1 = dp/da1 / r, e2 = dp/da2 / (R + r cos a1).
  Mat tangent_frame(const Vec& z) const override;
  /// The outward normal n.
  Mat normal_frame(const Vec& z) const override;
  /// W_nu = -<nu, n> (k2 e1 e1^T + k1 e2 e2^T) (docs/geometry.md eq. 4.1).
  Mat weingarten(const Vec& z, const Vec& nu) const override;
  /// Ric# = K_G P_T with K_G from the metric r^2 da1^2 + (R + r cos a1)^2 da2^2 (intrinsic).
  Mat ricci(const Vec& z) const override;
  /// E_M = 1/2 k1 grad_M k1 = -R sin a1 cos a1 / (2 r (R + r cos a1)^3) e1 (SPEC.md "Expansion").
  Vec geometric_drift(const Vec& z) const override;
  /// Exact: a2 uniform, a1 with density proportional to R + r cos a1 (rejection).
  Vec sample_uniform(Rng& rng) const override;
  double reach() const override;   ///< min(r, R - r)
  double volume() const override;  ///< 4 pi^2 R r

 private:
  double R_, r_;
};

}  // namespace rbsm::geometry
