// Known values of the closed-form manifolds (sphere.hpp, torus.hpp; docs/geometry.md), each against an
// independent source: hand-derived closed forms, finite differences of the parametrisation or of the
// projection, brute-force minimisation. The chi-square tests of the samplers against the volume measure
// are in geometry_closed_form_sampler_test.cpp; the property tests shared by all five manifolds live in
// another file (typed tests).
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include <Eigen/Eigenvalues>
#include <Eigen/Geometry>
#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"

namespace {

using namespace rbsm::geometry;
using rbsm::kPi;

double max_abs(const Mat& A) { return A.cwiseAbs().maxCoeff(); }

Vec gaussian(rbsm::Rng& rng, int n) {
  Vec g(n);
  for (int i = 0; i < n; ++i) g[i] = rng.normal();
  return g;
}

// ------------------------------------------------------------------ finite differences
/// W_nu u = -P_T (D_u P_N) nu for a normal field nu(z) = P_N(z) nu0 (Weingarten equation), with D_u
/// taken by central differences along the curve t -> pi(z + t u).
Mat weingarten_by_finite_differences(const Manifold& M, const Vec& z, const Vec& nu) {
  const double h = 1e-5;
  const Mat E = M.tangent_frame(z);
  const Mat P_T = E * E.transpose();
  Mat W = Mat::Zero(M.ambient_dim(), M.ambient_dim());
  for (int i = 0; i < E.cols(); ++i) {
    const Vec u = E.col(i);
    const Mat dP_N = (M.normal_projector(M.project(z + h * u)) - M.normal_projector(M.project(z - h * u))) / (2 * h);
    W += (-P_T * dP_N * nu) * u.transpose();  // W u_i, assembled as W = sum_i (W e_i) e_i^T
  }
  return W;
}

// ====================================================================== sphere

TEST(SphereClosedForm, CorrectionOperatorIsAlphaDTimesProjector) {
  // K = (1 - d/2) P_T (source document "S^2 Cancellation"), Ric# = (d - 1) P_T, H = -d z.
  rbsm::Rng rng(11);
  for (int d : {1, 2, 3, 6, 10}) {
    const Sphere S(d);
    for (int t = 0; t < 5; ++t) {
      const Vec z = gaussian(rng, d + 1).normalized();
      const Mat P_T = Mat::Identity(d + 1, d + 1) - z * z.transpose();
      EXPECT_LT(max_abs(S.correction_operator(z) - (1.0 - d / 2.0) * P_T), 1e-12) << "d = " << d;
      EXPECT_LT(max_abs(S.ricci(z) - (d - 1.0) * P_T), 1e-12) << "d = " << d;
      EXPECT_LT((S.mean_curvature(z) + d * z).norm(), 1e-12) << "d = " << d;
      EXPECT_NEAR(S.scalar_curvature(z), d * (d - 1.0), 1e-10);
      EXPECT_LT(S.gauss_residual(z), 1e-12);
      EXPECT_LT(S.geometric_drift(z).norm(), 1e-15);
    }
  }
}

TEST(SphereClosedForm, FrameIsOrthonormalEverywhereIncludingNearThePoles) {
  rbsm::Rng rng(12);
  const Sphere S(4);
  std::vector<Vec> points;
  for (double s : {1.0, -1.0}) {
    Vec e = Vec::Zero(5);
    e[0] = s;
    points.push_back(e);
    e[1] = 1e-14;  // just off the Householder sign switch
    points.push_back(e.normalized());
  }
  Vec eq = Vec::Zero(5);
  eq[3] = 1;  // u_1 = 0 exactly
  points.push_back(eq);
  for (int t = 0; t < 5; ++t) points.push_back(gaussian(rng, 5).normalized());
  for (const Vec& z : points) {
    const Mat E = S.tangent_frame(z);
    ASSERT_EQ(E.rows(), 5);
    ASSERT_EQ(E.cols(), 4);
    EXPECT_LT(max_abs(E.transpose() * E - Mat::Identity(4, 4)), 1e-14);
    EXPECT_LT((E.transpose() * z).norm(), 1e-14);
    EXPECT_LT((S.normal_frame(z).col(0) - z).norm(), 1e-15);
  }
}

TEST(SphereClosedForm, VolumeMatchesKnownValues) {
  EXPECT_NEAR(Sphere(1).volume(), 2 * kPi, 1e-12);
  EXPECT_NEAR(Sphere(2).volume(), 4 * kPi, 1e-12);
  EXPECT_NEAR(Sphere(3).volume(), 2 * kPi * kPi, 1e-12);
  EXPECT_NEAR(Sphere(4).volume(), 8 * kPi * kPi / 3, 1e-12);
}

TEST(SphereClosedForm, ProjectionAndErrors) {
  const Sphere S(2);
  Vec x(3);
  x << 0, 3, 4;
  EXPECT_LT((S.project(x) - Vec(x / 5)).norm(), 1e-15);
  EXPECT_THROW(S.project(Vec::Zero(3)), rbsm::GeometryError);
  EXPECT_THROW(S.project(Vec::Zero(4)), rbsm::InvalidArgument);
  Vec nan_point = x;
  nan_point[1] = std::nan("");
  EXPECT_THROW(S.project(nan_point), rbsm::InvalidArgument);
  EXPECT_THROW(Sphere(0), rbsm::InvalidArgument);
}

// ====================================================================== Clifford torus

TEST(CliffordTorusClosedForm, CorrectionOperatorInTheCoordinateFrame) {
  // Ric# = 0, K = diag(1/(2 r1^2), 1/(2 r2^2)) on the normalised coordinate tangents (SPEC.md).
  rbsm::Rng rng(21);
  for (auto [r1, r2] : {std::pair{1.0, 1.0}, std::pair{0.7, 2.5}}) {
    const CliffordTorus T(r1, r2);
    for (int t = 0; t < 6; ++t) {
      const double a1 = rng.uniform(-kPi, kPi), a2 = rng.uniform(-kPi, kPi);
      const Vec z = T.point(a1, a2);
      Mat U = T.coordinate_tangents(a1, a2);
      U.col(0).normalize();
      U.col(1).normalize();
      const Mat K2 = U.transpose() * T.correction_operator(z) * U;
      EXPECT_NEAR(K2(0, 0), 1 / (2 * r1 * r1), 1e-12);
      EXPECT_NEAR(K2(1, 1), 1 / (2 * r2 * r2), 1e-12);
      EXPECT_NEAR(K2(0, 1), 0, 1e-12);
      EXPECT_LT(max_abs(T.ricci(z)), 1e-15);
      EXPECT_LT(T.gauss_residual(z), 1e-12);
      // H = -(n1 / r1 + n2 / r2) with the outward normals of the two circles.
      Vec H(4);
      H << -std::cos(a1) / r1, -std::sin(a1) / r1, -std::cos(a2) / r2, -std::sin(a2) / r2;
      EXPECT_LT((T.mean_curvature(z) - H).norm(), 1e-12);
    }
  }
  EXPECT_NEAR(CliffordTorus(0.7, 2.5).volume(), 4 * kPi * kPi * 0.7 * 2.5, 1e-12);
  EXPECT_DOUBLE_EQ(CliffordTorus(0.7, 2.5).reach(), 0.7);
}

TEST(CliffordTorusClosedForm, ParametrisationHelpers) {
  const CliffordTorus T(0.7, 2.5);
  const double a1 = 2.0, a2 = -0.4, h = 1e-6;
  const Vec p = T.point(a1, a2);
  Vec expected(4);
  expected << 0.7 * std::cos(a1), 0.7 * std::sin(a1), 2.5 * std::cos(a2), 2.5 * std::sin(a2);
  EXPECT_LT((p - expected).norm(), 1e-15);
  EXPECT_NEAR(T.angles(p)[0], a1, 1e-14);
  EXPECT_NEAR(T.angles(p)[1], a2, 1e-14);
  const Mat J = T.coordinate_tangents(a1, a2);
  EXPECT_LT((J.col(0) - (T.point(a1 + h, a2) - T.point(a1 - h, a2)) / (2 * h)).norm(), 1e-8);
  EXPECT_LT((J.col(1) - (T.point(a1, a2 + h) - T.point(a1, a2 - h)) / (2 * h)).norm(), 1e-8);
}

// ====================================================================== torus of revolution

/// Fundamental forms of the torus from finite differences of its parametrisation (the classical
/// route, independent of the code's Weingarten map): returns {K_G, k_min, k_max} with respect to
/// the inward normal p_1 x p_2 / |p_1 x p_2|.
Eigen::Vector3d classical_curvatures(const TorusOfRevolution& T, double a1, double a2) {
  const double h = 1e-4;
  auto p = [&](double b1, double b2) -> Eigen::Vector3d { return T.point(b1, b2); };
  const Eigen::Vector3d p1 = (p(a1 + h, a2) - p(a1 - h, a2)) / (2 * h);
  const Eigen::Vector3d p2 = (p(a1, a2 + h) - p(a1, a2 - h)) / (2 * h);
  const Eigen::Vector3d p11 = (p(a1 + h, a2) - 2 * p(a1, a2) + p(a1 - h, a2)) / (h * h);
  const Eigen::Vector3d p22 = (p(a1, a2 + h) - 2 * p(a1, a2) + p(a1, a2 - h)) / (h * h);
  const Eigen::Vector3d p12 =
      (p(a1 + h, a2 + h) - p(a1 + h, a2 - h) - p(a1 - h, a2 + h) + p(a1 - h, a2 - h)) / (4 * h * h);
  const Eigen::Vector3d n = p1.cross(p2).normalized();
  Eigen::Matrix2d I, II;
  I << p1.dot(p1), p1.dot(p2), p1.dot(p2), p2.dot(p2);
  II << p11.dot(n), p12.dot(n), p12.dot(n), p22.dot(n);
  const Eigen::Matrix2d S = I.inverse() * II;  // shape operator in coordinates
  const Eigen::Vector2cd k = S.eigenvalues();
  return {S.determinant(), std::min(k[0].real(), k[1].real()), std::max(k[0].real(), k[1].real())};
}

TEST(TorusOfRevolutionClosedForm, GaussianAndPrincipalCurvatures) {
  const TorusOfRevolution T(3, 1);
  for (double a1 : {0.0, 0.3, 1.2, kPi / 2, 2.0, 2.9, kPi, -1.0}) {
    const double a2 = 0.8 - a1;
    const Vec z = T.point(a1, a2);
    const double KG = std::cos(a1) / (1 * (3 + std::cos(a1)));  // cos(theta) / (r (R + r cos theta))
    EXPECT_NEAR(T.gaussian_curvature(a1), KG, 1e-14);
    EXPECT_NEAR(0.5 * T.scalar_curvature(z), KG, 1e-12) << "a1 = " << a1;
    const Eigen::Vector3d c = classical_curvatures(T, a1, a2);
    EXPECT_NEAR(c[0], KG, 1e-6) << "a1 = " << a1;
    const Eigen::Vector2d k = T.principal_curvatures(a1);
    EXPECT_NEAR(std::min(k[0], k[1]), c[1], 1e-6);
    EXPECT_NEAR(std::max(k[0], k[1]), c[2], 1e-6);
    // The code's Weingarten map for the inward normal has the same eigenvalues on T_z M.
    const Mat E = T.tangent_frame(z);
    const Vec n_in = -T.normal_frame(z).col(0);
    Eigen::Vector2d w = Eigen::SelfAdjointEigenSolver<Mat>(E.transpose() * T.weingarten(z, n_in) * E).eigenvalues();
    EXPECT_NEAR(w[0], c[1], 1e-6);
    EXPECT_NEAR(w[1], c[2], 1e-6);
    // K = 1/2 (k1 - k2) diag(k1, -k2) in the principal frame (SPEC.md), k1 along e2, k2 along e1.
    const Mat K2 = E.transpose() * T.correction_operator(z) * E;
    EXPECT_NEAR(K2(1, 1), 0.5 * (k[0] - k[1]) * k[0], 1e-12);
    EXPECT_NEAR(K2(0, 0), -0.5 * (k[0] - k[1]) * k[1], 1e-12);
    EXPECT_NEAR(K2(0, 1), 0, 1e-12);
    EXPECT_LT(T.gauss_residual(z), 1e-12);
  }
  // Not intrinsically flat: K_G changes sign between the outer and inner equator.
  EXPECT_GT(T.gaussian_curvature(0), 0.2);
  EXPECT_LT(T.gaussian_curvature(kPi), -0.4);
}

TEST(TorusOfRevolutionClosedForm, GeometricDriftMatchesFiniteDifferences) {
  // E_M = 1/2 k1 grad_M k1 (SPEC.md), checked two ways: (a) k1 read off the code's Weingarten map
  // at neighbouring points and differentiated numerically; (b) the general surface formula
  // E_M = 1/2 W grad H + 1/2 H grad H - grad K_G with H and K_G from mean_curvature/scalar_curvature.
  const TorusOfRevolution T(3, 1);
  const double h = 1e-5;
  auto k1_at = [&](double b1, double b2) {  // eigenvalue of W_{-n} along the parallel (a2) direction
    const Vec z = T.point(b1, b2);
    const Vec e2 = T.coordinate_tangents(b1, b2).col(1).normalized();
    return e2.dot(T.weingarten(z, -T.normal_frame(z).col(0)) * e2);
  };
  auto H_at = [&](double b1, double b2) {
    const Vec z = T.point(b1, b2);
    return T.mean_curvature(z).dot(T.normal_frame(z).col(0));
  };
  auto KG_at = [&](double b1, double b2) { return 0.5 * T.scalar_curvature(T.point(b1, b2)); };
  // grad_M f = f_1 / |p_1|^2 p_1 + f_2 / |p_2|^2 p_2 (the coordinates are orthogonal).
  auto grad = [&](auto f, double b1, double b2) -> Vec {
    const Mat J = T.coordinate_tangents(b1, b2);
    const double f1 = (f(b1 + h, b2) - f(b1 - h, b2)) / (2 * h), f2 = (f(b1, b2 + h) - f(b1, b2 - h)) / (2 * h);
    return f1 / J.col(0).squaredNorm() * J.col(0) + f2 / J.col(1).squaredNorm() * J.col(1);
  };
  double largest = 0;
  for (double a1 : {0.4, 1.0, 2.2, -2.7, kPi / 2}) {
    const double a2 = 1.3;
    const Vec z = T.point(a1, a2);
    const Vec E = T.geometric_drift(z);
    largest = std::max(largest, E.norm());
    const Vec via_k1 = 0.5 * k1_at(a1, a2) * grad(k1_at, a1, a2);
    EXPECT_LT((E - via_k1).norm(), 1e-8) << "a1 = " << a1;
    const Vec n = T.normal_frame(z).col(0);
    const Vec gH = grad(H_at, a1, a2);
    const Vec via_surface = 0.5 * T.weingarten(z, n) * gH + 0.5 * H_at(a1, a2) * gH - grad(KG_at, a1, a2);
    EXPECT_LT((E - via_surface).norm(), 1e-8) << "a1 = " << a1;
    EXPECT_LT(std::abs(E.dot(n)), 1e-15);  // tangent
  }
  EXPECT_GT(largest, 1e-3);  // the drift is really there (the source document misses it)
  EXPECT_LT(T.geometric_drift(T.point(0, 0.5)).norm(), 1e-15);  // sin a1 = 0
  EXPECT_LT(T.geometric_drift(T.point(kPi, 0.5)).norm(), 1e-15);
}

TEST(TorusOfRevolutionClosedForm, ParametrisationHelpers) {
  const TorusOfRevolution T(3, 1);
  Vec expected(3);
  expected << 4, 0, 0;
  EXPECT_LT((T.point(0, 0) - expected).norm(), 1e-15);
  expected << 0, 3, 1;
  EXPECT_LT((T.point(kPi / 2, kPi / 2) - expected).norm(), 1e-15);
  const double a1 = -2.1, a2 = 2.6, h = 1e-6;
  const Eigen::Vector2d a = T.angles(T.point(a1, a2));
  EXPECT_NEAR(a[0], a1, 1e-14);
  EXPECT_NEAR(a[1], a2, 1e-14);
  const Mat J = T.coordinate_tangents(a1, a2);
  EXPECT_LT((J.col(0) - (T.point(a1 + h, a2) - T.point(a1 - h, a2)) / (2 * h)).norm(), 1e-8);
  EXPECT_LT((J.col(1) - (T.point(a1, a2 + h) - T.point(a1, a2 - h)) / (2 * h)).norm(), 1e-8);
  EXPECT_NEAR(T.volume(), 12 * kPi * kPi, 1e-12);
  EXPECT_DOUBLE_EQ(T.reach(), 1.0);
  EXPECT_DOUBLE_EQ(TorusOfRevolution(3, 2).reach(), 1.0);
  EXPECT_DOUBLE_EQ(TorusOfRevolution(5, 1.5).reach(), 1.5);
}

TEST(TorusOfRevolutionClosedForm, InvalidRadiiAndFocalPoints) {
  EXPECT_THROW(TorusOfRevolution(1, 1), rbsm::InvalidArgument);
  EXPECT_THROW(TorusOfRevolution(1, 2), rbsm::InvalidArgument);
  EXPECT_THROW(TorusOfRevolution(3, 0), rbsm::InvalidArgument);
  EXPECT_THROW(TorusOfRevolution(3, -1), rbsm::InvalidArgument);
  EXPECT_THROW(TorusOfRevolution(std::nan(""), 1), rbsm::InvalidArgument);
  EXPECT_THROW(CliffordTorus(0, 1), rbsm::InvalidArgument);
  EXPECT_THROW(CliffordTorus(1, -2), rbsm::InvalidArgument);
  const TorusOfRevolution T(3, 1);
  Vec axis(3), core(3);
  axis << 0, 0, 0.7;
  core << 0, -3, 0;
  EXPECT_THROW(T.project(axis), rbsm::GeometryError);
  EXPECT_THROW(T.project(core), rbsm::GeometryError);
  Vec focal(4);
  focal << 1, 1, 0, 0;
  EXPECT_THROW(CliffordTorus(1, 2).project(focal), rbsm::GeometryError);
}

// ====================================================================== both tori and the sphere

TEST(ClosedFormWeingarten, MatchesDerivativeOfTheNormalProjector) {
  // W_nu u = -P_T D_u(P_N nu): the Weingarten equation, with D_u by finite differences.
  const Sphere S(3);
  const CliffordTorus C(0.7, 1.6);
  const TorusOfRevolution T(3, 1);
  rbsm::Rng rng(31);
  for (const Manifold* M :
       {static_cast<const Manifold*>(&S), static_cast<const Manifold*>(&C), static_cast<const Manifold*>(&T)}) {
    for (int t = 0; t < 4; ++t) {
      const Vec z = M->sample_uniform(rng);
      const Vec nu = M->normal_projector(z) * gaussian(rng, M->ambient_dim());
      const Mat W = M->weingarten(z, nu);
      EXPECT_LT(max_abs(W - weingarten_by_finite_differences(*M, z, nu)), 1e-7) << M->spec();
      // Only the normal part of nu matters.
      const Vec tangent = M->tangent_projector(z) * gaussian(rng, M->ambient_dim());
      EXPECT_LT(max_abs(M->weingarten(z, nu + tangent) - W), 1e-12) << M->spec();
    }
  }
}

/// Brute-force nearest point: a grid over both angles, then four rounds of local refinement.
Vec brute_force_nearest(const std::function<Vec(double, double)>& point, const Vec& x) {
  double best = 1e300, b1 = 0, b2 = 0, step = 2 * kPi / 720;
  for (int i = 0; i < 720; ++i)
    for (int j = 0; j < 720; ++j) {
      const double a1 = -kPi + i * step, a2 = -kPi + j * step;
      const double d = (point(a1, a2) - x).squaredNorm();
      if (d < best) best = d, b1 = a1, b2 = a2;
    }
  for (int round = 0; round < 5; ++round) {
    const double c1 = b1, c2 = b2, fine = step / 10;
    for (int i = -20; i <= 20; ++i)
      for (int j = -20; j <= 20; ++j) {
        const double a1 = c1 + i * fine, a2 = c2 + j * fine;
        const double d = (point(a1, a2) - x).squaredNorm();
        if (d < best) best = d, b1 = a1, b2 = a2;
      }
    step = fine;
  }
  return point(b1, b2);
}

TEST(ClosedFormProjection, ToriMatchBruteForceMinimisation) {
  const CliffordTorus C(0.7, 1.6);
  const TorusOfRevolution T(3, 1);
  rbsm::Rng rng(41);
  for (int t = 0; t < 3; ++t) {
    // Points near, far, and (for the torus of revolution) inside the hole.
    const Vec xc = C.sample_uniform(rng) + (0.3 + t) * gaussian(rng, 4);
    const Vec zc = C.project(xc);
    const Vec bc = brute_force_nearest([&](double a, double b) { return C.point(a, b); }, xc);
    EXPECT_LT((zc - bc).norm(), 1e-6);
    EXPECT_LE((xc - zc).norm(), (xc - bc).norm() + 1e-12);

    Vec xt = T.sample_uniform(rng) + 0.6 * gaussian(rng, 3);
    if (t == 2) xt << 0.4, -0.5, 0.8;  // inside the hole, outside the reach
    const Vec zt = T.project(xt);
    const Vec bt = brute_force_nearest([&](double a, double b) { return T.point(a, b); }, xt);
    EXPECT_LT((zt - bt).norm(), 1e-6);
    EXPECT_LE((xt - zt).norm(), (xt - bt).norm() + 1e-12);
  }
}

// ====================================================================== factory

TEST(MakeManifold, ClosedFormSpecs) {
  const auto s = make_manifold("sphere:6");
  EXPECT_EQ(s->dim(), 6);
  EXPECT_EQ(s->ambient_dim(), 7);
  EXPECT_NE(dynamic_cast<const Sphere*>(s.get()), nullptr);
  const auto c = make_manifold("clifford-torus:1,2.5");
  EXPECT_EQ(c->dim(), 2);
  EXPECT_EQ(c->ambient_dim(), 4);
  EXPECT_DOUBLE_EQ(dynamic_cast<const CliffordTorus&>(*c).r2(), 2.5);
  const auto t = make_manifold("torus:3,1");
  EXPECT_EQ(t->ambient_dim(), 3);
  EXPECT_DOUBLE_EQ(dynamic_cast<const TorusOfRevolution&>(*t).R(), 3.0);
  for (const auto* m : {s.get(), c.get(), t.get()}) EXPECT_EQ(make_manifold(m->spec())->spec(), m->spec());
  for (const char* bad :
       {"sphere", "sphere:0", "sphere:-2", "sphere:2.5", "sphere:1,2", "sphere:x", "torus:3", "torus:1,3", "torus:2,2",
        "torus:3,0", "clifford-torus:1", "clifford-torus:1,-1", "clifford-torus:1,2,3", "klein-bottle:1", ""})
    EXPECT_THROW(make_manifold(bad), rbsm::InvalidArgument) << bad;
}

}  // namespace
