// rbsm anatomy: SVD / eigen anatomy of a score model's Jacobian (docs/anatomy.md), on a trained
// checkpoint along sampled trajectories (--checkpoint) or on an analytic field (--field), and the
// reproduce experiment "anatomy" (Figures 2-4 of score-models-learn-manifold-structure).
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include <torch/torch.h>

#include "cli.hpp"
#include "torchscript_cli.hpp"

#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/anatomy/measures.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/anatomy/report.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/image.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/random.hpp"

namespace rbsm::cli {
namespace {

struct AnatomyArgs {
  std::string checkpoint, field, out = "runs/anatomy", times = "0.01,0.03,0.05,0.15,0.3", linalg = "torch";
  std::string device = "cpu", sampler = "em";
  std::vector<std::string> images;  // --image PNG
  std::int64_t n_images = 128, points = 8, chunk = 98, steps = 1000;
  int examples = 3;
  double kappa = 0.1;
  bool spectra_csv = true;
  TorchScriptArgs ts;  // --torchscript MODEL.pt (cmd_torch_torchscript.cpp)
};

anatomy::AnatomyOptions analysis_options(const AnatomyArgs& a) {
  anatomy::check_kappa(a.kappa);
  anatomy::AnatomyOptions o;
  o.kappa = a.kappa;
  o.jacobian.chunk = a.chunk;
  o.backend = anatomy::parse_linalg_backend(a.linalg);
  if (a.chunk < 1) throw InvalidArgument("--chunk " + std::to_string(a.chunk) + ", expected >= 1");
  return o;
}

json slice_json(const anatomy::AnatomyReport& report, std::size_t k) { return report.summary.at(k); }

/// Whether mean r_t increases as t decreases (slices in any order of t).
bool grows_as_t_decreases(const std::vector<anatomy::AnatomySlice>& slices) {
  std::vector<std::pair<double, double>> tm;
  for (const auto& s : slices) tm.emplace_back(s.t, anatomy::local_dim_mean_sd(s).first);
  std::sort(tm.begin(), tm.end());
  for (std::size_t i = 1; i < tm.size(); ++i)
    if (!(tm[i - 1].second >= tm[i].second)) return false;
  return true;
}

torch::Tensor read_images(const std::vector<std::string>& paths, const nn::LoadedScoreModel& model) {
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
    for (std::size_t i = 0; i < px.size(); ++i) d[i] = 2.0f * px[i] / 255.0f - 1.0f;  // model space [-1, 1]
    xs.push_back(t);
  }
  return torch::cat(xs, 0);
}

json run_field(const AnatomyArgs& a, const Common& common) {
  const auto options = analysis_options(a);
  const auto f = anatomy::make_analytic_field(a.field);
  if (a.points < 1) throw InvalidArgument("--points " + std::to_string(a.points) + ", expected >= 1");
  io::RunFolder run(a.out, {{"command", "anatomy"},
                            {"field", a.field},
                            {"points", a.points},
                            {"kappa", a.kappa},
                            {"chunk", a.chunk},
                            {"linalg", a.linalg},
                            {"seed", common.seed}});
  Rng rng(common.seed, 0);
  const auto points = f.sample_points(static_cast<int>(a.points), rng);
  io::Progress bar("anatomy", a.points);
  const auto slice = anatomy::analyze_points(f.field, 0.0, points, options, [&](std::int64_t i) { bar.update(i); });
  bar.finish();
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(f.field.dim))));
  anatomy::ReportOptions ro;
  if (side * side == f.field.dim) ro.image_height = ro.image_width = side;
  ro.examples = a.examples;
  ro.kappa = a.kappa;
  ro.time_label = "field";
  ro.write_spectra_csv = a.spectra_csv;
  const auto report = anatomy::write_anatomy_report(run.dir(), {slice}, ro);
  json s = slice_json(report, 0);
  json sv = json::array(), cs = json::array();
  for (const auto& p : slice.anatomy) {
    sv.push_back(std::vector<double>(p.s.data(), p.s.data() + p.s.size()));
    cs.push_back(std::vector<double>(p.cos_uv.data(), p.cos_uv.data() + p.cos_uv.size()));
  }
  json result{{"field", a.field},
              {"sigma", f.field.sigma},
              {"points", a.points},
              {"kappa", a.kappa},
              {"true_local_dim", f.true_local_dim},
              {"local_dim", s["local_dim"]},
              {"singular_values", sv},
              {"cos_uv", cs},
              {"phi_at_r", s["phi_at_r"]},
              {"seconds_per_point", s["seconds_per_point"]},
              {"out", run.dir().string()}};
  run.write_json("result.json", result);
  return result;
}

json run_checkpoint(const AnatomyArgs& a, const Common& common) {
  const auto options = analysis_options(a);
  const auto times = anatomy::parse_times(a.times);
  const auto model = nn::load_score_model(a.checkpoint, nn::parse_device(a.device));
  torch::Tensor given;
  if (!a.images.empty()) given = read_images(a.images, model);
  if (a.images.empty() && a.n_images < 1)
    throw InvalidArgument("--images " + std::to_string(a.n_images) + ", expected >= 1");
  io::RunFolder run(a.out, {{"command", "anatomy"},
                            {"checkpoint", a.checkpoint},
                            {"times", times},
                            {"images", a.n_images},
                            {"image_files", a.images},
                            {"kappa", a.kappa},
                            {"chunk", a.chunk},
                            {"linalg", a.linalg},
                            {"steps", a.steps},
                            {"sampler", a.sampler},
                            {"seed", common.seed},
                            {"device", a.device}});
  const std::int64_t n = a.images.empty() ? a.n_images : given.size(0);
  std::unique_ptr<io::Progress> bar, sbar;  // made on first use, so each bar's rate and ETA are its own
  auto progress = [&](std::int64_t done, std::int64_t total) {
    if (sbar) sbar->finish();
    if (!bar) bar = std::make_unique<io::Progress>("anatomy: Jacobian + SVD + eigen", total);
    bar->update(done);
  };
  std::vector<anatomy::AnatomySlice> slices;
  if (a.images.empty()) {
    anatomy::TrajectoryAnatomyOptions to;
    to.times = times;
    to.images = a.n_images;
    to.sampler.kind(nn::parse_sampler(a.sampler)).steps(a.steps);
    to.anatomy = options;
    run.log("anatomy: sampling " + std::to_string(n) + " images (" + a.sampler + ", " + std::to_string(a.steps) +
                " steps), keeping x_t at " + a.times,
            common.json);
    to.on_sample_step = [&](std::int64_t done, std::int64_t total) {
      if (!sbar) sbar = std::make_unique<io::Progress>("anatomy: sampling", total);
      sbar->update(done);
    };
    slices = anatomy::trajectory_anatomy(model, to, common.seed, progress);
  } else {
    slices = anatomy::image_anatomy(model, given, times, options, common.seed, progress);
  }
  if (bar) bar->finish();
  anatomy::ReportOptions ro;
  ro.image_height = static_cast<int>(model.height);
  ro.image_width = static_cast<int>(model.width);
  ro.examples = a.examples;
  ro.kappa = a.kappa;
  ro.write_spectra_csv = a.spectra_csv;
  const auto report = anatomy::write_anatomy_report(run.dir(), slices, ro);
  json per_time = json::array();
  for (std::size_t k = 0; k < slices.size(); ++k) per_time.push_back(slice_json(report, k));
  json figures = json::array();
  for (const auto& f : report.figures) figures.push_back(f.string());
  json result{{"checkpoint", a.checkpoint},
              {"images", n},
              {"kappa", a.kappa},
              {"times", per_time},
              {"local_dim_grows_as_t_decreases", grows_as_t_decreases(slices)},
              {"figures", figures},
              {"out", run.dir().string()}};
  run.write_json("result.json", result);
  return result;
}

// ------------------------------------------------------------------ reproduce experiment "anatomy"

/// The document's sigma_t (Appendix A.2) at its five times.
std::string document_sigma(double t) {
  const std::vector<std::pair<double, const char*>> table = {
      {0.01, "0.039"}, {0.03, "0.10"}, {0.05, "0.22"}, {0.15, "0.46"}, {0.3, "0.77"}};
  for (const auto& [tt, v] : table)
    if (std::abs(tt - t) < 1e-9) return v;
  return "-";
}

std::string rel(const std::filesystem::path& p, const std::filesystem::path& base) {
  return std::filesystem::relative(p, base).string();
}

void field_rows(const ReproduceContext& ctx, ReportSection& sec) {
  // analytic fields with known answers: the analysis itself, checked at D = 784
  const Common common{false, ctx.seed, ctx.threads};
  AnatomyArgs g;
  g.field = "gaussian-subspace:D=784,d=20,sigma=0.1";
  g.points = 2;
  g.examples = 1;
  g.spectra_csv = false;
  g.out = (ctx.out / "anatomy" / "gaussian-subspace").string();
  const json jg = run_field(g, common);
  const auto& s0 = jg["singular_values"][0];
  sec.rows.push_back({"gaussian-subspace D=784, d=20, sigma=0.1: r (per point)", "d = 20 (exact)",
                      jg["local_dim"]["per_image"].dump(), "analytic field: the rule recovers d"});
  sec.rows.push_back({"  its singular values s_1, s_784", "1/(1+sigma^2) = 0.990099, 1/sigma^2 = 100",
                      fmt(s0.front().get<double>(), 7) + ", " + fmt(s0.back().get<double>(), 7), ""});
  AnatomyArgs l = g;
  l.field = "linear:D=784,d=20,sigma=0.1,skew=0.5";
  l.out = (ctx.out / "anatomy" / "linear-skew").string();
  const json jl = run_field(l, common);
  double cmax = -1;
  for (int i = 0; i < 20; ++i) cmax = std::max(cmax, jl["cos_uv"][0][i].get<double>());
  sec.rows.push_back({"non-conservative linear field (skew 0.5 within d = 20): r, max_{i<=20} u_i.v_i",
                      "r = 20; u_i != -v_i within the manifold (Fig. 1 picture)",
                      jl["local_dim"]["per_image"].dump() + ", " + fmt(cmax, 4),
                      "Phi_20^{u,v} = " + fmt(jl["phi_at_r"]["uv"].get<double>(), 6)});
  sec.figures.push_back(rel(ctx.out / "anatomy" / "linear-skew" / "figure3_cosines.png", ctx.out));
}

ReportSection anatomy_experiment(const ReproduceContext& ctx) {
  const bool quick = ctx.profile == "quick";
  ReportSection sec;
  sec.title = "Score anatomy: Jacobian SVD, local dimension, cosines and overlaps (Figures 2-4)";
  const auto ckpt = find_mnist_checkpoint(ctx.out);
  std::string html =
      "<p>score-models-learn-manifold-structure §3: the SVD of the score Jacobian at x_t along sampled "
      "trajectories (Euler-Maruyama), the eigenvectors of its symmetric part, the local dimension r_t "
      "(ranks with 1/s_i &ge; 1.1 sigma_t^2), cosines u_i.v_i and the overlaps Phi_n (eq. 2). See docs/anatomy.md.</p>";
  if (ckpt) {
    AnatomyArgs a;
    a.checkpoint = ckpt->string();
    a.times = quick ? "0.01,0.05,0.3" : "0.01,0.03,0.05,0.15,0.3";
    a.n_images = quick ? 4 : 16;
    a.steps = 1000;
    a.examples = quick ? 2 : 3;
    a.spectra_csv = !quick;
    a.out = (ctx.out / "anatomy" / "mnist").string();
    const json r = run_checkpoint(a, Common{false, ctx.seed, ctx.threads});
    html += "<p>Model: " + a.checkpoint + "; " + std::to_string(a.n_images) +
            " sampled images (the document uses 128: run <code>rbsm anatomy --checkpoint RUN --images 128</code>). "
            "Figure 2 grids: one row per time (top: first time listed), columns x_t, u_-, v_-, w_0, u_+, v_+, w_-, "
            "w_+.</p>";
    std::string dims, sds;
    for (const auto& s : r["times"]) {
      const double t = s["requested_t"].get<double>();
      const auto& ld = s["local_dim"];
      sec.rows.push_back({"sigma_t at t = " + fmt(t, 3), document_sigma(t), fmt(s["sigma"].get<double>(), 3),
                          "VP beta(t) = 0.1 + 19.9 t (docs/diffusion.md on the differences)"});
      sec.rows.push_back({"r_t at t = " + fmt(t, 3) + " (mean +- sd, min-max)",
                          "grows and spreads as t decreases (Fig. 3 bottom right)",
                          fmt(ld["mean"].get<double>(), 4) + " +- " + fmt(ld["sd"].get<double>(), 3) + " (" +
                              ld["min"].dump() + "-" + ld["max"].dump() + ")",
                          ""});
      sec.rows.push_back(
          {"  mean u_i.v_i within / beyond r_t", "misaligned within; about -1 beyond (Fig. 3 top)",
           (s["cos_uv_mean_within_r"].is_null() ? "-" : fmt(s["cos_uv_mean_within_r"].get<double>(), 3)) + " / " +
               (s["cos_uv_mean_beyond_r"].is_null() ? "-" : fmt(s["cos_uv_mean_beyond_r"].get<double>(), 3)),
           ""});
      sec.rows.push_back({"  min_i 1/s_i / sigma_t^2", ">= 1 (sigma_t^2 lower-bounds 1/s_i, §3.2)",
                          fmt(s["min_inv_s_over_sigma2"].get<double>(), 3), ""});
      sec.rows.push_back({"  Phi^{u,v}, Phi^{u,w}, Phi^{v,w} at n = r_t", "considerable overlap (Fig. 4)",
                          fmt(s["phi_at_r"]["uv"].get<double>(), 3) + ", " + fmt(s["phi_at_r"]["uw"].get<double>(), 3) +
                              ", " + fmt(s["phi_at_r"]["vw"].get<double>(), 3),
                          ""});
    }
    sec.rows.push_back({"r_t grows as t decreases", "yes",
                        r["local_dim_grows_as_t_decreases"].get<bool>() ? "yes" : "no",
                        quick ? "quick profile: small model, 4 images" : ""});
    for (const auto& f : r["figures"]) sec.figures.push_back(rel(f.get<std::string>(), ctx.out));
    sec.summary = {{"checkpoint", a.checkpoint},
                   {"times", r["times"]},
                   {"local_dim_grows_as_t_decreases", r["local_dim_grows_as_t_decreases"]}};
  } else {
    html += "<p><b>No checkpoint of the \"mnist\" experiment was found under " + (ctx.out / "mnist").string() +
            "</b> (run <code>rbsm reproduce</code> without --only, or with --only mnist,anatomy): only the analytic "
            "fields were analysed.</p>";
    sec.summary = {{"checkpoint", nullptr}};
  }
  field_rows(ctx, sec);
  sec.html = html;
  return sec;
}

RegisterExperiment exp_reg("anatomy", 70, anatomy_experiment);

Register reg(
    "anatomy",
    "SVD / eigen anatomy of a score model's Jacobian: local dimension, cosines u_i.v_i, overlaps Phi_n "
    "(Figures 2-4 of score-models-learn-manifold-structure)",
    [](CLI::App& app, const Common& common) -> Runner {
      auto a = std::make_shared<AnatomyArgs>();
      auto* ck = app.add_option("--checkpoint", a->checkpoint,
                                "run folder or checkpoint.pt of a score model trained by `rbsm train`");
      auto* fd = app.add_option("--field", a->field,
                                "analytic field: gaussian-subspace:D=784,d=20,sigma=0.1 | "
                                "noisy-sphere:D=50,d=2,kappa=2,sigma=0.05 | linear:D=50,skew=0.5[,d,sigma,seed]");
      ck->excludes(fd);
      app.add_option("--times", a->times, "diffusion times at which x_t is analysed (checkpoint)")
          ->capture_default_str();
      app.add_option("--images", a->n_images, "number of sampled images (checkpoint)")->capture_default_str();
      app.add_option("--image", a->images,
                     "analyse these PNG digits (noised to each t) instead of sampling; repeatable");
      app.add_option("--points", a->ts.points_text,
                     "number of points drawn from the field's distribution (field; default 8), or with "
                     "--torchscript a FILE of points (CSV/.npy, one flattened point per row)");
      app.add_option("--kappa", a->kappa, "slack of the local-dimension rule 1/s_i < (1+kappa) sigma_t^2")
          ->capture_default_str();
      app.add_option("--chunk", a->chunk, "one-hot cotangents per backward pass")->capture_default_str();
      app.add_option("--linalg", a->linalg, "SVD / eigen backend: torch (LAPACK) or eigen")->capture_default_str();
      app.add_option("--steps", a->steps, "sampler steps (checkpoint)")->capture_default_str();
      app.add_option("--sampler", a->sampler, "em (the document's) | pc | ode")->capture_default_str();
      app.add_option("--device", a->device, "cpu | cuda | auto")->capture_default_str();
      app.add_option("--examples", a->examples, "example sequences drawn in Figures 2 and 3")->capture_default_str();
      app.add_flag("!--no-spectra-csv", a->spectra_csv, "skip spectra.csv (every rank of every point)");
      app.add_option("--out", a->out, "output folder")->capture_default_str();
      add_torchscript_options(app, a->ts, "--times", /*sample_steps=*/false);
      return [a, &common]() -> json {
        if (!a->checkpoint.empty() + !a->field.empty() + a->ts.given() != 1)
          throw InvalidArgument("give exactly one of --checkpoint RUN, --field SPEC or --torchscript MODEL.pt");
        if (a->ts.given())
          return run_torchscript_anatomy(
              a->ts, {a->times, a->linalg, a->out, a->n_images, a->steps, a->examples, a->spectra_csv, a->kappa},
              analysis_options(*a), common);
        a->points = points_count(a->ts, a->points);
        return a->field.empty() ? run_checkpoint(*a, common) : run_field(*a, common);
      };
    });

}  // namespace

std::optional<std::filesystem::path> find_mnist_checkpoint(const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  const fs::path dir = out / "mnist";
  if (fs::is_regular_file(dir / "run" / "checkpoint.pt")) return dir / "run" / "checkpoint.pt";
  if (!fs::is_directory(dir)) return std::nullopt;
  std::vector<fs::path> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() == "checkpoint.pt") found.push_back(e.path());
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end());
  return found.front();
}

}  // namespace rbsm::cli
