#pragma once
/// The regression study of `rbsm regress` and the reproduce experiment "regress" (the source document's
/// bottom panel; docs/langevin.md §4). For each training-set size n and seed, an MLP (nn/mlp.hpp) is fitted
/// by DSM to n noisy samples y_i = pi(Z_i + sigma xi_i) of q (dsm::sample_pairs) with
///  (a) the raw tangent targets T_i = P_T(y_i)(Z_i - y_i)/sigma^2 (dsm::tangent_target) and
///  (b) Rao-Blackwellized targets r_hat(y_i) estimated from the training set itself (the self-normalised
///      estimator of SPEC.md, dsm::RbEstimator: all n references, or K-fold cross-fitting).
/// Test error: relative mean squared error against the exact r_sigma (sampling::rb_field) on fresh points.
/// Then the factor of samples RB saves to reach the raw error at the largest n (log-log interpolation
/// along the RB curve), and optionally Langevin with the largest models, raw and corrected.
///
/// Seeds: everything is drawn from streams of `seed` (Rng(seed, stream)): the test set from stream 0,
/// the training set of (n, repetition s) from stream 1 + n 2^20 + s, each fit from a stream of that.
/// The header does not include LibTorch.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rbsm/geometry/manifold.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/table.hpp"

namespace rbsm::nn {

struct RegressionStudyOptions {
  std::string manifold = "sphere:2", dist = "vmf:kappa=2";
  double sigma = 0.1;
  std::vector<int> samples{256, 1024, 4096, 16384};  ///< training-set sizes (sorted by the study)
  int seeds = 3;                                     ///< repetitions per size (error bars)
  int test = 2000;                                   ///< fresh test points
  int langevin_chains = 200, langevin_steps = 1000;  ///< learned-drift equilibria (chains 0: skip)
  std::string rb_refs = "all";  ///< references of each RB target: "all" (own Z_i included) or "crossfit"
  // the MLP fit (nn::RegressionOptions)
  std::int64_t steps = 2000, batch = 256, hidden = 64, layers = 3;
  double lr = 2e-3;
  std::uint64_t seed = 0;
  int threads = 0;
  /// Throws InvalidArgument naming the bad value (the CLI's option names).
  void validate() const;
  /// Everything needed to rerun (config.json of `rbsm regress`).
  nlohmann::json to_json() const;
};

/// Mean and standard error over the seeds, one entry per training-set size.
struct RegressionCurve {
  std::vector<double> mean, se;
};

/// Training-set size at which a decreasing error curve reaches `target`: log-log interpolation between
/// the two sizes that bracket it; the smallest size (lower_bound = true) if the curve starts at or below
/// it; NaN if it never gets there. factor = samples.back() / n.
struct SampleFactor {
  double n = 0, factor = 0;
  bool lower_bound = false;
};
SampleFactor samples_to_reach(const std::vector<int>& samples, const std::vector<double>& curve, double target);

/// RB targets at the rows of Y from the references Z (the rows of one training set): folds = 1: every
/// target from all n references (its own Z_i included); folds = K > 1: K-fold cross-fitting (row i is in
/// fold i mod K; fold k's targets from the other folds).
geometry::Mat rb_training_targets(std::shared_ptr<const geometry::Manifold> manifold, const geometry::Mat& Z,
                                  const geometry::Mat& Y, double sigma, int folds, int threads = 0);

struct RegressionStudy {
  std::vector<int> samples;  ///< sorted
  RegressionCurve raw, rb;   ///< relative test MSE
  double target = 0;         ///< raw error at the largest n
  SampleFactor factor;       ///< RB's samples to reach `target`
  /// One row per (n, method, seed): n, method, seed, relative_test_mse, final_train_loss, target_mse_vs_exact.
  io::Table metrics{{"n", "method", "seed", "relative_test_mse", "final_train_loss", "target_mse_vs_exact"}};
  io::Panel panel;         ///< error against n, both curves, log-log
  nlohmann::json summary;  ///< summary.json of `rbsm regress` (with "langevin" when chains > 0)
};

/// Runs the study; writes model_raw.pt and model_rb.pt (largest n, first seed; atomic) into `dir` (which
/// must exist). `log` gets one line per fit.
RegressionStudy regression_study(const RegressionStudyOptions& options, const std::filesystem::path& dir,
                                 const std::function<void(const std::string&)>& log = {});

}  // namespace rbsm::nn
