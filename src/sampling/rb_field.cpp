#include "rbsm/sampling/rb_field.hpp"

#include <memory>

#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/rb_exact.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"

namespace rbsm::sampling {

using geometry::Mat;
using geometry::Vec;

dsm::TangentField rb_field(const dist::Density& q, double sigma, int references, std::uint64_t seed) {
  dsm::check_sigma(sigma);
  if (auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(&q)) {  // one 1-D quadrature per point
    auto target = std::make_shared<dsm::VmfRbTarget>(q.manifold().dim(), vmf->kappa(), vmf->mean(), sigma);
    return [target](const Vec& y) { return (*target)(y); };
  }
  if (dsm::has_exact_rb_target(q)) {  // 2-D quadrature on the tori
    const dist::Density* Q = &q;
    return [Q, sigma](const Vec& y) { return dsm::exact_rb_target(*Q, y, sigma); };
  }
  if (references < 1) throw InvalidArgument("rb: need at least one reference draw, got " + std::to_string(references));
  Mat refs(references, q.manifold().ambient_dim());
  for (int j = 0; j < references; ++j) {
    Rng rng(seed, static_cast<std::uint64_t>(j) + (1ULL << 40));
    refs.row(j) = q.sample(rng).transpose();
  }
  auto est = std::make_shared<dsm::RbEstimator>(q.manifold_ptr(), std::move(refs), sigma);
  return [est](const Vec& y) { return est->estimate_one(y); };
}

}  // namespace rbsm::sampling
