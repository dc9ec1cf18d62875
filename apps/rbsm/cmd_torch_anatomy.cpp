// rbsm anatomy: SVD / eigen anatomy of a score model's Jacobian (docs/anatomy.md), on a trained checkpoint along
// sampled trajectories (--checkpoint), on an analytic field (--field) or a TorchScript model (--torchscript); the
// studies: rbsm/anatomy/anatomy_study.hpp. The reproduce experiment "anatomy" is in exp_torch_anatomy.cpp.
#include "anatomy_cli.hpp"

#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/anatomy/measures.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/device.hpp"

namespace rbsm::cli {

anatomy::AnatomyOptions analysis_options(const AnatomyArgs& a) {
  anatomy::check_kappa(a.kappa);
  anatomy::AnatomyOptions o;
  o.kappa = a.kappa;
  o.jacobian.chunk = a.chunk;
  o.backend = anatomy::parse_linalg_backend(a.linalg);
  if (a.chunk < 1) throw InvalidArgument("--chunk " + std::to_string(a.chunk) + ", expected >= 1");
  return o;
}

static anatomy::ReportOptions report_options(const AnatomyArgs& a) {
  anatomy::ReportOptions ro;
  ro.examples = a.examples;
  ro.kappa = a.kappa;
  ro.write_spectra_csv = a.spectra_csv;
  return ro;
}

json run_anatomy_field(const AnatomyArgs& a, const Common& common) {
  const auto options = analysis_options(a);
  anatomy::make_analytic_field(a.field);  // a bad spec or --points before the run folder exists
  if (a.points < 1) throw InvalidArgument("--points " + std::to_string(a.points) + ", expected >= 1");
  io::RunFolder run(a.out, {{"command", "anatomy"},
                            {"field", a.field},
                            {"points", a.points},
                            {"kappa", a.kappa},
                            {"chunk", a.chunk},
                            {"linalg", a.linalg},
                            {"seed", common.seed}});
  json result = anatomy::field_anatomy_study(a.field, a.points, options, report_options(a), common.seed, run.dir());
  result["out"] = run.dir().string();
  run.write_json("result.json", result);
  return result;
}

json run_anatomy_checkpoint(const AnatomyArgs& a, const Common& common) {
  anatomy::CheckpointAnatomyOptions o;
  o.anatomy = analysis_options(a);
  o.times = anatomy::parse_times(a.times);
  o.images = a.n_images;
  o.sampler = a.sampler;
  o.steps = a.steps;
  o.report = report_options(a);
  o.seed = common.seed;
  const auto model = nn::load_score_model(a.checkpoint, nn::parse_device(a.device));
  torch::Tensor given;
  if (!a.images.empty()) given = anatomy::read_png_images(a.images, model);
  if (a.images.empty() && a.n_images < 1)
    throw InvalidArgument("--images " + std::to_string(a.n_images) + ", expected >= 1");
  io::RunFolder run(a.out, {{"command", "anatomy"},
                            {"checkpoint", a.checkpoint},
                            {"times", o.times},
                            {"images", a.n_images},
                            {"image_files", a.images},
                            {"kappa", a.kappa},
                            {"chunk", a.chunk},
                            {"linalg", a.linalg},
                            {"steps", a.steps},
                            {"sampler", a.sampler},
                            {"seed", common.seed},
                            {"device", a.device}});
  const json r = anatomy::checkpoint_anatomy_study(model, given, o, run.dir(),
                                                   [&](const std::string& s) { run.log(s, common.json); });
  json result{{"checkpoint", a.checkpoint}};
  for (const char* key : {"images", "kappa", "times", "local_dim_grows_as_t_decreases", "figures"})
    result[key] = r[key];
  result["out"] = run.dir().string();
  run.write_json("result.json", result);
  return result;
}

namespace {

void bind(CLI::App& app, AnatomyArgs& a) {
  auto* ck = app.add_option("--checkpoint", a.checkpoint,
                            "run folder or checkpoint.pt of a score model trained by `rbsm train`");
  auto* fd = app.add_option("--field", a.field,
                            "analytic field: gaussian-subspace:D=784,d=20,sigma=0.1 | "
                            "noisy-sphere:D=50,d=2,kappa=2,sigma=0.05 | linear:D=50,skew=0.5[,d,sigma,seed]");
  ck->excludes(fd);
  app.add_option("--times", a.times, "diffusion times at which x_t is analysed (checkpoint)")->capture_default_str();
  app.add_option("--images", a.n_images, "number of sampled images (checkpoint)")->capture_default_str();
  app.add_option("--image", a.images, "analyse these PNG digits (noised to each t) instead of sampling; repeatable");
  app.add_option("--points", a.ts.points_text,
                 "number of points drawn from the field's distribution (field; default 8), or with "
                 "--torchscript a FILE of points (CSV/.npy, one flattened point per row)");
  app.add_option("--kappa", a.kappa, "slack of the local-dimension rule 1/s_i < (1+kappa) sigma_t^2")
      ->capture_default_str();
  app.add_option("--chunk", a.chunk, "one-hot cotangents per backward pass")->capture_default_str();
  app.add_option("--linalg", a.linalg, "SVD / eigen backend: torch (LAPACK) or eigen")->capture_default_str();
  app.add_option("--steps", a.steps, "sampler steps (checkpoint)")->capture_default_str();
  app.add_option("--sampler", a.sampler, "em (the document's) | pc | ode")->capture_default_str();
  app.add_option("--device", a.device, "cpu | cuda | auto")->capture_default_str();
  app.add_option("--examples", a.examples, "example sequences drawn in Figures 2 and 3")->capture_default_str();
  app.add_flag("!--no-spectra-csv", a.spectra_csv, "skip spectra.csv (every rank of every point)");
  app.add_option("--out", a.out, "output folder")->capture_default_str();
  add_torchscript_options(app, a.ts, "--times", /*sample_steps=*/false);
}

Register reg("anatomy",
             "SVD / eigen anatomy of a score model's Jacobian: local dimension, cosines u_i.v_i, overlaps Phi_n "
             "(Figures 2-4 of score-models-learn-manifold-structure)",
             [](CLI::App& app, const Common& common) -> Runner {
               auto a = std::make_shared<AnatomyArgs>();
               bind(app, *a);
               return [a, &common]() -> json {
                 if (!a->checkpoint.empty() + !a->field.empty() + a->ts.given() != 1)
                   throw InvalidArgument(
                       "give exactly one of --checkpoint RUN, --field SPEC or --torchscript MODEL.pt");
                 if (a->ts.given())
                   return run_torchscript_anatomy(
                       a->ts,
                       {a->times, a->linalg, a->out, a->n_images, a->steps, a->examples, a->spectra_csv, a->kappa},
                       analysis_options(*a), common);
                 a->points = points_count(a->ts, a->points);
                 return a->field.empty() ? run_anatomy_checkpoint(*a, common) : run_anatomy_field(*a, common);
               };
             });

}  // namespace
}  // namespace rbsm::cli
