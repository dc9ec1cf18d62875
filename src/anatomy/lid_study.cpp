// The LID benchmark over manifolds and per-class LID of an image score model (rbsm/anatomy/lid_study.hpp).
#include "rbsm/anatomy/lid_study.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/nn/sde.hpp"
#include "rbsm/nn/tensor_data.hpp"
#include "rbsm/random.hpp"
#include "rbsm/stats.hpp"

namespace rbsm::anatomy {
namespace {

const char* const kColors[] = {"tab:blue", "tab:orange", "tab:green"};

/// Per-point estimates against the true dimension, MAE per manifold, seconds per point.
void bench_figure(const std::vector<LidBenchResult>& results, io::Figure& fig) {
  fig.title = "Local intrinsic dimension from a trained score model (VP, t fixed)";
  auto& est = fig.panel("estimates at held-out points", "true dimension d", "estimated dimension");
  auto& mae = fig.panel("mean absolute error", "manifold (order of the table)", "MAE");
  auto& sec = fig.panel("cost", "ambient dimension D", "seconds per point");
  sec.logy = true;
  double dmax = 1;
  for (int k = 0; k < 3; ++k) {
    io::Series pts, bars, cost;
    const double off = 0.15 * (k - 1);
    for (std::size_t r = 0; r < results.size(); ++r) {
      const auto& m = results[r].methods.at(static_cast<std::size_t>(k));
      pts.label = bars.label = cost.label = to_string(m.method);
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
    pts.style = bars.style = cost.style = "points";
    pts.color = bars.color = cost.color = kColors[k];
    est.add(pts);
    mae.add(bars);
    sec.add(cost);
  }
  est.add({"d = d", {0, dmax + 1}, {0, dmax + 1}, {}, "dashed", "gray"});
}

}  // namespace

nlohmann::json lid_method_json(const LidMethodResult& m) {
  return {{"method", to_string(m.method)},
          {"mae", std::isnan(m.mae) ? nlohmann::json(nullptr) : nlohmann::json(m.mae)},
          {"mean_estimate", m.mean_estimate},
          {"sd_estimate", m.sd_estimate},
          {"seconds_per_point", m.seconds_per_point},
          {"estimates", m.estimates}};
}

LidBenchStudy lid_bench_study(const LidBenchStudyOptions& options, const std::function<void(const std::string&)>& log) {
  options.bench.validate();
  for (const auto& s : options.manifolds) {  // every spec checked before any work
    Rng r(0);
    make_embedded_manifold(s, r);
  }
  LidBenchStudy st;
  st.rows = st.manifolds = nlohmann::json::array();
  const auto steps = options.bench.train.steps;
  for (std::size_t k = 0; k < options.manifolds.size(); ++k) {
    const std::string& spec = options.manifolds[k];
    io::Progress train_bar("lid-bench: train " + spec, static_cast<std::size_t>(steps));
    std::unique_ptr<io::Progress> eval_bar;
    const auto r = run_lid_benchmark(
        spec, options.bench, Rng(options.seed, 100 + k)(),
        [&](std::int64_t step, double loss) {
          if (step % 50 == 0 || step == steps)
            train_bar.update(static_cast<std::size_t>(step), "loss=" + io::format_double(loss, 4));
        },
        [&](std::int64_t done, std::int64_t total) {
          if (!eval_bar) {
            train_bar.finish();
            eval_bar = std::make_unique<io::Progress>("lid-bench: estimate", static_cast<std::size_t>(total));
          }
          eval_bar->update(static_cast<std::size_t>(done));
        });
    if (eval_bar) eval_bar->finish();
    nlohmann::json mj = nlohmann::json::array();
    for (const auto& m : r.methods) {
      const std::string method = to_string(m.method);
      st.rows.push_back({{"manifold", r.label},
                         {"spec", r.spec},
                         {"true_dim", r.mean_true_dim},
                         {"method", method},
                         {"mae", m.mae},
                         {"mean_estimate", m.mean_estimate},
                         {"sd_estimate", m.sd_estimate},
                         {"seconds_per_point", m.seconds_per_point}});
      st.table.add_row_text({r.label, r.spec, io::format_double(r.mean_true_dim), method, io::format_double(m.mae),
                             io::format_double(m.mean_estimate), io::format_double(m.sd_estimate),
                             io::format_double(m.seconds_per_point), io::format_double(r.train_seconds),
                             io::format_double(r.final_loss)});
      mj.push_back(lid_method_json(m));
    }
    for (std::size_t i = 0; i < r.methods[0].estimates.size(); ++i)
      st.per_point.add_row_text({r.label, std::to_string(i), std::to_string(r.methods[0].truth[i]),
                                 io::format_double(r.methods[0].estimates[i]),
                                 io::format_double(r.methods[1].estimates[i]),
                                 io::format_double(r.methods[2].estimates[i])});
    st.manifolds.push_back({{"manifold", r.label},
                            {"spec", r.spec},
                            {"true_dims", r.methods[0].truth},
                            {"train_seconds", r.train_seconds},
                            {"final_loss", r.final_loss},
                            {"methods", mj}});
    if (log)
      log("lid-bench: " + r.label + ": train " + io::format_double(r.train_seconds, 3) + " s, loss " +
          io::format_double(r.final_loss, 4) + "; MAE singular-value " + io::format_double(r.methods[0].mae, 3) +
          ", normal-bundle " + io::format_double(r.methods[1].mae, 3) + ", flipd " +
          io::format_double(r.methods[2].mae, 3));
    st.results.push_back(r);
  }
  bench_figure(st.results, st.figure);
  return st;
}

LidPerClassStudy lid_per_class_study(const nn::LoadedScoreModel& model, const data::ImageSet& set,
                                     const LidPerClassOptions& options) {
  const LidOptions& lid = options.lid;
  lid.validate();
  const std::string& name = options.data_label;
  if (options.per_class < 1)
    throw InvalidArgument("--per-class " + std::to_string(options.per_class) + ", expected >= 1");
  if (set.height != model.height || set.width != model.width || model.channels != 1)
    throw InvalidArgument("--data " + name + ": images are " + std::to_string(set.height) + "x" +
                          std::to_string(set.width) + ", the model takes " + std::to_string(model.channels) + "x" +
                          std::to_string(model.height) + "x" + std::to_string(model.width));
  std::vector<std::vector<int>> members(10);
  for (int i = 0; i < set.size(); ++i) {
    const int y = set.labels[i];
    if (y < 0 || y > 9)
      throw InvalidArgument("--data " + name + ": label " + std::to_string(y) + " of image " + std::to_string(i) +
                            " is not a digit class 0-9");
    if (static_cast<std::int64_t>(members[y].size()) < options.per_class) members[y].push_back(i);
  }
  const auto score = model_time_score(model);
  const torch::Tensor images = nn::images_to_tensor(set);  // [n, 1, h, w] in [0, 1]
  LidPerClassStudy st;
  st.ambient_dim = score.dim;
  st.classes = st.overall = nlohmann::json::array();
  std::int64_t total = 0, before = 0;
  for (const auto& m : members) total += static_cast<std::int64_t>(m.size()) * 3;
  io::Progress bar("lid-bench: " + name + " per class", static_cast<std::size_t>(total));
  std::vector<stats::Welford> all(3);
  st.figure.title =
      "Local dimension of held-out " + name + " digits from the score model at t = " + io::format_double(lid.t, 3);
  auto& panel = st.figure.panel("per class (mean +- sd over " + std::to_string(options.per_class) + " images)",
                                "digit class", "estimated local dimension");
  std::vector<io::Series> series(3);
  for (int c = 0; c < 10; ++c) {
    if (members[c].empty()) continue;
    const auto n = static_cast<std::int64_t>(members[c].size());
    // only the chosen digits, in model space, as an n x D double matrix
    const Eigen::MatrixXd points = nn::to_eigen(
        nn::to_model_space(images.index_select(0, torch::tensor(members[c], torch::kInt64))).reshape({n, score.dim}));
    const auto methods =
        evaluate_lid(score, points, {}, lid, Rng(options.seed, 200 + c)(),
                     [&](std::int64_t done, std::int64_t) { bar.update(static_cast<std::size_t>(before + done)); });
    before += n * 3;
    nlohmann::json mj = nlohmann::json::array();
    for (std::size_t m = 0; m < methods.size(); ++m) {
      mj.push_back(lid_method_json(methods[m]));
      for (double v : methods[m].estimates) all[m].add(v);
      series[m].label = to_string(methods[m].method);
      series[m].x.push_back(c + 0.15 * (static_cast<double>(m) - 1));
      series[m].y.push_back(methods[m].mean_estimate);
      series[m].yerr.push_back(methods[m].sd_estimate);
    }
    for (std::int64_t k = 0; k < n; ++k)
      st.table.add_row({static_cast<double>(c), static_cast<double>(members[c][k]), methods[0].estimates[k],
                        methods[1].estimates[k], methods[2].estimates[k]});
    st.classes.push_back({{"class", c}, {"n", n}, {"methods", mj}});
  }
  bar.finish();
  for (std::size_t m = 0; m < 3; ++m) {
    const auto s = all[m].summary();
    st.overall.push_back({{"method", series[m].label}, {"mean_estimate", s.mean}, {"sd_estimate", s.sd}, {"n", s.n}});
    series[m].style = "errorbar";
    series[m].color = kColors[m];
    panel.add(series[m]);
  }
  return st;
}

}  // namespace rbsm::anatomy
