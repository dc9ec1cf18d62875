#pragma once
/// A trained VP-SDE score model (rbsm::nn::LoadedScoreModel) as a ScoreField at a fixed time, and
/// the checkpoint anatomy of score-models-learn-manifold-structure §3: sample images with the
/// Euler-Maruyama sampler, keep x_t at chosen times, analyse the Jacobian at each (docs/anatomy.md §6).
#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "rbsm/anatomy/analysis.hpp"
#include "rbsm/anatomy/lid.hpp"
#include "rbsm/anatomy/report.hpp"
#include "rbsm/anatomy/score_field.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/sampler.hpp"

namespace rbsm::anatomy {

/// g(x) = s_theta(x, t) on flattened images: x [B, D] with D = c * h * w (model space), evaluated in
/// the model's dtype on its device; sigma = sigma_t of the model's SDE. Throws InvalidArgument for t
/// outside (0, 1].
ScoreField model_score_field(const nn::LoadedScoreModel& model, double t);

/// The model as a time-conditioned score on flattened images (x [n, D], t [n]; D = c * h * w), for the
/// local-dimension estimators of lid.hpp. Evaluated in the model's dtype on its device; the result has
/// x's dtype and device. The model must outlive the returned object's score.
TimeScoreModel model_time_score(const nn::LoadedScoreModel& model);

/// Flattens images [n, c, h, w] of the model's shape to [n, c * h * w]; throws InvalidArgument naming
/// the shape (e.g. an image of the wrong size) otherwise.
torch::Tensor flatten_images(const nn::LoadedScoreModel& model, const torch::Tensor& images);

/// Parses "0.01,0.03,0.05" into times; throws InvalidArgument unless each is in (0, 1] and they are distinct.
std::vector<double> parse_times(const std::string& text);

struct TrajectoryAnatomyOptions {
  std::vector<double> times{0.01, 0.03, 0.05, 0.15, 0.3};  ///< the document's five times
  std::int64_t images = 128;
  nn::SamplerOptions sampler;  ///< its snapshot_times are set to `times`
  std::int64_t sample_batch = 0;
  AnatomyOptions anatomy;
  std::function<void(std::int64_t, std::int64_t)> on_sample_step;  ///< sampler progress (done, total)
};

/// Samples `images` images (seeded), keeps x_t at every time, and analyses each x_t under
/// s_theta(., t). Slices are returned in the order of `times`. `progress(done, total)` counts
/// analysed points.
std::vector<AnatomySlice> trajectory_anatomy(const nn::LoadedScoreModel& model, const TrajectoryAnatomyOptions& options,
                                             std::uint64_t seed,
                                             const std::function<void(std::int64_t, std::int64_t)>& progress = {});

/// Analyses given clean images x_0 ([n, c, h, w] in model space) at each time: x_t = alpha_t x_0 +
/// sigma_t eps, eps drawn from Rng(seed, image) (so results do not depend on the order).
std::vector<AnatomySlice> image_anatomy(const nn::LoadedScoreModel& model, const torch::Tensor& x0,
                                        const std::vector<double>& times, const AnatomyOptions& options,
                                        std::uint64_t seed,
                                        const std::function<void(std::int64_t, std::int64_t)>& progress = {});

}  // namespace rbsm::anatomy
