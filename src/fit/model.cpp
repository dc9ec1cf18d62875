// A trained manifold model: scores, corrected energies, exact densities, samples (include/rbsm/fit/fit.hpp).
#include <algorithm>
#include <cmath>
#include <limits>

#include "../nn/checkpoint_io.hpp"
#include "detail.hpp"

#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/langevin.hpp"
#include "rbsm/sampling/ziggurat.hpp"

namespace rbsm::fit {

namespace fs = std::filesystem;

namespace {
constexpr Eigen::Index kChunk = 16384;
/// choose_sigma_eval's screening tolerance of log Z (a sharp model's log Z to 1e-4 costs 4-15x the energy
/// evaluations of 1e-2).
constexpr double kScreenTol = 1e-2;

/// An [n] or [n, k] tensor as an n x 1 or n x k matrix.
Mat to_mat(const torch::Tensor& t) { return nn::to_eigen(t.reshape({t.size(0), -1})); }

torch::Tensor mean_curvatures(const geometry::Manifold& M, const Mat& Z) {
  Mat H(Z.rows(), Z.cols());
  for (Eigen::Index i = 0; i < Z.rows(); ++i) H.row(i) = M.mean_curvature(Z.row(i).transpose()).transpose();
  return detail::to_tensor(H);
}
}  // namespace

FitModel::FitModel(FitOptions options, NoiseNet net, nlohmann::json config)
    : options_(std::move(options)),
      net_(std::move(net)),
      config_(std::move(config)),
      manifold_(geometry::make_manifold(options_.manifold)) {
  net_->eval();
  for (auto& p : net_->parameters()) p.set_requires_grad(false);
}

bool is_fit_checkpoint(const fs::path& run_or_file) {
  const fs::path file = nn::resolve_checkpoint(run_or_file);
  try {
    nn::detail::open_checkpoint(file, kFitFormat, "manifold-fit");
    return true;
  } catch (const IoError& e) {
    // another rbsm format is "not an rbsm manifold-fit checkpoint (format ...)": not ours, not an error
    if (std::string(e.what()).find("(format ") != std::string::npos) return false;
    throw;
  }
}

FitModel FitModel::load(const fs::path& run_or_file) {
  const fs::path file = nn::resolve_checkpoint(run_or_file);
  auto ck = nn::detail::open_checkpoint(file, kFitFormat, "manifold-fit");
  FitOptions o;
  try {
    o = FitOptions::from_json(ck.config.at("fit"));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(file.string() + ": malformed manifold-fit config: " + e.what());
  }
  NoiseNet net(o.net);
  nn::detail::read_module(ck, "best", *net);
  return FitModel(o, net, ck.config);
}

Mat FitModel::score(const Mat& Z, double sigma) {
  if (!(sigma > 0) || !std::isfinite(sigma)) throw InvalidArgument("score: sigma must be > 0 and finite");
  Mat out(Z.rows(), Z.cols());
  for (Eigen::Index i0 = 0; i0 < Z.rows(); i0 += kChunk) {
    const Eigen::Index nb = std::min(kChunk, Z.rows() - i0);
    const Mat Zb = Z.middleRows(i0, nb);
    const torch::Tensor s = torch::full({nb}, sigma, torch::kFloat64);
    const torch::Tensor ss =
        detail::scaled_score(net_, detail::to_tensor(Zb), s, detail::projectors(*manifold_, Zb), false);
    out.middleRows(i0, nb) = to_mat(ss) / sigma;
  }
  return out;
}

EnergyCorrection energy_correction(const geometry::Manifold& M, dsm::Correction correction) {
  EnergyCorrection ec;
  if (correction == dsm::Correction::none) return ec;
  // K = c P_T with one constant c, and E_M = 0, checked at uniform points (a symmetric space passes exactly).
  Rng rng(0, 0);
  double c = std::numeric_limits<double>::quiet_NaN(), dev = 0, em = 0;
  for (int k = 0; k < 16; ++k) {
    const Vec z = M.sample_uniform(rng);
    const Mat K = M.correction_operator(z), P = M.tangent_projector(z);
    const double ck = K.trace() / M.dim();
    if (std::isnan(c)) c = ck;
    dev = std::max(dev, (K - c * P).cwiseAbs().maxCoeff());
    em = std::max(em, M.geometric_drift(z).norm());
  }
  if (dev > 1e-8)
    throw InvalidArgument("the " + dsm::to_string(correction) + " correction of an energy is not an energy on " +
                          M.spec() +
                          ": K = 1/2 W_H - Ric# is not a constant multiple of P_T there, so K grad E is not a "
                          "gradient and no density exists; use --correction none");
  if (correction != dsm::Correction::extrinsic && em > 1e-8)
    throw InvalidArgument("the " + dsm::to_string(correction) + " correction needs E_M as a gradient, unknown on " +
                          M.spec());
  ec.c = c;
  return ec;
}

Vec FitModel::energy(const Mat& Z, double sigma, dsm::Correction correction) {
  if (options_.net.parametrisation != Parametrisation::energy)
    throw InvalidArgument("a vector model has no energy (and no density): fit with --parametrisation energy");
  if (!(sigma > 0) || !std::isfinite(sigma)) throw InvalidArgument("energy: sigma must be > 0 and finite");
  const EnergyCorrection ec = energy_correction(*manifold_, correction);
  const int D = manifold_->ambient_dim();
  Vec out(Z.rows());
  const Eigen::Index chunk = correction == dsm::Correction::full ? kChunk / 4 : kChunk;
  for (Eigen::Index i0 = 0; i0 < Z.rows(); i0 += chunk) {
    const Eigen::Index nb = std::min(chunk, Z.rows() - i0);
    const Mat Zb = Z.middleRows(i0, nb);
    const torch::Tensor s = torch::full({nb}, sigma, torch::kFloat64);
    if (correction != dsm::Correction::full) {
      torch::NoGradGuard no_grad;
      const torch::Tensor E = net_->forward(detail::to_tensor(Zb), s);
      out.segment(i0, nb) = to_mat(E).col(0) * (1.0 - sigma * sigma * ec.c);
      continue;
    }
    torch::Tensor x = detail::to_tensor(Zb).requires_grad_(true);
    const torch::Tensor E = net_->forward(x, s);
    const torch::Tensor g = torch::autograd::grad({E.sum()}, {x}, {}, true, true)[0];
    std::vector<torch::Tensor> rows;
    for (int j = 0; j < D; ++j) rows.push_back(torch::autograd::grad({g.select(1, j).sum()}, {x}, {}, true, false)[0]);
    const torch::Tensor Hess = torch::stack(rows, 1);  // B x D x D
    const torch::Tensor P = detail::projectors(*manifold_, Zb);
    const torch::Tensor lap = (P * Hess).sum({1, 2}) + (mean_curvatures(*manifold_, Zb) * g).sum(1);
    const torch::Tensor gt = torch::bmm(P, g.unsqueeze(2)).squeeze(2);
    const torch::Tensor Ec = E - sigma * sigma * (0.5 * (lap + gt.pow(2).sum(1)) + ec.c * E);
    out.segment(i0, nb) = to_mat(Ec).col(0);
  }
  return out;
}

void FitModel::energy_and_score(const Mat& Z, double sigma, Vec& energy, Mat& score) {
  if (options_.net.parametrisation != Parametrisation::energy)
    throw InvalidArgument("a vector model has no energy (and no density): fit with --parametrisation energy");
  if (!(sigma > 0) || !std::isfinite(sigma)) throw InvalidArgument("energy: sigma must be > 0 and finite");
  energy.resize(Z.rows());
  score.resize(Z.rows(), Z.cols());
  for (Eigen::Index i0 = 0; i0 < Z.rows(); i0 += kChunk) {
    const Eigen::Index nb = std::min(kChunk, Z.rows() - i0);
    const Mat Zb = Z.middleRows(i0, nb);
    torch::Tensor x = detail::to_tensor(Zb).requires_grad_(true);
    const torch::Tensor E = net_->forward(x, torch::full({nb}, sigma, torch::kFloat64));
    const torch::Tensor g = torch::autograd::grad({E.sum()}, {x})[0];
    const torch::Tensor s = torch::bmm(detail::projectors(*manifold_, Zb), g.unsqueeze(2)).squeeze(2);
    energy.segment(i0, nb) = to_mat(E).col(0);
    score.middleRows(i0, nb) = to_mat(s);
  }
}

nlohmann::json to_json(const ModelDensity& d) {
  return {{"sigma_eval", d.sigma},
          {"correction", dsm::to_string(d.correction)},
          {"log_normaliser", d.normaliser.log_z},
          {"log_normaliser_error", d.normaliser.error},
          {"normaliser_method", d.normaliser.method},
          {"normaliser_evaluations", d.normaliser.evaluations},
          {"normaliser_converged", d.normaliser.converged}};
}

ModelDensity model_density_from_json(const nlohmann::json& j) {
  ModelDensity d;
  d.sigma = io::json_get<double>(j, "sigma_eval");
  try {
    d.correction = dsm::parse_correction(io::json_get<std::string>(j, "correction"));
  } catch (const InvalidArgument& e) {
    throw IoError(std::string("key 'correction': ") + e.what());
  }
  d.normaliser.log_z = io::json_get<double>(j, "log_normaliser");
  d.normaliser.error = io::json_get<double>(j, "log_normaliser_error");
  d.normaliser.method = io::json_get<std::string>(j, "normaliser_method");
  d.normaliser.evaluations = io::json_get<std::int64_t>(j, "normaliser_evaluations");
  d.normaliser.converged = io::json_get<bool>(j, "normaliser_converged");
  return d;
}

ModelDensity model_density(FitModel& model, double sigma, dsm::Correction correction,
                           const numerics::CubatureOptions& cubature) {
  ModelDensity d;
  d.sigma = sigma;
  d.correction = correction;
  d.normaliser = numerics::log_normaliser(
      model.manifold(), [&](const Mat& Z) { return model.energy(Z, sigma, correction); }, cubature);
  return d;
}

Vec log_density(FitModel& model, const ModelDensity& d, const Mat& Z) {
  if (Z.cols() != model.manifold().ambient_dim())
    throw InvalidArgument("log_density: points have " + std::to_string(Z.cols()) + " columns, expected " +
                          std::to_string(model.manifold().ambient_dim()));
  return model.energy(Z, d.sigma, d.correction).array() - d.normaliser.log_z;
}

ModelDensity choose_sigma_eval(FitModel& model, const Mat& val, dsm::Correction correction,
                               const numerics::CubatureOptions& cubature, std::vector<std::pair<double, double>>* table,
                               const std::function<void(std::size_t, std::size_t)>& on_candidate) {
  std::vector<double> cand;
  for (double s : model.options().sigma_levels())
    if (s <= 0.5 * model.options().sigma_max * (1 + 1e-12)) cand.push_back(s);
  if (cand.empty()) cand.push_back(model.options().sigma_min);
  // Stage 1, screening: every candidate with log Z to kScreenTol. The val NLL -mean E_c(val) + log Z is then
  // known to within the normaliser's error estimate e_k (the energy part is exact).
  numerics::CubatureOptions screen = cubature;
  screen.rel_tol = std::max(cubature.rel_tol, kScreenTol);
  std::vector<ModelDensity> d(cand.size());
  std::vector<double> nll(cand.size()), err(cand.size());
  double bound = std::numeric_limits<double>::infinity();  // min_k (NLL_k + 2 e_k): the best is at most this
  for (std::size_t k = 0; k < cand.size(); ++k) {
    d[k] = model_density(model, cand[k], correction, screen);
    nll[k] = -log_density(model, d[k], val).mean();
    err[k] = 2 * d[k].normaliser.error;  // twice the estimate: the estimate itself is not a bound
    bound = std::min(bound, nll[k] + err[k]);
    if (on_candidate) on_candidate(k + 1, cand.size());
  }
  // Stage 2: the candidates that can still be the best (NLL_k - 2 e_k <= bound) at the requested tolerance;
  // the best of them. With one stage (a requested tolerance >= the screening one) every candidate is final.
  const bool two_stages = screen.rel_tol > cubature.rel_tol;
  std::size_t best = cand.size();
  for (std::size_t k = 0; k < cand.size(); ++k) {
    if (two_stages) {
      if (nll[k] - err[k] > bound) continue;
      d[k] = model_density(model, cand[k], correction, cubature);
      nll[k] = -log_density(model, d[k], val).mean();
      if (on_candidate) on_candidate(cand.size(), cand.size());
    }
    if (best == cand.size() || nll[k] < nll[best]) best = k;
  }
  if (table)
    for (std::size_t k = 0; k < cand.size(); ++k) table->emplace_back(cand[k], nll[k]);
  return d[best];
}

SampleResult mala_batched(const geometry::Manifold& M, const BatchedLogTarget& target, const Mat& initial,
                          std::int64_t steps, double h, std::uint64_t seed, int threads,
                          const std::function<void(std::int64_t)>& on_step) {
  const int D = M.ambient_dim();
  const Eigen::Index n = initial.rows();
  if (n < 1 || initial.cols() != D) throw InvalidArgument("mala: initial states must be chains x D with chains >= 1");
  if (steps < 0) throw InvalidArgument("mala: steps must be >= 0");
  if (!(h > 0) || !std::isfinite(h)) throw InvalidArgument("mala: the step size must be > 0 and finite");
  std::vector<Rng> rngs;
  rngs.reserve(static_cast<std::size_t>(n));
  for (Eigen::Index c = 0; c < n; ++c) rngs.emplace_back(seed, static_cast<std::uint64_t>(c));
  Mat Z = initial, B, Y(n, D), W(n, D), B1;
  Vec logp, logp1, partial(n);
  std::vector<char> ok(static_cast<std::size_t>(n));
  target(Z, logp, B);
  std::vector<long long> accepted(static_cast<std::size_t>(n), 0);
  for (std::int64_t k = 0; k < steps; ++k) {
    // 1. per chain: the noise, the proposal, its reverse move and the terms of log alpha that need no model
    parallel_for(
        static_cast<std::size_t>(n), threads,
        [&](std::size_t ci) {
          const auto c = static_cast<Eigen::Index>(ci);
          Vec xi(D);
          for (int j = 0; j < D; ++j) xi[j] = sampling::fast_normal(rngs[ci]);
          const sampling::MalaProposal p = sampling::mala_propose(M, Z.row(c).transpose(), B.row(c).transpose(), h, xi);
          ok[ci] = p.ok;
          if (p.ok) {
            Y.row(c) = p.y.transpose();
            W.row(c) = p.w.transpose();
            partial[c] = p.log_ratio;
          } else {
            Y.row(c) = Z.row(c);  // evaluated with the batch, not used
          }
        },
        /*grain=*/64);
    // 2. the model at every proposal, batched
    target(Y, logp1, B1);
    // 3. per chain: accept or reject
    parallel_for(
        static_cast<std::size_t>(n), threads,
        [&](std::size_t ci) {
          const auto c = static_cast<Eigen::Index>(ci);
          if (!ok[ci]) return;
          const double log_alpha =
              logp1[c] - logp[c] - (W.row(c) - h * B1.row(c)).squaredNorm() / (4.0 * h) + partial[c];
          if (!std::isfinite(log_alpha)) return;
          if (log_alpha >= 0.0 || std::log(rngs[ci].uniform_open()) < log_alpha) {
            Z.row(c) = Y.row(c);
            B.row(c) = B1.row(c);
            logp[c] = logp1[c];
            ++accepted[ci];
          }
        },
        /*grain=*/64);
    if (on_step) on_step(k + 1);
  }
  if (!Z.allFinite()) throw NumericalError("mala: non-finite states (use a smaller step)");
  SampleResult r;
  r.samples = Z;
  long long acc = 0;
  for (long long a : accepted) acc += a;
  r.acceptance_rate =
      steps > 0 ? static_cast<double>(acc) / (static_cast<double>(n) * static_cast<double>(steps)) : 1.0;
  return r;
}

SampleResult sample_model(FitModel& model, const SampleOptions& o,
                          const std::function<void(std::int64_t, std::int64_t)>& progress) {
  if (o.n < 1 || o.n > 10'000'000) throw InvalidArgument("sample: --n must be in [1, 1e7]");
  if (o.steps_per_level < 0 || o.mala_steps < 0) throw InvalidArgument("sample: step counts must be >= 0");
  if (!(o.epsilon > 0) || !std::isfinite(o.epsilon)) throw InvalidArgument("sample: --epsilon must be > 0");
  const geometry::Manifold& M = model.manifold();
  const int D = M.ambient_dim();
  std::vector<Rng> rngs;
  Mat Z(o.n, D);
  for (std::int64_t c = 0; c < o.n; ++c) {
    rngs.emplace_back(o.seed, static_cast<std::uint64_t>(c));
    Z.row(c) = M.sample_uniform(rngs.back()).transpose();
  }
  std::vector<double> levels = model.options().sigma_levels();
  std::reverse(levels.begin(), levels.end());
  const double s_min = model.options().sigma_min;
  const std::int64_t total = static_cast<std::int64_t>(levels.size()) * o.steps_per_level + o.mala_steps;
  std::int64_t done = 0;
  for (double s : levels) {
    const double h = o.epsilon * (s / s_min) * (s / s_min);
    for (std::int64_t t = 0; t < o.steps_per_level; ++t) {
      const Mat S = model.score(Z, s);
      for (std::int64_t c = 0; c < o.n; ++c) {
        const Vec z = Z.row(c).transpose();
        Vec xi(D);
        for (int k = 0; k < D; ++k) xi[k] = rngs[c].normal();
        const Vec x = z + h * S.row(c).transpose() + std::sqrt(2 * h) * (M.tangent_projector(z) * xi);
        try {
          Z.row(c) = M.project(x).transpose();
        } catch (const GeometryError&) {
          // no unique projection (probability zero): stay
        }
      }
      if (progress) progress(++done, total);
    }
  }
  SampleResult r;
  if (o.mala_steps > 0 && model.options().net.parametrisation == Parametrisation::energy) {
    const double se = o.sigma_eval > 0 ? o.sigma_eval : s_min;
    const double h = o.mala_step > 0 ? o.mala_step : 0.5 * se * se;
    const BatchedLogTarget target = [&](const Mat& Y, Vec& log_p, Mat& drift) {
      if (o.correction == dsm::Correction::none) return model.energy_and_score(Y, se, log_p, drift);
      log_p = model.energy(Y, se, o.correction);  // the corrected density; the uncorrected score proposes
      drift = model.score(Y, se);
    };
    r = mala_batched(M, target, Z, o.mala_steps, h, o.seed + 1, o.threads, [&](std::int64_t k) {
      if (progress) progress(done + k, total);
    });
    return r;
  }
  r.samples = Z;
  return r;
}

}  // namespace rbsm::fit
