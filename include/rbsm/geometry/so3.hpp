#pragma once
/// SO(3) in R^9: rotation matrices stored row-major (x[3a + b] = R_ab) with the Frobenius metric
/// <X, Y> = tr(X^T Y), built through the generic level-set path (docs/level_set.md §6):
/// F(R) = upper triangle of R^T R - I (k = 6, d = 3), and det R > 0 selects the component SO(3) of O(3).
///   reach   sqrt(2): the largest principal curvature is 1/sqrt(2) (geodesic exp(t Omega) has
///           acceleration Omega^2 = (w w^T - I)/2 for |Omega|_F = 1), attained at the rank-one focal
///           points R diag(1, 0, 0) R', which are also the nearest points of the medial axis;
///   volume  16 sqrt(2) pi^2 (8 pi^2 for the metric |w|^2 on so(3), times (sqrt 2)^3 for |Omega|_F^2 = 2 |w|^2);
///   uniform Haar measure = normalised Riemannian volume of the bi-invariant Frobenius metric, sampled
///           exactly by uniform unit quaternions.
#include <memory>

#include "rbsm/geometry/level_set.hpp"

namespace rbsm::geometry {

/// The `so3` manifold.
std::unique_ptr<LevelSetManifold> make_so3();

/// Row-major rotation matrix (9-vector) of the unit quaternion (w, x, y, z) (normalised first).
Vec rotation_from_quaternion(double w, double x, double y, double z);
/// Rotation angle theta in [0, pi] of a row-major rotation matrix: cos theta = (tr R - 1) / 2.
double rotation_angle(const Vec& R);
/// Riemannian volume of SO(3) with the Frobenius metric, 16 sqrt(2) pi^2.
double so3_volume();
/// Reach of SO(3) in R^9 with the Frobenius metric, sqrt(2).
double so3_reach();

}  // namespace rbsm::geometry
