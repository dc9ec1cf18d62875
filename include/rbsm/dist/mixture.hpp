#pragma once
/// Finite mixtures q = sum_k w_k q_k of densities on the same manifold (docs/densities.md §5).
/// With posterior weights pi_k(z) = w_k q_k(z) / q(z), g_k = grad_M log q_k, L_k = Delta_M log q_k,
/// s_k = L_k + |g_k|^2 (= Delta_M q_k / q_k) and b_k the components' heat drifts:
///   log q = logsumexp_k (log w_k + log q_k),
///   grad_M log q = g = sum_k pi_k g_k,
///   Delta_M log q = sum_k pi_k s_k - |g|^2,
///   b_q = 1/2 grad_M (Delta_M q / q) = sum_k pi_k b_k + 1/2 sum_k pi_k s_k (g_k - g),
/// all exact (docs/densities.md eq. 5.1-5.4). Sampling: a component by its weight, then its sampler.
#include <vector>

#include "rbsm/dist/density.hpp"

namespace rbsm::dist {

class Mixture final : public Density {
 public:
  /// weights > 0 (normalised here), one per component; every component on `manifold`.
  /// Throws InvalidArgument otherwise.
  Mixture(std::shared_ptr<const geometry::Manifold> manifold, std::vector<double> weights,
          std::vector<std::unique_ptr<Density>> components);

  std::string spec() const override;
  std::size_t size() const { return components_.size(); }
  double weight(std::size_t k) const { return weights_[k]; }
  const Density& component(std::size_t k) const { return *components_[k]; }
  /// Posterior weights pi_k(z) = w_k q_k(z) / q(z).
  std::vector<double> responsibilities(const Vec& z) const;

  double log_density(const Vec& z) const override;
  Vec grad_log(const Vec& z) const override;
  double laplacian_log(const Vec& z) const override;
  Vec heat_drift(const Vec& z) const override;
  Vec sample(Rng& rng) const override;

 private:
  std::vector<double> weights_, log_weights_;
  std::vector<std::unique_ptr<Density>> components_;
};

}  // namespace rbsm::dist
