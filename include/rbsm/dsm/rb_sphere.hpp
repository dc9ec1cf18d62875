#pragma once
/// The exact Rao-Blackwellized target of vMF(mu, kappa) on the unit sphere S^d, any d >= 1
/// (docs/targets.md §3.1). By symmetry r_sigma(y) = g(<mu, y>) P_T(y) mu with
///
///   g(t) = kappa / sigma^2 * int_0^pi sin^{d+1}(th) B_{nu+1}(a) e^{kappa t cos th} w(cos th) d th
///                          / int_0^pi sin^{d-1}(th) B_nu(a)   e^{kappa t cos th} w(cos th) d th,
///
/// nu = d/2 - 1, a = kappa sqrt(1 - t^2) sin(th), B_nu(a) = a^{-nu} I_nu(a) (the integral of
/// e^{a <e, u>} over the unit sphere of T_y S^d, up to a constant), and w(c) the exact ray weight
/// of fibre.hpp. One adaptive Gauss-Kronrod integral in th (relative tolerance 1e-11 by default).
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/numerics/chebyshev.hpp"

namespace rbsm::dsm {

using geometry::Mat;
using geometry::Vec;
using numerics::ChebyshevTable;  // numerics/chebyshev.hpp

class VmfRbTarget {
 public:
  /// d >= 1, kappa >= 0, |mu| = 1 in R^{d+1} (normalised here), sigma > 0. Throws InvalidArgument.
  VmfRbTarget(int d, double kappa, Vec mu, double sigma, double rel_tol = 1e-11);

  /// g(t), t = <mu, y> in [-1, 1]: r_sigma(y) = g(t) P_T(y) mu.
  double g(double t) const;
  /// r_sigma(y) for y on S^d (y is normalised first).
  Vec operator()(const Vec& y) const;
  /// g tabulated at n Chebyshev points (for Langevin drifts and Monte Carlo over many points).
  ChebyshevTable tabulate(int n = 64) const;

  int dim() const { return d_; }
  double kappa() const { return kappa_; }
  double sigma() const { return sigma_; }
  const Vec& mu() const { return mu_; }

 private:
  int d_;
  double kappa_, sigma_, rel_tol_;
  Vec mu_;
};

/// log B_nu(a) = log(a^{-nu} I_nu(a)) for nu >= -1/2, a >= 0 (finite at a = 0).
double log_bessel_b(double nu, double a);

}  // namespace rbsm::dsm
