#pragma once
/// Normalising constants of unnormalised densities exp(E(z)) on a manifold (docs/fit.md §4):
///
///     log Z = log integral_M exp(E(z)) dvol(z).
///
/// - S^2, both tori and SO(3): globally adaptive product Gauss-Legendre cubature on a box chart whose
///   volume element is exact: (theta, phi) = (colatitude, longitude) on S^2 (dvol = sin theta dtheta dphi:
///   analytic up to the poles, where u = cos theta would put a sqrt(1 - u^2) singularity into every
///   integrand and slow Gauss-Legendre to algebraic convergence), the angles on the
///   tori (dvol = sqrt(det g(a)) da1 da2), ZYZ Euler angles (alpha, cos beta, gamma) on SO(3)
///   (dvol = 2 sqrt 2 du dalpha dgamma in the Frobenius metric). Each cell carries an m^k Gauss-Legendre
///   estimate (k = 2, 3) and the sum of its 2^k children's; their difference is its error. Cells with the largest
///   errors are split, in batches (so that E is evaluated on many nodes at once), until the summed error is below
///   rel_tol * Z: the relative error of Z, i.e. the absolute error of log Z. Sharp models (peaks of width
///   0.001 rad) cost O(peaks x log(1/width)) cells, not a uniformly fine grid.
/// - every other manifold: importance sampling from the uniform distribution of M (exact samplers),
///   log Z = log vol(M) + log mean exp(E(Z_i)), with the delta-method standard error.
/// Everything is in log space with one running shift: E may be in the hundreds.
#include <cstdint>
#include <functional>
#include <string>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::numerics {

using geometry::Mat;
using geometry::Vec;

/// n Gauss-Legendre nodes and weights on [-1, 1] (Newton on P_n, exact for degree 2n - 1).
void gauss_legendre(int n, Vec& nodes, Vec& weights);

/// E at every row of a batch of points on M (rows x D) -> rows values.
using BatchEnergy = std::function<Vec(const Mat& points)>;

struct CubatureOptions {
  double rel_tol = 1e-4;  ///< target error of log Z (relative error of Z)
  int order = 6;          ///< m: Gauss-Legendre nodes per axis and cell
  std::int64_t max_evaluations = 40'000'000;
  std::int64_t samples = 200'000;  ///< importance sampling (manifolds without a product chart)
  std::uint64_t seed = 0;
  /// Called after each refinement round with evaluations so far and the current error estimate.
  std::function<void(std::int64_t evaluations, double error)> on_round;
};

struct LogNormaliser {
  double log_z = 0;
  double error = 0;  ///< estimated |error| of log Z (cubature) or its standard error (IS)
  std::int64_t evaluations = 0;
  std::int64_t cells = 0;
  std::string method;      ///< "adaptive-cubature" or "importance-sampling"
  bool converged = false;  ///< error <= rel_tol (cubature); IS: always true
};

/// true where log_normaliser uses the adaptive product rule (sphere:2, the tori and so3).
bool has_product_chart(const geometry::Manifold& manifold);
/// log Z of exp(E) on M. Throws NumericalError if E is NaN or +inf somewhere.
LogNormaliser log_normaliser(const geometry::Manifold& manifold, const BatchEnergy& energy,
                             const CubatureOptions& options = {});

}  // namespace rbsm::numerics
