#pragma once
/// A user's PyTorch model, exported with torch.jit.trace / torch.jit.script, as the score field of the
/// anatomy and LID pipelines (docs/anatomy.md §11, docs/python.md §7).
///
/// The module's forward takes (x, t): x [n, C, H, W] (the model's input shape, any rank), t [n], and
/// returns a tensor of x's shape, read as one of three parametrisations of the noise-level-t marginal
/// x_t = alpha_t x_0 + sigma_t eps of a noise schedule:
///   score   s(x, t) = the output                                  (~ grad_x log p_t(x))
///   eps     s(x, t) = -eps_theta(x, t) / sigma_t                  (noise prediction)
///   x0      s(x, t) = (alpha_t x0_theta(x, t) - x) / sigma_t^2    (denoiser, Tweedie)
/// Schedules: vp, rbsm's VP-SDE (nn/sde.hpp: beta(t) = 0.1 + 19.9 t, alpha_t = exp(-B(t)/2),
/// sigma_t^2 = 1 - alpha_t^2), and ve, the variance-exploding SDE of Song et al. (alpha_t = 1,
/// sigma_t = sigma_min (sigma_max / sigma_min)^t, sigma_min = 0.01, sigma_max = 50 unless given).
/// The field works on flattened points x [n, D], D = C H W, so the Jacobian, SVD / eigen, local-dimension
/// and LID code runs unchanged. Points are drawn by the model's own reverse SDE (Euler-Maruyama: for vp
/// the sampler of nn/sampler.hpp, for ve dx = -g^2 s dt + g dw, g^2 = d sigma_t^2 / dt, x_1 ~ N(0, sigma_max^2)).
/// This header does not include torch/script.h (the module lives behind a pointer).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "rbsm/anatomy/analysis.hpp"
#include "rbsm/anatomy/lid.hpp"
#include "rbsm/anatomy/report.hpp"
#include "rbsm/anatomy/score_field.hpp"
#include "rbsm/nn/sampler.hpp"
#include "rbsm/nn/sde.hpp"

namespace rbsm::anatomy {

/// What the module outputs. parse_parametrisation throws InvalidArgument for anything but "score", "eps", "x0".
enum class Parametrisation { Score, Eps, X0 };
Parametrisation parse_parametrisation(const std::string& text);
std::string to_string(Parametrisation p);

/// The noise schedule x_t = alpha_t x_0 + sigma_t eps the module was trained for.
struct NoiseSchedule {
  enum class Kind { VP, VE };
  Kind kind = Kind::VP;
  nn::VPSDE vp;                                     ///< vp: rbsm's beta(t) = 0.1 + 19.9 t
  double ve_sigma_min = 0.01, ve_sigma_max = 50.0;  ///< ve: sigma_t = sigma_min (sigma_max / sigma_min)^t

  double alpha(double t) const;  ///< vp: exp(-B(t)/2); ve: 1
  double sigma(double t) const;  ///< vp: sqrt(1 - alpha_t^2); ve: sigma_min (sigma_max / sigma_min)^t
  /// The t in (0, 1] with sigma(t) = s; throws InvalidArgument naming the range for s outside (sigma(0), sigma(1)].
  double time_of_sigma(double s) const;
  std::string name() const;  ///< "vp" | "ve"
  /// Throws InvalidArgument for a bad VP SDE or ve sigmas not 0 < sigma_min < sigma_max (finite).
  void validate() const;
};
/// "vp" | "ve" (with default constants); throws InvalidArgument otherwise.
NoiseSchedule parse_schedule(const std::string& text);

/// "1,28,28" -> {1, 28, 28}: one or more positive integers (product <= 2^26); throws InvalidArgument naming the text.
std::vector<std::int64_t> parse_input_shape(const std::string& text);

struct TorchScriptOptions {
  Parametrisation parametrisation = Parametrisation::Score;
  NoiseSchedule schedule;
  std::vector<std::int64_t> input_shape;  ///< per-point shape, e.g. {1, 28, 28} (required)
};

/// A loaded TorchScript model with its parametrisation and schedule. Copies share the module.
/// Evaluation is in the module's dtype (that of its first floating-point parameter or buffer; float32
/// if it has none, as a trace with the weights folded into constants) on the CPU; results come back in
/// the caller's dtype. Every evaluation checks the output: a non-tensor, a shape other than the input's,
/// or a non-finite value is an InvalidArgument / NumericalError naming the model and the time.
class TorchScriptModel {
 public:
  /// Loads MODEL.pt (torch.jit.save / ScriptModule.save). On load the module is run once on a batch of
  /// two zero points at t = 0.5 to check the signature (x, t) -> tensor of x's shape. Throws IoError for
  /// a missing file or one that is not a TorchScript archive, InvalidArgument for a bad input shape, a
  /// forward that does not take (x, t) or returns the wrong shape, NumericalError for non-finite output.
  static TorchScriptModel load(const std::filesystem::path& path, const TorchScriptOptions& options);
  /// The same from the bytes of an archive (Python: ScriptModule.save to a buffer); `name` appears in messages.
  static TorchScriptModel load_bytes(const std::string& bytes, const std::string& name,
                                     const TorchScriptOptions& options);

  std::int64_t dim() const { return dim_; }  ///< D = product of input_shape
  const TorchScriptOptions& options() const { return options_; }
  const std::string& name() const { return name_; }
  torch::ScalarType dtype() const { return dtype_; }

  /// The module's raw output on flattened points: x [n, D], t [n] -> [n, D] (differentiable in x).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t) const;
  /// s(x, t) from the output by the parametrisation (x [n, D], t [n]), in x's dtype, differentiable in x.
  torch::Tensor score(const torch::Tensor& x, const torch::Tensor& t) const;

  /// The field x -> s(x, t) at one time (sigma = sigma_t of the schedule), for analyze_point(s).
  ScoreField field(double t) const;
  /// The model as a time-conditioned score for the LID estimators (lid.hpp), with the schedule's alpha_t, sigma_t.
  TimeScoreModel time_score() const;

  /// Points drawn by the model's reverse SDE (Euler-Maruyama, `steps` steps from t = 1 to t = eps = 1e-3),
  /// flattened [n, D] float64 on the CPU; snapshots x_t at `snapshot_times` (each snapped to the nearest
  /// grid time, as nn::sample does) go to `trajectory` if given. Depends on the seed only: the generator is
  /// seeded as nn::sample_images seeds its single batch, so for vp an exported rbsm U-Net draws the same
  /// points as `rbsm anatomy --checkpoint` with the same seed.
  torch::Tensor sample(std::int64_t n, std::int64_t steps, std::uint64_t seed,
                       const std::vector<double>& snapshot_times = {}, nn::Trajectory* trajectory = nullptr,
                       const std::function<void(std::int64_t)>& on_step = {}) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  TorchScriptOptions options_;
  std::string name_;
  std::int64_t dim_ = 0;
  torch::ScalarType dtype_ = torch::kFloat32;
  void check_and_init();
};

/// The anatomy (analysis.hpp: Jacobian, SVD / eigen, local dimension, cosines, overlaps) of the model at
/// each of `times`: of the given `points` ([n, D], analysed as x_t at every time) or, if `points` is
/// undefined, of x_t along `n` trajectories of the model's reverse SDE (`steps` steps; snapshots snapped
/// to the grid as in nn::sample, AnatomySlice::t the grid time, requested_t the time asked for).
/// `progress(done, total)` counts analysed points, `on_sample_step(done, total)` sampler steps.
std::vector<AnatomySlice> torchscript_anatomy(
    const TorchScriptModel& model, const std::vector<double>& times, const torch::Tensor& points, std::int64_t n,
    std::int64_t steps, const AnatomyOptions& options, std::uint64_t seed,
    const std::function<void(std::int64_t, std::int64_t)>& progress = {},
    const std::function<void(std::int64_t, std::int64_t)>& on_sample_step = {});

/// Reads points for --points FILE: a CSV/TSV/whitespace table or a .npy file (data::read_table) with
/// `dim` columns (flattened C H W), as [n, dim] float64. Throws IoError / InvalidArgument naming the file.
torch::Tensor read_points_file(const std::filesystem::path& path, std::int64_t dim);

}  // namespace rbsm::anatomy
