// rbsm target: the Rao-Blackwellized DSM target r_sigma at one point, exact or estimated, beside
// the terms of its sigma^2 expansion (docs/targets.md §6).
#include <cmath>
#include <memory>
#include <optional>

#include "cli.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/rb_exact.hpp"
#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/parallel.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::cli {
namespace {

json to_json(const geometry::Vec& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

struct Options {
  std::string manifold = "sphere:2", dist = "vmf:kappa=2", point, mean, method = "exact";
  std::string sigma = "0.1";
  int refs = 4096;
};

Register reg(
    "target", "The Rao-Blackwellized target r_sigma at a point (exact quadrature or the estimator)",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<Options>();
      app.add_option("--manifold", o->manifold,
                     "manifold spec (sphere:d, clifford-torus:r1,r2, torus:R,r, so3, ellipsoid:...)")
          ->capture_default_str();
      app.add_option("--dist", o->dist, "density spec (uniform, vmf:kappa=K, vonmises:kappa1=A,kappa2=B, ...)")
          ->capture_default_str();
      app.add_option("--point", o->point, "the point y, comma-separated ambient coordinates (projected onto M)")
          ->required();
      app.add_option("--sigma", o->sigma, "noise level sigma > 0")->capture_default_str();
      app.add_option("--method", o->method,
                     "exact (deterministic quadrature) or estimator (self-normalised, from --refs samples of q)")
          ->check(CLI::IsMember({"exact", "estimator"}))
          ->capture_default_str();
      app.add_option("--refs", o->refs, "number of reference samples for --method estimator")->capture_default_str();
      app.add_option("--mean", o->mean, "vMF mean direction, comma-separated (default e_1)");
      return [o, &common]() -> json {
        const double sigma = parse_double(o->sigma, "--sigma");
        dsm::check_sigma(sigma, "--sigma");
        if (o->refs <= 0)
          throw InvalidArgument("--refs must be a positive number of references, got " + std::to_string(o->refs));
        std::shared_ptr<const geometry::Manifold> M = geometry::make_manifold(o->manifold);
        std::optional<geometry::Vec> mean;
        if (!o->mean.empty()) mean = parse_vector(o->mean, "--mean");
        const auto q = dist::make_density(o->dist, M, mean);
        const geometry::Vec y = parse_vector(o->point, "--point");
        M->check_ambient(y, "--point");
        const dsm::ExpansionTerms terms = dsm::expansion_terms(*q, y);
        json out;
        out["manifold"] = M->spec();
        out["dist"] = q->spec();
        out["sigma"] = sigma;
        out["method"] = o->method;
        out["z"] = to_json(terms.z);
        if (o->method == "exact") {
          dsm::ExactRbInfo info;  // below sigma_s = 1e-3 L: the sigma^2 expansion (docs/targets.md §3.3)
          out["r"] = to_json(dsm::exact_rb_target(*q, y, sigma, 1e-10, &info));
          out["exact_method"] = info.expansion ? "expansion" : "quadrature";
          if (info.expansion) out["expansion_remainder_bound"] = info.remainder;
        } else {
          geometry::Mat refs(o->refs, M->ambient_dim());
          const int threads = apply_threads(common);
          parallel_for(
              static_cast<std::size_t>(o->refs), threads,
              [&](std::size_t j) {
                Rng rng(common.seed, j);
                refs.row(j) = q->sample(rng).transpose();
              },
              256);
          const dsm::RbEstimator est(M, refs, sigma);
          double ess = 0.0;
          out["r"] = to_json(est.estimate_one(terms.z, &ess));
          out["ess"] = ess;
          out["refs"] = o->refs;
        }
        out["grad_log_q"] = to_json(terms.grad);
        out["b_q"] = to_json(terms.b_q);
        out["K_grad_log_q"] = to_json(terms.K_grad);
        out["geometric_drift"] = to_json(terms.E_M);
        out["expansion"] = to_json(terms.expansion(sigma));
        return out;
      };
    });

}  // namespace
}  // namespace rbsm::cli
