#pragma once
/// Local geometry of many points at once (the Python package's M.local, bench/geometry_python.py): rows
/// of X in, row-major arrays out. The values are those of Manifold::local(project(x)) to rounding, computed
/// without its repeated work: the sphere and the torus of revolution in closed form straight into the
/// output rows (no trigonometric function on the torus: the angles' cosines and sines are ratios of the
/// projection's own lengths; no per-point heap allocation or virtual call), level sets with one jet of F
/// and one QR per point (Manifold::local asks for 3k + 2 Weingarten maps, each recomputing both), in
/// fixed-size matrices for so3 and 3-D ellipsoids, whose projections are closed forms where certified
/// (so3: the polar decomposition; ellipsoids: Newton on the Lagrange multiplier; both only when
/// |x - p| < reach, LevelSetManifold::project otherwise), any other manifold through Manifold::local.
/// Every error (NaN, the focal set) is the one project() throws.
#include <cstddef>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {

/// Output rows (row-major; row i of a D x D operator starts at P_T + i D^2, of the frames at
/// tangent + i D d and normal + i D k). Every pointer must be set.
struct LocalRows {
  double* z;         ///< N x D
  double* tangent;   ///< N x D x d
  double* normal;    ///< N x D x k
  double* P_T;       ///< N x D x D
  double* P_N;       ///< N x D x D
  double* H;         ///< N x D
  double* W_H;       ///< N x D x D
  double* ricci;     ///< N x D x D
  double* K;         ///< N x D x D
  double* scalar;    ///< N
};

/// Rows [begin, end) of X (N x D, row-major): z = pi(x) (or x itself, which must lie on M, when
/// `project` is false) and the local geometry at z, written to `out`.
void local_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& out);

/// Manifold::local(z) with the level-set fast path (one jet and one QR); same values to rounding.
LocalGeometry local_geometry(const Manifold& M, const Vec& z);

}  // namespace rbsm::geometry
