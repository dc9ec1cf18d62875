// rbsm expansion: (r_sigma - grad_M log q)/sigma^2 against the source document's b_q + K grad and the
// complete b_q + K grad + E_M (docs/targets.md §6.2), with the exact r_sigma.
#include <cmath>
#include <memory>

#include "cli.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/studies.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::cli {
namespace {

struct Case {
  std::string manifold, dist, point;
};

const std::vector<Case>& default_cases() {
  static const std::vector<Case> cases{
      {"sphere:2", "vmf:kappa=2", "0.6,0.8,0"},
      {"sphere:6", "vmf:kappa=2", "0.6,0.8,0,0,0,0,0"},
      {"sphere:10", "vmf:kappa=2", "0.6,0.8,0,0,0,0,0,0,0,0,0"},
      // angles (0.7, -0.4) and (1.0, 0.5) of the parametrisations in SPEC.md
      {"clifford-torus:1,1", "vonmises:kappa1=1,kappa2=2", "0.764842187,0.644217687,0.921060994,-0.389418342"},
      {"torus:3,1", "vonmises:kappa1=1,kappa2=1", "3.10690757,1.69731134,0.841470985"},
      {"torus:3,1", "uniform", "3.10690757,1.69731134,0.841470985"}};
  return cases;
}

std::vector<double> sigma_grid(int n) {
  std::vector<double> s(n);
  for (int i = 0; i < n; ++i) s[i] = std::pow(10.0, -2.0 + 2.0 * i / (n - 1));
  return s;
}

json run_case(const Case& c, const std::vector<double>& sigmas, int threads, io::Table& table, io::Figure& fig) {
  std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(c.manifold);
  const auto q = dist::make_density(c.dist, M);
  const geometry::Vec y = parse_vector(c.point, "point");
  const dsm::ExpansionTerms terms = dsm::expansion_terms(*q, y);
  io::Progress progress("expansion " + c.manifold + " " + c.dist, 1);
  const auto rows = dsm::expansion_study(*q, y, sigmas, threads);
  progress.finish();
  std::vector<double> xs, src, full, meas;
  for (const auto& r : rows) {
    table.add_row_text({c.manifold, c.dist, io::format_double(r.sigma), io::format_double(r.measured.norm()),
                        io::format_double(r.residual_source), io::format_double(r.residual_complete),
                        io::format_double(terms.E_M.norm()), io::format_double(terms.coefficient().norm())});
    xs.push_back(r.sigma);
    src.push_back(std::max(r.residual_source, 1e-16));
    full.push_back(std::max(r.residual_complete, 1e-16));
  }
  auto& p = fig.panel(c.manifold + ", " + c.dist, "sigma", "|(r - grad)/sigma^2 - prediction|");
  p.logx = p.logy = true;
  p.add({"source: b_q + K grad", xs, src, {}, "line", "tab:orange"});
  p.add({"complete: b_q + K grad + E_M", xs, full, {}, "line", "tab:blue"});
  if (terms.E_M.norm() > 1e-12) p.add({"|E_M|", {xs.front()}, {terms.E_M.norm()}, {}, "hline", "tab:orange"});
  // Small-sigma slope of the complete residual (expected 2: o(sigma^2) is O(sigma^4) here).
  std::vector<double> sx, sy;
  for (std::size_t i = 0; i < rows.size() && rows[i].sigma <= 0.1 + 1e-12; ++i) {
    sx.push_back(rows[i].sigma);
    sy.push_back(std::max(rows[i].residual_complete, 1e-16));
  }
  return {{"manifold", c.manifold},
          {"dist", c.dist},
          {"E_M_norm", terms.E_M.norm()},
          {"coefficient_norm", terms.coefficient().norm()},
          {"residual_source_at_smallest_sigma", rows.front().residual_source},
          {"residual_complete_at_smallest_sigma", rows.front().residual_complete},
          {"complete_residual_slope", sx.size() >= 2 ? dsm::loglog_slope(sx, sy) : 0.0}};
}

io::Table make_table() {
  return io::Table({"manifold", "dist", "sigma", "measured_norm", "residual_source", "residual_complete", "E_M_norm",
                    "coefficient_norm"});
}

/// The command's options.
struct ExpansionCli {
  std::string out = "runs/expansion";
  int sigmas = 9;  ///< sigma values, log-spaced in [0.01, 1]
};

Register reg(
    "expansion", "The sigma^2 expansion of r_sigma: source's b_q + K grad against b_q + K grad + E_M",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<ExpansionCli>();
      app.add_option("--out", o->out, "run folder")->capture_default_str();
      app.add_option("--sigmas", o->sigmas, "number of sigma values, log-spaced in [0.01, 1]")->capture_default_str();
      return [o, &common]() -> json {
        if (o->sigmas < 3) throw InvalidArgument("--sigmas must be >= 3, got " + std::to_string(o->sigmas));
        const int threads = apply_threads(common);
        io::RunFolder run(o->out, {{"command", "expansion"}, {"sigmas", o->sigmas}, {"threads", common.threads}});
        io::Table table = make_table();
        io::Figure fig;
        fig.title = "(r_sigma - grad log q)/sigma^2: residual of the source's and of the complete coefficient";
        fig.cols = 3;
        json s = json::object();
        for (const auto& c : default_cases())
          s[c.manifold + " " + c.dist] = run_case(c, sigma_grid(o->sigmas), threads, table, fig);
        table.save(run.path("metrics.csv"));
        fig.save(run.path("expansion.png"));
        run.write_json("summary.json", s);
        return {{"out", run.dir().string()}, {"cases", s}};
      };
    });

RegisterExperiment exp("expansion", 30, [](const ReproduceContext& ctx) -> ReportSection {
  const auto sigmas = sigma_grid(ctx.profile == "quick" ? 7 : 13);
  io::RunFolder run(ctx.out / "expansion", {{"experiment", "expansion"}, {"profile", ctx.profile}});
  io::Table table = make_table();
  io::Figure fig;
  fig.title = "(r_sigma - grad log q)/sigma^2 against the predicted sigma^2 coefficient";
  fig.cols = 3;
  ReportSection sec;
  sec.title = "The sigma^2 expansion of the RB target, with and without E_M";
  sec.html =
      "<p>Residual |(r_sigma - grad log q)/sigma^2 - c| for the source document's coefficient c = b_q + K grad and "
      "the complete c = b_q + K grad + E_M, with the exact r_sigma (quadrature). On the torus of revolution the "
      "source's residual levels off at |E_M| while the complete one shrinks like sigma^2.</p>";
  json summary = json::object();
  for (const auto& c : default_cases()) {
    const json s = run_case(c, sigmas, ctx.threads, table, fig);
    summary[c.manifold + " " + c.dist] = s;
    sec.rows.push_back({"residual of b_q + K grad at sigma = 0.01, " + c.manifold + " " + c.dist,
                        "-> 0 (expansion without E_M)", fmt(s["residual_source_at_smallest_sigma"].get<double>(), 4),
                        "|E_M| = " + fmt(s["E_M_norm"].get<double>(), 4)});
    sec.rows.push_back({"residual of b_q + K grad + E_M at sigma = 0.01, " + c.manifold + " " + c.dist,
                        "(not in source)", fmt(s["residual_complete_at_smallest_sigma"].get<double>(), 4),
                        "slope " + fmt(s["complete_residual_slope"].get<double>(), 3) + " (expect 2)"});
  }
  sec.key_rows = {8, 9};  // torus:3,1 under von Mises: the source's residual and the complete one
  table.save(run.path("metrics.csv"));
  fig.save(run.path("expansion.png"));
  sec.figures.push_back("expansion/expansion.png");
  sec.summary = summary;
  return sec;
});

}  // namespace
}  // namespace rbsm::cli
