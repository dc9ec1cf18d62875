// The reproduce experiment "lid": presets of `rbsm lid-bench` (cmd_torch_lid.cpp; the studies:
// rbsm/anatomy/lid_study.hpp), on manifolds of known dimension and on the "mnist" experiment's model.
#include "lid_cli.hpp"

namespace rbsm::cli {
namespace {

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
  const json r = run_lid_bench(a, Common{false, ctx.seed, ctx.threads});
  ReportSection sec;
  sec.title = "Beyond the document: local intrinsic dimension from a trained score model, three ways";
  sec.html = "<p>Small time-conditioned MLPs (VP-SDE, denoiser output, " + std::to_string(a.steps) +
             " steps) trained on spheres, a flat torus and a union of two spheres placed in R^D by random isometries; "
             "local dimension at " +
             std::to_string(a.points) + " held-out points per manifold, at t = " + fmt(a.t, 3) +
             " (sigma_t = " + fmt(r["sigma_t"].get<double>(), 3) +
             "): the document's singular-value rule (1/s_i &lt; 1.1 sigma_t^2), the normal bundle of Stanczuk et al. "
             "(largest gap of the spectrum of 4D perturbed scores) and FLIPD of Kamkari et al. (D + sigma_t^2 (tr "
             "grad s + |s|^2) at alpha_t x_0, exact trace). See docs/anatomy.md \"Local intrinsic dimension "
             "benchmark\".</p>";
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
    // quick: one digit per class and K = D = 784 perturbed scores for the normal bundle (full: 5 and 4D); the
    // two 784-cotangent Jacobians per digit stay exact
    m.per_class = quick ? 1 : 5;
    m.normal_samples = quick ? 784 : 0;
    m.out = (ctx.out / "lid" / "mnist").string();
    const json mr = run_lid_images(m, Common{false, ctx.seed, ctx.threads});
    sec.html += "<p>On the MNIST score model (" + m.checkpoint + "), " + std::to_string(m.per_class) +
                " held-out digits per class, same t, normal bundle from " +
                (m.normal_samples > 0 ? std::to_string(m.normal_samples) : std::string("4D")) +
                " perturbed scores: per-class means below and in the figure. The singular-value "
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

}  // namespace
}  // namespace rbsm::cli
