#pragma once
/// The uniform density on any manifold: q = 1 / vol(M) with respect to the Riemannian volume
/// (docs/densities.md §1). log q is constant, so grad_M log q, Delta_M log q and b_q vanish.
#include "rbsm/dist/density.hpp"

namespace rbsm::dist {

class Uniform final : public Density {
 public:
  explicit Uniform(std::shared_ptr<const geometry::Manifold> manifold);

  std::string spec() const override { return "uniform"; }
  double log_density(const Vec& z) const override;    ///< -log vol(M)
  Vec grad_log(const Vec& z) const override;          ///< 0
  double laplacian_log(const Vec& z) const override;  ///< 0
  Vec heat_drift(const Vec& z) const override;        ///< 0
  Vec sample(Rng& rng) const override;                ///< Manifold::sample_uniform

 private:
  double log_volume_;
};

}  // namespace rbsm::dist
