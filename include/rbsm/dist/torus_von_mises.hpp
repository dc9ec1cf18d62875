#pragma once
/// Product von Mises densities on the two tori (docs/densities.md §3), with respect to the Riemannian
/// volume, in the angles of SPEC.md "Parametrisations":
///   q(z) ∝ exp(A cos(a1 - m1) + B cos(a2 - m2))   (m = (0, 0) unless a mean point is given).
/// Both tori have orthogonal coordinates with Lamé coefficients h1 = c1 (constant) and
/// h2 = beta + gamma cos a1: Clifford torus (c1, beta, gamma) = (r1, r2, 0), torus of revolution
/// (r, R, r). With f = log q (docs/densities.md eq. 3.1-3.3):
///   grad_M f = (f_1 / h1^2) dp/da1 + (f_2 / h2^2) dp/da2,
///   Delta_M f = f_11 / c1^2 + (h2' / (c1^2 h2)) f_1 + f_22 / h2^2,
///   b_q = 1/2 grad_M (Delta_M f + |grad_M f|^2), the derivative taken by Eigen's AutoDiff.
/// Normalising constant in closed form, c1 (2 pi)^2 I0(B) (beta I0(A) + gamma cos(m1) I1(A)), checked
/// against 2-D quadrature in the tests. Sampling is exact: a2 by Best-Fisher, a1 by Best-Fisher
/// accepted with probability h2(a1) / (beta + gamma) (the area factor; always 1 on the Clifford torus).
#include <Eigen/Core>

#include "rbsm/dist/density.hpp"

namespace rbsm::geometry {
class CliffordTorus;
class TorusOfRevolution;
}  // namespace rbsm::geometry

namespace rbsm::dist {

/// One angle theta in (-pi, pi] with density exp(kappa cos theta) / (2 pi I0(kappa)): Best & Fisher
/// (1979), exact for every kappa >= 0 (uniform at kappa = 0).
double sample_von_mises(double kappa, Rng& rng);

class TorusVonMises final : public Density {
 public:
  /// `manifold` must be a geometry::CliffordTorus or geometry::TorusOfRevolution; kappa1, kappa2 >= 0;
  /// mean_angles = (m1, m2). Throws InvalidArgument otherwise.
  TorusVonMises(std::shared_ptr<const geometry::Manifold> manifold, double kappa1, double kappa2,
                const Eigen::Vector2d& mean_angles = Eigen::Vector2d::Zero());

  std::string spec() const override;
  double kappa1() const { return kappa1_; }
  double kappa2() const { return kappa2_; }
  const Eigen::Vector2d& mean_angles() const { return mean_; }
  double log_normaliser() const { return log_z_; }  ///< log of the integral of exp(...) over M

  /// The torus's angles of z and its point at given angles (parametrisation of SPEC.md).
  Eigen::Vector2d angles(const Vec& z) const;
  Vec point(double a1, double a2) const;
  /// log q at the point with angles (a1, a2).
  double log_density_angles(double a1, double a2) const;

  double log_density(const Vec& z) const override;
  Vec grad_log(const Vec& z) const override;
  double laplacian_log(const Vec& z) const override;
  Vec heat_drift(const Vec& z) const override;
  Vec sample(Rng& rng) const override;

 private:
  /// Delta_M f + |grad_M f|^2 as a function of the angles (any scalar type, for AutoDiff).
  template <class T>
  T laplacian_plus_grad2(const T& a1, const T& a2) const;
  /// grad_M of a function with angle derivatives (g1, g2) at (a1, a2).
  Vec gradient_from_angles(double a1, double a2, double g1, double g2) const;

  const geometry::CliffordTorus* clifford_ = nullptr;
  const geometry::TorusOfRevolution* revolution_ = nullptr;
  double c1_, beta_, gamma_;  // Lamé coefficients h1 = c1, h2 = beta + gamma cos a1
  double kappa1_, kappa2_;
  Eigen::Vector2d mean_;
  double log_z_;
};

}  // namespace rbsm::dist
