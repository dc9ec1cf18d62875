#include "rbsm/dist/uniform.hpp"

#include <cmath>

namespace rbsm::dist {

Uniform::Uniform(std::shared_ptr<const geometry::Manifold> manifold)
    : Density(std::move(manifold)), log_volume_(std::log(manifold_->volume())) {}

double Uniform::log_density(const Vec&) const { return -log_volume_; }
Vec Uniform::grad_log(const Vec& z) const { return Vec::Zero(z.size()); }
double Uniform::laplacian_log(const Vec&) const { return 0.0; }
Vec Uniform::heat_drift(const Vec& z) const { return Vec::Zero(z.size()); }
Vec Uniform::sample(Rng& rng) const { return manifold_->sample_uniform(rng); }

}  // namespace rbsm::dist
