// rbsm score --manifold M --dist Q --point x [--mean m]: projects x onto M and prints log q and its
// intrinsic derivatives there, with the two embedding terms of the sigma^2 expansion
// (docs/densities.md §8).
#include "cli.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::cli {
namespace {

using geometry::Vec;

json to_json(const Vec& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

/// The command's options, as given (specs and comma-separated vectors).
struct ScoreCli {
  std::string manifold, dist, point, mean;
};

Register reg(
    "score",
    "Evaluate a density on a manifold at a point: log q, grad_M log q, Delta_M log q, b_q, K grad_M log q, E_M",
    [](CLI::App& app, const Common&) -> Runner {
      auto o = std::make_shared<ScoreCli>();
      app.add_option("--manifold", o->manifold,
                     "manifold spec: sphere:d, clifford-torus:r1,r2, torus:R,r, so3, ellipsoid:a1,...,aD")
          ->required();
      app.add_option("--dist", o->dist,
                     "density: uniform, vmf:kappa=K, vonmises:kappa1=A,kappa2=B, matrix-fisher:f1,f2,f3, "
                     "or @file.json (mixture)")
          ->required();
      app.add_option("--point", o->point, "x1,...,xD: the ambient point; it is projected onto M first")->required();
      app.add_option("--mean", o->mean,
                     "m1,...,mD: vmf mean direction (default e_1), or for vonmises a point whose angles are "
                     "the mean angles (default 0, 0)");
      app.footer(
          "Prints z = pi(point), log_q (w.r.t. the Riemannian volume), grad_log_q = grad_M log q,\n"
          "laplacian_log_q = Delta_M log q, b_q = 1/2 grad_M(Delta_M log q + |grad_M log q|^2),\n"
          "K_grad_log_q = K grad_M log q (K = 1/2 W_H - Ric#), geometric_drift = E_M, and\n"
          "sigma2_coefficient = b_q + K grad_M log q + E_M, the sigma^2 term of the RB target.\n"
          "Vectors are tangent, in ambient coordinates. Formulas: docs/densities.md.");
      return [o]() -> json {
        const std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(o->manifold);
        const Vec x = parse_vector(o->point, "--point");
        M->check_ambient(x, "--point");
        std::optional<Vec> m;
        if (!o->mean.empty()) m = parse_vector(o->mean, "--mean");
        const auto q = dist::make_density(o->dist, M, m);
        const dsm::ExpansionTerms t = dsm::expansion_terms(*q, x);
        json j;
        j["manifold"] = M->spec();
        j["dist"] = q->spec();
        j["z"] = to_json(t.z);
        j["log_q"] = q->log_density(t.z);
        j["grad_log_q"] = to_json(t.grad);
        j["laplacian_log_q"] = q->laplacian_log(t.z);
        j["b_q"] = to_json(t.b_q);
        j["K_grad_log_q"] = to_json(t.K_grad);
        j["geometric_drift"] = to_json(t.E_M);
        j["sigma2_coefficient"] = to_json(t.coefficient());
        return j;
      };
    });

}  // namespace
}  // namespace rbsm::cli
