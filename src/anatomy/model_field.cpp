#include "rbsm/anatomy/model_field.hpp"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "rbsm/anatomy/measures.hpp"
#include "rbsm/error.hpp"
#include "rbsm/nn/unet.hpp"
#include "rbsm/random.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::anatomy {
namespace {
void check_time(double t) {
  if (!(t > 0 && t <= 1)) throw InvalidArgument("time t = " + std::to_string(t) + ", expected 0 < t <= 1");
}
std::string shape_text(const nn::LoadedScoreModel& m) {
  return "[n, " + std::to_string(m.channels) + ", " + std::to_string(m.height) + ", " + std::to_string(m.width) + "]";
}
torch::ScalarType model_dtype(const nn::LoadedScoreModel& m) {
  for (const auto& p : m.net->parameters()) return p.scalar_type();
  return torch::kFloat32;
}
}  // namespace

ScoreField model_score_field(const nn::LoadedScoreModel& model, double t) {
  check_time(t);
  if (!model.net) throw InvalidArgument("model_score_field: no network loaded");
  ScoreField f;
  const std::int64_t c = model.channels, h = model.height, w = model.width;
  f.dim = c * h * w;
  f.sigma = model.sde.sigma(t);
  f.description = "score model at t=" + std::to_string(t);
  const auto dtype = model_dtype(model);
  const nn::LoadedScoreModel* m = &model;
  f.score = [m, t, c, h, w, dtype](const torch::Tensor& x) {
    const auto xi = x.to(m->device, dtype).reshape({x.size(0), c, h, w});
    return m->score(xi, t).reshape({x.size(0), c * h * w}).to(x.device(), x.scalar_type());
  };
  return f;
}

TimeScoreModel model_time_score(const nn::LoadedScoreModel& model) {
  if (!model.net) throw InvalidArgument("model_time_score: no network loaded");
  TimeScoreModel m;
  const std::int64_t c = model.channels, h = model.height, w = model.width;
  m.dim = c * h * w;
  m.sde = model.sde;
  m.dtype = model_dtype(model);
  m.description = "score model (" + shape_text(model) + ")";
  const nn::LoadedScoreModel* p = &model;
  m.score = [p, c, h, w, dtype = m.dtype](const torch::Tensor& x, const torch::Tensor& t) {
    const auto xi = x.to(p->device, dtype).reshape({x.size(0), c, h, w});
    return p->score(xi, t.to(p->device, dtype)).reshape({x.size(0), c * h * w}).to(x.device(), x.scalar_type());
  };
  return m;
}

torch::Tensor flatten_images(const nn::LoadedScoreModel& model, const torch::Tensor& images) {
  const std::int64_t c = model.channels, h = model.height, w = model.width;
  if (images.dim() != 4 || images.size(1) != c || images.size(2) != h || images.size(3) != w)
    throw InvalidArgument("image of shape " + std::string(c10::str(images.sizes())) + ", the model takes " +
                          shape_text(model));
  return images.reshape({images.size(0), c * h * w});
}

std::vector<double> parse_times(const std::string& text) {
  const Eigen::VectorXd v = parse_vector(text, "--times");
  std::vector<double> times(v.data(), v.data() + v.size());
  if (times.empty()) throw InvalidArgument("--times: no times given, expected e.g. 0.01,0.03,0.05,0.15,0.3");
  for (double t : times) check_time(t);
  auto sorted = times;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw InvalidArgument("--times '" + text + "': repeated time");
  return times;
}

std::vector<AnatomySlice> trajectory_anatomy(const nn::LoadedScoreModel& model, const TrajectoryAnatomyOptions& o,
                                             std::uint64_t seed,
                                             const std::function<void(std::int64_t, std::int64_t)>& progress) {
  check_kappa(o.anatomy.kappa);
  if (o.images < 1) throw InvalidArgument("--images " + std::to_string(o.images) + ", expected >= 1");
  for (double t : o.times) check_time(t);
  nn::SamplerOptions sampler = o.sampler;
  sampler.snapshot_times(o.times);
  nn::Trajectory trajectory;
  nn::sample_images(model, o.images, sampler, seed, &trajectory, o.sample_batch, o.on_sample_step);
  std::vector<AnatomySlice> slices;
  const std::int64_t total = o.images * static_cast<std::int64_t>(o.times.size());
  for (std::size_t k = 0; k < trajectory.times.size(); ++k) {
    const double t = trajectory.times[k];
    const auto field = model_score_field(model, t);
    const auto points = flatten_images(model, trajectory.states[k]);
    const std::int64_t offset = static_cast<std::int64_t>(k) * o.images;
    slices.push_back(analyze_points(field, t, points, o.anatomy, [&](std::int64_t i) {
      if (progress) progress(offset + i, total);
    }));
    if (k < trajectory.requested_times.size()) slices.back().requested_t = trajectory.requested_times[k];
  }
  return slices;
}

std::vector<AnatomySlice> image_anatomy(const nn::LoadedScoreModel& model, const torch::Tensor& x0,
                                        const std::vector<double>& times, const AnatomyOptions& options,
                                        std::uint64_t seed,
                                        const std::function<void(std::int64_t, std::int64_t)>& progress) {
  check_kappa(options.kappa);
  const auto flat = flatten_images(model, x0).to(torch::kFloat64).cpu();
  const std::int64_t n = flat.size(0), D = flat.size(1);
  // eps_i ~ N(0, I) from Rng(seed, i): the same noise for image i at every time (one trajectory of
  // the forward process per image, as in the sampled case).
  auto eps = torch::empty({n, D}, torch::kFloat64);
  for (std::int64_t i = 0; i < n; ++i) {
    Rng rng(seed, static_cast<std::uint64_t>(i));
    auto* e = eps[i].data_ptr<double>();
    for (std::int64_t j = 0; j < D; ++j) e[j] = rng.normal();
  }
  std::vector<AnatomySlice> slices;
  for (std::size_t k = 0; k < times.size(); ++k) {
    const double t = times[k];
    check_time(t);
    const auto field = model_score_field(model, t);
    const auto xt = model.sde.alpha(t) * flat + model.sde.sigma(t) * eps;
    const std::int64_t offset = static_cast<std::int64_t>(k) * n;
    slices.push_back(analyze_points(field, t, xt.to(torch::kFloat32), options, [&](std::int64_t i) {
      if (progress) progress(offset + i, n * static_cast<std::int64_t>(times.size()));
    }));
  }
  return slices;
}

}  // namespace rbsm::anatomy
