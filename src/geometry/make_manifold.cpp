// make_manifold: the one place where spec strings become manifolds (issue 3, "Manifolds").
#include <cmath>

#include "rbsm/error.hpp"
#include "rbsm/geometry/ellipsoid.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::geometry {
namespace {
// Largest sphere dimension accepted: operators are dense D x D matrices.
constexpr int kMaxSphereDim = 4096;

int sphere_dimension(const Spec& s) {
  const double d = s.numbers(1, 1)[0];
  if (d != std::floor(d) || d < 1 || d > kMaxSphereDim)
    throw InvalidArgument("spec '" + s.text + "': the sphere dimension d must be an integer from 1 to " +
                          std::to_string(kMaxSphereDim) + ", got '" + s.args[0] + "'");
  return static_cast<int>(d);
}
}  // namespace

std::unique_ptr<Manifold> make_manifold(const std::string& text) {
  const Spec s = Spec::parse(text);
  // ---- closed forms (sphere.hpp, torus.hpp)
  if (s.name == "sphere") return std::make_unique<Sphere>(sphere_dimension(s));
  if (s.name == "clifford-torus") {
    const auto r = s.numbers(2, 2);
    return std::make_unique<CliffordTorus>(r[0], r[1]);
  }
  if (s.name == "torus") {
    const auto r = s.numbers(2, 2);
    return std::make_unique<TorusOfRevolution>(r[0], r[1]);
  }
  // ---- generic level-set manifolds (so3, ellipsoid): branches added below this line
  if (s.name == "so3") {
    if (!s.args.empty())
      throw InvalidArgument("spec '" + s.text + "': so3 takes no parameters, got " + std::to_string(s.args.size()));
    return make_so3();
  }
  if (s.name == "ellipsoid") {
    const auto a = s.numbers(2, 4096);  // make_ellipsoid names a semi-axis <= 0
    return make_ellipsoid(a);
  }
  // ---- end of generic level-set manifolds
  throw InvalidArgument("unknown manifold '" + s.name + "' in spec '" + text +
                        "' (expected sphere:d, clifford-torus:r1,r2, torus:R,r, so3, ellipsoid:a1,...,aD)");
}
}  // namespace rbsm::geometry
