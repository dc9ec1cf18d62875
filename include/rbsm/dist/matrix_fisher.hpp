#pragma once
/// The matrix Fisher density on SO(3) in R^9 (row-major, Frobenius metric; geometry/so3.hpp), with
/// respect to the Riemannian volume (docs/densities.md §4):
///   q(R) = exp(tr(F^T R)) / Z(F),   F = diag(f1, f2, f3),
/// i.e. exp(<a, x>) with a = vec(F): the exponential of a linear function of the ambient coordinates.
/// For any linear function <a, x> restricted to M (docs/densities.md eq. 4.1-4.3):
///   grad_M = P_T a,   Delta_M = <a, H>,
/// and where the mean curvature is parallel (SO(3), spheres) grad_M <a, H> = -W_H P_T a, so
///   b_q = -1/2 W_H P_T a + W_{P_N a} P_T a,
/// all evaluated with the manifold's own H and Weingarten maps.
/// Normalising constant by 1-D adaptive quadrature of (Wood 1993)
///   Z(F) = vol(SO(3)) 1/2 int_{-1}^{1} exp(f1 u) I0((1 + u)(f2 + f3)/2) I0((1 - u)(f2 - f3)/2) du,
/// sampling by rejection from the Haar measure (acceptance exp(tr(F^T R) - max tr(F^T R))).
#include <Eigen/Core>

#include "rbsm/dist/density.hpp"

namespace rbsm::dist {

/// E_Haar[exp(tr(diag(f) R))] by the 1-D integral above, as a logarithm (stable for large f).
double log_matrix_fisher_haar_mean(const Eigen::Vector3d& f);

class MatrixFisher final : public Density {
 public:
  /// `manifold` must be so3; f finite. Throws InvalidArgument otherwise.
  MatrixFisher(std::shared_ptr<const geometry::Manifold> manifold, const Eigen::Vector3d& f);

  std::string spec() const override;
  const Eigen::Vector3d& f() const { return f_; }
  double log_normaliser() const { return log_z_; }  ///< log Z(F)
  /// Probability that one Haar proposal is accepted (1 / expected number of proposals per sample).
  double acceptance_rate() const { return acceptance_; }

  double log_density(const Vec& z) const override;
  Vec grad_log(const Vec& z) const override;
  double laplacian_log(const Vec& z) const override;  ///< <a, H(z)>
  Vec heat_drift(const Vec& z) const override;
  Vec sample(Rng& rng) const override;

 private:
  Eigen::Vector3d f_;
  Vec a_;              // vec(F), row-major (= column-major: F is diagonal)
  double max_linear_;  // max over SO(3) of tr(F^T R)
  double log_z_, acceptance_;
};

}  // namespace rbsm::dist
