#include "rbsm/sampling/rb_field.hpp"

#include <memory>

#include "rbsm/dist/vmf.hpp"
#include "rbsm/dsm/rb_sphere.hpp"
#include "rbsm/error.hpp"

namespace rbsm::sampling {

using geometry::Vec;

dsm::TangentField rb_field(const dist::Density& q, double sigma, int references, std::uint64_t seed) {
  dsm::check_sigma(sigma);
  (void)references;
  (void)seed;
  if (auto* vmf = dynamic_cast<const dist::VonMisesFisher*>(&q)) {
    auto target = std::make_shared<dsm::VmfRbTarget>(q.manifold().dim(), vmf->kappa(), vmf->mean(), sigma);
    return [target](const Vec& y) { return (*target)(y); };
  }
  throw InvalidArgument("rb: no exact r_sigma for " + q.spec() + " on " + q.manifold().spec() + " yet");
}

}  // namespace rbsm::sampling
