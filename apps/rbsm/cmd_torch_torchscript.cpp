// TorchScript models in rbsm anatomy / lid-bench (--torchscript MODEL.pt; the options are added by the two
// commands through torchscript_cli.hpp), and `rbsm export-torchscript`, which writes rbsm's own U-Net as a
// TorchScript archive (docs/anatomy.md §11, docs/python.md "TorchScript").
#include <cmath>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "torchscript_cli.hpp"

#include "rbsm/anatomy/lid_bench.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/anatomy/report.hpp"
#include "rbsm/anatomy/torchscript_field.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/nn/torchscript_export.hpp"
#include "rbsm/random.hpp"

namespace rbsm::cli {

namespace {

anatomy::TorchScriptOptions model_options(const TorchScriptArgs& ts) {
  anatomy::TorchScriptOptions o;
  o.parametrisation = anatomy::parse_parametrisation(ts.parametrisation);
  o.schedule = anatomy::parse_schedule(ts.schedule);
  o.schedule.ve_sigma_min = ts.ve_sigma_min;
  o.schedule.ve_sigma_max = ts.ve_sigma_max;
  o.schedule.validate();
  if (ts.input_shape.empty()) throw InvalidArgument("--input-shape C,H,W is required with --torchscript");
  o.input_shape = anatomy::parse_input_shape(ts.input_shape);
  return o;
}

bool sigma_given(const TorchScriptArgs& ts) { return ts.sigma_option && ts.sigma_option->count() > 0; }

/// The time of --sigma (refusing --times / --t beside it), or nothing.
std::optional<double> time_of_sigma(const TorchScriptArgs& ts, const anatomy::NoiseSchedule& schedule,
                                    const std::string& times_name) {
  if (!sigma_given(ts)) return std::nullopt;
  if (ts.times_option && ts.times_option->count() > 0)
    throw InvalidArgument("give --sigma or " + times_name + ", not both");
  if (!(ts.sigma > 0) || !std::isfinite(ts.sigma))
    throw InvalidArgument("--sigma " + std::to_string(ts.sigma) + ", expected > 0");
  return schedule.time_of_sigma(ts.sigma);
}

json model_json(const TorchScriptArgs& ts, const anatomy::TorchScriptModel& m) {
  return {{"torchscript", ts.model},
          {"parametrisation", anatomy::to_string(m.options().parametrisation)},
          {"schedule", m.options().schedule.name()},
          {"input_shape", m.options().input_shape},
          {"ambient_dim", m.dim()},
          {"dtype", std::string(c10::toString(m.dtype()))}};
}

json config_json(const TorchScriptArgs& ts, const std::string& command, const Common& common) {
  return {{"command", command},
          {"torchscript", ts.model},
          {"input_shape", ts.input_shape},
          {"parametrisation", ts.parametrisation},
          {"schedule", ts.schedule},
          {"sigma", ts.sigma},
          {"ve_sigma_min", ts.ve_sigma_min},
          {"ve_sigma_max", ts.ve_sigma_max},
          {"points", ts.points_text},
          {"sample_steps", ts.sample_steps},
          {"seed", common.seed}};
}

}  // namespace

void add_torchscript_options(CLI::App& app, TorchScriptArgs& a, const std::string& times_name, bool sample_steps) {
  app.add_option("--torchscript", a.model,
                 "a TorchScript model (torch.jit.trace/script, then .save): forward(x, t) -> score, eps or x0 "
                 "of x's shape");
  app.add_option("--input-shape", a.input_shape, "with --torchscript: the shape of one point, e.g. 1,28,28");
  app.add_option("--parametrisation", a.parametrisation, "with --torchscript: what forward returns: score | eps | x0")
      ->capture_default_str();
  app.add_option("--schedule", a.schedule,
                 "with --torchscript: vp (rbsm's beta(t) = 0.1 + 19.9 t) | ve (sigma_t = sigma_min (sigma_max / "
                 "sigma_min)^t, alpha_t = 1)")
      ->capture_default_str();
  a.sigma_option =
      app.add_option("--sigma", a.sigma,
                     "with --torchscript: analyse at the time t with sigma_t = SIGMA (instead of " + times_name + ")");
  app.add_option("--ve-sigma-min", a.ve_sigma_min, "with --schedule ve: sigma_min")->capture_default_str();
  app.add_option("--ve-sigma-max", a.ve_sigma_max, "with --schedule ve: sigma_max")->capture_default_str();
  if (sample_steps) {
    app.add_option("--sample-steps", a.sample_steps,
                   "with --torchscript and no --points FILE: reverse-SDE steps drawing the points")
        ->capture_default_str();
    app.add_option("--sample-points", a.sample_points,
                   "with --torchscript and no --points FILE: number of points drawn by the reverse SDE")
        ->capture_default_str();
  }
  a.times_option = app.get_option_no_throw(times_name);
}

std::int64_t points_count(const TorchScriptArgs& a, std::int64_t fallback) {
  if (a.points_text.empty()) return fallback;
  const auto& s = a.points_text;
  const std::size_t digits = s[0] == '-' ? 1 : 0;  // a negative count is refused by the command's own check
  if (s.size() == digits || s.size() > 12 || s.find_first_not_of("0123456789", digits) != std::string::npos)
    throw InvalidArgument("--points '" + s + "': expected a count (a points FILE only with --torchscript)");
  return std::stoll(s);
}

json run_torchscript_anatomy(const TorchScriptArgs& ts, const TorchScriptAnatomyArgs& a,
                             const anatomy::AnatomyOptions& options, const Common& common) {
  const auto mo = model_options(ts);
  std::vector<double> times;
  if (const auto t = time_of_sigma(ts, mo.schedule, "--times"))
    times = {*t};
  else
    times = anatomy::parse_times(a.times);
  if (ts.points_text.empty() && a.images < 1)
    throw InvalidArgument("--images " + std::to_string(a.images) + ", expected >= 1");
  if (ts.points_text.empty() && a.steps < 1)
    throw InvalidArgument("--steps " + std::to_string(a.steps) + ", expected >= 1");
  const auto model = anatomy::TorchScriptModel::load(ts.model, mo);
  torch::Tensor points;
  if (!ts.points_text.empty()) points = anatomy::read_points_file(ts.points_text, model.dim());
  apply_threads(common);
  json config = config_json(ts, "anatomy", common);
  config.update({{"times", times},
                 {"images", a.images},
                 {"steps", a.steps},
                 {"kappa", a.kappa},
                 {"chunk", options.jacobian.chunk},
                 {"linalg", a.linalg}});
  io::RunFolder run(a.out, config);
  std::unique_ptr<io::Progress> bar, sbar;
  const auto slices = anatomy::torchscript_anatomy(
      model, times, points, a.images, a.steps, options, common.seed,
      [&](std::int64_t done, std::int64_t total) {
        if (sbar) sbar->finish(), sbar.reset();
        if (!bar) bar = std::make_unique<io::Progress>("anatomy: Jacobian + SVD + eigen", total);
        bar->update(done);
      },
      [&](std::int64_t done, std::int64_t total) {
        if (!sbar) sbar = std::make_unique<io::Progress>("anatomy: sampling", total);
        sbar->update(done);
      });
  if (bar) bar->finish();
  anatomy::ReportOptions ro;
  const auto& shape = mo.input_shape;
  const auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(model.dim()))));
  if (shape.size() == 3 && shape[0] == 1)
    ro.image_height = static_cast<int>(shape[1]), ro.image_width = static_cast<int>(shape[2]);
  else if (shape.size() == 2)
    ro.image_height = static_cast<int>(shape[0]), ro.image_width = static_cast<int>(shape[1]);
  else if (side * side == model.dim())
    ro.image_height = ro.image_width = static_cast<int>(side);
  ro.examples = a.examples;
  ro.kappa = a.kappa;
  ro.write_spectra_csv = a.spectra_csv;
  const auto report = anatomy::write_anatomy_report(run.dir(), slices, ro);
  json per_time = json::array();
  const bool small = static_cast<double>(slices.front().anatomy.size()) * static_cast<double>(model.dim()) <= 2e5;
  for (std::size_t k = 0; k < slices.size(); ++k) {
    json s = report.summary.at(k);
    if (small) {
      json sv = json::array();
      for (const auto& p : slices[k].anatomy) sv.push_back(std::vector<double>(p.s.data(), p.s.data() + p.s.size()));
      s["singular_values"] = sv;
    }
    per_time.push_back(s);
  }
  json figures = json::array();
  for (const auto& f : report.figures) figures.push_back(f.string());
  json result = model_json(ts, model);
  result.update({{"points", slices.front().anatomy.size()},
                 {"points_file", ts.points_text.empty() ? json(nullptr) : json(ts.points_text)},
                 {"kappa", a.kappa},
                 {"times", per_time},
                 {"figures", figures},
                 {"out", run.dir().string()}});
  if (sigma_given(ts)) result["sigma"] = ts.sigma;
  run.write_json("result.json", result);
  return result;
}

json run_torchscript_lid(const TorchScriptArgs& ts, anatomy::LidOptions lid, const std::string& out,
                         const Common& common) {
  const std::int64_t n = ts.sample_points;
  const auto mo = model_options(ts);
  if (const auto t = time_of_sigma(ts, mo.schedule, "--t")) lid.t = *t;
  lid.validate();
  if (ts.points_text.empty() && ts.sample_steps < 1)
    throw InvalidArgument("--sample-steps " + std::to_string(ts.sample_steps) + ", expected >= 1");
  if (ts.points_text.empty() && n < 1)
    throw InvalidArgument("--sample-points " + std::to_string(n) + ", expected >= 1");
  const auto model = anatomy::TorchScriptModel::load(ts.model, mo);
  torch::Tensor x0;
  if (!ts.points_text.empty()) x0 = anatomy::read_points_file(ts.points_text, model.dim());
  const int threads = apply_threads(common);
  json config = config_json(ts, "lid-bench", common);
  config.update({{"t", lid.t},
                 {"kappa", lid.kappa},
                 {"normal_samples", lid.normal_samples},
                 {"normal_centre", lid.normal_centre},
                 {"hutchinson_probes", lid.hutchinson_probes},
                 {"chunk", lid.chunk},
                 {"n", n},
                 {"threads", threads}});
  io::RunFolder run(out, config);
  if (!x0.defined()) {
    io::Progress sbar("lid-bench: sampling", static_cast<std::size_t>(ts.sample_steps));
    x0 = model.sample(n, ts.sample_steps, common.seed, {}, nullptr,
                      [&](std::int64_t i) { sbar.update(static_cast<std::size_t>(i)); });
    sbar.finish();
  }
  const std::int64_t count = x0.size(0), D = model.dim();
  const Eigen::MatrixXd points = nn::to_eigen(x0.reshape({count, D}));
  io::Progress bar("lid-bench: estimate", static_cast<std::size_t>(count * 3));
  const auto methods =
      anatomy::evaluate_lid(model.time_score(), points, {}, lid, Rng(common.seed, 300)(),
                            [&](std::int64_t done, std::int64_t) { bar.update(static_cast<std::size_t>(done)); });
  bar.finish();
  io::Table table({"point", "singular_value", "normal_bundle", "flipd"});
  for (std::int64_t i = 0; i < count; ++i)
    table.add_row({static_cast<double>(i), methods[0].estimates[i], methods[1].estimates[i], methods[2].estimates[i]});
  table.save(run.path("lid_estimates.csv"));
  json mj = json::array();
  for (const auto& m : methods)
    mj.push_back({{"method", anatomy::to_string(m.method)},
                  {"mean_estimate", m.mean_estimate},
                  {"sd_estimate", m.sd_estimate},
                  {"seconds_per_point", m.seconds_per_point},
                  {"estimates", m.estimates}});
  json result = model_json(ts, model);
  result.update({{"t", lid.t},
                 {"sigma_t", mo.schedule.sigma(lid.t)},
                 {"alpha_t", mo.schedule.alpha(lid.t)},
                 {"points", count},
                 {"points_file", ts.points_text.empty() ? json(nullptr) : json(ts.points_text)},
                 {"methods", mj},
                 {"table", run.path("lid_estimates.csv").string()},
                 {"out", run.dir().string()}});
  run.write_json("result.json", result);
  return result;
}

namespace {

/// export-torchscript's options.
struct ExportCli {
  std::string checkpoint, out;
};

Register reg("export-torchscript",
             "write the U-Net of a score-model checkpoint as a TorchScript archive (forward(x, t) -> eps; use it "
             "with --torchscript --parametrisation eps --schedule vp)",
             [](CLI::App& app, const Common&) -> Runner {
               auto o = std::make_shared<ExportCli>();
               app.add_option("--checkpoint", o->checkpoint, "run folder or checkpoint.pt of `rbsm train`")->required();
               app.add_option("--out", o->out, "the TorchScript file to write (MODEL.pt)")->required();
               return [o]() -> json {
                 const auto model = nn::load_score_model(o->checkpoint, torch::kCPU);
                 nn::export_unet_torchscript(model, o->out);
                 return {{"checkpoint", o->checkpoint},
                         {"out", o->out},
                         {"parametrisation", "eps"},
                         {"schedule", "vp"},
                         {"input_shape", {model.channels, model.height, model.width}},
                         {"parameters", model.parameter_count()}};
               };
             });

}  // namespace
}  // namespace rbsm::cli
