// Reproduce experiment "curvature": the curvature operators of every supported manifold beside the
// source document's statements about them ("S^2 Cancellation": alpha_d = 1 - d/2 on S^d, and
// "T^2 in R^3 is intrinsically flat with coefficient +1/2"), docs/geometry.md §5.
#include <cmath>
#include <functional>
#include <sstream>

#include <Eigen/Eigenvalues>

#include "cli.hpp"

#include "rbsm/geometry/manifold.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::cli {
namespace {

using geometry::Mat;
using geometry::Vec;
constexpr double kClaimTolerance = 1e-10;

/// One row of the table: a manifold, a point and the source's claim about it (if any).
struct Probe {
  std::string spec, where;
  Vec x;              ///< ambient point; the row is evaluated at z = pi(x)
  std::string claim;  ///< the source document's statement ("" if it says nothing)
  std::function<bool(const Vec& K_eig, const Vec& ric_eig)> holds;
};

/// Eigenvalues (ascending) of a symmetric operator restricted to T_z M, i.e. of E^T A E.
Vec tangent_eigenvalues(const Mat& A, const Mat& E) {
  return Eigen::SelfAdjointEigenSolver<Mat>(E.transpose() * A * E).eigenvalues();
}

/// "{a, b, c}" for the report; with digits = 17 and sep = " ", "{a b c}" for the CSV (no commas).
std::string list(const Vec& v, int digits = 5, const std::string& sep = ", ") {
  std::string s = "{";
  for (int i = 0; i < v.size(); ++i) s += (i ? sep : "") + fmt(std::abs(v[i]) < 1e-13 ? 0.0 : v[i], digits);
  return s + "}";
}

bool all_near(const Vec& v, double value) { return (v.array() - value).abs().maxCoeff() < kClaimTolerance; }

std::vector<Probe> probes() {
  std::vector<Probe> out;
  for (int d : {2, 6, 10}) {
    const double alpha = 1.0 - d / 2.0;
    out.push_back({"sphere:" + std::to_string(d), "z = (1,...,1)/sqrt(" + std::to_string(d + 1) + ")", Vec::Ones(d + 1),
                   "K = alpha_d Id with alpha_d = 1 - d/2 = " + fmt(alpha),
                   [alpha](const Vec& K, const Vec&) { return all_near(K, alpha); }});
  }
  const std::string flat = "T^2 intrinsically flat (Ric# = 0) with K = +1/2 Id";
  auto flat_holds = [](const Vec& K, const Vec& ric) { return all_near(ric, 0.0) && all_near(K, 0.5); };
  const geometry::CliffordTorus clifford(1, 1);
  out.push_back({"clifford-torus:1,1", "a1 = 0.7 rad; a2 = -1.9 rad", clifford.point(0.7, -1.9), flat, flat_holds});
  const geometry::TorusOfRevolution torus(3, 1);
  for (int deg : {0, 60, 90, 120, 180})
    out.push_back({"torus:3,1", "a1 = " + std::to_string(deg) + " deg; a2 = 0", torus.point(deg * kPi / 180, 0), flat,
                   flat_holds});
  // Generic level-set manifolds (docs/level_set.md): the source says nothing about them.
  Vec e(3);
  e << 0.6, 1.0, 1.8;
  out.push_back({"ellipsoid:1,1.5,2.5", "pi(0.6, 1, 1.8)", e, "", nullptr});
  out.push_back({"ellipsoid:1,1.5,2.5", "vertex (0, 0, 2.5)", Vec::Unit(3, 2) * 2.5, "", nullptr});
  Vec rotation(9);
  rotation << 0.36, 0.48, -0.8, -0.8, 0.6, 0, 0.48, 0.64, 0.6;  // a rotation matrix, row-major
  out.push_back({"so3", "R = [[0.36 0.48 -0.8] [-0.8 0.6 0] [0.48 0.64 0.6]]", rotation, "", nullptr});
  return out;
}

/// The figure: K's eigenvalues and K_G of the torus of revolution (3, 1) against the tube angle a1.
io::Figure torus_figure(int samples) {
  const geometry::TorusOfRevolution T(3, 1);
  io::Series k_meridian{"K on e1 (meridian, a1 direction)"}, k_parallel{"K on e2 (parallel, a2 direction)"},
      gauss{"Gaussian curvature K_G"}, ricci{"Ric# eigenvalue (= K_G)"}, drift{"E_M . e1"};
  for (int i = 0; i < samples; ++i) {
    const double a1 = -kPi + 2 * kPi * i / (samples - 1);
    const Vec z = T.point(a1, 0);
    const Mat E = T.tangent_frame(z);  // e1 = dp/da1 / r, e2 = dp/da2 / (R + r cos a1)
    const Mat K2 = E.transpose() * T.correction_operator(z) * E;
    for (auto* s : {&k_meridian, &k_parallel, &gauss, &ricci, &drift}) s->x.push_back(a1);
    k_meridian.y.push_back(K2(0, 0));
    k_parallel.y.push_back(K2(1, 1));
    gauss.y.push_back(0.5 * T.scalar_curvature(z));
    ricci.y.push_back((E.transpose() * T.ricci(z) * E)(0, 0));
    drift.y.push_back(T.geometric_drift(z).dot(E.col(0)));
  }
  ricci.style = "dashed";
  io::Figure fig;
  fig.title =
      "Torus of revolution R = 3, r = 1: curvature varies along M (the source's flat T^2 is the Clifford torus)";
  auto& p = fig.panel("K = 1/2 W_H - Ric# and K_G", "tube angle a1 (rad)", "curvature (1/length^2)");
  p.add(k_meridian).add(k_parallel).add(gauss).add(ricci);
  p.add({"source: +1/2 (flat T^2)", {-kPi, kPi}, {0.5, 0.5}, {}, "hline", "grey"});
  fig.panel("Embedding drift E_M = 1/2 k1 grad k1", "tube angle a1 (rad)", "E_M . e1 (1/length^3)").add(drift);
  return fig;
}

ReportSection run_curvature(const ReproduceContext& ctx) {
  const auto dir = ctx.out / "curvature";
  io::ensure_directory(dir);
  io::Table table({"manifold", "where", "z", "K_eigenvalues", "ricci_eigenvalues", "scalar_curvature", "E_M_norm",
                   "gauss_residual", "source_statement", "source_holds"});
  ReportSection section;
  section.title = "Curvature operators of the supported manifolds";
  section.html =
      "<p>At each point: the eigenvalues of K = 1/2 W<sub>H</sub> - Ric<sup>#</sup> and of Ric<sup>#</sup> on "
      "T<sub>z</sub>M (Ric<sup>#</sup> computed intrinsically where a closed form exists), the scalar curvature, "
      "|E<sub>M</sub>| and the Gauss-equation residual max|Ric<sup>#</sup> - W<sub>H</sub> + sum "
      "W<sub>n</sub><sup>2</sup>|. "
      "The source document's alpha<sub>d</sub> = 1 - d/2 holds on every sphere. Its statement that "
      "\"T<sup>2</sup> in R<sup>3</sup> is intrinsically flat with coefficient +1/2\" holds for the Clifford torus "
      "S<sup>1</sup> x S<sup>1</sup> in R<sup>4</sup>, not for the torus of revolution in R<sup>3</sup>, whose "
      "Gaussian curvature cos a1 / (r (R + r cos a1)) changes sign and whose K varies along M (docs/geometry.md). "
      "The ellipsoid (1, 1.5, 2.5) and SO(3) rows come from the generic level-set route (docs/level_set.md); "
      "the source says nothing about them. Table: curvature/curvature.csv.</p>";
  double worst_residual = 0, largest_drift = 0;
  json rows = json::array();
  for (const Probe& p : probes()) {
    const auto M = geometry::make_manifold(p.spec);
    const Vec z = M->project(p.x);
    const geometry::LocalGeometry g = M->local(z);
    const Vec K_eig = tangent_eigenvalues(g.K, g.tangent), ric_eig = tangent_eigenvalues(g.ricci, g.tangent);
    const double drift = M->geometric_drift(z).norm(), residual = M->gauss_residual(z);
    worst_residual = std::max(worst_residual, residual);
    largest_drift = std::max(largest_drift, drift);
    const std::string holds = p.holds ? (p.holds(K_eig, ric_eig) ? "true" : "false") : "n/a";
    table.add_row_text({p.spec, p.where, list(z, 17, " "), list(K_eig, 17, " "), list(ric_eig, 17, " "),
                        io::format_double(g.scalar_curvature), io::format_double(drift), io::format_double(residual),
                        p.claim.empty() ? "(none)" : p.claim, holds});
    rows.push_back({{"manifold", p.spec},
                    {"where", p.where},
                    {"K_eigenvalues", std::vector<double>(K_eig.data(), K_eig.data() + K_eig.size())},
                    {"scalar_curvature", g.scalar_curvature},
                    {"E_M_norm", drift},
                    {"gauss_residual", residual},
                    {"source_holds", holds}});
    std::string note = "Ric# eig " + list(ric_eig) + ", scalar " + fmt(g.scalar_curvature) + ", |E_M| " +
                       fmt(drift, 3) + ", Gauss residual " + fmt(residual, 2);
    if (holds != "n/a") note = (holds == "true" ? "holds; " : "does NOT hold; ") + note;
    section.rows.push_back({p.spec + " at " + p.where, p.claim.empty() ? "-" : p.claim, "K eig " + list(K_eig), note});
  }
  section.rows.push_back({"Gauss equation Ric# = W_H - sum_a W_{n_a}^2", "holds on every embedded manifold",
                          "max residual " + fmt(worst_residual, 3), "Ric# intrinsic for the closed forms"});
  section.rows.push_back(
      {"embedding drift E_M", "not in the source", "max |E_M| " + fmt(largest_drift, 4),
       "zero on spheres, the Clifford torus and SO(3); not on the torus of revolution or the ellipsoid"});
  section.key_rows = {2, 3, 4};  // S^10, the Clifford torus, the torus of revolution at a1 = 0
  table.save(dir / "curvature.csv");
  torus_figure(ctx.profile == "full" ? 721 : 181).save(dir / "curvature.png");
  section.figures.push_back("curvature/curvature.png");
  section.summary = {{"rows", rows},
                     {"max_gauss_residual", worst_residual},
                     {"max_E_M_norm", largest_drift},
                     {"csv", (dir / "curvature.csv").string()}};
  return section;
}

RegisterExperiment reg("curvature", 10, run_curvature);

}  // namespace
}  // namespace rbsm::cli
