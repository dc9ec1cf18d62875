#pragma once
/// Data with a known local dimension for the LID benchmark (docs/anatomy.md "Local intrinsic dimension
/// benchmark"): manifolds in a latent R^m, placed in R^D by a random isometry E (D x m, orthonormal
/// columns, from random_isometry), so distances and dimensions are those of the latent model.
///
///   sphere:d=5,D=50           unit sphere S^d in R^{d+1}                           (m = d + 1)
///   torus:d=3,D=20            flat torus (S^1)^d in R^{2d}: (cos th_i, sin th_i)    (m = 2 d)
///   two-spheres:d1=2,d2=8,D=30  S^{d1} and S^{d2} in orthogonal blocks of R^{d1+d2+2}, centred at
///                             +-1.2 (e_0 + e_{d1+1}) / sqrt 2 (at least ~0.98 apart), each drawn with
///                             probability 1/2; a point's true dimension is that of its sphere.
/// Uniform measures throughout (normal / uniform-angle draws from an rbsm::Rng).
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "rbsm/random.hpp"

namespace rbsm::anatomy {

struct EmbeddedManifold {
  enum class Kind { Sphere, Torus, TwoSpheres };
  Kind kind = Kind::Sphere;
  std::string spec;           ///< as given
  std::string label;          ///< e.g. "sphere:5 in R^50", "two-spheres:2+8 in R^30"
  std::int64_t D = 0;         ///< ambient dimension
  int d = 0;                  ///< dimension (of the first sphere for two-spheres)
  int d2 = 0;                 ///< dimension of the second sphere (two-spheres only)
  Eigen::MatrixXd embedding;  ///< D x m, orthonormal columns

  std::int64_t latent_dim() const { return embedding.cols(); }
  /// n points (rows, n x D) and, if `true_dims` is given, each point's dimension.
  Eigen::MatrixXd sample(std::int64_t n, Rng& rng, std::vector<int>* true_dims = nullptr) const;
};

/// Parses a spec (see above) and draws the isometry from `rng`. Throws InvalidArgument naming the spec
/// for an unknown name, unknown/missing keys, non-integer or non-positive dimensions, or a manifold
/// that does not fit in R^D (sphere d >= D, torus 2 d > D, two-spheres d1 + d2 + 2 > D).
EmbeddedManifold make_embedded_manifold(const std::string& spec, Rng& rng);

/// Splits "sphere:d=2,D=10;torus:d=2,D=8" at ';' (blank entries are errors). Throws InvalidArgument
/// for an empty list.
std::vector<std::string> split_manifold_list(const std::string& list);

/// The benchmark's default set (runs in a few minutes on 2 cores).
std::string default_lid_manifolds();

}  // namespace rbsm::anatomy
