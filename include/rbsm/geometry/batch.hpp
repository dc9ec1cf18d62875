#pragma once
/// Local geometry of many points at once (the Python package's M.local and its per-operator methods,
/// bench/geometry_python.py): rows of X in, row-major arrays out. The values are those of
/// Manifold::local(project(x)) and of the per-point operators (Manifold::tangent_projector, ricci,
/// geometric_drift, ...) to rounding, computed without their repeated work and written straight into the
/// caller's rows, with no per-point heap allocation or virtual call on the closed forms:
///   - spheres: every operator is a multiple of P_T = I - u u^T or of P_N = u u^T (u = z / |z|), each
///     written in one pass; the tangent frame is Sphere::tangent_frame's Householder frame;
///   - the torus of revolution and the Clifford torus: closed forms with no trigonometric function (the
///     angles' cosines and sines are ratios of the projection's own lengths), E_M in closed form as well;
///   - level sets: one jet of F and one QR per point (Manifold::local asks for 3k + 2 Weingarten maps,
///     each recomputing both), in fixed-size matrices for so3 and 3-D ellipsoids, whose projections are
///     closed forms where certified (so3: the polar decomposition; ellipsoids: Newton on the Lagrange
///     multiplier; both only when |x - p| < reach, LevelSetManifold::project otherwise); their E_M is the
///     library's per-point numerical Manifold::geometric_drift (no closed form);
///   - any other manifold through Manifold::local.
/// Only the outputs whose pointer is set are computed and written (a per-operator call asks for one).
/// Every error (NaN, the focal set) is the one project() throws.
#include <cstddef>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {

/// Output rows (row-major; row i of a D x D operator starts at P_T + i D^2, of the frames at
/// tangent + i D d and normal + i D k). A null pointer: that output is neither computed nor written.
struct LocalRows {
  double* z = nullptr;        ///< N x D, pi(x) (or x itself without projection)
  double* tangent = nullptr;  ///< N x D x d
  double* normal = nullptr;   ///< N x D x k
  double* P_T = nullptr;      ///< N x D x D
  double* P_N = nullptr;      ///< N x D x D
  double* H = nullptr;        ///< N x D
  double* W_H = nullptr;      ///< N x D x D
  double* ricci = nullptr;    ///< N x D x D
  double* K = nullptr;        ///< N x D x D
  double* scalar = nullptr;   ///< N
  double* drift = nullptr;    ///< N x D, E_M = Manifold::geometric_drift
};

/// Rows [begin, end) of X (N x D, row-major): z = pi(x) (or x itself, which must lie on M, when
/// `project` is false) and the requested local geometry at z, written to `out`. Without projection the
/// rows must be finite (InvalidArgument naming "z") and off the focal set (project()'s GeometryError).
void local_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& out);

/// Rows [begin, end) of X projected onto M: row i of Z (N x D) is pi(x_i), as local_rows computes it (the same
/// formulas as Manifold::project on spheres and tori; on so3 and ellipsoids the certified closed forms,
/// which agree with LevelSetManifold::project's KKT Newton to ~1e-14 and fall back to it where not certified;
/// Manifold::project itself elsewhere), with no per-point allocation.
void project_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, double* Z);

/// Manifold::local(z) with the level-set fast path (one jet and one QR); same values to rounding.
LocalGeometry local_geometry(const Manifold& M, const Vec& z);

}  // namespace rbsm::geometry
