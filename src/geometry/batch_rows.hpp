#pragma once
// Internal to geometry::local_rows (batch.hpp): the row kernels of the closed forms (batch_closed_forms.cpp:
// spheres, the torus of revolution, the Clifford torus) and of level sets (batch_level_set.cpp), and the
// helpers they share. See batch.hpp for what every kernel computes and writes.
#include <cmath>
#include <cstddef>

#include "rbsm/geometry/batch.hpp"
#include "rbsm/geometry/level_set.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"

namespace rbsm::geometry::batch_detail {

constexpr double kFocalTolerance = 1e-12;  // torus.cpp / sphere.cpp: the focal-set tolerances of project()

inline bool wants_frame(const LocalRows& o) { return o.tangent || o.normal || o.P_T || o.P_N; }
inline bool wants_curvature(const LocalRows& o) { return o.H || o.W_H || o.ricci || o.K || o.scalar; }

/// Writes the outputs of `o` (those whose pointer is set) at row i from a LocalGeometry.
void write(const LocalGeometry& g, std::size_t i, int D, int d, const LocalRows& o);

/// Without projection: z must be finite, as the per-point operators' check_ambient(z, "z") requires.
inline void check_finite(const Manifold& M, const double* x, int D) {
  for (int a = 0; a < D; ++a)
    if (!std::isfinite(x[a])) M.check_ambient(Eigen::Map<const Vec>(x, D), "z");  // throws the library's message
}

/// The kernels: rows [begin, end) of X, as local_rows.
void sphere_rows(const Sphere& M, const double* X, std::size_t begin, std::size_t end, bool project,
                 const LocalRows& o);
void torus_rows(const TorusOfRevolution& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& o);
void clifford_rows(const CliffordTorus& M, const double* X, std::size_t begin, std::size_t end, bool project,
                   const LocalRows& o);
void level_set_rows(const LevelSetManifold& L, const double* X, std::size_t begin, std::size_t end, bool project,
                    const LocalRows& o);

/// Manifold::local of a level set with one jet of F and one QR (local_geometry's level-set path).
LocalGeometry level_set_local(const LevelSetManifold& M, const Vec& z);

}  // namespace rbsm::geometry::batch_detail
