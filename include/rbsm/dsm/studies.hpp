#pragma once
/// The two numerical experiments of the RB part of the source document (docs/targets.md §6):
/// - variance collapse (Theorem 1): E|T_sigma|^2 ~ d / sigma^2 while E|r_sigma(pi(X))|^2 stays
///   bounded and tends to E|grad_M log q|^2;
/// - the sigma^2 expansion: (r_sigma - grad_M log q)/sigma^2 against b_q + K grad (the source
///   document's coefficient) and b_q + K grad + E_M (the complete one).
#include <cstdint>
#include <vector>

#include "rbsm/dist/density.hpp"

namespace rbsm::dsm {

using geometry::Vec;

struct VarianceRow {
  double sigma = 0;
  double ET2 = 0, ET2_se = 0;  ///< E|T_sigma|^2 and its Monte Carlo standard error
  double Er2 = 0, Er2_se = 0;  ///< E|r_sigma(pi(X))|^2 (exact r) and its standard error
  double Egrad2 = 0;           ///< E|grad_M log q|^2 over the same Z samples
  int samples = 0, exact_points = 0;
};

/// For each sigma: `samples` pairs (Z, X) for E|T|^2; r_sigma at pi(X) of the first `exact_points`
/// of them (exact quadrature; on spheres the Chebyshev table of g, so all of them). Needs
/// has_exact_rb_target(q). Deterministic in `seed`.
std::vector<VarianceRow> variance_study(const dist::Density& q, const std::vector<double>& sigmas, int samples,
                                        int exact_points, std::uint64_t seed, int threads = 0);

/// Least-squares slope of log y against log x.
double loglog_slope(const std::vector<double>& x, const std::vector<double>& y);

struct ExpansionRow {
  double sigma = 0;
  Vec r;                         ///< exact r_sigma(y)
  Vec measured;                  ///< (r_sigma - grad)/sigma^2
  double residual_source = 0;    ///< |measured - (b_q + K grad)|
  double residual_complete = 0;  ///< |measured - (b_q + K grad + E_M)|
};

/// The expansion check at one point y for each sigma (exact r_sigma; q must have one).
std::vector<ExpansionRow> expansion_study(const dist::Density& q, const Vec& y, const std::vector<double>& sigmas,
                                          int threads = 0);

}  // namespace rbsm::dsm
