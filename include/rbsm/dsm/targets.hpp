#pragma once
/// The denoising score matching targets on M (SPEC.md "Denoising score matching on M";
/// docs/targets.md §1). Z ~ q on M, X = Z + sigma xi, xi ~ N(0, I_D):
/// - raw ambient target (Z - X)/sigma^2;
/// - its normal part (pi(X) - X)/sigma^2, a function of X alone;
/// - the tangent target T_sigma = P_T(pi(X))(Z - X)/sigma^2 = P_T(y)(Z - y)/sigma^2, y = pi(X).
#include <cstdint>

#include "rbsm/dist/density.hpp"

namespace rbsm::dsm {

using geometry::Mat;
using geometry::Vec;

/// n pairs (Z_i, X_i) as rows; pair i uses Rng(seed, i) (independent of the thread count).
struct DsmPairs {
  Mat Z, X;
};
/// Throws InvalidArgument for sigma <= 0 / NaN or n < 1. Pairs whose X has no unique projection
/// (probability 0, or sigma beyond the reach) are redrawn from the same stream.
DsmPairs sample_pairs(const dist::Density& q, double sigma, int n, std::uint64_t seed, int threads = 0);

Vec raw_target(const Vec& Z, const Vec& X, double sigma);                                   ///< (Z - X)/sigma^2
Vec normal_target(const geometry::Manifold& M, const Vec& X, double sigma);                 ///< (pi(X) - X)/sigma^2
Vec tangent_target(const geometry::Manifold& M, const Vec& Z, const Vec& X, double sigma);  ///< T_sigma

}  // namespace rbsm::dsm
