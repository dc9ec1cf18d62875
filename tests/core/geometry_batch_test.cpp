// geometry::local_rows / local_geometry (batch.hpp) against Manifold::local(project(x)) on every manifold:
// the closed-form batch kernels (sphere, torus of revolution) and the level-set one-jet path compute the
// same operators to rounding, with or without projection, and throw project()'s errors.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/batch.hpp"
#include "rbsm/random.hpp"

namespace {

using namespace rbsm::geometry;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Rows {
  std::vector<double> z, E, N, PT, PN, H, WH, ric, K, s;
  LocalRows out;
  Rows(std::size_t n, int D, int d) {
    const int k = D - d;
    z.resize(n * D), E.resize(n * D * d), N.resize(n * D * k), PT.resize(n * D * D), PN.resize(n * D * D),
        H.resize(n * D), WH.resize(n * D * D), ric.resize(n * D * D), K.resize(n * D * D), s.resize(n);
    out = {z.data(), E.data(), N.data(), PT.data(), PN.data(), H.data(), WH.data(), ric.data(), K.data(), s.data()};
  }
};

Mat at(const std::vector<double>& v, std::size_t i, int rows, int cols) {
  return Eigen::Map<const RowMat>(v.data() + i * rows * cols, rows, cols);
}

class LocalRowsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LocalRowsTest, MatchesManifoldLocal) {
  const auto M = make_manifold(GetParam());
  const int D = M->ambient_dim(), d = M->dim(), k = D - d;
  const std::size_t n = 40;
  rbsm::Rng rng(5);
  RowMat X(n, D);
  for (std::size_t i = 0; i < n; ++i) {
    Vec g(D);
    for (int a = 0; a < D; ++a) g[a] = rng.normal();
    X.row(i) = (M->sample_uniform(rng) + 0.05 * std::min(M->reach(), 1.0) * g / std::sqrt(D)).transpose();
  }
  for (bool project : {true, false}) {
    RowMat Xin = X;
    if (!project)
      for (std::size_t i = 0; i < n; ++i) Xin.row(i) = M->project(X.row(i).transpose()).transpose();
    Rows r(n, D, d);
    local_rows(*M, Xin.data(), 0, n, project, r.out);
    for (std::size_t i = 0; i < n; ++i) {
      const Vec z = M->project(X.row(i).transpose());
      const LocalGeometry g = M->local(z);
      const double tol = 1e-12;
      EXPECT_LT((at(r.z, i, D, 1) - z).cwiseAbs().maxCoeff(), 1e-14);
      // frames are compared through what they span plus orthonormality (each is a deterministic choice)
      const Mat E = at(r.E, i, D, d), N = at(r.N, i, D, k);
      EXPECT_LT((E * E.transpose() - g.P_T).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((N * N.transpose() - g.P_N).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((E.transpose() * E - Mat::Identity(d, d)).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((E - g.tangent).cwiseAbs().maxCoeff(), tol) << GetParam() << ": the same tangent frame";
      EXPECT_LT((at(r.PT, i, D, D) - g.P_T).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((at(r.PN, i, D, D) - g.P_N).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((at(r.H, i, D, 1) - g.H).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((at(r.WH, i, D, D) - g.W_H).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((at(r.ric, i, D, D) - g.ricci).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((at(r.K, i, D, D) - g.K).cwiseAbs().maxCoeff(), tol);
      EXPECT_NEAR(r.s[i], g.scalar_curvature, tol);
      const LocalGeometry f = local_geometry(*M, z);
      EXPECT_LT((f.K - g.K).cwiseAbs().maxCoeff(), tol);
      EXPECT_LT((f.tangent - g.tangent).cwiseAbs().maxCoeff(), tol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllManifolds, LocalRowsTest,
                         ::testing::Values("sphere:1", "sphere:2", "sphere:7", "torus:3,1", "torus:2,1.5",
                                           "clifford-torus:1,0.5", "so3", "ellipsoid:1,1.5,2.5", "ellipsoid:1,2,0.5,3"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

// Each output asked for alone (the Python per-operator methods) equals the per-point virtual function at the
// same z, E_M included, and nothing else is written; project_rows equals Manifold::project (to 1e-13 on level sets,
// whose batched projections are the certified closed forms).
TEST_P(LocalRowsTest, SingleOutputsMatchThePerPointFunctions) {
  const auto M = make_manifold(GetParam());
  const int D = M->ambient_dim(), d = M->dim(), k = D - d;
  const bool level_set = GetParam() == "so3" || GetParam().rfind("ellipsoid", 0) == 0;
  const std::size_t n = level_set ? 3 : 20;  // level sets: E_M is the numerical graph-coordinate route
  rbsm::Rng rng(11);
  RowMat X(n, D), Z(n, D);
  for (std::size_t i = 0; i < n; ++i) {
    Vec g(D);
    for (int a = 0; a < D; ++a) g[a] = rng.normal();
    X.row(i) = (M->sample_uniform(rng) + 0.2 * M->reach() * g / std::sqrt(D)).transpose();
    Z.row(i) = M->project(X.row(i).transpose()).transpose();
  }
  RowMat P(n, D);
  project_rows(*M, X.data(), 0, n, P.data());
  for (std::size_t i = 0; i < n; ++i) {
    const double err = (P.row(i) - Z.row(i)).cwiseAbs().maxCoeff();
    if (level_set)
      EXPECT_LT(err, 1e-13) << GetParam();  // the certified closed forms against the KKT Newton
    else
      EXPECT_LT(err, 1e-15 * std::max(1.0, X.row(i).cwiseAbs().maxCoeff())) << GetParam();
  }
  struct Case {
    double* LocalRows::*slot;
    int rows, cols;
    std::function<Mat(const Vec&)> f;
  };
  const std::vector<Case> cases = {
      {&LocalRows::tangent, D, d, [&](const Vec& z) { return M->tangent_frame(z); }},
      {&LocalRows::normal, D, k, [&](const Vec& z) { return M->normal_frame(z); }},
      {&LocalRows::P_T, D, D, [&](const Vec& z) { return M->tangent_projector(z); }},
      {&LocalRows::P_N, D, D, [&](const Vec& z) { return M->normal_projector(z); }},
      {&LocalRows::H, D, 1, [&](const Vec& z) { return Mat(M->mean_curvature(z)); }},
      {&LocalRows::W_H, D, D, [&](const Vec& z) { return M->weingarten_mean(z); }},
      {&LocalRows::ricci, D, D, [&](const Vec& z) { return M->ricci(z); }},
      {&LocalRows::K, D, D, [&](const Vec& z) { return M->correction_operator(z); }},
      {&LocalRows::scalar, 1, 1, [&](const Vec& z) { return Mat::Constant(1, 1, M->scalar_curvature(z)); }},
      {&LocalRows::drift, D, 1, [&](const Vec& z) { return Mat(M->geometric_drift(z)); }},
  };
  for (const Case& c : cases) {
    const std::size_t len = static_cast<std::size_t>(c.rows) * c.cols;
    std::vector<double> buf(n * len + 1, -7.0);  // one sentinel past the end
    LocalRows out;
    out.*c.slot = buf.data();
    local_rows(*M, Z.data(), 0, n, false, out);
    EXPECT_EQ(buf.back(), -7.0) << GetParam();
    for (std::size_t i = 0; i < n; ++i) {
      const Mat ref = c.f(Z.row(i).transpose());
      const Mat got = at(buf, i, c.rows, c.cols);
      const double scale = std::max(1.0, ref.cwiseAbs().maxCoeff());
      EXPECT_LT((got - ref).cwiseAbs().maxCoeff(), 1e-12 * scale) << GetParam() << " row " << i << " output " << len;
    }
  }
}

// The closed-form projections of so3 (polar decomposition) and ellipsoids (Newton on the multiplier) agree
// with LevelSetManifold::project near M, inside and outside, and far from it (up to and beyond the reach).
TEST(LocalRows, LevelSetProjectionsMatchFarFromM) {
  for (const std::string spec : {"so3", "ellipsoid:1,1.5,2.5", "ellipsoid:0.5,1,2,4"}) {
    const auto M = make_manifold(spec);
    const int D = M->ambient_dim(), d = M->dim();
    rbsm::Rng rng(9);
    for (double scale : {0.01, 0.3, 0.9, 1.5}) {
      for (int t = 0; t < 30; ++t) {
        Vec g(D);
        for (int a = 0; a < D; ++a) g[a] = rng.normal();
        const Vec x = M->sample_uniform(rng) + scale * M->reach() * g / g.norm();
        Rows r(1, D, d);
        Vec z;
        try {
          z = M->project(x);
        } catch (const rbsm::GeometryError&) {
          EXPECT_THROW(local_rows(*M, x.data(), 0, 1, true, r.out), rbsm::GeometryError) << spec;
          continue;
        }
        local_rows(*M, x.data(), 0, 1, true, r.out);
        EXPECT_LT((at(r.z, 0, D, 1) - z).cwiseAbs().maxCoeff(), 1e-13) << spec << " at distance " << (x - z).norm();
      }
    }
  }
}

TEST(LocalRows, ThrowsTheProjectionsErrors) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const std::string spec : {"sphere:2", "torus:3,1", "so3"}) {
    const auto M = make_manifold(spec);
    const int D = M->ambient_dim(), d = M->dim();
    Rows r(1, D, d);
    std::vector<double> x(D, 0.0);
    EXPECT_THROW(local_rows(*M, x.data(), 0, 1, true, r.out), rbsm::Error) << spec << " at the origin";
    x[0] = nan;
    EXPECT_THROW(local_rows(*M, x.data(), 0, 1, true, r.out), rbsm::InvalidArgument) << spec << " NaN";
  }
  const auto T = make_manifold("torus:3,1");
  Rows r(1, 3, 2);
  const double axis[3] = {0, 0, 0.5}, core[3] = {3, 0, 0};
  EXPECT_THROW(local_rows(*T, axis, 0, 1, true, r.out), rbsm::GeometryError);
  EXPECT_THROW(local_rows(*T, core, 0, 1, true, r.out), rbsm::GeometryError);
}

}  // namespace
