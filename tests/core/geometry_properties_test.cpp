// Property tests over every manifold of rbsm (closed forms and the generic level set): projection,
// projectors, frames, II, Weingarten maps, the Gauss equation, derivatives against finite differences,
// and closed form == generic level set (docs/level_set.md §8).
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/geometry/ellipsoid.hpp"
#include "rbsm/geometry/level_set.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/random.hpp"

namespace rbsm::geometry {
namespace {

struct ManifoldCase {
  std::string name;
  std::function<std::unique_ptr<Manifold>()> make;
};

std::vector<ManifoldCase> all_manifolds() {
  return {
      {"sphere_2", [] { return make_manifold("sphere:2"); }},
      {"sphere_6", [] { return make_manifold("sphere:6"); }},
      {"clifford_torus_1_1p5", [] { return make_manifold("clifford-torus:1,1.5"); }},
      {"torus_3_1", [] { return make_manifold("torus:3,1"); }},
      {"so3", [] { return make_manifold("so3"); }},
      {"ellipsoid_1_1p5_2p5", [] { return make_manifold("ellipsoid:1,1.5,2.5"); }},
      {"level_set_sphere_2", [] { return std::unique_ptr<Manifold>(level_set_sphere(2)); }},
      {"level_set_sphere_6", [] { return std::unique_ptr<Manifold>(level_set_sphere(6)); }},
      {"level_set_clifford_torus_1_1p5", [] { return std::unique_ptr<Manifold>(level_set_clifford_torus(1, 1.5)); }},
      {"level_set_torus_3_1", [] { return std::unique_ptr<Manifold>(level_set_torus(3, 1)); }},
  };
}

Vec gaussian(Rng& rng, int n) {
  Vec v(n);
  for (int i = 0; i < n; ++i) v(i) = rng.normal();
  return v;
}

/// (f(h) - f(-h)) / 2h with one Richardson step: error O(h^4).
Vec central_derivative(const std::function<Vec(double)>& f, double h) {
  const Vec d1 = (f(h) - f(-h)) / (2 * h), d2 = (f(h / 2) - f(-h / 2)) / h;
  return (4 * d2 - d1) / 3;
}

class GeometryProperties : public ::testing::TestWithParam<ManifoldCase> {
 protected:
  void SetUp() override {
    M = GetParam().make();
    D = M->ambient_dim();
    d = M->dim();
    Rng rng(20261124, 7);
    for (int i = 0; i < 6; ++i) points.push_back(M->sample_uniform(rng));
  }
  /// A random unit normal vector at z.
  Vec random_normal(const Vec& z, Rng& rng) const {
    Vec nu = M->normal_projector(z) * gaussian(rng, D);
    return nu / nu.norm();
  }
  Vec random_tangent(const Vec& z, Rng& rng) const {
    Vec u = M->tangent_projector(z) * gaussian(rng, D);
    return u / u.norm();
  }
  std::unique_ptr<Manifold> M;
  int D = 0, d = 0;
  std::vector<Vec> points;
};

TEST_P(GeometryProperties, SamplesLieOnM) {
  for (const Vec& z : points) {
    ASSERT_EQ(z.size(), D);
    EXPECT_LT((M->project(z) - z).norm(), 1e-12) << M->spec();
  }
}

TEST_P(GeometryProperties, ProjectionIsIdempotentAndResidualIsNormal) {
  Rng rng(11, 0);
  for (const Vec& z : points) {
    const Vec x = z + 0.4 * M->reach() * gaussian(rng, D) / std::sqrt(static_cast<double>(D));
    const Vec p = M->project(x);
    EXPECT_LT((M->project(p) - p).norm(), 1e-12);
    EXPECT_LT((M->tangent_projector(p) * (x - p)).norm(), 1e-11 * (1 + x.norm()));
    EXPECT_LE((x - p).norm(), (x - z).norm() + 1e-12);  // nearest point: no farther than z
  }
}

TEST_P(GeometryProperties, ProjectionOfNormalOffsetInsideReachReturnsFootPoint) {
  // Federer (1959) Thm 4.8(12): pi(z + nu) = z for nu in N_z M with |nu| < reach.
  Rng rng(12, 0);
  for (const Vec& z : points) {
    const Vec x = z + 0.6 * M->reach() * random_normal(z, rng);
    EXPECT_LT((M->project(x) - z).norm(), 1e-11) << M->spec();
  }
}

TEST_P(GeometryProperties, FramesAndProjectors) {
  for (const Vec& z : points) {
    const Mat E = M->tangent_frame(z), N = M->normal_frame(z);
    ASSERT_EQ(E.rows(), D);
    ASSERT_EQ(E.cols(), d);
    ASSERT_EQ(N.cols(), D - d);
    EXPECT_LT((E.transpose() * E - Mat::Identity(d, d)).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((N.transpose() * N - Mat::Identity(D - d, D - d)).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((E.transpose() * N).cwiseAbs().maxCoeff(), 1e-12);
    const Mat PT = M->tangent_projector(z), PN = M->normal_projector(z);
    EXPECT_LT((PT - PT.transpose()).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_LT((PT * PT - PT).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((PT + PN - Mat::Identity(D, D)).cwiseAbs().maxCoeff(), 1e-14);
    EXPECT_NEAR(PT.trace(), d, 1e-12);
  }
}

TEST_P(GeometryProperties, SecondFundamentalFormIsSymmetricAndNormal) {
  Rng rng(13, 0);
  for (const Vec& z : points) {
    const Vec u = random_tangent(z, rng), v = random_tangent(z, rng);
    const Vec II_uv = M->second_fundamental_form(z, u, v), II_vu = M->second_fundamental_form(z, v, u);
    EXPECT_LT((II_uv - II_vu).norm(), 1e-12);
    EXPECT_LT((M->tangent_projector(z) * II_uv).norm(), 1e-12);
  }
}

TEST_P(GeometryProperties, WeingartenIsSymmetricAndVanishesOnNormals) {
  Rng rng(14, 0);
  for (const Vec& z : points) {
    const Vec nu = random_normal(z, rng);
    const Mat W = M->weingarten(z, nu);
    EXPECT_LT((W - W.transpose()).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((W * M->normal_projector(z)).cwiseAbs().maxCoeff(), 1e-12);
    // W_nu depends on the normal part of nu only.
    const Vec t = random_tangent(z, rng);
    EXPECT_LT((M->weingarten(z, nu + 0.7 * t) - W).cwiseAbs().maxCoeff(), 1e-12);
    // <W_nu u, v> = <II(u, v), nu>
    const Vec u = random_tangent(z, rng), v = random_tangent(z, rng);
    EXPECT_NEAR(v.dot(W * u), M->second_fundamental_form(z, u, v).dot(nu), 1e-12);
  }
}

TEST_P(GeometryProperties, GaussEquationHolds) {
  for (const Vec& z : points) EXPECT_LT(M->gauss_residual(z), 1e-10) << M->spec();
}

TEST_P(GeometryProperties, LocalMatchesIndividualOperators) {
  for (const Vec& z : points) {
    const LocalGeometry g = M->local(z);
    EXPECT_LT((g.H - M->mean_curvature(z)).norm(), 1e-12);
    EXPECT_LT((g.K - M->correction_operator(z)).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_NEAR(g.scalar_curvature, M->scalar_curvature(z), 1e-12);
    EXPECT_LT((g.K - g.K.transpose()).cwiseAbs().maxCoeff(), 1e-12);
  }
}

TEST_P(GeometryProperties, ProjectionJacobianIsTangentProjectorOnM) {
  Rng rng(15, 0);
  for (const Vec& z : points) {
    const Vec v = gaussian(rng, D);
    const Vec fd = central_derivative([&](double s) { return M->project(z + s * v); }, 1e-3);
    EXPECT_LT((fd - M->tangent_projector(z) * v).norm(), 1e-8 * v.norm()) << M->spec();
  }
}

TEST_P(GeometryProperties, ProjectionJacobianOffManifoldIsInverseOfIMinusW) {
  // D pi(z + nu) = E (I - E^T W_nu E)^{-1} E^T for nu normal inside the reach (tube formula).
  Rng rng(16, 0);
  for (const Vec& z : points) {
    const Vec nu = 0.5 * M->reach() * random_normal(z, rng);
    const Vec v = gaussian(rng, D);
    const Mat E = M->tangent_frame(z);
    const Mat A = Mat::Identity(d, d) - E.transpose() * M->weingarten(z, nu) * E;
    const Vec expected = E * A.lu().solve(E.transpose() * v);
    const Vec fd = central_derivative([&](double s) { return M->project(z + nu + s * v); }, 1e-3);
    EXPECT_LT((fd - expected).norm(), 1e-7 * v.norm()) << M->spec();
  }
}

TEST_P(GeometryProperties, WeingartenIsDerivativeOfNormalProjector) {
  // Weingarten equation: P_T d/ds [P_N(gamma(s)) nu] = -W_nu u along gamma(s) = pi(z + s u).
  Rng rng(17, 0);
  for (const Vec& z : points) {
    const Vec u = random_tangent(z, rng), nu = random_normal(z, rng);
    const Vec fd =
        central_derivative([&](double s) { return Vec(M->normal_projector(M->project(z + s * u)) * nu); }, 1e-3);
    EXPECT_LT((M->tangent_projector(z) * fd + M->weingarten(z, nu) * u).norm(), 1e-7) << M->spec();
  }
}

TEST_P(GeometryProperties, SecondFundamentalFormIsNormalAcceleration) {
  // Any curve on M with gamma'(0) = u has P_N gamma''(0) = II(u, u); here gamma(s) = pi(z + s u).
  Rng rng(18, 0);
  for (const Vec& z : points) {
    const Vec u = random_tangent(z, rng);
    auto second = [&](double s) { return Vec((M->project(z + s * u) - 2 * z + M->project(z - s * u)) / (s * s)); };
    const Vec fd = (4 * second(5e-4) - second(1e-3)) / 3;
    EXPECT_LT((M->normal_projector(z) * fd - M->second_fundamental_form(z, u, u)).norm(), 1e-6) << M->spec();
  }
}

std::string case_name(const ::testing::TestParamInfo<ManifoldCase>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(AllManifolds, GeometryProperties, ::testing::ValuesIn(all_manifolds()), case_name);

// ------------------------------------------------------------------ closed form == generic level set
struct PairCase {
  std::string name;
  std::function<std::unique_ptr<Manifold>()> closed, generic;
};

class ClosedFormEqualsLevelSet : public ::testing::TestWithParam<PairCase> {};

TEST_P(ClosedFormEqualsLevelSet, AllOperatorsAgree) {
  const auto closed = GetParam().closed(), generic = GetParam().generic();
  ASSERT_EQ(closed->dim(), generic->dim());
  ASSERT_EQ(closed->ambient_dim(), generic->ambient_dim());
  EXPECT_NEAR(closed->reach(), generic->reach(), 1e-14);
  EXPECT_NEAR(closed->volume(), generic->volume(), 1e-12 * closed->volume());
  const int D = closed->ambient_dim();
  Rng rng(19, 0);
  for (int i = 0; i < 8; ++i) {
    const Vec x = closed->sample_uniform(rng) + 0.3 * closed->reach() * gaussian(rng, D) / std::sqrt(1.0 * D);
    const Vec z = closed->project(x);
    EXPECT_LT((generic->project(x) - z).norm(), 1e-12);
    const auto a = closed->local(z), b = generic->local(z);
    const auto maxdiff = [](const Mat& A, const Mat& B) { return (A - B).cwiseAbs().maxCoeff(); };
    EXPECT_LT(maxdiff(a.P_T, b.P_T), 1e-12);
    EXPECT_LT((a.H - b.H).norm(), 1e-11);
    EXPECT_LT(maxdiff(a.W_H, b.W_H), 1e-11);
    EXPECT_LT(maxdiff(a.ricci, b.ricci), 1e-11);  // closed form: intrinsic; level set: Gauss equation
    EXPECT_LT(maxdiff(a.K, b.K), 1e-11);
    EXPECT_NEAR(a.scalar_curvature, b.scalar_curvature, 1e-11);
    const Vec nu = gaussian(rng, D);
    EXPECT_LT(maxdiff(closed->weingarten(z, nu), generic->weingarten(z, nu)), 1e-11);
  }
}

std::string pair_name(const ::testing::TestParamInfo<PairCase>& info) { return info.param.name; }
INSTANTIATE_TEST_SUITE_P(
    SphereAndTori, ClosedFormEqualsLevelSet,
    ::testing::Values(PairCase{"sphere_2", [] { return std::unique_ptr<Manifold>(new Sphere(2)); },
                               [] { return std::unique_ptr<Manifold>(level_set_sphere(2)); }},
                      PairCase{"sphere_6", [] { return std::unique_ptr<Manifold>(new Sphere(6)); },
                               [] { return std::unique_ptr<Manifold>(level_set_sphere(6)); }},
                      PairCase{"clifford_torus_1_1p5",
                               [] { return std::unique_ptr<Manifold>(new CliffordTorus(1, 1.5)); },
                               [] { return std::unique_ptr<Manifold>(level_set_clifford_torus(1, 1.5)); }},
                      PairCase{"torus_3_1", [] { return std::unique_ptr<Manifold>(new TorusOfRevolution(3, 1)); },
                               [] { return std::unique_ptr<Manifold>(level_set_torus(3, 1)); }},
                      PairCase{"torus_2_1p5", [] { return std::unique_ptr<Manifold>(new TorusOfRevolution(2, 1.5)); },
                               [] { return std::unique_ptr<Manifold>(level_set_torus(2, 1.5)); }}),
    pair_name);

// ------------------------------------------------------------------ known values of the generic manifolds
TEST(So3Geometry, CurvatureOfTheBiInvariantMetric) {
  // Frobenius metric on so(3): sectional curvature 1/4 |[X, Y]|^2 = 1/8 for orthonormal X, Y (Milnor 1976,
  // bi-invariant metrics), so Ric# = 1/4 P_T; H = sum_i Omega_i^2 = -R; W_H = P_T; K = 1/4 P_T.
  const auto M = make_manifold("so3");
  Rng rng(21, 0);
  for (int i = 0; i < 5; ++i) {
    const Vec z = M->sample_uniform(rng);
    const auto g = M->local(z);
    EXPECT_LT((g.H + z).norm(), 1e-12);
    EXPECT_LT((g.W_H - g.P_T).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((g.ricci - 0.25 * g.P_T).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((g.K - 0.25 * g.P_T).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_NEAR(g.scalar_curvature, 0.75, 1e-12);
  }
}

TEST(So3Geometry, ProjectionIsTheKabschRotation) {
  // The nearest rotation to A = U S V^T is U diag(1, 1, det(U V^T)) V^T (Kabsch 1976), an independent
  // closed form; points with det A < 0 and within the reach sqrt(2) are included.
  const auto M = make_manifold("so3");
  Rng rng(22, 0);
  int negative = 0;
  for (int i = 0; i < 40; ++i) {
    const Vec z = M->sample_uniform(rng);
    const Vec x = z + 1.2 * gaussian(rng, 9) / 3.0;
    const Eigen::Matrix3d A = Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(x.data());
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(A, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix3d S = Eigen::Matrix3d::Identity();
    S(2, 2) = (svd.matrixU() * svd.matrixV().transpose()).determinant();
    const Eigen::Matrix3d R = svd.matrixU() * S * svd.matrixV().transpose();
    if ((A - R).norm() >= 0.95 * std::sqrt(2.0)) continue;  // inside the reach only
    negative += A.determinant() < 0;
    const Vec p = M->project(x);
    const Eigen::Matrix3d P = Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(p.data());
    EXPECT_LT((P - R).cwiseAbs().maxCoeff(), 1e-12);
  }
  EXPECT_GT(negative, 0);  // the det < 0 branch was exercised
}

TEST(EllipsoidGeometry, GaussianAndMeanCurvatureMatchClassicalFormulas) {
  // For x^2/a^2 + y^2/b^2 + z^2/c^2 = 1 with S = sum x_i^2 / a_i^4 (e.g. Gray, Modern Differential
  // Geometry of Curves and Surfaces, 3rd ed., §13.2): K_G = 1 / (a^2 b^2 c^2 S^2) and, for the outward
  // normal, tr W_n = (|x|^2 - a^2 - b^2 - c^2) / (a^2 b^2 c^2 S^{3/2}); Ric# = K_G P_T (a surface).
  const double a = 1, b = 1.5, c = 2.5;
  const auto M = make_manifold("ellipsoid:1,1.5,2.5");
  Rng rng(23, 0);
  for (int i = 0; i < 6; ++i) {
    const Vec z = M->sample_uniform(rng);
    const double S = z(0) * z(0) / std::pow(a, 4) + z(1) * z(1) / std::pow(b, 4) + z(2) * z(2) / std::pow(c, 4);
    const double abc2 = a * a * b * b * c * c;
    const double KG = 1 / (abc2 * S * S);
    const double trace = (z.squaredNorm() - a * a - b * b - c * c) / (abc2 * std::pow(S, 1.5));
    Vec n(3);
    n << z(0) / (a * a), z(1) / (b * b), z(2) / (c * c);
    n /= n.norm();
    const auto g = M->local(z);
    EXPECT_NEAR(M->weingarten(z, n).trace(), trace, 1e-12);
    EXPECT_LT((g.H - trace * n).norm(), 1e-12);
    EXPECT_LT((g.ricci - KG * g.P_T).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_NEAR(g.scalar_curvature, 2 * KG, 1e-12);
  }
}

}  // namespace
}  // namespace rbsm::geometry
