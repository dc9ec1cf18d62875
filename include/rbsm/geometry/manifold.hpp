#pragma once
/// The one abstraction for an embedded manifold M of dimension d in R^D (docs/math.md §1).
///
/// Conventions (SPEC.md): at z in M, R^D = T_z M (+) N_z M with orthogonal projectors P_T, P_N;
/// II(u, v) in N_z M; <W_nu u, v> = <II(u, v), nu>; H = sum_i II(e_i, e_i) (a trace, no 1/d);
/// Gauss: Ric# = W_H - sum_a W_{n_a}^2; K = 1/2 W_H - Ric#.
/// Every operator is returned as a D x D ambient matrix that acts as zero on N_z M, so results do
/// not depend on a choice of frame. Implementations provide the virtual primitives; everything else
/// is derived here once. Algorithms take `const Manifold&`, never a concrete type.
#include <memory>
#include <string>

#include <Eigen/Dense>

#include "rbsm/random.hpp"

namespace rbsm::geometry {

using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;

/// All local geometry at one point, computed in one pass (for hot loops and the `geometry` command).
struct LocalGeometry {
  Vec z;                        ///< the point on M
  Mat tangent;                  ///< D x d orthonormal tangent frame E
  Mat normal;                   ///< D x k orthonormal normal frame N
  Mat P_T, P_N;                 ///< projectors
  Vec H;                        ///< mean curvature vector (trace)
  Mat W_H;                      ///< Weingarten map of H
  Mat ricci;                    ///< Ric#
  Mat K;                        ///< 1/2 W_H - Ric#
  double scalar_curvature = 0;  ///< tr Ric#
};

class Manifold {
 public:
  virtual ~Manifold() = default;

  /// The spec string this manifold was made from (e.g. "sphere:2").
  virtual std::string spec() const = 0;
  virtual int dim() const = 0;          ///< d
  virtual int ambient_dim() const = 0;  ///< D
  int codim() const { return ambient_dim() - dim(); }

  // ---------------------------------------------------------------- primitives
  /// Nearest-point projection pi(x). Throws InvalidArgument for a wrong length or NaN, and
  /// GeometryError where the nearest point is not unique (sphere centre, torus axis), x lies outside
  /// the reach, or an iterative solve does not converge.
  virtual Vec project(const Vec& x) const = 0;
  /// Orthonormal tangent frame at z in M (D x d).
  virtual Mat tangent_frame(const Vec& z) const = 0;
  /// Orthonormal normal frame at z in M (D x k).
  virtual Mat normal_frame(const Vec& z) const = 0;
  /// Weingarten map W_nu (D x D, zero on N_z M); nu is projected onto N_z M first.
  virtual Mat weingarten(const Vec& z, const Vec& nu) const = 0;
  /// Ric# (D x D). The default uses the Gauss equation; closed forms override it with an intrinsic
  /// formula so that the Gauss residual is a real check.
  virtual Mat ricci(const Vec& z) const;
  /// E_M, the embedding-only drift of the sigma^2 expansion (SPEC.md "Expansion", docs/math.md).
  /// The default evaluates the graph-coordinate definition numerically; closed forms override.
  virtual Vec geometric_drift(const Vec& z) const;
  /// A point drawn exactly from the normalised Riemannian volume of M.
  virtual Vec sample_uniform(Rng& rng) const = 0;
  /// Reach of M (largest r such that every point within r has a unique nearest point).
  virtual double reach() const = 0;
  /// Riemannian volume of M.
  virtual double volume() const = 0;

  // ---------------------------------------------------------------- derived
  Mat tangent_projector(const Vec& z) const;  ///< P_T = E E^T
  Mat normal_projector(const Vec& z) const;   ///< P_N = I - P_T
  /// II(u, v) in N_z M for tangent u, v (u, v are projected to T_z M first).
  Vec second_fundamental_form(const Vec& z, const Vec& u, const Vec& v) const;
  Vec mean_curvature(const Vec& z) const;       ///< H = sum_i II(e_i, e_i)
  Mat weingarten_mean(const Vec& z) const;      ///< W_H
  Mat correction_operator(const Vec& z) const;  ///< K = 1/2 W_H - Ric#
  double scalar_curvature(const Vec& z) const;  ///< tr Ric#
  /// max |Ric# - W_H + sum_a W_{n_a}^2| (entrywise).
  double gauss_residual(const Vec& z) const;
  LocalGeometry local(const Vec& z) const;

  /// Throws InvalidArgument unless x has length D and finite entries (`what` names it in the message).
  void check_ambient(const Vec& x, const std::string& what) const;
};

/// Builds a manifold from its spec (sphere:d, clifford-torus:r1,r2, torus:R,r, so3,
/// ellipsoid:a1,...,aD). Throws InvalidArgument naming the problem for a malformed spec.
std::unique_ptr<Manifold> make_manifold(const std::string& spec);

}  // namespace rbsm::geometry
