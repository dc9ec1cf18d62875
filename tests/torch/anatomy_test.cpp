// Score anatomy (docs/anatomy.md): Jacobians, SVD / eigen ordering, local dimension, cosines and
// overlaps on analytic fields whose answers are known in closed form, plus finite-difference checks.
// Expected values come from closed forms and from Eigen decompositions of the constructed matrices,
// never from the code under test.
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "rbsm/anatomy/analysis.hpp"
#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/anatomy/decomposition.hpp"
#include "rbsm/anatomy/jacobian.hpp"
#include "rbsm/anatomy/measures.hpp"
#include "rbsm/error.hpp"
#include "rbsm/random.hpp"

namespace ra = rbsm::anatomy;

namespace {
torch::Tensor random_point(int D, std::uint64_t seed) {
  rbsm::Rng rng(seed, 0);
  auto x = torch::empty({D}, torch::kFloat64);
  for (int i = 0; i < D; ++i) x[i] = rng.normal();
  return x;
}
Eigen::MatrixXd random_orthonormal(int D, std::uint64_t seed) {
  rbsm::Rng rng(seed, 1);
  Eigen::MatrixXd G(D, D);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) G(i, j) = rng.normal();
  return Eigen::HouseholderQR<Eigen::MatrixXd>(G).householderQ();
}
/// Exact spectrum of gaussian-subspace: 1/(1+sigma^2) (x d) then 1/sigma^2 (x D-d), ascending.
Eigen::VectorXd gaussian_subspace_s(int D, int d, double sigma) {
  Eigen::VectorXd s(D);
  for (int i = 0; i < D; ++i) s(i) = i < d ? 1 / (1 + sigma * sigma) : 1 / (sigma * sigma);
  return s;
}
const ra::LinalgBackend kBackends[] = {ra::LinalgBackend::Torch, ra::LinalgBackend::Eigen};
}  // namespace

TEST(AnatomyGaussianSubspace, ExactSingularValuesBothBackends) {
  const int D = 50, d = 7;
  const double sigma = 0.1;
  const auto f = ra::make_analytic_field("gaussian-subspace:D=50,d=7,sigma=0.1");
  const auto J = ra::score_jacobian(f.field, random_point(D, 1));
  const Eigen::VectorXd expected = gaussian_subspace_s(D, d, sigma);
  for (auto backend : kBackends) {
    const auto dec = ra::decompose_jacobian(J, backend);
    EXPECT_LT((dec.s - expected).cwiseAbs().maxCoeff() / expected.maxCoeff(), 1e-12) << ra::to_string(backend);
    // eigenvalues of the (already symmetric) Jacobian: -s, same |.| order
    EXPECT_LT((dec.lambda + expected).cwiseAbs().maxCoeff() / expected.maxCoeff(), 1e-12);
    // w_0 lies in the data subspace (first d coordinates); w_- off it
    EXPECT_NEAR(dec.w_zero().head(d).norm(), 1.0, 1e-10);
    EXPECT_NEAR(dec.w_minus().head(d).norm(), 0.0, 1e-10);
  }
}

TEST(AnatomyGaussianSubspace, ConservativeScoreHasUEqualMinusV) {
  for (const char* spec : {"gaussian-subspace:D=50,d=7,sigma=0.1", "linear:D=40,d=5,sigma=0.2,skew=0,seed=4"}) {
    const auto f = ra::make_analytic_field(spec);
    const auto dec = ra::decompose_jacobian(ra::score_jacobian(f.field, random_point(f.field.dim, 2)));
    const Eigen::VectorXd c = ra::cos_uv(dec.U, dec.V);
    EXPECT_LT((c.array() + 1.0).abs().maxCoeff(), 1e-9) << spec;  // u_i = -v_i for every rank
    EXPECT_LT((dec.U + dec.V).cwiseAbs().maxCoeff(), 1e-6) << spec;
  }
}

TEST(AnatomyGaussianSubspace, LocalDimensionIsSubspaceDimension) {
  for (int d : {0, 1, 5, 20, 49})
    for (double sigma : {0.02, 0.1, 0.5}) {
      const std::string spec = "gaussian-subspace:D=50,d=" + std::to_string(d) + ",sigma=" + std::to_string(sigma);
      const auto f = ra::make_analytic_field(spec);
      const auto p = ra::analyze_point(f.field, random_point(50, 3));
      EXPECT_EQ(p.local_dim, d) << spec;
      EXPECT_EQ(f.true_local_dim, d);
    }
}

TEST(AnatomyLocalDimension, RuleOnHandMadeSpectra) {
  const double s2 = 0.01;  // floor (1 + 0.1) * 0.01 = 0.011
  Eigen::VectorXd s(5);
  s << 1.0, 10.0, 1 / 0.0115, 1 / 0.0105, 100.0;  // 1/s: 1, 0.1, 0.0115, 0.0105, 0.01
  EXPECT_EQ(ra::local_dimension(s, s2, 0.1), 3);
  EXPECT_EQ(ra::local_dimension(s, s2, 0.2), 2);     // floor 0.012
  EXPECT_EQ(ra::local_dimension(s, s2, 0.04), 4);    // floor 0.0104
  EXPECT_EQ(ra::local_dimension(s, s2, -0.5), 5);    // floor 0.005: every rank counts
  EXPECT_EQ(ra::local_dimension(s, 100.0, 0.1), 0);  // huge noise: nothing above the floor
  Eigen::VectorXd z(3);
  z << 0.0, 100.0, 200.0;  // s = 0 is 1/s = infinity; 1/s = 0.01, 0.005 are below the floor
  EXPECT_EQ(ra::local_dimension(z, s2, 0.1), 1);
  EXPECT_THROW(ra::local_dimension(s, s2, -1.0), rbsm::InvalidArgument);
  EXPECT_THROW(ra::local_dimension(s, s2, -3.0), rbsm::InvalidArgument);
  EXPECT_THROW(ra::local_dimension(s, 0.0, 0.1), rbsm::InvalidArgument);
  Eigen::VectorXd unsorted(2);
  unsorted << 2.0, 1.0;
  EXPECT_THROW(ra::local_dimension(unsorted, s2, 0.1), rbsm::InvalidArgument);
}

TEST(AnatomyOverlap, IdenticalSubspacesGiveOne) {
  const int D = 30;
  const Eigen::MatrixXd A = random_orthonormal(D, 5);
  const Eigen::VectorXd same = ra::overlap_curve(A, A);
  EXPECT_LT((same.array() - 1.0).abs().maxCoeff(), 1e-12);
  // B: the first n columns of A rotated among themselves (same span), the rest rotated separately
  const int n = 8;
  const Eigen::MatrixXd R1 = random_orthonormal(n, 6), R2 = random_orthonormal(D - n, 7);
  Eigen::MatrixXd B(D, D);
  B.leftCols(n) = A.leftCols(n) * R1;
  B.rightCols(D - n) = A.rightCols(D - n) * R2;
  const Eigen::VectorXd phi = ra::overlap_curve(A, B);
  EXPECT_NEAR(phi(n - 1), 1.0, 1e-12);  // Phi_n = 1: identical n-dimensional subspaces
  EXPECT_NEAR(phi(D - 1), 1.0, 1e-12);  // the whole space always overlaps
  EXPECT_LT(phi(n / 2 - 1), 0.999);     // a part of a rotated block does not
  // disjoint subspaces: B's first n vectors orthogonal to A's first n
  Eigen::MatrixXd C(D, D);
  C << A.rightCols(D - n), A.leftCols(n);
  EXPECT_NEAR(ra::overlap_curve(A, C)(n - 1), 0.0, 1e-12);
}

TEST(AnatomyOverlap, FastCurveMatchesEquationTwo) {
  const int D = 20;
  const Eigen::MatrixXd A = random_orthonormal(D, 8), B = random_orthonormal(D, 9);
  Eigen::MatrixXd As = A;  // equation (2) normalises by |a_j|^2: scaled columns give the same Phi
  for (int j = 0; j < D; ++j) As.col(j) *= 0.5 + j;
  const Eigen::VectorXd fast = ra::overlap_curve(As, B);
  for (int n = 1; n <= D; ++n) {
    const double ref = ra::overlap(As, B, n);
    EXPECT_NEAR(fast(n - 1), ref, 1e-12) << n;
    EXPECT_NEAR(fast(n - 1), (B.leftCols(n).transpose() * A.leftCols(n)).squaredNorm() / n, 1e-12);
    EXPECT_NEAR(fast(n - 1), ra::overlap_curve(B, A)(n - 1), 1e-12);  // symmetric for orthonormal bases
  }
  EXPECT_THROW(ra::overlap(A, B, 0), rbsm::InvalidArgument);
}

TEST(AnatomyJacobian, MatchesFiniteDifferencesOnNonlinearFields) {
  // the noisy-sphere score (closed form through a Bessel ratio) and a random tanh MLP, in double
  const auto sphere = ra::make_analytic_field("noisy-sphere:D=12,d=3,kappa=2,sigma=0.3");
  torch::manual_seed(0);
  torch::nn::Sequential mlp(torch::nn::Linear(9, 16), torch::nn::Functional(torch::tanh), torch::nn::Linear(16, 9));
  mlp->to(torch::kFloat64);
  ra::ScoreField mlp_field{[&](const torch::Tensor& x) { return mlp->forward(x); }, 9, 0.1, "mlp"};
  for (const ra::ScoreField* f : std::vector<const ra::ScoreField*>{&sphere.field, &mlp_field}) {
    const auto x = 0.7 * random_point(f->dim, 11);
    const auto J = ra::score_jacobian(*f, x, ra::JacobianOptions().with_chunk(5));  // 5 does not divide D
    const auto Jfd = ra::finite_difference_jacobian(*f, x, 1e-5);
    const double scale = J.abs().max().item<double>();
    EXPECT_LT((J - Jfd).abs().max().item<double>() / scale, 1e-7) << f->description;
    // chunk size does not change the result
    const auto J1 = ra::score_jacobian(*f, x, ra::JacobianOptions().with_chunk(1));
    const auto Jall = ra::score_jacobian(*f, x, ra::JacobianOptions().with_chunk(1000));
    EXPECT_LT((J - J1).abs().max().item<double>(), 1e-12 * scale);
    EXPECT_LT((J - Jall).abs().max().item<double>(), 1e-12 * scale);
  }
}

TEST(AnatomyNoisySphere, BesselRatioMatchesClosedForms) {
  // p = 3: A_3(k) = coth k - 1/k;  p = 2: I_1/I_0 (LibTorch's scaled Bessel functions)
  for (double k : {1e-3, 0.5, 1.0, 7.0, 40.0, 400.0, 1e4}) {
    EXPECT_NEAR(ra::bessel_ratio_A(k, 3), 1 / std::tanh(k) - 1 / k, 1e-13 * (1 + 1 / k)) << k;
    const auto kt = torch::tensor({k}, torch::kFloat64);
    const double i10 = (torch::special::i1e(kt) / torch::special::i0e(kt)).item<double>();
    EXPECT_NEAR(ra::bessel_ratio_A(k, 2), i10, 1e-12) << k;
  }
  // derivative through autograd against dA/dk = 1/k^2 - 1/sinh^2 k for p = 3
  for (double k : {0.3, 2.0, 15.0}) {
    auto kt = torch::tensor({k}, torch::dtype(torch::kFloat64).requires_grad(true));
    ra::bessel_ratio_A(kt, 3).sum().backward();
    EXPECT_NEAR(kt.grad().item<double>(), 1 / (k * k) - 1 / std::pow(std::sinh(k), 2), 1e-10) << k;
  }
  EXPECT_THROW(ra::bessel_ratio_A(1.0, 1), rbsm::InvalidArgument);
}

TEST(AnatomyNoisySphere, SpectrumAtTheMeanDirectionInClosedForm) {
  // At x = mu = e_1 on S^2 in R^D, with m = (kappa + 1/s2) e_1 and A = A_3 = coth - 1/k:
  //   tangent (x d):  (A(k) / (k s2) - 1) / s2;  radial: (A'(k) / s2 - 1) / s2;  others: -1 / s2.
  const int D = 10, d = 2;
  const double kappa = 2, sigma = 0.05, s2 = sigma * sigma, k = kappa + 1 / s2;
  const auto f = ra::make_analytic_field("noisy-sphere:D=10,d=2,kappa=2,sigma=0.05");
  auto x = torch::zeros({D}, torch::kFloat64);
  x[0] = 1.0;
  const double A = 1 / std::tanh(k) - 1 / k, dA = 1 / (k * k) - 1 / std::pow(std::sinh(k), 2);
  std::vector<double> eig = {(A / (k * s2) - 1) / s2, (A / (k * s2) - 1) / s2, (dA / s2 - 1) / s2};
  while (static_cast<int>(eig.size()) < D) eig.push_back(-1 / s2);
  std::vector<double> expected_s;
  for (double e : eig) expected_s.push_back(std::abs(e));
  std::sort(expected_s.begin(), expected_s.end());
  const auto p = ra::analyze_point(f.field, x);
  for (int i = 0; i < D; ++i) EXPECT_NEAR(p.s(i), expected_s[i], 1e-7 * expected_s[i]) << i;
  EXPECT_EQ(p.local_dim, d);
  EXPECT_LT((p.cos_uv.array() + 1.0).abs().maxCoeff(), 1e-8);  // conservative: u = -v
}

TEST(AnatomyNonConservative, SingularValuesEigenvaluesAndCosines) {
  const int D = 30, d = 6;
  const double sigma = 0.1, a = 1 / (1 + sigma * sigma);
  const auto f = ra::make_analytic_field("linear:D=30,d=6,sigma=0.1,skew=0.7,seed=3");
  ASSERT_TRUE(f.jacobian.has_value());
  const Eigen::MatrixXd& M = *f.jacobian;
  const auto J = ra::score_jacobian(f.field, random_point(D, 12));
  EXPECT_LT((ra::to_eigen(J) - M).cwiseAbs().maxCoeff(), 1e-12);
  // independent reference: Eigen's Jacobi SVD of the constructed matrix
  Eigen::VectorXd ref = Eigen::JacobiSVD<Eigen::MatrixXd>(M).singularValues();
  std::sort(ref.data(), ref.data() + ref.size());
  // the symmetric part is Q diag(-1/(1+s^2) x d, -1/s^2 x (D-d)) Q^T by construction
  Eigen::VectorXd lambda_ref(D);
  for (int i = 0; i < D; ++i) lambda_ref(i) = i < d ? -a : -1 / (sigma * sigma);
  for (auto backend : kBackends) {
    const auto dec = ra::decompose_jacobian(J, backend);
    EXPECT_LT((dec.s - ref).cwiseAbs().maxCoeff(), 1e-10) << ra::to_string(backend);
    EXPECT_LT((dec.lambda - lambda_ref).cwiseAbs().maxCoeff(), 1e-10);
    const auto p = ra::measure(dec, sigma, 0.1, true);
    EXPECT_EQ(p.local_dim, d);
    // u_i . v_i = v_i^T J v_i / s_i = v_i^T S v_i / s_i = -a / s_i within the skew block; -1 beyond
    for (int i = 0; i < D; ++i) EXPECT_NEAR(p.cos_uv(i), i < d ? -a / dec.s(i) : -1.0, 1e-9) << i;
    EXPECT_GT(p.cos_uv.head(d).maxCoeff(), -0.95);  // so u_i != +-v_i: the field is not conservative
    // u, v and w span the same d-dimensional subspace although they are not aligned
    EXPECT_NEAR(p.phi_uv(d - 1), 1.0, 1e-10);
    EXPECT_NEAR(p.phi_uw(d - 1), 1.0, 1e-10);
    EXPECT_NEAR(p.phi_vw(d - 1), 1.0, 1e-10);
  }
}

TEST(AnatomyErrors, BadInputsThrowOneLineErrors) {
  const auto f = ra::make_analytic_field("gaussian-subspace:D=10,d=2,sigma=0.1");
  EXPECT_THROW(ra::score_jacobian(f.field, torch::zeros({11}, torch::kFloat64)), rbsm::InvalidArgument);
  EXPECT_THROW(ra::score_jacobian(f.field, torch::zeros({10}, torch::kFloat64), ra::JacobianOptions().with_chunk(0)),
               rbsm::InvalidArgument);
  EXPECT_THROW(ra::measure(ra::decompose_jacobian(torch::eye(3, torch::kFloat64)), 0.1, -1.0, false),
               rbsm::InvalidArgument);
  for (const char* spec :
       {"gaussian-subspace:D=10,d=10,sigma=0.1", "gaussian-subspace:D=10,d=2,sigma=0", "gaussian-subspace:D=10,d=2",
        "noisy-sphere:D=3,d=3,sigma=0.1", "noisy-sphere:D=5,d=2,kappa=-1,sigma=0.1", "linear:D=5", "mystery:D=3",
        "gaussian-subspace:D=10,d=2,sigma=0.1,extra=1"})
    EXPECT_THROW(ra::make_analytic_field(spec), rbsm::InvalidArgument) << spec;
  EXPECT_THROW(ra::decompose_jacobian(torch::zeros({3, 4})), rbsm::InvalidArgument);
  EXPECT_THROW(ra::decompose_jacobian(torch::full({2, 2}, std::nan(""))), rbsm::NumericalError);
}
