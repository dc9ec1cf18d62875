// E_M (SPEC.md "Expansion"): the graph-coordinate route against the surface formula, against the
// closed form 1/2 k1 grad k1 on the torus of revolution, and E_M = 0 where II is parallel or by
// symmetry (spheres, Clifford torus, so3). docs/level_set.md §4.
#include "rbsm/geometry/geometric_drift.hpp"

#include <cmath>
#include <memory>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/level_set.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/random.hpp"

namespace rbsm::geometry {
namespace {

/// 1/2 k1 grad_M k1 on the torus of revolution, from the angles (independent of rbsm's code):
/// k1 = cos a1 / (R + r cos a1), d k1 / d a1 = -R sin a1 / (R + r cos a1)^2, arc length r da1,
/// unit tangent e1 = (-sin a1 cos a2, -sin a1 sin a2, cos a1).
Vec torus_drift_closed_form(double R, double r, const Vec& z) {
  const double a2 = std::atan2(z(1), z(0)), rho = std::hypot(z(0), z(1));
  const double a1 = std::atan2(z(2), rho - R);
  const double k1 = std::cos(a1) / (R + r * std::cos(a1));
  const double dk1 = -R * std::sin(a1) / std::pow(R + r * std::cos(a1), 2) / r;
  Vec e1(3);
  e1 << -std::sin(a1) * std::cos(a2), -std::sin(a1) * std::sin(a2), std::cos(a1);
  return 0.5 * k1 * dk1 * e1;
}

Vec torus_point(double R, double r, double a1, double a2) {
  Vec z(3);
  z << (R + r * std::cos(a1)) * std::cos(a2), (R + r * std::cos(a1)) * std::sin(a2), r * std::sin(a1);
  return z;
}

TEST(GeometricDrift, GraphRouteMatchesHalfK1GradK1OnTorusOfRevolution) {
  const TorusOfRevolution closed(3, 1);
  const auto generic = level_set_torus(3, 1);
  for (double a1 : {0.3, 1.1, 2.0, -2.7, 4.0}) {
    const Vec z = torus_point(3, 1, a1, 0.4 * a1 + 0.2);
    const Vec expected = torus_drift_closed_form(3, 1, z);
    EXPECT_LT((graph_geometric_drift(closed, z) - expected).norm(), 1e-7) << "a1 = " << a1;
    EXPECT_LT((graph_geometric_drift(*generic, z) - expected).norm(), 1e-6) << "a1 = " << a1;
    EXPECT_LT((closed.geometric_drift(z) - expected).norm(), 1e-12);   // geo-closed's override
    EXPECT_LT((generic->geometric_drift(z) - expected).norm(), 1e-6);  // default = graph route
  }
}

TEST(GeometricDrift, SurfaceRouteMatchesHalfK1GradK1OnTorusOfRevolution) {
  const TorusOfRevolution closed(3, 1);
  for (double a1 : {0.3, 1.1, 2.0, -2.7}) {
    const Vec z = torus_point(3, 1, a1, -0.3 * a1);
    EXPECT_LT((surface_geometric_drift(closed, z) - torus_drift_closed_form(3, 1, z)).norm(), 1e-7);
  }
}

TEST(GeometricDrift, BothRoutesAgreeOnEllipsoid) {
  // SPEC.md: on the ellipsoid (1, 1.5, 2.5) both principal curvatures vary, and the quadrature-
  // extrapolated target matches the surface formula with coefficients (0.5, 0.5, -1).
  const auto M = make_manifold("ellipsoid:1,1.5,2.5");
  Rng rng(31, 0);
  double largest = 0;
  for (int i = 0; i < 6; ++i) {
    const Vec z = M->sample_uniform(rng);
    const Vec graph = graph_geometric_drift(*M, z), surface = surface_geometric_drift(*M, z);
    largest = std::max(largest, graph.norm());
    EXPECT_LT((graph - surface).norm(), 1e-5) << "|E_M| = " << graph.norm();
    EXPECT_LT((M->tangent_projector(z) * graph - graph).norm(), 1e-12);  // E_M is tangent
  }
  EXPECT_GT(largest, 1e-2);  // the drift is not trivially zero here
}

TEST(GeometricDrift, BothRoutesAgreeOnTorusOfRevolutionWithSmallHole) {
  const auto generic = level_set_torus(2, 1.5);
  for (double a1 : {0.5, 2.5}) {
    const Vec z = torus_point(2, 1.5, a1, 1.0);
    EXPECT_LT((graph_geometric_drift(*generic, z) - surface_geometric_drift(*generic, z)).norm(), 1e-6);
    EXPECT_LT((graph_geometric_drift(*generic, z) - torus_drift_closed_form(2, 1.5, z)).norm(), 1e-6);
  }
}

TEST(GeometricDrift, VanishesWhereSecondFundamentalFormIsParallel) {
  // Spheres and the Clifford torus: II is parallel; so3: the isotropy group SO(3) acts on T_R SO(3) = R so(3)
  // like the adjoint representation, without fixed vectors, so the invariant vector E_M is 0.
  for (const char* spec : {"sphere:2", "sphere:6", "clifford-torus:1,1.5", "so3"}) {
    const auto closed = make_manifold(spec);
    Rng rng(32, 0);
    for (int i = 0; i < 3; ++i) {
      const Vec z = closed->sample_uniform(rng);
      EXPECT_LT(graph_geometric_drift(*closed, z).norm(), 1e-7) << spec;
    }
  }
  for (const auto& generic : {level_set_sphere(2), level_set_sphere(6), level_set_clifford_torus(1, 1.5)}) {
    Rng rng(33, 0);
    const Vec z = generic->sample_uniform(rng);
    EXPECT_LT(graph_geometric_drift(*generic, z).norm(), 1e-7) << generic->spec();
  }
}

TEST(GeometricDrift, GraphPointHasTheRequestedTangentCoordinates) {
  const auto M = make_manifold("ellipsoid:1,1.5,2.5");
  Rng rng(34, 0);
  const Vec y = M->sample_uniform(rng);
  const Mat E = M->tangent_frame(y);
  Vec t(2);
  t << 0.05, -0.03;
  const Vec p = graph_point(*M, y, E, t);
  EXPECT_LT((E.transpose() * (p - y) - t).norm(), 1e-14);
  EXPECT_LT((M->project(p) - p).norm(), 1e-14);
}

TEST(GeometricDrift, SurfaceRouteRejectsOtherDimensions) {
  const auto M = make_manifold("sphere:6");
  Rng rng(35, 0);
  EXPECT_THROW(surface_geometric_drift(*M, M->sample_uniform(rng)), InvalidArgument);
}

}  // namespace
}  // namespace rbsm::geometry
