// rbsm lid-bench: local intrinsic dimension from a score model, three ways (singular-value rule,
// normal bundle, FLIPD), on manifolds of known dimension and optionally on a trained MNIST model
// (docs/anatomy.md "Local intrinsic dimension benchmark"), and the reproduce experiment "lid".
#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>

#include <torch/torch.h>

#include "cli.hpp"
#include "torchscript_cli.hpp"

#include "rbsm/anatomy/lid_bench.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sde.hpp"
#include "rbsm/nn/tensor_data.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::cli {
namespace {

using anatomy::LidMethod;

struct LidArgs {
  std::string manifolds = anatomy::default_lid_manifolds(), out = "runs/lid-bench", checkpoint;
  std::int64_t points = 32, steps = 8000, train_points = 8192, hidden = 256, layers = 3, batch = 256;
  std::int64_t normal_samples = 0, probes = 0, chunk = 128, per_class = 2;
  double t = 0.01, kappa = 0.1, lr = 2e-3;
  bool normal_centre = false;
  std::string param = "x0", data = "mnist", device = "cpu";
  TorchScriptArgs ts;  // --torchscript MODEL.pt (cmd_torch_torchscript.cpp)
};

anatomy::LidOptions lid_options(const LidArgs& a) {
  anatomy::LidOptions lid;
  lid.t = a.t;
  lid.kappa = a.kappa;
  lid.normal_samples = a.normal_samples;
  lid.normal_centre = a.normal_centre;
  lid.hutchinson_probes = a.probes;
  lid.chunk = a.chunk;
  return lid;
}

anatomy::LidBenchOptions bench_options(const LidArgs& a) {
  anatomy::LidBenchOptions o;
  o.points = a.points;
  o.train_points = a.train_points;
  o.train.steps = a.steps;
  o.train.batch = a.batch;
  o.train.hidden = a.hidden;
  o.train.layers = a.layers;
  o.train.lr = a.lr;
  o.train.param = anatomy::parse_time_mlp_param(a.param);
  o.lid = lid_options(a);
  o.validate();
  return o;
}

json method_json(const anatomy::LidMethodResult& m) {
  return {{"method", anatomy::to_string(m.method)},   {"mae", std::isnan(m.mae) ? json(nullptr) : json(m.mae)},
          {"mean_estimate", m.mean_estimate},         {"sd_estimate", m.sd_estimate},
          {"seconds_per_point", m.seconds_per_point}, {"estimates", m.estimates}};
}

/// Figure: per-point estimates against the true dimension, MAE per manifold, seconds per point.
void write_figure(const std::vector<anatomy::LidBenchResult>& results, const std::filesystem::path& png) {
  io::Figure fig;
  fig.title = "Local intrinsic dimension from a trained score model (VP, t fixed)";
  fig.panel("estimates at held-out points", "true dimension d", "estimated dimension");
  fig.panel("mean absolute error", "manifold (order of the table)", "MAE");
  fig.panel("cost", "ambient dimension D", "seconds per point");
  auto& est = fig.panels[0];  // references taken after the last panel() (it may reallocate)
  auto& mae = fig.panels[1];
  auto& sec = fig.panels[2];
  sec.logy = true;
  const char* colors[] = {"tab:blue", "tab:orange", "tab:green"};
  double dmax = 1;
  for (int k = 0; k < 3; ++k) {
    io::Series pts, bars, cost;
    const double off = 0.15 * (k - 1);
    for (std::size_t r = 0; r < results.size(); ++r) {
      const auto& m = results[r].methods.at(static_cast<std::size_t>(k));
      pts.label = bars.label = cost.label = anatomy::to_string(m.method);
      for (std::size_t i = 0; i < m.estimates.size(); ++i) {
        pts.x.push_back(m.truth[i] + off);
        pts.y.push_back(m.estimates[i]);
        dmax = std::max(dmax, static_cast<double>(m.truth[i]));
      }
      bars.x.push_back(static_cast<double>(r + 1) + 0.1 * (k - 1));
      bars.y.push_back(m.mae);
      cost.x.push_back(static_cast<double>(results[r].ambient_dim));
      cost.y.push_back(m.seconds_per_point);
    }
    pts.style = "points";
    bars.style = "points";
    cost.style = "points";
    pts.color = bars.color = cost.color = colors[k];
    est.add(pts);
    mae.add(bars);
    sec.add(cost);
  }
  est.add({"d = d", {0, dmax + 1}, {0, dmax + 1}, {}, "dashed", "gray"});
  fig.save(png);
}

json run_bench(const LidArgs& a, const Common& common) {
  const auto options = bench_options(a);
  const auto specs = anatomy::split_manifold_list(a.manifolds);
  for (const auto& s : specs) {  // every spec checked before any work
    Rng r(0);
    anatomy::make_embedded_manifold(s, r);
  }
  const int threads = apply_threads(common);
  io::RunFolder run(a.out, {{"command", "lid-bench"},
                            {"manifolds", specs},
                            {"points", a.points},
                            {"steps", a.steps},
                            {"train_points", a.train_points},
                            {"hidden", a.hidden},
                            {"layers", a.layers},
                            {"batch", a.batch},
                            {"lr", a.lr},
                            {"param", a.param},
                            {"t", a.t},
                            {"kappa", a.kappa},
                            {"normal_samples", a.normal_samples},
                            {"normal_centre", a.normal_centre},
                            {"hutchinson_probes", a.probes},
                            {"seed", common.seed},
                            {"threads", threads},
                            {"checkpoint", a.checkpoint}});
  io::Table table({"manifold", "spec", "true_dim", "method", "mae", "mean_estimate", "sd_estimate", "seconds_per_point",
                   "train_seconds", "final_loss"});
  io::Table per_point({"manifold", "point", "true_dim", "singular_value", "normal_bundle", "flipd"});
  std::vector<anatomy::LidBenchResult> results;
  json rows = json::array(), manifolds = json::array();
  for (std::size_t k = 0; k < specs.size(); ++k) {
    const std::uint64_t seed = Rng(common.seed, 100 + k)();
    io::Progress train_bar("lid-bench: train " + specs[k], static_cast<std::size_t>(a.steps));
    std::unique_ptr<io::Progress> eval_bar;
    const auto r = anatomy::run_lid_benchmark(
        specs[k], options, seed,
        [&](std::int64_t step, double loss) {
          if (step % 50 == 0 || step == a.steps) {
            std::ostringstream s;
            s.precision(4);
            s << "loss=" << loss;
            train_bar.update(static_cast<std::size_t>(step), s.str());
          }
        },
        [&](std::int64_t done, std::int64_t total) {
          if (!eval_bar) {
            train_bar.finish();
            eval_bar = std::make_unique<io::Progress>("lid-bench: estimate", static_cast<std::size_t>(total));
          }
          eval_bar->update(static_cast<std::size_t>(done));
        });
    if (eval_bar) eval_bar->finish();
    json mj = json::array();
    for (const auto& m : r.methods) {
      const std::string method = anatomy::to_string(m.method);
      rows.push_back({{"manifold", r.label},
                      {"spec", r.spec},
                      {"true_dim", r.mean_true_dim},
                      {"method", method},
                      {"mae", m.mae},
                      {"mean_estimate", m.mean_estimate},
                      {"sd_estimate", m.sd_estimate},
                      {"seconds_per_point", m.seconds_per_point}});
      table.add_row_text({r.label, r.spec, io::format_double(r.mean_true_dim), method, io::format_double(m.mae),
                          io::format_double(m.mean_estimate), io::format_double(m.sd_estimate),
                          io::format_double(m.seconds_per_point), io::format_double(r.train_seconds),
                          io::format_double(r.final_loss)});
      mj.push_back(method_json(m));
    }
    for (std::size_t i = 0; i < r.methods[0].estimates.size(); ++i)
      per_point.add_row_text({r.label, std::to_string(i), std::to_string(r.methods[0].truth[i]),
                              io::format_double(r.methods[0].estimates[i]),
                              io::format_double(r.methods[1].estimates[i]),
                              io::format_double(r.methods[2].estimates[i])});
    manifolds.push_back({{"manifold", r.label},
                         {"spec", r.spec},
                         {"true_dims", r.methods[0].truth},
                         {"train_seconds", r.train_seconds},
                         {"final_loss", r.final_loss},
                         {"methods", mj}});
    run.log("lid-bench: " + r.label + ": train " + fmt(r.train_seconds, 3) + " s, loss " + fmt(r.final_loss, 4) +
                "; MAE singular-value " + fmt(r.methods[0].mae, 3) + ", normal-bundle " + fmt(r.methods[1].mae, 3) +
                ", flipd " + fmt(r.methods[2].mae, 3),
            common.json);
    results.push_back(r);
  }
  table.save(run.path("lid_benchmark.csv"));
  per_point.save(run.path("lid_estimates.csv"));
  write_figure(results, run.path("lid_benchmark.png"));
  json result{{"results", rows},
              {"manifolds", manifolds},
              {"t", a.t},
              {"sigma_t", nn::VPSDE().sigma(a.t)},
              {"table", run.path("lid_benchmark.csv").string()},
              {"figure", run.path("lid_benchmark.png").string()},
              {"out", run.dir().string()}};
  run.write_json("result.json", result);
  return result;
}

// ------------------------------------------------------------------ a trained image model, per class
/// The three estimators at `per_class` held-out images of every class (the first ones of each class in
/// the held-out split, so the choice depends on nothing but the data), read from a trained VP-SDE
/// score model at x_0 (alpha_t x_0 for the Jacobian rules; perturbed points for the normal bundle).
json run_images(const LidArgs& a, const Common& common) {
  const anatomy::LidOptions lid = lid_options(a);
  lid.validate();
  if (a.per_class < 1) throw InvalidArgument("--per-class " + std::to_string(a.per_class) + ", expected >= 1");
  const auto model = nn::load_score_model(a.checkpoint, nn::parse_device(a.device));
  const data::ImageSet set = data::load_dataset(a.data, /*train=*/false);
  if (set.height != model.height || set.width != model.width || model.channels != 1)
    throw InvalidArgument("--data " + a.data + ": images are " + std::to_string(set.height) + "x" +
                          std::to_string(set.width) + ", the model takes " + std::to_string(model.channels) + "x" +
                          std::to_string(model.height) + "x" + std::to_string(model.width));
  const int threads = apply_threads(common);
  io::RunFolder run(a.out, {{"command", "lid-bench"},
                            {"checkpoint", a.checkpoint},
                            {"data", a.data},
                            {"per_class", a.per_class},
                            {"t", a.t},
                            {"kappa", a.kappa},
                            {"normal_samples", a.normal_samples},
                            {"normal_centre", a.normal_centre},
                            {"hutchinson_probes", a.probes},
                            {"chunk", a.chunk},
                            {"seed", common.seed},
                            {"threads", threads},
                            {"device", a.device}});
  const auto score = anatomy::model_time_score(model);
  const torch::Tensor images = nn::images_to_tensor(set);  // [n, 1, h, w] in [0, 1]
  std::vector<std::vector<int>> members(10);
  for (int i = 0; i < set.size(); ++i) {
    const int y = set.labels[i];
    if (y < 0 || y > 9)
      throw InvalidArgument("--data " + a.data + ": label " + std::to_string(y) + " of image " + std::to_string(i) +
                            " is not a digit class 0-9");
    if (static_cast<std::int64_t>(members[y].size()) < a.per_class) members[y].push_back(i);
  }
  std::int64_t total = 0;
  for (const auto& m : members) total += static_cast<std::int64_t>(m.size()) * 3;
  io::Progress bar("lid-bench: " + a.data + " per class", static_cast<std::size_t>(total));
  std::int64_t before = 0;
  io::Table table({"class", "image", "singular_value", "normal_bundle", "flipd"});
  json classes = json::array();
  std::vector<std::vector<double>> all(3);
  io::Figure fig;
  fig.title = "Local dimension of held-out " + a.data + " digits from the score model at t = " + fmt(a.t, 3);
  auto& panel = fig.panel("per class (mean +- sd over " + std::to_string(a.per_class) + " images)", "digit class",
                          "estimated local dimension");
  std::vector<io::Series> series(3);
  const char* colors[] = {"tab:blue", "tab:orange", "tab:green"};
  for (int c = 0; c < 10; ++c) {
    if (members[c].empty()) continue;
    const auto n = static_cast<std::int64_t>(members[c].size());
    // only the chosen digits, in model space, as an n x D double matrix
    const torch::Tensor x0 = nn::to_model_space(images.index_select(0, torch::tensor(members[c], torch::kInt64)))
                                 .reshape({n, score.dim})
                                 .to(torch::kFloat64)
                                 .contiguous();
    const Eigen::MatrixXd points =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(x0.data_ptr<double>(),
                                                                                                 n, score.dim);
    const auto methods = anatomy::evaluate_lid(
        score, points, {}, lid, Rng(common.seed, 200 + c)(),
        [&](std::int64_t done, std::int64_t) { bar.update(static_cast<std::size_t>(before + done)); });
    before += n * 3;
    json mj = json::array();
    for (std::size_t m = 0; m < methods.size(); ++m) {
      mj.push_back(method_json(methods[m]));
      all[m].insert(all[m].end(), methods[m].estimates.begin(), methods[m].estimates.end());
      series[m].label = anatomy::to_string(methods[m].method);
      series[m].x.push_back(c + 0.15 * (static_cast<double>(m) - 1));
      series[m].y.push_back(methods[m].mean_estimate);
      series[m].yerr.push_back(methods[m].sd_estimate);
    }
    for (std::int64_t k = 0; k < n; ++k)
      table.add_row({static_cast<double>(c), static_cast<double>(members[c][k]), methods[0].estimates[k],
                     methods[1].estimates[k], methods[2].estimates[k]});
    classes.push_back({{"class", c}, {"n", n}, {"methods", mj}});
  }
  bar.finish();
  json overall = json::array();
  for (std::size_t m = 0; m < 3; ++m) {
    double sum = 0, sum2 = 0;
    for (double v : all[m]) sum += v, sum2 += v * v;
    const double k = static_cast<double>(all[m].size()), mean = sum / k;
    overall.push_back({{"method", series[m].label},
                       {"mean_estimate", mean},
                       {"sd_estimate", k > 1 ? std::sqrt(std::max(0.0, (sum2 - k * mean * mean) / (k - 1))) : 0.0},
                       {"n", all[m].size()}});
    series[m].style = "errorbar";
    series[m].color = colors[m];
    panel.add(series[m]);
  }
  table.save(run.path("lid_per_image.csv"));
  fig.save(run.path("lid_per_class.png"));
  json result{{"checkpoint", a.checkpoint},
              {"data", a.data},
              {"t", a.t},
              {"sigma_t", model.sde.sigma(a.t)},
              {"ambient_dim", score.dim},
              {"per_class", classes},
              {"overall", overall},
              {"table", run.path("lid_per_image.csv").string()},
              {"figure", run.path("lid_per_class.png").string()},
              {"out", run.dir().string()}};
  run.write_json("result.json", result);
  return result;
}

// ------------------------------------------------------------------ reproduce experiment "lid"
ReportSection lid_experiment(const ReproduceContext& ctx) {
  const bool quick = ctx.profile == "quick";
  LidArgs a;
  if (quick) {
    a.manifolds = "sphere:d=2,D=10;sphere:d=5,D=50;two-spheres:d1=2,d2=6,D=30";
    a.steps = 4000;
    a.points = 16;
  } else {
    a.points = 64;
  }
  a.out = (ctx.out / "lid").string();
  const json r = run_bench(a, Common{false, ctx.seed, ctx.threads});
  ReportSection sec;
  sec.title = "Beyond the document: local intrinsic dimension from a trained score model, three ways";
  sec.html =
      "<p>Small time-conditioned MLPs (VP-SDE, denoiser output, " + std::to_string(a.steps) +
      " steps) trained on spheres, a flat torus and a union of two spheres placed in R^D by random isometries; "
      "local dimension at " +
      std::to_string(a.points) + " held-out points per manifold, at t = " + fmt(a.t, 3) +
      " (sigma_t = " + fmt(r["sigma_t"].get<double>(), 3) +
      "): the document's singular-value rule (1/s_i &lt; 1.1 sigma_t^2), the normal bundle of Stanczuk et al. "
      "(largest gap of the spectrum of 4D perturbed scores) and FLIPD of Kamkari et al. (D + sigma_t^2 (tr grad s + "
      "|s|^2) at alpha_t x_0, exact trace). See docs/anatomy.md \"Local intrinsic dimension benchmark\".</p>";
  for (const auto& row : r["results"])
    sec.rows.push_back(
        {row["manifold"].get<std::string>() + ": " + row["method"].get<std::string>(),
         "true d = " + fmt(row["true_dim"].get<double>(), 3),
         "MAE " + fmt(row["mae"].get<double>(), 3) + ", mean " + fmt(row["mean_estimate"].get<double>(), 4),
         fmt(row["seconds_per_point"].get<double>() * 1e3, 3) + " ms per point"});
  sec.figures.push_back(std::filesystem::relative(r["figure"].get<std::string>(), ctx.out).string());
  sec.summary = {{"results", r["results"]}, {"t", a.t}, {"steps", a.steps}};

  // The same three estimators on the MNIST model of the "mnist" experiment, per digit class.
  if (const auto ckpt = find_mnist_checkpoint(ctx.out)) {
    LidArgs m;
    m.checkpoint = ckpt->string();
    m.per_class = quick ? 2 : 5;
    m.out = (ctx.out / "lid" / "mnist").string();
    const json mr = run_images(m, Common{false, ctx.seed, ctx.threads});
    sec.html += "<p>On the MNIST score model (" + m.checkpoint + "), " + std::to_string(m.per_class) +
                " held-out digits per class, same t: per-class means below and in the figure. The singular-value "
                "rule is the document's r_t at a clean digit.</p>";
    for (const auto& o : mr["overall"])
      sec.rows.push_back({"MNIST, all classes: " + o["method"].get<std::string>(), "no ground truth",
                          "mean " + fmt(o["mean_estimate"].get<double>(), 4) + " +- " +
                              fmt(o["sd_estimate"].get<double>(), 3) + " (sd)",
                          std::to_string(o["n"].get<int>()) + " images"});
    sec.figures.push_back(std::filesystem::relative(mr["figure"].get<std::string>(), ctx.out).string());
    sec.summary["mnist"] = mr;
  }
  return sec;
}

RegisterExperiment exp_reg("lid", 80, lid_experiment);

Register reg(
    "lid-bench",
    "local intrinsic dimension from a trained score model: singular-value rule, normal bundle "
    "(Stanczuk et al.) and FLIPD (Kamkari et al.) on spheres and tori of known dimension",
    [](CLI::App& app, const Common& common) -> Runner {
      auto a = std::make_shared<LidArgs>();
      app.add_option("--manifolds", a->manifolds,
                     "';'-separated specs: sphere:d=N,D=N | torus:d=N,D=N | two-spheres:d1=N,d2=N,D=N")
          ->capture_default_str();
      app.add_option("--points", a->ts.points_text,
                     "held-out points per manifold (default 32), or with --torchscript a FILE of points "
                     "x_0 (CSV/.npy, one flattened point per row)");
      app.add_option("--steps", a->steps, "training steps per manifold")->capture_default_str();
      app.add_option("--train-points", a->train_points, "training set size per manifold")->capture_default_str();
      app.add_option("--hidden", a->hidden, "MLP width")->capture_default_str();
      app.add_option("--layers", a->layers, "MLP hidden layers")->capture_default_str();
      app.add_option("--batch", a->batch, "training batch")->capture_default_str();
      app.add_option("--lr", a->lr, "Adam learning rate (cosine decay)")->capture_default_str();
      app.add_option("--param", a->param, "network output: eps (noise) or x0 (denoiser)")->capture_default_str();
      app.add_option("--t", a->t, "diffusion time at which all three estimators read the score")->capture_default_str();
      app.add_option("--kappa", a->kappa, "slack of the singular-value rule")->capture_default_str();
      app.add_option("--normal-samples", a->normal_samples, "K of the normal-bundle method (0: 4 D)")
          ->capture_default_str();
      app.add_flag("--normal-centre", a->normal_centre,
                   "normal bundle: subtract the mean score before the SVD (points off the manifold)");
      app.add_option("--probes", a->probes, "FLIPD Hutchinson probes (0: exact trace)")->capture_default_str();
      app.add_option("--chunk", a->chunk, "cotangents / score evaluations per pass")->capture_default_str();
      app.add_option("--out", a->out, "output folder")->capture_default_str();
      app.add_option("--checkpoint", a->checkpoint,
                     "a trained image score model (run folder or .pt): estimate on its held-out data, "
                     "per class, instead of the manifolds");
      app.add_option("--data", a->data, "with --checkpoint: mnist | fashion-mnist | PATH")->capture_default_str();
      app.add_option("--per-class", a->per_class, "with --checkpoint: held-out images per class")
          ->capture_default_str();
      app.add_option("--device", a->device, "with --checkpoint: cpu | cuda | auto")->capture_default_str();
      add_torchscript_options(app, a->ts, "--t", /*sample_steps=*/true);
      return [a, &common]() -> json {
        if (a->ts.given()) {
          if (!a->checkpoint.empty())
            throw InvalidArgument("give --checkpoint RUN or --torchscript MODEL.pt, not both");
          return run_torchscript_lid(a->ts, lid_options(*a), a->out, common);
        }
        a->points = points_count(a->ts, a->points);
        return a->checkpoint.empty() ? run_bench(*a, common) : run_images(*a, common);
      };
    });

}  // namespace
}  // namespace rbsm::cli
