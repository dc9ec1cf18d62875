// The reproduce experiment "anatomy" (Figures 2-4 of score-models-learn-manifold-structure): presets of
// `rbsm anatomy` (cmd_torch_anatomy.cpp; the studies: rbsm/anatomy/anatomy_study.hpp) on the "mnist"
// experiment's model and on analytic fields with known answers.
#include <algorithm>
#include <cmath>

#include "anatomy_cli.hpp"

namespace rbsm::cli {
namespace {

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
  const json jg = run_anatomy_field(g, common);
  const auto& s0 = jg["singular_values"][0];
  sec.rows.push_back({"gaussian-subspace D=784, d=20, sigma=0.1: r (per point)", "d = 20 (exact)",
                      jg["local_dim"]["per_image"].dump(), "analytic field: the rule recovers d"});
  sec.rows.push_back({"  its singular values s_1, s_784", "1/(1+sigma^2) = 0.990099, 1/sigma^2 = 100",
                      fmt(s0.front().get<double>(), 7) + ", " + fmt(s0.back().get<double>(), 7), ""});
  AnatomyArgs l = g;
  l.field = "linear:D=784,d=20,sigma=0.1,skew=0.5";
  l.out = (ctx.out / "anatomy" / "linear-skew").string();
  const json jl = run_anatomy_field(l, common);
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
    a.steps = quick ? 500 : 1000;  // Euler-Maruyama steps of the sampled trajectories
    a.examples = quick ? 2 : 3;
    a.spectra_csv = !quick;
    a.out = (ctx.out / "anatomy" / "mnist").string();
    const json r = run_anatomy_checkpoint(a, Common{false, ctx.seed, ctx.threads});
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
