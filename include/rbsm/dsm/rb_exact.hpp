#pragma once
/// Exact (deterministic quadrature) Rao-Blackwellized targets r_sigma(y) = E[T_sigma | pi(X) = y]
/// (docs/targets.md §3):
/// - vMF (and uniform) on S^d, any d: one-dimensional integral (rb_sphere.hpp);
/// - any density on the Clifford torus and the torus of revolution: 2-D adaptive Gauss-Kronrod over
///   the angles of Z, with the exact fibre weight (fibre.hpp), or with FibreModel::whole_normal_space
///   to measure the error of integrating the normal fibre beyond the reach (docs/targets.md §3.2).
#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/fibre.hpp"

namespace rbsm::dsm {

/// True where exact_rb_target can compute r_sigma for q.
bool has_exact_rb_target(const dist::Density& q);

/// r_sigma at pi(y). Throws InvalidArgument for sigma <= 0 / NaN and for a manifold / density pair
/// without an exact method (naming both).
Vec exact_rb_target(const dist::Density& q, const Vec& y, double sigma, double rel_tol = 1e-10);

/// The torus quadrature itself (q must live on a CliffordTorus or TorusOfRevolution).
Vec torus_rb_target(const dist::Density& q, const Vec& y, double sigma, FibreModel model = FibreModel::exact,
                    double rel_tol = 1e-10);

}  // namespace rbsm::dsm
