#include "rbsm/anatomy/lid.hpp"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "rbsm/anatomy/decomposition.hpp"
#include "rbsm/anatomy/jacobian.hpp"
#include "rbsm/anatomy/measures.hpp"
#include "rbsm/error.hpp"

namespace rbsm::anatomy {
namespace {

/// x_0 as a [1, D] row of the model's dtype.
torch::Tensor as_point(const TimeScoreModel& model, const torch::Tensor& x0) {
  if (!x0.defined() || x0.numel() != model.dim || !(x0.dim() == 1 || (x0.dim() == 2 && x0.size(0) == 1)))
    throw InvalidArgument("local dimension: point of shape " +
                          (x0.defined() ? std::string(c10::str(x0.sizes())) : std::string("(undefined)")) +
                          ", expected [" + std::to_string(model.dim) + "] for " + model.description);
  return x0.reshape({1, model.dim}).detach().to(model.dtype);
}

/// Singular values of a matrix in double precision, descending (LAPACK through LibTorch).
Eigen::VectorXd singular_values_descending(const torch::Tensor& M) {
  const auto s = torch::linalg::svdvals(M.to(torch::kDouble).contiguous(), c10::nullopt).contiguous();
  Eigen::VectorXd out(s.size(0));
  const double* p = s.data_ptr<double>();
  for (Eigen::Index i = 0; i < out.size(); ++i) out(i) = p[i];
  if (!out.allFinite()) throw NumericalError("local dimension: non-finite singular values");
  return out;
}

torch::Tensor fill_normal(std::int64_t rows, std::int64_t cols, Rng& rng) {
  auto t = torch::empty({rows, cols}, torch::kDouble);
  auto* p = t.data_ptr<double>();
  for (std::int64_t i = 0; i < rows * cols; ++i) p[i] = rng.normal();
  return t;
}

}  // namespace

ScoreField TimeScoreModel::at_time(double t) const {
  ScoreField f;
  const nn::ScoreFn s = score;
  f.score = [s, t](const torch::Tensor& x) { return s(x, torch::full({x.size(0)}, t, x.options())); };
  f.dim = dim;
  f.sigma = sigma(t);
  f.description = description + " at t=" + std::to_string(t);
  return f;
}

std::string to_string(LidMethod method) {
  switch (method) {
    case LidMethod::SingularValue:
      return "singular-value";
    case LidMethod::NormalBundle:
      return "normal-bundle";
    case LidMethod::Flipd:
      return "flipd";
  }
  return "?";
}

LidMethod parse_lid_method(const std::string& text) {
  if (text == "singular-value") return LidMethod::SingularValue;
  if (text == "normal-bundle") return LidMethod::NormalBundle;
  if (text == "flipd") return LidMethod::Flipd;
  throw InvalidArgument("unknown LID method '" + text + "', expected singular-value, normal-bundle or flipd");
}

void LidOptions::validate() const {
  if (!(t > 0 && t <= 1)) throw InvalidArgument("LID time t = " + std::to_string(t) + ", expected in (0, 1]");
  check_kappa(kappa);
  if (normal_samples < 0 || (normal_samples > 0 && normal_samples < 2))
    throw InvalidArgument("normal-bundle samples K = " + std::to_string(normal_samples) + ", expected >= 2 (0: 4 D)");
  if (hutchinson_probes < 0)
    throw InvalidArgument("Hutchinson probes = " + std::to_string(hutchinson_probes) + ", expected >= 0 (0: exact)");
  if (chunk < 1) throw InvalidArgument("chunk = " + std::to_string(chunk) + ", expected >= 1");
}

int singular_value_lid(const TimeScoreModel& model, const torch::Tensor& x0, const LidOptions& options,
                       Eigen::VectorXd* singular_values) {
  options.validate();
  const auto field = model.at_time(options.t);
  const auto x = model.alpha(options.t) * as_point(model, x0);
  const auto J = score_jacobian(field, x, JacobianOptions{}.with_chunk(options.chunk));
  const Eigen::VectorXd s = singular_values_descending(J).reverse();  // ascending, as the document orders them
  if (singular_values) *singular_values = s;
  return local_dimension(s, field.sigma * field.sigma, options.kappa);
}

int largest_gap_dimension(const Eigen::VectorXd& sv, std::int64_t ambient_dim) {
  if (sv.size() < 2) throw InvalidArgument("normal-bundle rule: needs at least 2 singular values");
  Eigen::Index best = 0;
  double gap = -1;
  for (Eigen::Index i = 0; i + 1 < sv.size(); ++i) {
    if (sv(i) < sv(i + 1)) throw InvalidArgument("normal-bundle rule: singular values are not descending");
    if (sv(i) - sv(i + 1) > gap) {
      gap = sv(i) - sv(i + 1);
      best = i;
    }
  }
  return static_cast<int>(ambient_dim - (best + 1));
}

int normal_bundle_lid(const TimeScoreModel& model, const torch::Tensor& x0, const LidOptions& options, Rng& rng,
                      Eigen::VectorXd* singular_values) {
  options.validate();
  const std::int64_t D = model.dim;
  const std::int64_t K = options.normal_samples > 0 ? options.normal_samples : 4 * D;
  const auto field = model.at_time(options.t);
  const auto center = model.alpha(options.t) * as_point(model, x0);
  const auto eps = fill_normal(K, D, rng).to(model.dtype);
  torch::NoGradGuard no_grad;
  auto S = torch::empty({K, D}, center.options());
  for (std::int64_t b = 0; b < K; b += options.chunk) {
    const std::int64_t c = std::min(options.chunk, K - b);
    S.narrow(0, b, c).copy_(field(center + field.sigma * eps.narrow(0, b, c)));
  }
  if (options.normal_centre) S -= S.mean(0, /*keepdim=*/true);
  const Eigen::VectorXd sv = singular_values_descending(S);
  if (singular_values) *singular_values = sv;
  return largest_gap_dimension(sv, D);
}

double score_divergence(const TimeScoreModel& model, const torch::Tensor& x, double t, std::int64_t probes,
                        std::int64_t chunk, Rng& rng) {
  if (chunk < 1) throw InvalidArgument("chunk = " + std::to_string(chunk) + ", expected >= 1");
  const auto field = model.at_time(t);
  const auto x1 = as_point(model, x);
  if (probes == 0) {
    const auto J = score_jacobian(field, x1, JacobianOptions{}.with_chunk(chunk));
    return J.to(torch::kDouble).trace().item<double>();
  }
  if (probes < 0) throw InvalidArgument("Hutchinson probes = " + std::to_string(probes) + ", expected >= 0");
  const std::int64_t D = model.dim;
  double sum = 0;
  torch::AutoGradMode grad_on(true);
  for (std::int64_t b = 0; b < probes; b += chunk) {
    const std::int64_t c = std::min(chunk, probes - b);
    auto v = torch::empty({c, D}, torch::kDouble);
    auto* p = v.data_ptr<double>();
    for (std::int64_t i = 0; i < c * D; ++i) p[i] = rng.uniform() < 0.5 ? -1.0 : 1.0;
    v = v.to(x1.dtype());
    auto xb = x1.expand({c, D}).clone().requires_grad_(true);
    const auto g = field(xb);
    const auto rows = torch::autograd::grad({g}, {xb}, {v}, false, false, true)[0];  // v^T J
    if (rows.defined()) sum += (rows * v).to(torch::kDouble).sum().item<double>();
  }
  return sum / static_cast<double>(probes);
}

FlipdParts flipd_lid(const TimeScoreModel& model, const torch::Tensor& x0, const LidOptions& options, Rng& rng) {
  options.validate();
  const auto x = model.alpha(options.t) * as_point(model, x0);
  FlipdParts f;
  const double sigma = model.sigma(options.t);
  f.sigma2 = sigma * sigma;
  {
    torch::NoGradGuard no_grad;
    const auto s = model.at_time(options.t)(x);
    f.norm2 = s.to(torch::kDouble).pow(2).sum().item<double>();
  }
  f.trace = score_divergence(model, x, options.t, options.hutchinson_probes, options.chunk, rng);
  f.estimate = flipd_formula(model.dim, f.sigma2, f.trace, f.norm2);
  return f;
}

TimeScoreModel gaussian_subspace_vp_score(const Eigen::MatrixXd& Q, const nn::VPSDE& sde) {
  const auto D = Q.rows(), d = Q.cols();
  if (d < 1 || d >= D)
    throw InvalidArgument("gaussian subspace: d = " + std::to_string(d) + ", D = " + std::to_string(D) +
                          " (expected 1 <= d < D)");
  if (!(Q.transpose() * Q - Eigen::MatrixXd::Identity(d, d)).isZero(1e-8))
    throw InvalidArgument("gaussian subspace: the basis Q does not have orthonormal columns");
  const Eigen::MatrixXd Pm = Q * Q.transpose();
  auto P = torch::empty({D, D}, torch::kDouble);
  std::copy(Pm.data(), Pm.data() + D * D, P.data_ptr<double>());  // symmetric: layout does not matter
  TimeScoreModel m;
  m.dim = D;
  m.sde = sde;
  m.dtype = torch::kDouble;
  m.description = "gaussian-subspace-vp:D=" + std::to_string(D) + ",d=" + std::to_string(d);
  m.score = [P, sde](const torch::Tensor& x, const torch::Tensor& t) {
    const auto xp = torch::matmul(x, P.to(x.dtype()));  // tangent part Q Q^T x (row form)
    const auto s2 = sde.sigma(t).pow(2).reshape({-1, 1});
    return -xp - (x - xp) / s2;
  };
  return m;
}

double flipd_gaussian_subspace(std::int64_t d, double sigma2, double alpha2_x0_norm2) {
  return static_cast<double>(d) - sigma2 * (static_cast<double>(d) - alpha2_x0_norm2);
}

Eigen::MatrixXd random_isometry(std::int64_t D, std::int64_t m, Rng& rng) {
  if (m < 1 || m > D)
    throw InvalidArgument("random isometry: " + std::to_string(m) + " columns in R^" + std::to_string(D) +
                          " (expected 1 <= m <= D)");
  Eigen::MatrixXd G(D, m);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index i = 0; i < D; ++i) G(i, j) = rng.normal();
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(G);
  Eigen::MatrixXd Q = qr.householderQ() * Eigen::MatrixXd::Identity(D, m);
  const Eigen::MatrixXd R = qr.matrixQR().topRows(m).triangularView<Eigen::Upper>();
  for (Eigen::Index j = 0; j < m; ++j)
    if (R(j, j) < 0) Q.col(j) *= -1.0;
  return Q;
}

}  // namespace rbsm::anatomy
