// The anatomy studies of an analytic field and of a trained score model (rbsm/anatomy/anatomy_study.hpp).
#include "rbsm/anatomy/anatomy_study.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/image.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/sampler.hpp"
#include "rbsm/nn/sde.hpp"
#include "rbsm/random.hpp"

namespace rbsm::anatomy {

torch::Tensor read_png_images(const std::vector<std::string>& paths, const nn::LoadedScoreModel& model) {
  std::vector<torch::Tensor> xs;
  for (const auto& p : paths) {
    int w = 0, h = 0;
    const auto px = io::read_png_gray(p, w, h);
    if (model.channels != 1 || h != model.height || w != model.width)
      throw InvalidArgument("--image " + p + ": a " + std::to_string(w) + "x" + std::to_string(h) +
                            " image, the model takes " + std::to_string(model.width) + "x" +
                            std::to_string(model.height) + " grayscale images");
    auto t = torch::empty({1, 1, h, w}, torch::kFloat32);
    auto* d = t.data_ptr<float>();
    for (std::size_t i = 0; i < px.size(); ++i) d[i] = px[i] / 255.0f;
    xs.push_back(t);
  }
  return nn::to_model_space(torch::cat(xs, 0));
}

bool local_dim_grows_as_t_decreases(const std::vector<AnatomySlice>& slices) {
  std::vector<std::pair<double, double>> tm;
  for (const auto& s : slices) tm.emplace_back(s.t, local_dim_mean_sd(s).first);
  std::sort(tm.begin(), tm.end());
  for (std::size_t i = 1; i < tm.size(); ++i)
    if (!(tm[i - 1].second >= tm[i].second)) return false;
  return true;
}

nlohmann::json field_anatomy_study(const std::string& spec, std::int64_t points, const AnatomyOptions& options,
                                   ReportOptions report, std::uint64_t seed, const std::filesystem::path& dir) {
  const auto f = make_analytic_field(spec);
  if (points < 1) throw InvalidArgument("--points " + std::to_string(points) + ", expected >= 1");
  Rng rng(seed, 0);
  const auto x = f.sample_points(static_cast<int>(points), rng);
  io::Progress bar("anatomy", points);
  const auto slice = analyze_points(f.field, 0.0, x, options, [&](std::int64_t i) { bar.update(i); });
  bar.finish();
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(f.field.dim))));
  if (side * side == f.field.dim) report.image_height = report.image_width = side;
  report.kappa = options.kappa;
  report.time_label = "field";
  const auto written = write_anatomy_report(dir, {slice}, report);
  const auto& s = written.summary.at(0);
  nlohmann::json sv = nlohmann::json::array(), cs = nlohmann::json::array();
  for (const auto& p : slice.anatomy) {
    sv.push_back(std::vector<double>(p.s.data(), p.s.data() + p.s.size()));
    cs.push_back(std::vector<double>(p.cos_uv.data(), p.cos_uv.data() + p.cos_uv.size()));
  }
  return {{"field", spec},
          {"sigma", f.field.sigma},
          {"points", points},
          {"kappa", options.kappa},
          {"true_local_dim", f.true_local_dim},
          {"local_dim", s["local_dim"]},
          {"singular_values", sv},
          {"cos_uv", cs},
          {"phi_at_r", s["phi_at_r"]},
          {"seconds_per_point", s["seconds_per_point"]}};
}

nlohmann::json checkpoint_anatomy_study(const nn::LoadedScoreModel& model, const torch::Tensor& given,
                                        const CheckpointAnatomyOptions& options, const std::filesystem::path& dir,
                                        const std::function<void(const std::string&)>& log) {
  const bool sample = !given.defined();
  if (sample && options.images < 1)
    throw InvalidArgument("--images " + std::to_string(options.images) + ", expected >= 1");
  const std::int64_t n = sample ? options.images : given.size(0);
  std::unique_ptr<io::Progress> bar, sbar;  // made on first use, so each bar's rate and ETA are its own
  auto progress = [&](std::int64_t done, std::int64_t total) {
    if (sbar) sbar->finish();
    if (!bar) bar = std::make_unique<io::Progress>("anatomy: Jacobian + SVD + eigen", total);
    bar->update(done);
  };
  std::vector<AnatomySlice> slices;
  if (sample) {
    TrajectoryAnatomyOptions to;
    to.times = options.times;
    to.images = options.images;
    to.sampler.kind(nn::parse_sampler(options.sampler)).steps(options.steps);
    to.anatomy = options.anatomy;
    if (log) {
      std::string times;
      for (double t : options.times) times += (times.empty() ? "" : ",") + io::format_double(t);
      log("anatomy: sampling " + std::to_string(n) + " images (" + options.sampler + ", " +
          std::to_string(options.steps) + " steps), keeping x_t at " + times);
    }
    to.on_sample_step = [&](std::int64_t done, std::int64_t total) {
      if (!sbar) sbar = std::make_unique<io::Progress>("anatomy: sampling", total);
      sbar->update(done);
    };
    slices = trajectory_anatomy(model, to, options.seed, progress);
  } else {
    slices = image_anatomy(model, given, options.times, options.anatomy, options.seed, progress);
  }
  if (bar) bar->finish();
  ReportOptions ro = options.report;
  ro.image_height = static_cast<int>(model.height);
  ro.image_width = static_cast<int>(model.width);
  ro.kappa = options.anatomy.kappa;
  const auto report = write_anatomy_report(dir, slices, ro);
  nlohmann::json per_time = nlohmann::json::array(), figures = nlohmann::json::array();
  for (std::size_t k = 0; k < slices.size(); ++k) per_time.push_back(report.summary.at(k));
  for (const auto& f : report.figures) figures.push_back(f.string());
  return {{"images", n},
          {"kappa", options.anatomy.kappa},
          {"times", per_time},
          {"local_dim_grows_as_t_decreases", local_dim_grows_as_t_decreases(slices)},
          {"figures", figures}};
}

}  // namespace rbsm::anatomy
