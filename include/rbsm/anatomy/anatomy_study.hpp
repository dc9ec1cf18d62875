#pragma once
/// The studies of `rbsm anatomy` and the reproduce experiment "anatomy" (docs/anatomy.md §6): the
/// Jacobian anatomy of an analytic field at points drawn from its distribution, or of a trained score
/// model at x_t along sampled trajectories (or of given PNG digits noised to each t), with the report of
/// report.hpp written into a folder. Progress bars go to stderr.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "rbsm/anatomy/report.hpp"
#include "rbsm/nn/checkpoint.hpp"

namespace rbsm::anatomy {

/// Grayscale PNGs of the model's size as one batch [n, 1, h, w] in model space (nn::to_model_space).
/// Throws InvalidArgument naming a file of another size (or a model that does not take grayscale images).
torch::Tensor read_png_images(const std::vector<std::string>& paths, const nn::LoadedScoreModel& model);

/// Whether the mean local dimension increases as t decreases (slices in any order of t).
bool local_dim_grows_as_t_decreases(const std::vector<AnatomySlice>& slices);

/// An analytic field (make_analytic_field spec) at `points` draws from its distribution (Rng(seed, 0)),
/// analysed at t = 0; the report goes into `dir` (Figure 2 when D is a square). Returns {field, sigma,
/// points, kappa, true_local_dim, local_dim, singular_values, cos_uv, phi_at_r, seconds_per_point}.
nlohmann::json field_anatomy_study(const std::string& spec, std::int64_t points, const AnatomyOptions& options,
                                   ReportOptions report, std::uint64_t seed, const std::filesystem::path& dir);

struct CheckpointAnatomyOptions {
  std::vector<double> times{0.01, 0.03, 0.05, 0.15, 0.3};
  std::int64_t images = 128;   ///< sampled images (when no images are given)
  std::string sampler = "em";  ///< em | pc | ode
  std::int64_t steps = 1000;   ///< sampler steps
  AnatomyOptions anatomy;
  ReportOptions report;  ///< image size set from the model
  std::uint64_t seed = 0;
};

/// The model at x_t of `images` sampled trajectories, or of the given clean images `given` ([n, 1, h, w]
/// in model space; undefined: sample) noised to each t; the report goes into `dir`. `log` gets a line
/// before sampling. Returns {images, kappa, times (per-slice summaries), local_dim_grows_as_t_decreases,
/// figures}.
nlohmann::json checkpoint_anatomy_study(const nn::LoadedScoreModel& model, const torch::Tensor& given,
                                        const CheckpointAnatomyOptions& options, const std::filesystem::path& dir,
                                        const std::function<void(const std::string&)>& log = {});

}  // namespace rbsm::anatomy
