#include "rbsm/anatomy/analytic_fields.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include <torch/torch.h>

#include "rbsm/anatomy/field_spec.hpp"
#include "rbsm/dist/density.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::anatomy {

torch::Tensor ScoreField::operator()(const torch::Tensor& x) const {
  if (x.dim() != 2 || x.size(1) != dim)
    throw InvalidArgument("score field " + description + ": input of shape " + std::string(c10::str(x.sizes())) +
                          ", expected [B, " + std::to_string(dim) + "]");
  torch::Tensor g = score(x);
  if (!g.defined() || g.sizes() != x.sizes())
    throw InvalidArgument("score field " + description + ": returned shape " +
                          (g.defined() ? std::string(c10::str(g.sizes())) : std::string("(undefined)")) +
                          " for an input of shape " + std::string(c10::str(x.sizes())));
  return g;
}

// A_p(k) for scalars: bessel_ratio_A(double, int) in src/core/field_spec.cpp (torch-free, fuzzed).
namespace {
/// Autograd wrapper: forward by the continued fraction, backward by dA/dk = 1 - A^2 - (p-1) A / k.
struct BesselRatioFunction : torch::autograd::Function<BesselRatioFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& k, int64_t p) {
    auto kc = k.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    auto A = torch::empty_like(kc);
    const double* kp = kc.data_ptr<double>();
    double* ap = A.data_ptr<double>();
    for (int64_t i = 0; i < kc.numel(); ++i) ap[i] = bessel_ratio_A(kp[i], static_cast<int>(p));
    A = A.to(k.options());
    ctx->save_for_backward({k, A});
    ctx->saved_data["p"] = p;
    return A;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    const auto saved = ctx->get_saved_variables();
    const auto &k = saved[0], &A = saved[1];
    const double p = static_cast<double>(ctx->saved_data["p"].toInt());
    // small k: A ~ k/p, dA/dk -> 1/p
    auto dA = torch::where(k > 1e-8, 1 - A * A - (p - 1) * A / k.clamp_min(1e-8), torch::full_like(k, 1.0 / p));
    return {grad[0] * dA, torch::Tensor()};
  }
};

/// x = sqrt(diag var) * N(0, I) rotated by Q (rows of the result are points).
torch::Tensor gaussian_points(int n, const Eigen::VectorXd& var, const Eigen::MatrixXd& Q, Rng& rng) {
  Eigen::MatrixXd X(n, var.size());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < var.size(); ++j) X(i, j) = std::sqrt(var(j)) * rng.normal();
  return nn::to_tensor(X * Q.transpose());
}

/// A linear field g(x) = J x (rows: g = x J^T).
AnalyticField linear_field(const Eigen::MatrixXd& J, const Eigen::VectorXd& data_var, const Eigen::MatrixXd& Q,
                           double sigma, int d, const std::string& text) {
  AnalyticField f;
  const torch::Tensor Jt = nn::to_tensor(J.transpose());
  f.field.dim = J.rows();
  f.field.sigma = sigma;
  f.field.description = text;
  f.field.score = [Jt](const torch::Tensor& x) { return torch::matmul(x.to(torch::kFloat64), Jt).to(x.dtype()); };
  f.true_local_dim = d;
  f.jacobian = J;
  f.sample_points = [data_var, Q](int n, Rng& rng) { return gaussian_points(n, data_var, Q, rng); };
  return f;
}

Eigen::MatrixXd random_rotation(int D, Rng& rng) {
  Eigen::MatrixXd G(D, D);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) G(i, j) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(G);
  Eigen::MatrixXd Q = qr.householderQ();
  // make the factorisation unique (Haar): sign of R's diagonal
  const Eigen::MatrixXd R = qr.matrixQR().triangularView<Eigen::Upper>();
  for (int j = 0; j < D; ++j)
    if (R(j, j) < 0) Q.col(j) *= -1;
  return Q;
}

AnalyticField gaussian_subspace(const FieldSpec& spec) {
  const int D = spec.D, d = spec.d;
  const double sigma = spec.sigma;
  Eigen::VectorXd var = Eigen::VectorXd::Constant(D, sigma * sigma);
  var.head(d).array() += 1.0;  // Sigma = diag(1 + sigma^2 (x d), sigma^2 (x D-d))
  const Eigen::MatrixXd J = (-var.cwiseInverse()).asDiagonal();
  return linear_field(J, var, Eigen::MatrixXd::Identity(D, D), sigma, d, spec.text);
}

AnalyticField linear(const FieldSpec& spec) {
  const int D = spec.D, d = spec.d;
  const double sigma = spec.sigma, skew = spec.skew;
  Rng rng(spec.seed, 0);
  const Eigen::MatrixXd Q = random_rotation(D, rng);
  Eigen::VectorXd var = Eigen::VectorXd::Constant(D, sigma * sigma);
  var.head(d).array() += 1.0;
  const Eigen::MatrixXd S = Q * (-var.cwiseInverse()).asDiagonal() * Q.transpose();
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(d, d);
  for (int i = 0; i < d; ++i)
    for (int j = 0; j < d; ++j) G(i, j) = rng.normal();
  G = G - G.transpose().eval();
  if (d >= 2) G /= Eigen::JacobiSVD<Eigen::MatrixXd>(G).singularValues()(0);  // spectral norm 1
  const Eigen::MatrixXd Qd = Q.leftCols(d);
  const Eigen::MatrixXd K = skew * Qd * G * Qd.transpose();
  // Points: the Gaussian whose score is the symmetric part S (the effective density of Proposition 1).
  return linear_field(S + K, var, Q, sigma, d, spec.text);
}

AnalyticField noisy_sphere(const FieldSpec& spec) {
  const int D = spec.D, d = spec.d;
  const double kappa = spec.kappa, sigma = spec.sigma;
  const int p = d + 1;
  const double s2 = sigma * sigma;
  AnalyticField f;
  f.field.dim = D;
  f.field.sigma = sigma;
  f.field.description = spec.text;
  // g(x) = (E[z|x] - x) / sigma^2; the posterior of z on S^d is vMF with natural parameter
  // m = kappa e_1 + P x / sigma^2 (P: the first d+1 coordinates), so E[z|x] = A_p(|m|) m / |m|.
  f.field.score = [=](const torch::Tensor& x_in) {
    const auto x = x_in.to(torch::kFloat64);
    auto m = x.narrow(1, 0, p) / s2;
    auto e1 = torch::zeros({1, p}, x.options());
    e1.index_put_({0, 0}, kappa);
    m = m + e1;
    const auto r = m.norm(2, 1, /*keepdim=*/true);
    const auto A = BesselRatioFunction::apply(r, p);
    auto Ez = A / r * m;
    if (D > p) Ez = torch::cat({Ez, torch::zeros({x.size(0), D - p}, x.options())}, 1);
    return ((Ez - x) / s2).to(x_in.dtype());
  };
  f.true_local_dim = d;
  f.sample_points = [=](int n, Rng& rng) {
    auto sphere = std::shared_ptr<const geometry::Manifold>(geometry::make_manifold("sphere:" + std::to_string(d)));
    const auto vmf = dist::make_density("vmf:kappa=" + std::to_string(kappa), sphere);
    Eigen::MatrixXd X(n, D);
    for (int i = 0; i < n; ++i) {
      const Eigen::VectorXd z = vmf->sample(rng);
      for (int j = 0; j < D; ++j) X(i, j) = (j < p ? z(j) : 0.0) + sigma * rng.normal();
    }
    return nn::to_tensor(X);
  };
  return f;
}
}  // namespace

torch::Tensor bessel_ratio_A(const torch::Tensor& k, int p) { return BesselRatioFunction::apply(k, p); }

AnalyticField make_analytic_field(const std::string& text) {
  const FieldSpec spec = parse_field_spec(text);  // torch-free, fuzzed (fuzz/fuzz_field_spec.cpp)
  if (spec.name == "gaussian-subspace") return gaussian_subspace(spec);
  if (spec.name == "noisy-sphere") return noisy_sphere(spec);
  return linear(spec);
}

}  // namespace rbsm::anatomy
