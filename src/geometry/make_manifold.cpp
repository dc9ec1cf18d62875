#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::geometry {
std::unique_ptr<Manifold> make_manifold(const std::string& text) {
  const Spec s = Spec::parse(text);
  throw InvalidArgument("unknown manifold '" + s.name + "' in spec '" + text +
                        "' (expected sphere:d, clifford-torus:r1,r2, torus:R,r, so3, ellipsoid:a1,...,aD)");
}
}  // namespace rbsm::geometry
