#pragma once
/// Fitting score models to data on a manifold M (docs/fit.md): ambient denoising score matching with raw
/// or Rao-Blackwellized tangent targets, and the exact likelihood of the fitted energy model.
///
/// Training (docs/fit.md §3). Example i of step k: a training point Z, a noise level sigma drawn
/// uniformly from L log-spaced levels in [sigma_min, sigma_max], X = Z + sigma xi, y = pi(X), and the target
///   raw:  T = P_T(y)(Z - y) / sigma^2                      (dsm/targets.hpp)
///   rb:   r_hat(y) from the training split as references, leaving Z's own row out (dsm/rb_estimator.hpp)
/// with the loss mean sigma^2 |s(y, sigma) - target|^2. Adam (warm-up, cosine decay), an EMA of the weights,
/// early stopping on the same loss over a fixed validation set (the EMA weights with the lowest one are
/// kept). Batch indices are nn::batch_indices(seed, k), levels and noise come from Rng(seed, 2^40 + k):
/// pure functions of (seed, k), so `resume` continues bit-identically and --threads changes nothing.
/// Data parallel (nn/distributed.hpp, docs/distributed.md): rank r of N keeps positions
/// nn::batch_shard(B, r, N) of step k's draw (every rank draws the levels, noise and projections of the
/// whole batch, cheap beside the network and the RB targets, which it computes for its rows only) and
/// the gradients of (B_r / B) x its mean loss are summed over the ranks; the validation set is split the
/// same way. The result equals the single process' up to the order of float sums.
///
/// Density (docs/fit.md §4). The energy model at sigma defines p(z) ∝ exp(E_c(z, sigma)) on M, E_c the
/// energy after a correction that is again an energy (energy_correction_available):
///   none:       E
///   extrinsic:  E - sigma^2 c E                          (K = c P_T on M: spheres c = 1 - d/2)
///   geometric:  E - sigma^2 (c E + phi)                  (E_M = grad phi; spheres phi = 0)
///   full:       E - sigma^2 [1/2 (Delta_M E + |grad_M E|^2) + c E + phi]
/// (the corrections of dsm/corrections.hpp applied to s = grad_M E). Delta_M E = tr(P_T Hess E) + <H, grad E>
/// by autograd. log Z by numerics::log_normaliser (adaptive cubature on S^2 and the tori).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rbsm/dsm/corrections.hpp"
#include "rbsm/fit/noise_net.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/nn/distributed.hpp"
#include "rbsm/numerics/cubature.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {

using geometry::Mat;
using geometry::Vec;

enum class Target { raw, rb };
Target parse_target(const std::string& name);  ///< "raw" or "rb"
std::string to_string(Target t);

inline constexpr const char* kFitFormat = "rbsm-manifold-fit-v1";

struct FitOptions {
  std::string manifold = "sphere:2";
  NoiseNetOptions net;
  Target target = Target::rb;
  double sigma_min = 0.01, sigma_max = 0.5;
  std::int64_t levels = 24;  ///< L noise levels, log-spaced
  /// Level law: level l is drawn with probability ∝ sigma_l^-level_power (0: uniform). A positive power
  /// gives the small levels, which a sharp density needs, more of the examples (docs/fit.md §3).
  double level_power = 0;
  /// Noise spread (rb targets only): y = pi(Z + spread sigma xi) while the target is the RB estimate at
  /// sigma, so that the examples of level sigma also cover the gaps up to ~spread sigma around the data
  /// (the RB target is a function of y alone, defined everywhere; the raw target is not). 1: plain DSM.
  double spread = 1;
  /// rb targets: the example's own training point is left out of the RB estimate's references (true), so the
  /// target at y is E[Z | y] over the *other* points; false: every reference, its own included (at small sigma
  /// the target then points back at its own point, as the raw target does on average). docs/fit.md §3.
  bool leave_one_out = true;
  std::int64_t steps = 3000;  ///< total optimiser steps (a resumed run continues up to this)
  std::int64_t batch = 256;
  double lr = 2e-3;
  std::int64_t warmup = 100;
  double ema_decay = 0.995;
  std::int64_t eval_every = 100;     ///< validation loss every this many steps
  std::int64_t patience = 8;         ///< stop after this many evaluations without improvement (0: never)
  std::int64_t val_examples = 4096;  ///< fixed noisy validation examples
  std::int64_t checkpoint_every = 500;
  std::uint64_t seed = 0;
  int threads = 0;  ///< rbsm's own pools (RB targets); LibTorch's is set by the caller
  /// Throws InvalidArgument naming the bad value.
  void validate() const;
  nlohmann::json to_json() const;
  static FitOptions from_json(const nlohmann::json& j);
  /// The L noise levels sigma_min (sigma_max / sigma_min)^(l / (L - 1)).
  std::vector<double> sigma_levels() const;
  /// P(level l), l < L: sigma_l^-level_power, normalised.
  std::vector<double> level_probabilities() const;
};

/// Draws level indices with probabilities FitOptions::level_probabilities() from one 64-bit draw of the
/// generator: rng() % L for the uniform law (the stream of fits made before level_power existed), else the
/// inverse of the cumulative law at rng.uniform().
class LevelSampler {
 public:
  explicit LevelSampler(const FitOptions& options);
  int operator()(Rng& rng) const;

 private:
  std::vector<double> cdf_;
  bool uniform_;
};

struct FitHooks {
  std::function<bool()> should_stop;  ///< polled every step: true -> checkpoint and return
  std::function<void(std::int64_t step, double loss)> on_step;
  std::function<void(std::int64_t step, double val_loss, bool best)> on_eval;
};

struct TrainOutcome {
  std::int64_t start_step = 0, step = 0, best_step = 0;
  double best_val_loss = 0, seconds = 0;
  bool stopped = false, early_stopped = false;
  std::filesystem::path checkpoint;
  std::vector<std::vector<double>> metrics;  ///< rows: step, training loss, learning rate
  std::vector<std::vector<double>> evals;    ///< rows: step, validation loss (EMA weights)
  double all_reduce_seconds = 0;             ///< time in gradient all-reduces (0 for one process)
  double wait_seconds = 0;                   ///< time waiting for the slowest rank before them (profiling)
};

/// Trains on `train` (n x D, rows on M) with early stopping on `val`, writing out/checkpoint.pt (the
/// config records `extra`). With `resume`, out/checkpoint.pt must exist and training continues from it.
/// Throws InvalidArgument for bad options or data, NumericalError for a non-finite loss, nn::DistributedError
/// when another rank of `world` died or hung. With N > 1 ranks only rank 0 writes; a stop request on any
/// rank stops all at the same step.
TrainOutcome train_fit(const Mat& train, const Mat& val, const FitOptions& options, const std::filesystem::path& out,
                       bool resume = false, const FitHooks& hooks = {}, const nlohmann::json& extra = {},
                       nn::World world = nn::World());

/// True if `run_or_file` holds a checkpoint of format kFitFormat (false for other rbsm checkpoints; throws
/// IoError for a missing or corrupt file).
bool is_fit_checkpoint(const std::filesystem::path& run_or_file);

/// A trained model, loaded for evaluation (the best EMA weights). Thread-compatible: one user at a time.
class FitModel {
 public:
  /// `run_or_file`: a run folder (its checkpoint.pt) or the file. Throws IoError for a missing, corrupt or
  /// foreign checkpoint.
  static FitModel load(const std::filesystem::path& run_or_file);
  FitModel(FitOptions options, NoiseNet net, nlohmann::json config);

  const FitOptions& options() const { return options_; }
  const nlohmann::json& config() const { return config_; }
  const geometry::Manifold& manifold() const { return *manifold_; }
  std::shared_ptr<const geometry::Manifold> manifold_ptr() const { return manifold_; }
  NoiseNet& net() { return net_; }

  /// Tangent scores s(z, sigma) at rows of Z (rows on M), batched.
  Mat score(const Mat& Z, double sigma);
  /// The corrected energy E_c(z, sigma) (energy models; throws InvalidArgument for vector models or a
  /// correction that is not an energy on M).
  Vec energy(const Mat& Z, double sigma, dsm::Correction correction = dsm::Correction::none);
  /// The uncorrected energy E(z, sigma) and the score s = P_T grad E at rows of Z from one batched forward
  /// and one backward pass (energy models; what MALA needs per step).
  void energy_and_score(const Mat& Z, double sigma, Vec& energy, Mat& score);

 private:
  FitOptions options_;
  NoiseNet net_;
  nlohmann::json config_;
  std::shared_ptr<const geometry::Manifold> manifold_;
};

/// Where the correction of an energy is again an energy: K = c P_T with c constant and E_M = grad phi.
/// Returns c (and phi through `phi` when E_M != 0 is a known gradient); throws InvalidArgument naming the
/// reason otherwise (e.g. on the torus of revolution K varies along M, so K grad E is not a gradient).
struct EnergyCorrection {
  double c = 0;
  std::function<double(const Vec& z)> phi;  ///< empty: E_M = 0
};
EnergyCorrection energy_correction(const geometry::Manifold& manifold, dsm::Correction correction);

/// A density p(z) = exp(E_c(z, sigma) - log Z).
struct ModelDensity {
  double sigma = 0;
  dsm::Correction correction = dsm::Correction::none;
  numerics::LogNormaliser normaliser;
};
/// {sigma_eval, correction, log_normaliser, log_normaliser_error, normaliser_method, normaliser_evaluations,
/// normaliser_converged}: the density's part of `rbsm fit --json` and of a run's density.json.
nlohmann::json to_json(const ModelDensity& density);
/// The inverse of to_json (doubles round-trip exactly); throws IoError naming a missing or mistyped key.
ModelDensity model_density_from_json(const nlohmann::json& j);
/// log Z of the model at (sigma, correction).
ModelDensity model_density(FitModel& model, double sigma, dsm::Correction correction,
                           const numerics::CubatureOptions& cubature = {});
/// log p at rows of Z (nats, w.r.t. the Riemannian volume).
Vec log_density(FitModel& model, const ModelDensity& density, const Mat& Z);

/// sigma_eval: the level of `candidates` (default: every level <= sigma_max / 2) with the lowest mean
/// validation NLL. Two stages: every candidate's log Z to 1e-2 (screening), then, at `cubature.rel_tol`, every
/// candidate whose screened NLL minus twice its log Z error estimate is within reach of the best screened NLL
/// plus twice its own; the best of those is returned (with its log Z to `cubature.rel_tol`). With honest error
/// estimates this is the choice of evaluating every candidate at `cubature.rel_tol`, at a fraction of the cost.
/// `table` receives (sigma, val NLL) per candidate: to ~1e-2 nats for the screened-out ones.
/// `on_candidate(done, total)` is called after each screening and each refinement (there with done = total).
ModelDensity choose_sigma_eval(FitModel& model, const Mat& val, dsm::Correction correction,
                               const numerics::CubatureOptions& cubature,
                               std::vector<std::pair<double, double>>* table = nullptr,
                               const std::function<void(std::size_t done, std::size_t total)>& on_candidate = {});

struct SampleOptions {
  std::int64_t n = 1000;
  std::int64_t steps_per_level = 20;  ///< annealed Langevin steps per noise level
  double epsilon = 2e-5;              ///< step h_l = epsilon (sigma_l / sigma_min)^2 (Song & Ermon 2019)
  std::int64_t mala_steps = 200;      ///< MALA against the model density (energy models; 0: none)
  double mala_step = 0;               ///< 0: sigma_eval^2 / 2
  double sigma_eval = 0;              ///< MALA target's sigma (0: the smallest level)
  dsm::Correction correction = dsm::Correction::none;
  std::uint64_t seed = 0;
  int threads = 1;
};
struct SampleResult {
  Mat samples;                 ///< n x D on M
  double acceptance_rate = 1;  ///< MALA
};
/// Annealed Langevin on M down the noise levels (projected Euler-Maruyama, all chains batched), then
/// MALA against p at sigma_eval (energy models; mala_batched, drift s(z, sigma_eval), log target E_c).
/// Chain c draws from Rng(seed, c) (Langevin) and Rng(seed + 1, c) (MALA) only, so the samples depend
/// on the seed, never on `threads`.
/// A batched MALA target: for the rows of Z (on M), the unnormalised log p (n) and the proposal's drift
/// (n x D, tangent; MALA is exact for any drift, grad_M log p makes it efficient).
using BatchedLogTarget = std::function<void(const Mat& Z, Vec& log_p, Mat& drift)>;
/// MALA on M with every chain advanced together: one call of `target` per step for all chains' proposals,
/// accept/reject per chain. The proposal is the projection retraction y = pi(z + h b(z) + sqrt(2h) P_T xi)
/// with the Metropolis-Hastings ratio of sampling::run_langevin's generic MALA (docs/langevin.md §1.2;
/// a proposal without a unique reverse move is rejected). Chain c (row c of `initial`) draws its D normals
/// per step, then a uniform when log alpha < 0, from Rng(seed, c) alone: the result depends on the seed
/// only, never on `threads` (the pool of the per-chain geometry). Throws NumericalError for non-finite states.
SampleResult mala_batched(const geometry::Manifold& manifold, const BatchedLogTarget& target, const Mat& initial,
                          std::int64_t steps, double step_size, std::uint64_t seed, int threads = 1,
                          const std::function<void(std::int64_t done)>& on_step = {});

SampleResult sample_model(FitModel& model, const SampleOptions& options,
                          const std::function<void(std::int64_t done, std::int64_t total)>& progress = {});

}  // namespace rbsm::fit
