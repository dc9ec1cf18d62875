// Fuzz target: manifold specs (`sphere:2`, `torus:3,1`, `ellipsoid:1,2,3`, ...) -> make_manifold, then
// a projection and the geometry at a point (every accepted manifold must give finite geometry).
#include <string>

#include "fuzz_common.hpp"

#include "rbsm/geometry/manifold.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  const std::string spec(reinterpret_cast<const char*>(data), size);
  rbsm::fuzz::expect_clean([&] {
    const auto M = rbsm::geometry::make_manifold(spec);
    if (M->ambient_dim() > 64) return;
    rbsm::geometry::Vec x = rbsm::geometry::Vec::Constant(M->ambient_dim(), 0.3);
    x(0) = 1.7;
    const rbsm::geometry::Vec z = M->project(x);
    for (int i = 0; i < z.size(); ++i) rbsm::fuzz::require_finite(z(i), "projection");
  });
  return 0;
}
