#pragma once
/// The local-intrinsic-dimension benchmark (docs/anatomy.md "Local intrinsic dimension benchmark"):
/// a small time-conditioned MLP noise predictor trained by denoising score matching on samples of an
/// embedded manifold (lid_data.hpp), and the three estimators of lid.hpp run on held-out points.
///
/// The model and its training: nn/time_mlp.hpp.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <torch/torch.h>

#include "rbsm/anatomy/lid.hpp"
#include "rbsm/anatomy/lid_data.hpp"
#include "rbsm/nn/time_mlp.hpp"

namespace rbsm::anatomy {

// The network and its training loop live in nn/time_mlp.hpp; their names here, as the LID code uses them.
using nn::kTimeFeatures;
using nn::parse_time_mlp_param;
using nn::TimeMLP;
using nn::TimeMLPImpl;
using nn::TimeMLPParam;
using nn::TimeMLPTrainOptions;
using nn::to_string;
using nn::train_time_mlp;
using nn::TrainedTimeMLP;

/// The trained model as a TimeScoreModel: s(x, t) = -eps_theta(x, t) / sigma_t.
TimeScoreModel time_mlp_score(const TimeMLP& model, const std::string& description);

struct LidMethodResult {
  LidMethod method = LidMethod::SingularValue;
  std::vector<double> estimates;  ///< per point (FLIPD: real-valued)
  std::vector<int> truth;         ///< per point (empty if unknown)
  double mae = 0;                 ///< mean |estimate - truth| (NaN if truth is unknown)
  double mean_estimate = 0;
  double sd_estimate = 0;
  double seconds_per_point = 0;
};

/// Runs the three estimators on each row of `points` (n x D); `truth` may be empty. Point i draws its
/// normal-bundle noise and Hutchinson probes from Rng(seed, i) (independent of the method order).
/// `progress(done, total)` counts (point, method) evaluations.
std::vector<LidMethodResult> evaluate_lid(const TimeScoreModel& model, const Eigen::MatrixXd& points,
                                          const std::vector<int>& truth, const LidOptions& options, std::uint64_t seed,
                                          const std::function<void(std::int64_t, std::int64_t)>& progress = {});

struct LidBenchOptions {
  std::int64_t train_points = 8192;  ///< size of the training set
  std::int64_t points = 32;          ///< held-out points the estimators are run at
  TimeMLPTrainOptions train;
  LidOptions lid;
  void validate() const;  ///< throws InvalidArgument for points < 1, train_points < 1, bad train/lid options
};

struct LidBenchResult {
  std::string spec, label;
  std::int64_t ambient_dim = 0;
  double mean_true_dim = 0;
  double final_loss = 0, train_seconds = 0;
  std::vector<LidMethodResult> methods;
};

/// One manifold: draw the isometry, training set and held-out points from `seed`, train, evaluate.
LidBenchResult run_lid_benchmark(const std::string& spec, const LidBenchOptions& options, std::uint64_t seed,
                                 const std::function<void(std::int64_t, double)>& on_train_step = {},
                                 const std::function<void(std::int64_t, std::int64_t)>& on_eval = {});

}  // namespace rbsm::anatomy
