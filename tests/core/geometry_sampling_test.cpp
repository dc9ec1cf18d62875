// Uniform samplers of so3 and the ellipsoid against the Riemannian volume (chi-square, fixed seeds,
// Bonferroni over the tests of this file), their volumes and reaches from independent computations,
// and bad input to the generic level-set manifolds (docs/level_set.md §6-§8).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/dist/special.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/ellipsoid.hpp"
#include "rbsm/geometry/level_set.hpp"
#include "rbsm/geometry/so3.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"
#include "rbsm/stats.hpp"

namespace rbsm::geometry {
namespace {

using rbsm::kPi;
// Family-wise level 1e-3 over the chi-square tests of this file (Bonferroni).
constexpr int kChiSquareTests = 3;
constexpr double kLevel = 1e-3 / kChiSquareTests;

Eigen::Matrix3d as_matrix(const Vec& x) {
  return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(x.data());
}

Vec rodrigues(const Eigen::Vector3d& w) {
  // exp([w]_x) = I + sin r [a]_x + (1 - cos r) [a]_x^2 (a = w / r), row-major.
  const double r = w.norm();
  Eigen::Matrix3d A = Eigen::Matrix3d::Zero();
  const Eigen::Vector3d a = w / r;
  A << 0, -a(2), a(1), a(2), 0, -a(0), -a(1), a(0), 0;
  const Eigen::Matrix3d R = Eigen::Matrix3d::Identity() + std::sin(r) * A + (1 - std::cos(r)) * A * A;
  Vec x(9);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) x(3 * i + j) = R(i, j);
  return x;
}

/// Riemannian volume element of the Frobenius metric in exponential coordinates w, by central
/// differences of Rodrigues' formula: sqrt(det(J^T J)), J = d vec(exp [w]_x) / dw (9 x 3).
double exp_volume_element(const Eigen::Vector3d& w) {
  Mat J(9, 3);
  const double h = 1e-5;
  for (int i = 0; i < 3; ++i) {
    Eigen::Vector3d e = Eigen::Vector3d::Zero();
    e(i) = h;
    J.col(i) = (rodrigues(w + e) - rodrigues(w - e)) / (2 * h);
  }
  return std::sqrt((J.transpose() * J).determinant());
}

TEST(So3Sampling, VolumeIs16Sqrt2PiSquaredByExponentialCoordinates) {
  // vol = int_{|w| < pi} sqrt(det G(w)) dw = int_0^pi 4 pi r^2 rho(r) dr (rho isotropic: checked).
  const Eigen::Vector3d e1(1, 0, 0), e2 = Eigen::Vector3d(1, 2, -2) / 3;
  EXPECT_NEAR(exp_volume_element(1.3 * e1), exp_volume_element(1.3 * e2), 1e-8);
  const double vol =
      dist::integrate([&](double r) { return 4 * kPi * r * r * exp_volume_element(r * e2); }, 1e-9, kPi, 1e-11);
  EXPECT_NEAR(vol, so3_volume(), 1e-7 * vol);
  EXPECT_NEAR(make_so3()->volume(), 16 * std::sqrt(2.0) * kPi * kPi, 1e-12);
  // The normalised volume of the angle r is 4 pi r^2 rho(r) / vol = (1 - cos r) / pi (used below).
  for (double r : {0.4, 1.7, 2.9})
    EXPECT_NEAR(4 * kPi * r * r * exp_volume_element(r * e1) / vol, (1 - std::cos(r)) / kPi, 1e-8);
}

TEST(So3Sampling, HaarAngleAndAxisChiSquare) {
  // Haar = normalised volume: angle theta with density (1 - cos theta)/pi, i.e. CDF (theta - sin theta)/pi,
  // and an independent uniform axis, whose z-component is uniform on [-1, 1] (Miles, Biometrika 1965).
  const auto M = make_so3();
  const int angle_bins = 10, axis_bins = 5, n = 60000;
  std::vector<double> edges{0};
  for (int b = 1; b < angle_bins; ++b) {  // equal-probability angle bins by bisection on the CDF
    double lo = 0, hi = kPi;
    for (int it = 0; it < 80; ++it) {
      const double mid = 0.5 * (lo + hi);
      ((mid - std::sin(mid)) / kPi < double(b) / angle_bins ? lo : hi) = mid;
    }
    edges.push_back(0.5 * (lo + hi));
  }
  std::vector<long> counts(angle_bins * axis_bins, 0);
  Rng rng(4101, 0);
  for (int i = 0; i < n; ++i) {
    const Vec x = M->sample_uniform(rng);
    const Eigen::Matrix3d R = as_matrix(x);
    ASSERT_LT((R.transpose() * R - Eigen::Matrix3d::Identity()).cwiseAbs().maxCoeff(), 1e-13);
    ASSERT_NEAR(R.determinant(), 1, 1e-13);
    const double theta = rotation_angle(x);
    Eigen::Vector3d axis(R(2, 1) - R(1, 2), R(0, 2) - R(2, 0), R(1, 0) - R(0, 1));  // 2 sin(theta) a
    axis.normalize();
    int ab = 0;
    while (ab + 1 < angle_bins && theta >= edges[ab + 1]) ++ab;
    const int zb = std::min(axis_bins - 1, static_cast<int>((axis(2) + 1) / 2 * axis_bins));
    ++counts[ab * axis_bins + zb];
  }
  const std::vector<double> probs(counts.size(), 1.0 / counts.size());
  const double stat = stats::chi_square_statistic(counts, probs);
  EXPECT_GT(stats::chi_square_sf(stat, counts.size() - 1.0), kLevel) << "chi2 = " << stat;
}

/// |x_theta x x_phi| for x = (a1 sin t cos p, a2 sin t sin p, a3 cos t): the area element of the
/// ellipsoid in these angles, computed directly (independent of the sampler's derivation).
double ellipsoid_area_element(const std::vector<double>& a, double t, double p) {
  const Eigen::Vector3d xt(a[0] * std::cos(t) * std::cos(p), a[1] * std::cos(t) * std::sin(p), -a[2] * std::sin(t));
  const Eigen::Vector3d xp(-a[0] * std::sin(t) * std::sin(p), a[1] * std::sin(t) * std::cos(p), 0);
  return xt.cross(xp).norm();
}

TEST(EllipsoidSampling, ChiSquareAgainstQuadratureOfAreaPerBin) {
  const std::vector<double> a{1, 1.5, 2.5};
  const auto M = make_ellipsoid(a);
  const int tb = 6, pb = 8, n = 100000;
  std::vector<double> probs;
  double total = 0;
  for (int i = 0; i < tb; ++i) {
    // bins equal in u3 = cos t: t from acos(1 - 2i/tb) ...
    const double t0 = std::acos(1 - 2.0 * i / tb), t1 = std::acos(1 - 2.0 * (i + 1) / tb);
    for (int j = 0; j < pb; ++j) {
      const double p0 = 2 * kPi * j / pb, p1 = 2 * kPi * (j + 1) / pb;
      const double area = dist::integrate(
          [&](double t) {
            return dist::integrate([&](double p) { return ellipsoid_area_element(a, t, p); }, p0, p1, 1e-12);
          },
          t0, t1, 1e-12);
      probs.push_back(area);
      total += area;
    }
  }
  EXPECT_NEAR(total, M->volume(), 1e-9 * total);  // ellipsoid_area's 1-D integral == 2-D quadrature
  for (double& p : probs) p /= total;
  std::vector<long> counts(probs.size(), 0);
  Rng rng(4102, 0);
  for (int k = 0; k < n; ++k) {
    const Vec x = M->sample_uniform(rng);
    ASSERT_NEAR(x(0) * x(0) + x(1) * x(1) / 2.25 + x(2) * x(2) / 6.25, 1, 1e-13);
    const double u3 = x(2) / a[2];
    const double phi = std::atan2(x(1) / a[1], x(0) / a[0]) + (x(1) < 0 ? 2 * kPi : 0);
    const int i = std::min(tb - 1, static_cast<int>((1 - u3) / 2 * tb));
    const int j = std::min(pb - 1, static_cast<int>(phi / (2 * kPi) * pb));
    ++counts[i * pb + j];
  }
  const double stat = stats::chi_square_statistic(counts, probs);
  EXPECT_GT(stats::chi_square_sf(stat, probs.size() - 1.0), kLevel) << "chi2 = " << stat;
}

TEST(EllipsoidSampling, EllipseArcLengthChiSquare) {
  // D = 2: x = (a1 cos p, a2 sin p) with arc length element sqrt(a1^2 sin^2 p + a2^2 cos^2 p) dp.
  const std::vector<double> a{1, 3};
  const auto M = make_ellipsoid(a);
  const int bins = 24, n = 50000;
  std::vector<double> probs;
  double total = 0;
  for (int j = 0; j < bins; ++j) {
    const double len = dist::integrate([&](double p) { return std::hypot(a[0] * std::sin(p), a[1] * std::cos(p)); },
                                       2 * kPi * j / bins, 2 * kPi * (j + 1) / bins, 1e-13);
    probs.push_back(len);
    total += len;
  }
  for (double& p : probs) p /= total;
  std::vector<long> counts(bins, 0);
  Rng rng(4103, 0);
  for (int k = 0; k < n; ++k) {
    const Vec x = M->sample_uniform(rng);
    double p = std::atan2(x(1) / a[1], x(0) / a[0]);
    if (p < 0) p += 2 * kPi;
    ++counts[std::min(bins - 1, static_cast<int>(p / (2 * kPi) * bins))];
  }
  const double stat = stats::chi_square_statistic(counts, probs);
  EXPECT_GT(stats::chi_square_sf(stat, bins - 1.0), kLevel) << "chi2 = " << stat;
}

TEST(EllipsoidVolume, MatchesClosedForms) {
  // Ellipse perimeter 4 a E(e) (complete elliptic integral of the 2nd kind, e^2 = 1 - b^2/a^2).
  EXPECT_NEAR(ellipsoid_area({3, 1}), 4 * 3 * std::comp_ellint_2(std::sqrt(1 - 1.0 / 9)), 1e-12);
  EXPECT_NEAR(ellipsoid_area({1, 1, 1}), 4 * kPi, 1e-12);
  EXPECT_NEAR(ellipsoid_area({2, 2, 2, 2}), 2 * kPi * kPi * 8, 1e-11);
  // Spheroids (a, a, c): oblate 2 pi a^2 (1 + (1 - e^2)/e atanh e), prolate 2 pi a^2 (1 + c/(a e) asin e).
  {
    const double A = 2, c = 1, e = std::sqrt(1 - c * c / (A * A));
    EXPECT_NEAR(ellipsoid_area({A, A, c}), 2 * kPi * A * A * (1 + (1 - e * e) / e * std::atanh(e)), 1e-11);
  }
  {
    const double A = 1, c = 2.5, e = std::sqrt(1 - A * A / (c * c));
    EXPECT_NEAR(ellipsoid_area({A, c, A}), 2 * kPi * A * A * (1 + c / (A * e) * std::asin(e)), 1e-11);
  }
}

TEST(EllipsoidReach, IsCurvatureRadiusAtTheLongestAxis) {
  // reach = a_min^2 / a_max = 0.4: principal curvature a3 / a1^2 = 2.5 at the vertex (0, 0, a3).
  const auto M = make_manifold("ellipsoid:1,1.5,2.5");
  EXPECT_NEAR(M->reach(), 0.4, 1e-15);
  Vec vertex(3);
  vertex << 0, 0, 2.5;
  const Mat W = M->weingarten(vertex, -Vec::Unit(3, 2));  // inward normal
  const Eigen::SelfAdjointEigenSolver<Mat> eig(W);
  EXPECT_NEAR(eig.eigenvalues().maxCoeff(), 2.5, 1e-12);
  EXPECT_LT((M->project(Vec(Eigen::Vector3d(0, 0, 2.5 - 0.39))) - vertex).norm(), 1e-12);
  EXPECT_THROW(M->project(Vec(Eigen::Vector3d(0, 0, 2.5 - 0.41))), GeometryError);
  // Outside, the projection is certified at any distance (convexity).
  EXPECT_LT((M->project(Vec(Eigen::Vector3d(0, 0, 12.5))) - vertex).norm(), 1e-12);
}

TEST(So3Reach, IsInverseLargestPrincipalCurvature) {
  const auto M = make_so3();
  const Vec I = rotation_from_quaternion(1, 0, 0, 0);
  Vec nu = Vec::Zero(9);
  nu(4) = nu(8) = -1 / std::sqrt(2.0);  // (w w^T - I)/sqrt 2 with w = e1: the focal direction
  const Eigen::SelfAdjointEigenSolver<Mat> eig(M->weingarten(I, nu));
  EXPECT_NEAR(eig.eigenvalues().maxCoeff(), 1 / std::sqrt(2.0), 1e-12);
  Rng rng(4104, 0);
  for (int i = 0; i < 20; ++i) {  // no unit normal gives a larger principal curvature
    Vec n = M->normal_projector(I) * Vec::NullaryExpr(9, [&] { return rng.normal(); });
    n /= n.norm();
    EXPECT_LE(Eigen::SelfAdjointEigenSolver<Mat>(M->weingarten(I, n)).eigenvalues().maxCoeff(),
              1 / std::sqrt(2.0) + 1e-12);
  }
  EXPECT_LT((M->project(I + 1.35 * nu) - I).norm(), 1e-12);
  EXPECT_THROW(M->project(I + std::sqrt(2.0) * nu), GeometryError);  // diag(1, 0, 0): focal, not unique
  EXPECT_LT((M->project(5 * I) - I).norm(), 1e-12);                  // beyond the reach, certified by SVD
}

TEST(LevelSetBadInput, ThrowsOneLineErrorsNamingTheProblem) {
  const auto so3 = make_so3();
  const auto ell = make_manifold("ellipsoid:1,1.5,2.5");
  const auto sphere = level_set_sphere(2);
  const auto torus = level_set_torus(3, 1);
  Vec nan = Vec::Zero(3);
  nan(1) = std::nan("");
  EXPECT_THROW(ell->project(nan), InvalidArgument);
  EXPECT_THROW(ell->project(Vec::Zero(4)), InvalidArgument);
  EXPECT_THROW(so3->project(Vec::Ones(3)), InvalidArgument);
  EXPECT_THROW(so3->project(Vec::Zero(9)), GeometryError);                       // gradients of F vanish
  EXPECT_THROW(sphere->project(Vec::Zero(3)), GeometryError);                    // centre
  EXPECT_THROW(ell->project(Vec::Zero(3)), GeometryError);                       // centre: two nearest points
  EXPECT_THROW(torus->project(Vec(Eigen::Vector3d(0, 0, 0.5))), GeometryError);  // on the axis
  EXPECT_THROW(torus->project(Vec(Eigen::Vector3d(6, 0, 0))), GeometryError);    // 2 > reach 1
  EXPECT_THROW(ell->weingarten(Vec(Eigen::Vector3d(1, 0, 0)), Vec::Ones(2)), InvalidArgument);
  try {
    torus->project(Vec(Eigen::Vector3d(6, 0, 0)));
  } catch (const GeometryError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("reach"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
  // Non-convergence: F = |x|^2 + 1 has no zero, so Gauss-Newton cannot land on it.
  LevelSetFunction F;
  F.D = 3;
  F.k = 1;
  F.eval = [](const Vec& x, int order) {
    LevelSetJet j;
    j.F = Vec::Constant(1, x.squaredNorm() + 1);
    if (order >= 1) j.J = 2 * x.transpose();
    if (order >= 2) j.hessians.assign(1, 2 * Mat::Identity(3, 3));
    return j;
  };
  LevelSetOptions o;
  o.spec = "empty";
  o.reach = 1;
  o.sample_uniform = [](Rng&) { return Vec(Vec::Zero(3)); };
  const LevelSetManifold empty(F, o);
  try {
    empty.project(Vec(Eigen::Vector3d(1, 2, 3)));
    ADD_FAILURE() << "no exception";
  } catch (const GeometryError& e) {
    EXPECT_NE(std::string(e.what()).find("did not converge"), std::string::npos) << e.what();
  }
}

TEST(LevelSetBadInput, MakeManifoldRejectsBadSpecs) {
  for (const char* spec :
       {"so3:1", "ellipsoid", "ellipsoid:2", "ellipsoid:1,-2,3", "ellipsoid:1,0,3", "ellipsoid:1,x"}) {
    try {
      make_manifold(spec);
      ADD_FAILURE() << spec << ": no exception";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).size(), 0u);
    }
  }
  try {
    make_manifold("ellipsoid:1,-2,3");
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("a2 = -2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rbsm::geometry
