// Every density integrates to 1 over M, by quadrature that does not use the closed-form normalising
// constants (docs/densities.md §2.1, §3.1, §4.1), tolerance 1e-9 unless stated; mixture identities;
// make_density's errors.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "dist_test_support.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/matrix_fisher.hpp"
#include "rbsm/dist/mixture.hpp"
#include "rbsm/dist/special.hpp"
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

/// Integral over S^2 of exp(log q) in spherical coordinates around e_3 (nested adaptive quadrature).
double integrate_sphere2(const Density& q) {
  return integrate(
      [&](double u) {
        const double s = std::sqrt(std::max(0.0, 1 - u * u));
        return integrate(
            [&](double phi) {
              return std::exp(q.log_density(Vec((Vec(3) << s * std::cos(phi), s * std::sin(phi), u).finished())));
            },
            0, 2 * kPi, 1e-11);
      },
      -1, 1, 1e-11);
}

/// Integral over a torus of exp(log q) with the area element sqrt(det G) of the torus's own
/// coordinate tangents; the periodic trapezoid rule converges spectrally.
double integrate_torus(const TorusVonMises& q, const geometry::Manifold& M) {
  const int n = 160;
  const double h = 2 * kPi / n;
  double sum = 0;
  const auto* rev = dynamic_cast<const geometry::TorusOfRevolution*>(&M);
  const auto* cli = dynamic_cast<const geometry::CliffordTorus*>(&M);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double a1 = -kPi + i * h, a2 = -kPi + j * h;
      const geometry::Mat T = rev ? rev->coordinate_tangents(a1, a2) : cli->coordinate_tangents(a1, a2);
      const double area = std::sqrt((T.transpose() * T).determinant());
      sum += std::exp(q.log_density(q.point(a1, a2))) * area;
    }
  return sum * h * h;
}
}  // namespace

TEST(Normalisation, VmfOnSpheresByQuadratureOfTheCosineLaw) {
  // int_M q = |S^{d-1}| int_0^pi C exp(kappa cos th) sin^{d-1} th d th (the law of t = <mu, z>).
  for (int d : {1, 2, 3, 6, 10, 50})
    for (double kappa : {0.0, 0.01, 2.0, 40.0, 1000.0}) {
      const double logc = log_vmf_normaliser(d, kappa);
      const double I = integrate(
          [&](double th) { return std::exp(kappa * (std::cos(th) - 1) + (d - 1) * std::log(std::sin(th) + 1e-300)); },
          0, kPi, 1e-12);
      const double total = std::exp(logc + kappa + std::log(I) + (d == 1 ? std::log(2.0) : log_sphere_area(d - 1)));
      EXPECT_NEAR(total, 1.0, 1e-9) << "d = " << d << " kappa = " << kappa;
    }
  // S^2 in closed form: C = kappa / (4 pi sinh kappa), for a kappa where I_{1/2} would overflow.
  const double k = 5000;
  EXPECT_NEAR(log_vmf_normaliser(2, k), std::log(k / (2 * kPi)) - k, 1e-9);
}

TEST(Normalisation, VmfOnS2ByTwoDimensionalQuadrature) {
  const auto M = manifold("sphere:2");
  const auto q = make_density("vmf:kappa=7", M, Vec((Vec(3) << 1, -2, 0.5).finished()));
  EXPECT_NEAR(integrate_sphere2(*q), 1.0, 1e-9);
}

TEST(Normalisation, VonMisesOnBothTori) {
  for (const std::string spec : {"clifford-torus:1,0.6", "torus:3,1", "torus:2,1.5"}) {
    const auto M = manifold(spec);
    for (const auto& mean : {Eigen::Vector2d(0, 0), Eigen::Vector2d(2.1, -0.7)}) {
      TorusVonMises q(M, 2.5, 0.8, mean);
      EXPECT_NEAR(integrate_torus(q, *M), 1.0, 1e-10) << spec;
    }
    TorusVonMises q0(M, 0, 0);
    EXPECT_NEAR(std::exp(q0.log_normaliser()), M->volume(), 1e-10 * M->volume()) << spec;
  }
}

TEST(Normalisation, MatrixFisherByAxisAngleQuadrature) {
  // Haar measure in axis-angle coordinates: theta has density (1 - cos theta)/pi on [0, pi], the axis n
  // is uniform on S^2; R = cos th I + sin th [n]x + (1 - cos th) n n^T (row-major). Then
  // int_M q dvol = vol(SO(3)) E_Haar[q(R)].
  const auto M = manifold("so3");
  for (const Eigen::Vector3d f : {Eigen::Vector3d(2, 1, -0.5), Eigen::Vector3d(0.3, -4, 6)}) {
    MatrixFisher q(M, f);
    auto q_at = [&](double th, double u, double phi) {
      const double s = std::sqrt(std::max(0.0, 1 - u * u));
      const Eigen::Vector3d n(s * std::cos(phi), s * std::sin(phi), u);
      Eigen::Matrix3d K;
      K << 0, -n[2], n[1], n[2], 0, -n[0], -n[1], n[0], 0;
      const Eigen::Matrix<double, 3, 3, Eigen::RowMajor> R =
          std::cos(th) * Eigen::Matrix3d::Identity() + std::sin(th) * K + (1 - std::cos(th)) * n * n.transpose();
      return std::exp(q.log_density(Eigen::Map<const Vec>(R.data(), 9)));
    };
    const double mean = integrate(
        [&](double th) {
          return (1 - std::cos(th)) / kPi *
                 integrate(
                     [&](double u) {
                       return integrate([&](double phi) { return q_at(th, u, phi); }, 0, 2 * kPi, 1e-9);
                     },
                     -1, 1, 1e-9) /
                 (4 * kPi);
        },
        0, kPi, 1e-9);
    EXPECT_NEAR(mean * M->volume(), 1.0, 1e-7) << f.transpose();
  }
}

TEST(Normalisation, MatrixFisherHaarMeanSymmetries) {
  // E_Haar exp(tr(F R)) is invariant under permutations of f and under flipping the signs of two
  // entries (R -> R diag(-1, -1, 1) is a rotation); it is 1 at F = 0.
  const Eigen::Vector3d f(1.7, -0.4, 3.1);
  const double ref = log_matrix_fisher_haar_mean(f);
  EXPECT_NEAR(log_matrix_fisher_haar_mean(Eigen::Vector3d(-0.4, 3.1, 1.7)), ref, 1e-11);
  EXPECT_NEAR(log_matrix_fisher_haar_mean(Eigen::Vector3d(3.1, 1.7, -0.4)), ref, 1e-11);
  EXPECT_NEAR(log_matrix_fisher_haar_mean(Eigen::Vector3d(-1.7, 0.4, 3.1)), ref, 1e-11);
  EXPECT_NEAR(log_matrix_fisher_haar_mean(Eigen::Vector3d::Zero()), 0.0, 1e-14);
}

TEST(Normalisation, MatrixFisherLargeConcentrationLaplaceLimit) {
  // For large F the mass concentrates at R = I: with R = exp([w]_x), tr(F R) = tr F - 1/2 w^T A w + O(|w|^3),
  // A = diag(f2 + f3, f1 + f3, f1 + f2), and Haar measure is dw / (8 pi^2) near I, so
  //   log E_Haar exp(tr(F R)) = tr F + 3/2 log(2 pi) - 1/2 log det A - log(8 pi^2) + O(1/f).
  // The error times the scale c must settle to a constant (first-order Laplace correction); the largest
  // case (f = 800, 700, 600, once a hang) must return. Sign flips of two entries move the peak elsewhere.
  auto laplace = [](const Eigen::Vector3d& f) {
    const double detA = (f[1] + f[2]) * (f[0] + f[2]) * (f[0] + f[1]);
    return f.sum() + 1.5 * std::log(2 * M_PI) - 0.5 * std::log(detA) - std::log(8 * M_PI * M_PI);
  };
  const Eigen::Vector3d shape(1.0, 0.875, 0.75);
  std::vector<double> scaled_error;
  for (double c : {100.0, 200.0, 400.0, 800.0}) {
    const Eigen::Vector3d f = c * shape;
    const double got = log_matrix_fisher_haar_mean(f);
    ASSERT_TRUE(std::isfinite(got)) << c;
    EXPECT_LT(std::abs(got - laplace(f)), 2.0 / (f[1] + f[2])) << c;
    scaled_error.push_back((got - laplace(f)) * c);
    EXPECT_NEAR(log_matrix_fisher_haar_mean(Eigen::Vector3d(-f[0], -f[1], f[2])), got, 1e-9 * got) << c;
  }
  // c * error -> constant: successive differences shrink (like 1/c).
  EXPECT_LT(std::abs(scaled_error[3] - scaled_error[2]), 0.6 * std::abs(scaled_error[2] - scaled_error[1]));
  EXPECT_LT(std::abs(scaled_error[2] - scaled_error[1]), 0.6 * std::abs(scaled_error[1] - scaled_error[0]));
}

TEST(Normalisation, MixtureOnS2) {
  const auto M = manifold("sphere:2");
  const std::string file = write_temp("mix.json", R"({"weights": [1, 3], "components": [
      {"dist": "vmf:kappa=5", "mean": [0, 1, 0]}, {"dist": "uniform"}]})");
  const auto q = make_density("@" + file, M);
  EXPECT_NEAR(integrate_sphere2(*q), 1.0, 1e-9);
}

// ------------------------------------------------------------------ mixture identities
TEST(Mixture, ReducesToItsComponent) {
  // A mixture of copies of one density is that density; responsibilities are the weights.
  const auto M = manifold("sphere:3");
  const Vec mu = (Vec(4) << 1, 0.5, -1, 2).finished();
  std::vector<std::unique_ptr<Density>> comps;
  comps.push_back(make_density("vmf:kappa=3", M, mu));
  comps.push_back(make_density("vmf:kappa=3", M, mu));
  Mixture mix(M, {1, 4}, std::move(comps));
  const auto single = make_density("vmf:kappa=3", M, mu);
  Rng rng(2);
  const Vec z = M->sample_uniform(rng);
  EXPECT_NEAR(mix.log_density(z), single->log_density(z), 1e-13);
  EXPECT_LT((mix.grad_log(z) - single->grad_log(z)).norm(), 1e-13);
  EXPECT_NEAR(mix.laplacian_log(z), single->laplacian_log(z), 1e-12);
  EXPECT_LT((mix.heat_drift(z) - single->heat_drift(z)).norm(), 1e-12);
  const auto pi = mix.responsibilities(z);
  EXPECT_NEAR(pi[0], 0.2, 1e-14);
  EXPECT_NEAR(pi[1], 0.8, 1e-14);
}

TEST(Mixture, LogDensityIsLogOfWeightedSum) {
  const auto M = manifold("sphere:2");
  const std::string file = write_temp("mix2.json", R"({"weights": [0.25, 0.75], "components": [
      {"dist": "vmf:kappa=200", "mean": [1, 0, 0]}, {"dist": "vmf:kappa=300", "mean": [-1, 0, 0]}]})");
  const auto q = make_density("@" + file, M);
  const auto q1 = make_density("vmf:kappa=200", M, Vec((Vec(3) << 1, 0, 0).finished()));
  const auto q2 = make_density("vmf:kappa=300", M, Vec((Vec(3) << -1, 0, 0).finished()));
  for (const Vec& z : {Vec((Vec(3) << 1, 0, 0).finished()), Vec((Vec(3) << 0, 1, 0).finished())}) {
    // Far from both means each q_k underflows (exp(-200)), but logsumexp keeps the log finite.
    const double l1 = std::log(0.25) + q1->log_density(z), l2 = std::log(0.75) + q2->log_density(z);
    const double m = std::max(l1, l2);
    EXPECT_NEAR(q->log_density(z), m + std::log(std::exp(l1 - m) + std::exp(l2 - m)), 1e-10);
  }
}

// ------------------------------------------------------------------ errors
TEST(MakeDensity, RejectsBadSpecsWithClearMessages) {
  const auto S2 = manifold("sphere:2"), T = manifold("torus:3,1");
  auto msg = [](auto&& f) {
    try {
      f();
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no InvalidArgument");
  };
  EXPECT_NE(msg([&] { make_density("vmf:kappa=-1", S2); }).find("negative"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vmf", S2); }).find("missing parameter 'kappa'"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vmf:kapa=1", S2); }).find("unknown parameter"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vmf:kappa=abc", S2); }).find("not a number"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vmf:kappa=2", T); }).find("vmf lives on spheres"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vonmises:kappa1=1,kappa2=1", S2); }).find("vonmises lives on the tori"),
            std::string::npos);
  EXPECT_NE(msg([&] { make_density("vonmises:kappa1=1,kappa2=-2", T); }).find("negative"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("matrix-fisher:1,2,3", S2); }).find("so3"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("matrix-fisher:1,2", manifold("so3")); }).find("expected 3"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("gauss:1", S2); }).find("unknown density 'gauss'"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("uniform:1", S2); }).find("no parameters"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vmf:kappa=1", S2, Vec::Zero(3)); }).find("zero vector"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vmf:kappa=1", S2, Vec::Ones(4)); }).find("4 coordinates"), std::string::npos);
  EXPECT_NE(msg([&] { make_density("vonmises:kappa1=1,kappa2=1", T, Vec::Zero(3)); }).find("no angles"),
            std::string::npos);
  EXPECT_NE(msg([&] { make_density("uniform", S2, Vec::Ones(3)); }).find("takes no mean"), std::string::npos);
}

TEST(MakeDensity, RejectsMalformedMixtureFiles) {
  const auto S2 = manifold("sphere:2");
  auto msg = [&](const std::string& text) {
    const std::string path = write_temp("bad.json", text);
    try {
      make_density("@" + path, S2);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no InvalidArgument");
  };
  EXPECT_NE(msg("{\"weights\": [1]").find("not valid JSON"), std::string::npos);
  EXPECT_NE(msg("[1, 2]").find("expected an object"), std::string::npos);
  EXPECT_NE(msg(R"({"components": [{"dist": "uniform"}]})").find("missing \"weights\""), std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1]})").find("missing \"components\""), std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1, 1], "components": [{"dist": "uniform"}]})").find("2 weights for 1 components"),
            std::string::npos);
  EXPECT_NE(msg(R"({"weights": [0], "components": [{"dist": "uniform"}]})").find("weight 1 is 0"), std::string::npos);
  EXPECT_NE(msg(R"({"weights": [-1], "components": [{"dist": "uniform"}]})").find("expected a number > 0"),
            std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1], "components": [{"mean": [1, 0, 0]}]})").find("string \"dist\""), std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1], "components": [{"dist": "vmf:kappa=1", "mean": [1, 0]}]})").find("2 coordinates"),
            std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1], "components": [{"dist": "vmf:kappa=1", "mean": [0, 0, 0]}]})").find("zero vector"),
            std::string::npos);
  EXPECT_NE(
      msg(R"({"weights": [1], "components": [{"dist": "vmf:kappa=1", "mean": "north"}]})").find("array of numbers"),
      std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1], "components": [{"dist": "vmf:kappa=1"}], "extra": 1})").find("unknown key"),
            std::string::npos);
  EXPECT_NE(msg(R"({"weights": [1], "components": [{"dist": "@x.json"}]})").find("nested"), std::string::npos);
  EXPECT_THROW(make_density("@/nonexistent/rbsm.json", S2), IoError);
}
