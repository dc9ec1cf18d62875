#pragma once
/// The von Mises-Fisher density on the unit sphere S^d in R^{d+1} (docs/densities.md §2):
///   q(z) = C_d(kappa) exp(kappa <mu, z>),   C_d(kappa) = kappa^{(d-1)/2} / ((2 pi)^{(d+1)/2} I_{(d-1)/2}(kappa)),
/// with respect to the surface measure (C_d(0) = 1 / |S^d|). With t = <mu, z> (SPEC.md "Expansion"):
///   grad_M log q = kappa P_T mu = kappa (mu - t z),   Delta_M log q = -d kappa t,
///   b_q = -(d/2 + kappa t) grad_M log q.
/// Sampling is exact by Wood's algorithm (Wood 1994), for every d >= 1.
#include "rbsm/dist/density.hpp"

namespace rbsm::dist {

/// log C_d(kappa), stable for large kappa and large d (log Bessel functions, special.hpp).
double log_vmf_normaliser(int d, double kappa);

/// One draw of t = <mu, Z> for Z ~ vMF(mu, kappa) on S^d: Wood's rejection sampler
/// (docs/densities.md §2.2), whose target law is proportional to exp(kappa t) (1 - t^2)^{(d-2)/2} on
/// [-1, 1]. For d = 1 the proposal is the arcsine law and this is an exact von Mises sampler for
/// cos(theta). If `one_minus_t2` is given it receives 1 - t^2 computed without cancellation.
double sample_vmf_cosine(int d, double kappa, Rng& rng, double* one_minus_t2 = nullptr);

class VonMisesFisher final : public Density {
 public:
  /// `manifold` must be a geometry::Sphere; mean is any non-zero vector of R^{d+1} (normalised here);
  /// kappa >= 0. Throws InvalidArgument otherwise.
  VonMisesFisher(std::shared_ptr<const geometry::Manifold> manifold, double kappa, const Vec& mean);

  std::string spec() const override;
  double kappa() const { return kappa_; }
  const Vec& mean() const { return mu_; }
  double log_normaliser() const { return log_c_; }  ///< log C_d(kappa)

  double log_density(const Vec& z) const override;
  Vec grad_log(const Vec& z) const override;
  double laplacian_log(const Vec& z) const override;
  Vec heat_drift(const Vec& z) const override;
  Vec sample(Rng& rng) const override;

 private:
  int d_;
  double kappa_, log_c_;
  Vec mu_;
};

}  // namespace rbsm::dist
