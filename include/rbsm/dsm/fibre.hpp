#pragma once
/// Fibre weights of the conditional law of Z given pi(X) = y (SPEC.md "Conditional law";
/// docs/targets.md §2):
///
///     p(Z | pi(X) = y) ∝ q(Z) w(Z, y),
///     w(Z, y) = integral over the fibre F_y of phi_sigma(y + nu - Z) det(I - W_nu(y)) dnu.
///
/// Every function returns log w (up to a constant that does not depend on Z), so that weights never
/// overflow or underflow at sigma = 0.01. The fibres used are the exact ones:
/// - S^d (unit): the ray x = rho y, rho > 0, with det(I - W_nu) = rho^d (docs/targets.md §2.1);
/// - Clifford torus: normal coordinates c_i > -r_i, det = (1 + c1/r1)(1 + c2/r2) (§2.2);
/// - torus of revolution: -r < c < R/|cos a1| - r if cos a1 < 0, else c > -r,
///   det = (1 + c k1)(1 + c k2) (§2.2).
/// `FibreModel::whole_normal_space` replaces F_y by all of N_y M and keeps only the Z with
/// |Z - y| < reach: the "near y" form of SPEC.md, whose error is of order exp(-reach^2 / (2 sigma^2))
/// (docs/targets.md §2.3; tested in dsm_torus_test.cpp).
#include <memory>

#include "rbsm/geometry/manifold.hpp"

namespace rbsm::dsm {

using geometry::Mat;
using geometry::Vec;

/// exp(x^2) erfc(x) for x >= 0 (scaled complementary error function; no overflow for large x).
double erfcx(double x);

/// log J_n(m), J_n(m) = integral_0^inf v^n exp(-(v - m)^2 / 2) dv (n >= 0, any real m). Forward
/// recurrence J_n = m J_{n-1} + (n - 1) J_{n-2} for m >= -1/2 (positive or mildly cancelling terms),
/// Miller's backward recurrence for the minimal solution when m < -1/2 (docs/targets.md §2.1).
double log_half_line_moment(int n, double m);

/// log of the sphere's exact ray weight with c = <y, Z> (unit sphere S^d):
///     log integral_0^inf rho^d exp(-(rho^2 - 2 rho c + 1) / (2 sigma^2)) d rho
///   = -(1 - c^2)/(2 sigma^2) + (d + 1) log sigma + log J_d(c / sigma).
/// Increasing in c.
double log_sphere_ray_weight(int d, double sigma, double c);
/// The same with 1 - c^2 given (e.g. sin^2 th for c = cos th): 1 - c^2 from a rounded c loses its
/// relative accuracy where c is near 1, and that rounding, divided by sigma^2, limited the sphere's
/// quadrature to sigma >~ 1e-3 (docs/targets.md §3.1).
double log_sphere_ray_weight(int d, double sigma, double c, double one_minus_c2);

/// log integral_a^b (p0 + p1 u + p2 u^2) phi(u) du for the standard normal density phi, with
/// -inf <= a < b <= +inf; the polynomial must be non-negative on (a, b). Tails are handled with
/// Mills ratios so that the result is exact far in the tails. Returns -inf if the integral is 0.
double log_gauss_poly_integral(double p0, double p1, double p2, double a, double b);

enum class FibreModel {
  exact,               ///< the true fibre F_y (SPEC.md)
  whole_normal_space,  ///< all of N_y M, and only Z with |Z - y| < reach (error ~ exp(-reach^2/(2 sigma^2)))
};

/// log w(Z, y) for one query point y on a fixed manifold, precomputing what depends on y only
/// (frames, Weingarten maps, fibre bounds). Z must lie on M. Thread-safe after construction.
class FibreWeight {
 public:
  virtual ~FibreWeight() = default;
  virtual double log_weight(const Vec& Z) const = 0;
  const Vec& y() const { return y_; }
  const Mat& tangent_projector() const { return P_T_; }

 protected:
  Vec y_;
  Mat P_T_;
};

/// The fibre weight of `manifold` at y (y is projected onto M first). Closed forms with the exact
/// fibre for spheres and both tori; elsewhere the whole-normal-space form with the exact Gaussian
/// expectation of det(I - W_nu) (Gauss-Hermite, exact for polynomials), restricted to |Z - y| < reach.
/// Throws InvalidArgument for sigma <= 0 or NaN, or for FibreModel::exact on another manifold.
std::unique_ptr<FibreWeight> make_fibre_weight(const geometry::Manifold& manifold, const Vec& y, double sigma,
                                               FibreModel model = FibreModel::exact);

/// Throws InvalidArgument unless sigma is finite and in [1e-50, 1e50] (names `what`).
void check_sigma(double sigma, const char* what = "sigma");

}  // namespace rbsm::dsm
