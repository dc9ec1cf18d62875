#pragma once
/// Special functions and quadrature used by the densities (docs/densities.md §6): log modified Bessel
/// functions log I_nu(x) that neither overflow nor underflow (vMF and von Mises normalising constants
/// for large kappa and large d), log areas of spheres, log-sum-exp, adaptive Gauss-Kronrod quadrature
/// (numerics/gauss_kronrod.hpp).
#include <functional>
#include <vector>

#include "rbsm/numerics/gauss_kronrod.hpp"

namespace rbsm::dist {

/// log I_nu(x) for nu >= 0, x >= 0 (modified Bessel function of the first kind).
/// Method (docs/densities.md §6): the power series summed outward from its largest term (all terms
/// positive, so no cancellation; relative error ~1e-14 from lgamma), and Hankel's asymptotic series
/// e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) x^-k when x >= max(50, 2 nu^2), where its terms fall
/// below 1e-17 before they grow. Returns -inf for x = 0 < nu. Throws InvalidArgument for nu < 0,
/// x < 0 or NaN.
double log_bessel_i(double nu, double x);

/// A_p(kappa) = I_{p/2}(kappa) / I_{p/2-1}(kappa): the mean resultant length E<mu, Z> of vMF on
/// S^{p-1} (Mardia & Jupp 2000, §9.3.2), p >= 2, finite kappa >= 0; 0 at kappa = 0. The one scalar
/// implementation (anatomy::bessel_ratio_A calls it): the continued fraction of the Bessel ratio
/// (modified Lentz, relative error ~1e-16), or for kappa > max(1e4, p^2/2) the ratio of the Hankel
/// expansions. Throws InvalidArgument for p < 2 or a bad kappa.
double bessel_ratio(double p, double kappa);

/// log of the area of the unit sphere S^d in R^{d+1}: log(2 pi^{(d+1)/2} / Gamma((d+1)/2)).
double log_sphere_area(int d);

/// log(sum_i exp(v_i)), exact for any magnitudes; -inf for an empty list.
double logsumexp(const std::vector<double>& v);

/// Adaptive Gauss-Kronrod quadrature of f over [a, b]: the one integrator, rbsm/numerics/gauss_kronrod.hpp.
using numerics::integrate;

}  // namespace rbsm::dist
