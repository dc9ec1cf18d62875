#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace rbsm::geometry {
// Placeholder until the generic graph-coordinate route lands (docs/math.md).
Vec Manifold::geometric_drift(const Vec&) const {
  throw Error("geometric_drift: not implemented for " + spec());
}
}  // namespace rbsm::geometry
