// Densities on manifolds (docs/densities.md): every density normalised (quadrature, independent of
// the closed-form normalising constants), every closed form of grad_M log q, Delta_M log q and b_q
// equal to finite differences along M, the identity Delta_M <a, x> = <a, H>, mixture identities,
// and make_density's errors.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "dist_test_support.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/matrix_fisher.hpp"
#include "rbsm/dist/mixture.hpp"
#include "rbsm/dist/special.hpp"
#include "rbsm/dist/tangent_fd.hpp"
#include "rbsm/dist/torus_von_mises.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/numerics/constants.hpp"

using namespace rbsm;
using namespace rbsm::dist;
using geometry::Vec;

namespace {
using rbsm::kPi;

using rbsm::testing::manifold;
using rbsm::testing::write_temp;

std::string two_vmf_mixture() {
  return "@" + write_temp("vmf_mix.json",
                          R"({"weights": [2, 1], "components": [{"dist": "vmf:kappa=4", "mean": [0.3, -1, 0.5]},
                              {"dist": "vmf:kappa=1.5", "mean": [0, 0, -1]}]})");
}
std::string two_torus_mixture() {
  return "@" + write_temp("torus_mix.json",
                          R"({"weights": [0.3, 0.7], "components": [{"dist": "vonmises:kappa1=2,kappa2=0.5"},
                              {"dist": "vonmises:kappa1=0.4,kappa2=3", "mean": [-1, 3, 0.5]}]})");
}

struct Case {
  std::string manifold, dist;
  std::optional<Vec> mean;
};

std::vector<Case> all_cases() {
  Vec m7 = Vec::LinSpaced(7, -1, 2);
  return {
      {"sphere:1", "vmf:kappa=2", Vec((Vec(2) << 0.6, -0.8).finished())},
      {"sphere:2", "vmf:kappa=3", Vec((Vec(3) << 1, 2, -2).finished())},
      {"sphere:2", "vmf:kappa=40", std::nullopt},
      {"sphere:6", "vmf:kappa=2", m7},
      {"sphere:2", "uniform", std::nullopt},
      {"clifford-torus:1,0.6", "vonmises:kappa1=1.5,kappa2=0.7", Vec((Vec(4) << 0.2, 1, -1, 0.1).finished())},
      {"torus:3,1", "vonmises:kappa1=1.5,kappa2=0.7", Vec((Vec(3) << -1, 2, 0.7).finished())},
      {"torus:3,1", "uniform", std::nullopt},
      {"so3", "matrix-fisher:2,1,-0.5", std::nullopt},
      {"sphere:2", two_vmf_mixture(), std::nullopt},
      {"torus:3,1", two_torus_mixture(), std::nullopt},
  };
}

}  // namespace

// ------------------------------------------------------------------ derivatives == finite differences along M
TEST(Densities, DerivativesMatchFiniteDifferencesAlongM) {
  for (const auto& c : all_cases()) {
    const auto M = manifold(c.manifold);
    const auto q = make_density(c.dist, M, c.mean);
    Rng rng(17);
    const ScalarField log_q = [&](const Vec& z) { return q->log_density(z); };
    const ScalarField s = [&](const Vec& z) { return q->laplacian_log(z) + q->grad_log(z).squaredNorm(); };
    for (int i = 0; i < 4; ++i) {
      const Vec z = i < 3 ? M->sample_uniform(rng) : q->sample(rng);
      SCOPED_TRACE(c.manifold + " " + c.dist + " point " + std::to_string(i));
      const Vec g = q->grad_log(z);
      EXPECT_LT((M->normal_projector(z) * g).norm(), 1e-12 * (1 + g.norm())) << "grad not tangent";
      EXPECT_LT((g - tangent_gradient(*M, log_q, z)).norm(), 1e-7 * (1 + g.norm()));
      const double L = q->laplacian_log(z);
      EXPECT_NEAR(L, tangent_laplacian(*M, log_q, z), 1e-6 * (1 + std::abs(L)));
      const Vec b = q->heat_drift(z);
      EXPECT_LT((M->normal_projector(z) * b).norm(), 1e-12 * (1 + b.norm())) << "b_q not tangent";
      EXPECT_LT((b - 0.5 * tangent_gradient(*M, s, z)).norm(), 1e-6 * (1 + b.norm()));
    }
  }
}

TEST(Densities, LaplacianOfLinearFunctionIsMeanCurvature) {
  // Delta_M <a, x> = <a, H(z)> (docs/densities.md eq. 4.2), on every manifold, by finite differences.
  for (const std::string spec :
       {"sphere:2", "sphere:5", "clifford-torus:1,0.6", "torus:3,1", "so3", "ellipsoid:1,1.5,2.5"}) {
    const auto M = manifold(spec);
    Rng rng(5);
    for (int i = 0; i < 3; ++i) {
      Vec a(M->ambient_dim());
      for (int j = 0; j < a.size(); ++j) a[j] = rng.normal();
      const Vec z = M->sample_uniform(rng);
      const double lap = tangent_laplacian(
          *M, [&](const Vec& x) { return a.dot(x); }, z);
      EXPECT_NEAR(lap, a.dot(M->mean_curvature(z)), 1e-6 * (1 + a.norm())) << spec;
    }
  }
}

// ------------------------------------------------------------------ closed forms of SPEC.md
TEST(Densities, VmfClosedFormsAndExpansionCoefficient) {
  // SPEC.md: grad = kappa P_T mu, Delta = -d kappa t, b_q + K grad = (1 - d - kappa t) kappa P_T mu.
  for (int d : {1, 2, 6, 10}) {
    const auto M = manifold("sphere:" + std::to_string(d));
    Vec mu = Vec::Zero(d + 1);
    mu[d] = 1;
    const double kappa = 2.5;
    VonMisesFisher q(M, kappa, mu);
    Rng rng(3);
    const Vec z = M->sample_uniform(rng);
    const double t = mu.dot(z);
    const Vec PTmu = M->tangent_projector(z) * mu;
    EXPECT_LT((q.grad_log(z) - kappa * PTmu).norm(), 1e-12);
    EXPECT_NEAR(q.laplacian_log(z), -d * kappa * t, 1e-12);
    const Vec lhs = q.heat_drift(z) + M->correction_operator(z) * q.grad_log(z);
    EXPECT_LT((lhs - (1 - d - kappa * t) * kappa * PTmu).norm(), 1e-11) << "d = " << d;
  }
}

TEST(Densities, TorusOfRevolutionLaplacianClosedForm) {
  // In orthogonal coordinates, by hand: Delta (A cos a1 + B cos a2)
  //   = A sin^2 a1 / (r rho) - A cos a1 / r^2 - B cos a2 / rho^2,  rho = R + r cos a1.
  const double R = 3, r = 1, A = 1.3, B = 0.8;
  const auto M = manifold("torus:3,1");
  TorusVonMises q(M, A, B);
  for (double a1 : {-2.0, 0.4, 2.9})
    for (double a2 : {-1.0, 1.7}) {
      const double rho = R + r * std::cos(a1);
      const double expected =
          A * std::sin(a1) * std::sin(a1) / (r * rho) - A * std::cos(a1) / (r * r) - B * std::cos(a2) / (rho * rho);
      EXPECT_NEAR(q.laplacian_log(q.point(a1, a2)), expected, 1e-12);
    }
}

TEST(Densities, MatrixFisherLaplacianIsMinusTrace) {
  // On SO(3) in R^9 with the Frobenius metric H(R) = -R, so Delta tr(F^T R) = -tr(F^T R).
  const auto M = manifold("so3");
  MatrixFisher q(M, Eigen::Vector3d(2, 1, -0.5));
  Rng rng(8);
  for (int i = 0; i < 3; ++i) {
    const Vec z = M->sample_uniform(rng);
    const double trace = 2 * z[0] + 1 * z[4] - 0.5 * z[8];
    EXPECT_NEAR(q.laplacian_log(z), -trace, 1e-9);
  }
}

TEST(Densities, UniformIsFlat) {
  for (const std::string spec : {"sphere:3", "torus:3,1", "so3"}) {
    const auto M = manifold(spec);
    const auto q = make_density("uniform", M);
    Rng rng(1);
    const Vec z = q->sample(rng);
    EXPECT_NEAR(std::exp(q->log_density(z)) * M->volume(), 1.0, 1e-13);
    EXPECT_EQ(q->grad_log(z).norm(), 0.0);
    EXPECT_EQ(q->laplacian_log(z), 0.0);
    EXPECT_EQ(q->heat_drift(z).norm(), 0.0);
  }
}
