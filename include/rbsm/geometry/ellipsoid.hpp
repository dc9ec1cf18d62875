#pragma once
/// The ellipsoid {x in R^D : sum_i x_i^2 / a_i^2 = 1}, D >= 2, through the generic level-set path
/// (docs/level_set.md §7).
///   reach   a_min^2 / a_max: the largest principal curvature a_max / a_min^2 is at the vertices on the
///           longest axis, and the medial axis (inside; the outside projects uniquely, convexity) ends
///           at their centres of curvature;
///   volume  its (D-1)-dimensional area, by a 1-D integral to about 1e-13 relative (`ellipsoid_area`);
///   uniform x = diag(a) u with u uniform on S^{D-1}, accepted with probability
///           a_min sqrt(sum_i u_i^2 / a_i^2) (the area element ratio, up to the constant prod a_i;
///           Williamson, Phys. Med. Biol. 32 (1987) 1311).
#include <memory>
#include <vector>

#include "rbsm/geometry/level_set.hpp"

namespace rbsm::geometry {

/// The `ellipsoid:a1,...,aD` manifold. Throws InvalidArgument for D < 2 or a_i <= 0.
std::unique_ptr<LevelSetManifold> make_ellipsoid(const std::vector<double>& semi_axes);

/// Area ((D-1)-volume) of the ellipsoid with semi-axes a:
/// area = prod(a) sqrt(2) pi^{D/2} / Gamma((D+1)/2) * E sqrt(sum_i g_i^2 / a_i^2), g ~ N(0, I_D), with
/// E sqrt(Q) = 1/(2 sqrt(pi)) int_0^inf (1 - prod_i (1 + 2t/a_i^2)^{-1/2}) t^{-3/2} dt by the
/// trapezoidal rule in log t (docs/level_set.md §7).
double ellipsoid_area(const std::vector<double>& semi_axes);

}  // namespace rbsm::geometry
