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

/// How exact_rb_target computed r_sigma.
struct ExactRbInfo {
  bool expansion = false;     ///< true: the sigma^2 expansion (small sigma); false: the quadrature
  double switch_sigma = 0.0;  ///< sigma_s: the quadrature runs for sigma >= sigma_s (see exact_rb_target)
  /// With `expansion`: the bound |r_sigma - expansion| <= remainder = e (sigma / sigma_s)^4, where
  /// e = |quadrature - expansion| at sigma_s (the measured O(sigma^4) remainder).
  double remainder = 0.0;
};

/// The quadrature alone at every sigma (no switch to the expansion; the expansion study measures the
/// sigma^2 coefficient with it). Below exact_rb_quadrature_floor it may miss its tolerance.
Vec exact_rb_quadrature(const dist::Density& q, const Vec& y, double sigma, double rel_tol = 1e-10);

/// The switch point sigma_s = 1e-3 L of exact_rb_target (L = 1 on the unit sphere, the smaller radius
/// of a torus), and the smallest sigma at which the quadrature stays within its tolerance (rounding:
/// the fibre weight's exponent divides O(eps) distances by sigma^2).
double exact_rb_switch_sigma(const geometry::Manifold& M);
double exact_rb_quadrature_floor(const geometry::Manifold& M);

/// r_sigma at pi(y), for every sigma check_sigma accepts (down to 1e-50):
///  - sigma >= sigma_s: the quadrature (rb_sphere.hpp, torus_rb_target);
///  - sigma < sigma_s: the expansion grad + sigma^2 (b_q + K grad + E_M) (expansion.hpp) when its
///    remainder, measured against the quadrature at sigma_s and scaled by (sigma / sigma_s)^4, is at most
///    rel_tol |r| (the quadrature's own tolerance); otherwise (large concentrations, where the sigma^4
///    term is still large at sigma_s) the quadrature at sigma if sigma >= the quadrature floor, else the
///    expansion at the sigma where its remainder reaches the tolerance and below. Between the two an
///    InvalidArgument names the limit (the sigmas that work, and --method estimator).
/// Throws InvalidArgument for a bad sigma and for a manifold / density pair without an exact method
/// (naming both). `info` (optional) says which was used.
Vec exact_rb_target(const dist::Density& q, const Vec& y, double sigma, double rel_tol = 1e-10,
                    ExactRbInfo* info = nullptr);

/// The torus quadrature itself (q must live on a CliffordTorus or TorusOfRevolution).
Vec torus_rb_target(const dist::Density& q, const Vec& y, double sigma, FibreModel model = FibreModel::exact,
                    double rel_tol = 1e-10);

}  // namespace rbsm::dsm
