// rbsm lid-bench: local intrinsic dimension from a score model, three ways (singular-value rule, normal bundle,
// FLIPD), on manifolds of known dimension, on a trained image model per class (--checkpoint) or on a TorchScript
// model (--torchscript); the studies: rbsm/anatomy/lid_study.hpp (docs/anatomy.md "Local intrinsic dimension
// benchmark"). The reproduce experiment "lid" is in exp_torch_lid.cpp.
#include "lid_cli.hpp"

#include "rbsm/error.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/sde.hpp"

namespace rbsm::cli {

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

json run_lid_bench(const LidArgs& a, const Common& common) {
  anatomy::LidBenchStudyOptions o;
  o.manifolds = anatomy::split_manifold_list(a.manifolds);
  o.bench.points = a.points;
  o.bench.train_points = a.train_points;
  o.bench.train.steps = a.steps;
  o.bench.train.batch = a.batch;
  o.bench.train.hidden = a.hidden;
  o.bench.train.layers = a.layers;
  o.bench.train.lr = a.lr;
  o.bench.train.param = anatomy::parse_time_mlp_param(a.param);
  o.bench.lid = lid_options(a);
  o.bench.validate();
  o.seed = common.seed;
  for (const auto& s : o.manifolds) {  // every spec checked before the run folder exists
    Rng r(0);
    anatomy::make_embedded_manifold(s, r);
  }
  const int threads = apply_threads(common);
  io::RunFolder run(a.out, {{"command", "lid-bench"},
                            {"manifolds", o.manifolds},
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
  const auto st = anatomy::lid_bench_study(o, [&](const std::string& s) { run.log(s, common.json); });
  st.table.save(run.path("lid_benchmark.csv"));
  st.per_point.save(run.path("lid_estimates.csv"));
  st.figure.save(run.path("lid_benchmark.png"));
  json result{{"results", st.rows},
              {"manifolds", st.manifolds},
              {"t", a.t},
              {"sigma_t", nn::VPSDE().sigma(a.t)},
              {"table", run.path("lid_benchmark.csv").string()},
              {"figure", run.path("lid_benchmark.png").string()},
              {"out", run.dir().string()}};
  run.write_json("result.json", result);
  return result;
}

json run_lid_images(const LidArgs& a, const Common& common) {
  anatomy::LidPerClassOptions o;
  o.lid = lid_options(a);
  o.lid.validate();
  o.per_class = a.per_class;
  o.seed = common.seed;
  o.data_label = a.data;
  if (a.per_class < 1) throw InvalidArgument("--per-class " + std::to_string(a.per_class) + ", expected >= 1");
  const auto model = nn::load_score_model(a.checkpoint, nn::parse_device(a.device));
  const data::ImageSet set = data::load_dataset(a.data, /*train=*/false);
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
  const auto st = anatomy::lid_per_class_study(model, set, o);
  st.table.save(run.path("lid_per_image.csv"));
  st.figure.save(run.path("lid_per_class.png"));
  json result{{"checkpoint", a.checkpoint},
              {"data", a.data},
              {"t", a.t},
              {"sigma_t", model.sde.sigma(a.t)},
              {"ambient_dim", st.ambient_dim},
              {"per_class", st.classes},
              {"overall", st.overall},
              {"table", run.path("lid_per_image.csv").string()},
              {"figure", run.path("lid_per_class.png").string()},
              {"out", run.dir().string()}};
  run.write_json("result.json", result);
  return result;
}

namespace {

void bind(CLI::App& app, LidArgs& a) {
  app.add_option("--manifolds", a.manifolds,
                 "';'-separated specs: sphere:d=N,D=N | torus:d=N,D=N | two-spheres:d1=N,d2=N,D=N")
      ->capture_default_str();
  app.add_option("--points", a.ts.points_text,
                 "held-out points per manifold (default 32), or with --torchscript a FILE of points "
                 "x_0 (CSV/.npy, one flattened point per row)");
  app.add_option("--steps", a.steps, "training steps per manifold")->capture_default_str();
  app.add_option("--train-points", a.train_points, "training set size per manifold")->capture_default_str();
  app.add_option("--hidden", a.hidden, "MLP width")->capture_default_str();
  app.add_option("--layers", a.layers, "MLP hidden layers")->capture_default_str();
  app.add_option("--batch", a.batch, "training batch")->capture_default_str();
  app.add_option("--lr", a.lr, "Adam learning rate (cosine decay)")->capture_default_str();
  app.add_option("--param", a.param, "network output: eps (noise) or x0 (denoiser)")->capture_default_str();
  app.add_option("--t", a.t, "diffusion time at which all three estimators read the score")->capture_default_str();
  app.add_option("--kappa", a.kappa, "slack of the singular-value rule")->capture_default_str();
  app.add_option("--normal-samples", a.normal_samples, "K of the normal-bundle method (0: 4 D)")->capture_default_str();
  app.add_flag("--normal-centre", a.normal_centre,
               "normal bundle: subtract the mean score before the SVD (points off the manifold)");
  app.add_option("--probes", a.probes, "FLIPD Hutchinson probes (0: exact trace)")->capture_default_str();
  app.add_option("--chunk", a.chunk, "cotangents / score evaluations per pass")->capture_default_str();
  app.add_option("--out", a.out, "output folder")->capture_default_str();
  app.add_option("--checkpoint", a.checkpoint,
                 "a trained image score model (run folder or .pt): estimate on its held-out data, "
                 "per class, instead of the manifolds");
  app.add_option("--data", a.data, "with --checkpoint: mnist | fashion-mnist | PATH")->capture_default_str();
  app.add_option("--per-class", a.per_class, "with --checkpoint: held-out images per class")->capture_default_str();
  app.add_option("--device", a.device, "with --checkpoint: cpu | cuda | auto")->capture_default_str();
  add_torchscript_options(app, a.ts, "--t", /*sample_steps=*/true);
}

Register reg("lid-bench",
             "local intrinsic dimension from a trained score model: singular-value rule, normal bundle "
             "(Stanczuk et al.) and FLIPD (Kamkari et al.) on spheres and tori of known dimension",
             [](CLI::App& app, const Common& common) -> Runner {
               auto a = std::make_shared<LidArgs>();
               bind(app, *a);
               return [a, &common]() -> json {
                 if (a->ts.given()) {
                   if (!a->checkpoint.empty())
                     throw InvalidArgument("give --checkpoint RUN or --torchscript MODEL.pt, not both");
                   return run_torchscript_lid(a->ts, lid_options(*a), a->out, common);
                 }
                 a->points = points_count(a->ts, a->points);
                 return a->checkpoint.empty() ? run_lid_bench(*a, common) : run_lid_images(*a, common);
               };
             });

}  // namespace
}  // namespace rbsm::cli
