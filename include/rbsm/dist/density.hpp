#pragma once
/// Densities on an embedded manifold M, with respect to its Riemannian volume (docs/math.md §2).
/// Every density knows how to sample itself exactly and gives log q and its intrinsic derivatives:
/// grad_M log q (a tangent vector in ambient coordinates), Delta_M log q, and the heat-kernel term
/// b_q = 1/2 grad_M(Delta_M log q + |grad_M log q|^2) of the sigma^2 expansion.
#include <memory>
#include <optional>
#include <string>

#include "rbsm/geometry/manifold.hpp"
#include "rbsm/random.hpp"

namespace rbsm::dist {

using geometry::Mat;
using geometry::Vec;

class Density {
 public:
  explicit Density(std::shared_ptr<const geometry::Manifold> manifold) : manifold_(std::move(manifold)) {}
  virtual ~Density() = default;

  virtual std::string spec() const = 0;
  const geometry::Manifold& manifold() const { return *manifold_; }
  std::shared_ptr<const geometry::Manifold> manifold_ptr() const { return manifold_; }

  /// log q(z) for z on M (normalised w.r.t. the Riemannian volume).
  virtual double log_density(const Vec& z) const = 0;
  /// grad_M log q(z): tangent, as a D-vector.
  virtual Vec grad_log(const Vec& z) const = 0;
  /// Delta_M log q(z) (Laplace-Beltrami).
  virtual double laplacian_log(const Vec& z) const = 0;
  /// b_q(z) = 1/2 grad_M(Delta_M log q + |grad_M log q|^2).
  virtual Vec heat_drift(const Vec& z) const = 0;
  /// One exact draw from q.
  virtual Vec sample(Rng& rng) const = 0;

 protected:
  std::shared_ptr<const geometry::Manifold> manifold_;
};

/// Builds a density from its spec (`uniform`, `vmf:kappa=K`, `vonmises:kappa1=A,kappa2=B`,
/// `matrix-fisher:f1,f2,f3`, `@file.json` for a mixture) on `manifold`. `mean` overrides the vMF mean
/// direction (default e_1). Throws InvalidArgument for a malformed spec, a negative concentration, or
/// a density that does not fit the manifold (vmf on a torus).
std::unique_ptr<Density> make_density(const std::string& spec, std::shared_ptr<const geometry::Manifold> manifold,
                                      const std::optional<Vec>& mean = std::nullopt);

/// A mixture from the text of the JSON object of a mixture file (`{"weights": [...], "components":
/// [{"dist": SPEC, "mean": [...]}, ...]}`, docs/densities.md §5); `where` names it in error messages.
/// Throws InvalidArgument like make_density("@file") does.
std::unique_ptr<Density> make_mixture_json(const std::string& json_text,
                                           std::shared_ptr<const geometry::Manifold> manifold,
                                           const std::string& where = "mixture");

}  // namespace rbsm::dist
