#include "rbsm/dist/mixture.hpp"

#include <algorithm>
#include <cmath>

#include "detail.hpp"

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"

namespace rbsm::dist {
using detail::number;

Mixture::Mixture(std::shared_ptr<const geometry::Manifold> manifold, std::vector<double> weights,
                 std::vector<std::unique_ptr<Density>> components)
    : Density(std::move(manifold)), weights_(std::move(weights)), components_(std::move(components)) {
  if (components_.empty()) throw InvalidArgument("mixture: no components (expected at least one)");
  if (weights_.size() != components_.size())
    throw InvalidArgument("mixture: " + std::to_string(weights_.size()) + " weights for " +
                          std::to_string(components_.size()) + " components (expected one weight per component)");
  double total = 0.0;
  for (std::size_t k = 0; k < weights_.size(); ++k) {
    if (!(weights_[k] > 0.0) || !std::isfinite(weights_[k]))
      throw InvalidArgument("mixture: weight " + std::to_string(k + 1) + " is " + number(weights_[k]) +
                            " (expected a finite weight > 0)");
    if (!components_[k] || components_[k]->manifold().spec() != manifold_->spec())
      throw InvalidArgument("mixture: component " + std::to_string(k + 1) + " is not a density on " +
                            manifold_->spec());
  }
  // Normalised relative to the largest weight: a plain sum of weights near 1e308 overflows to inf.
  double wmax = 0.0;
  for (double w : weights_) wmax = std::max(wmax, w);
  for (double w : weights_) total += w / wmax;
  for (auto& w : weights_) {
    w = (w / wmax) / total;
    if (!(w > 0.0))
      throw InvalidArgument("mixture: a weight is below 1e-308 of the largest one (" + number(wmax) +
                            "): it cannot be represented after normalisation");
    log_weights_.push_back(std::log(w));
  }
}

std::string Mixture::spec() const {
  std::string s = "mixture(";
  for (std::size_t k = 0; k < size(); ++k) s += (k ? ", " : "") + number(weights_[k]) + " " + components_[k]->spec();
  return s + ")";
}

std::vector<double> Mixture::responsibilities(const Vec& z) const {
  std::vector<double> l(size());
  for (std::size_t k = 0; k < size(); ++k) l[k] = log_weights_[k] + components_[k]->log_density(z);
  const double total = logsumexp(l);
  for (auto& v : l) v = std::exp(v - total);
  return l;
}

double Mixture::log_density(const Vec& z) const {
  std::vector<double> l(size());
  for (std::size_t k = 0; k < size(); ++k) l[k] = log_weights_[k] + components_[k]->log_density(z);
  return logsumexp(l);
}

Vec Mixture::grad_log(const Vec& z) const {
  const auto pi = responsibilities(z);
  Vec g = Vec::Zero(z.size());
  for (std::size_t k = 0; k < size(); ++k) g += pi[k] * components_[k]->grad_log(z);
  return g;
}

double Mixture::laplacian_log(const Vec& z) const {
  const auto pi = responsibilities(z);
  Vec g = Vec::Zero(z.size());
  double s = 0.0;
  for (std::size_t k = 0; k < size(); ++k) {
    const Vec gk = components_[k]->grad_log(z);
    g += pi[k] * gk;
    s += pi[k] * (components_[k]->laplacian_log(z) + gk.squaredNorm());
  }
  return s - g.squaredNorm();
}

Vec Mixture::heat_drift(const Vec& z) const {
  const auto pi = responsibilities(z);
  std::vector<Vec> gk(size());
  std::vector<double> sk(size());
  Vec g = Vec::Zero(z.size()), b = Vec::Zero(z.size());
  for (std::size_t k = 0; k < size(); ++k) {
    gk[k] = components_[k]->grad_log(z);
    sk[k] = components_[k]->laplacian_log(z) + gk[k].squaredNorm();
    g += pi[k] * gk[k];
    b += pi[k] * components_[k]->heat_drift(z);
  }
  for (std::size_t k = 0; k < size(); ++k) b += 0.5 * pi[k] * sk[k] * (gk[k] - g);
  return b;
}

Vec Mixture::sample(Rng& rng) const {
  double u = rng.uniform();
  for (std::size_t k = 0; k + 1 < size(); ++k) {
    if (u < weights_[k]) return components_[k]->sample(rng);
    u -= weights_[k];
  }
  return components_.back()->sample(rng);
}

}  // namespace rbsm::dist
