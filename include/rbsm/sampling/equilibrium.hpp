#pragma once
/// Summaries of Langevin equilibria on spheres (docs/langevin.md §3): the von Mises-Fisher mean
/// cosine A_p(kappa) = I_{p/2}(kappa) / I_{p/2-1}(kappa) (p = d + 1), its inverse (the
/// maximum-likelihood concentration for a known mean direction), kappa_eff of Langevin samples with a
/// standard error from between-chain variation, and the exact stationary law of an axial drift
/// g(t) P_T mu: p(t) ∝ exp(G(t)) (1 - t^2)^{(d-2)/2}, G' = g (1-D quadrature, no sampling).
#include <functional>
#include <vector>

#include "rbsm/sampling/langevin.hpp"

namespace rbsm::sampling {

/// E<z, mu> under vMF(mu, kappa) on S^d (dist::bessel_ratio(d + 1, kappa)).
double vmf_mean_cosine(int d, double kappa);
/// d/dkappa of vmf_mean_cosine (= Var<z, mu>): 1 - A^2 - d A / kappa.
double vmf_mean_cosine_derivative(int d, double kappa);
/// The kappa >= 0 with vmf_mean_cosine(d, kappa) = m (0 for m <= 0). Throws InvalidArgument for m >= 1.
double vmf_kappa_from_mean_cosine(int d, double m);

/// Per-chain means of f over the recorded samples (f: one value per row of result.samples, chain-major).
/// Chains are independent, so stats::summarize of these gives a standard error honest about the
/// autocorrelation within chains.
Vec chain_means(const LangevinResult& result, const Vec& f);

struct KappaEstimate {
  double kappa = 0, kappa_se = 0;  ///< kappa_eff and its standard error (delta method)
  double mean_cosine = 0, mean_cosine_se = 0;
};
/// kappa_eff of the recorded samples (ML vMF concentration with known mean mu, solving
/// A_p(kappa) = mean <z, mu>); the standard error uses the spread of the per-chain means, so it is
/// honest about autocorrelation within chains.
KappaEstimate kappa_eff(const LangevinResult& result, const Vec& mu);

/// The exact stationary law of the axial drift g(t) P_T mu on S^d, on a grid of t.
struct AxialLaw {
  std::vector<double> t, density;  ///< density of t = <z, mu> (integrates to 1 over [-1, 1]; d >= 2)
  double mean_cosine = 0;
  double kappa_eff = 0;  ///< vmf_kappa_from_mean_cosine(d, mean_cosine)
};
AxialLaw axial_equilibrium(int d, const std::function<double(double)>& g, int grid = 2001);

}  // namespace rbsm::sampling
