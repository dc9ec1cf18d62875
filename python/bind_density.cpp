// rbsm.Density, rbsm.density, rbsm.rb_target and rbsm.expansion (docs/python.md §3-4): densities on M, the
// Rao-Blackwellized target (exact quadrature or the self-normalised estimator) and the sigma^2 expansion,
// rows looped in C++ with the GIL released.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "bindings.hpp"

#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/rb_exact.hpp"

namespace rbsm::py {
namespace {

using namespace pybind11::literals;

std::optional<Vec> optional_vector(const pb::object& v, int D, const char* name) {
  if (v.is_none()) return std::nullopt;
  const Batch b = to_batch(v, D, name);
  if (!b.single) throw InvalidArgument(std::string(name) + ": expected shape (" + std::to_string(D) + ",)");
  return Vec(b.m.row(0).transpose());
}

PyDensity make_py_density(const PyManifold& M, const pb::object& spec, const pb::object& mean) {
  PyDensity out{nullptr, M};
  if (pb::isinstance<pb::str>(spec)) {
    out.q = dist::make_density(spec.cast<std::string>(), M.M, optional_vector(mean, M.D(), "mean"));
  } else if (pb::isinstance<pb::dict>(spec)) {
    if (!mean.is_none()) throw InvalidArgument("a mixture takes no mean (give each component's \"mean\" in the dict)");
    const std::string text = pb::module_::import("json").attr("dumps")(spec).cast<std::string>();
    out.q = dist::make_mixture_json(text, M.M, "mixture dict");
  } else {
    throw pb::type_error(
        "density spec: expected a string (e.g. 'vmf:kappa=2') or a mixture dict "
        "{'weights': [...], 'components': [{'dist': ..., 'mean': [...]}, ...]}");
  }
  return out;
}

// ------------------------------------------------------------------ RB target
pb::object rb_target(const PyManifold& M, const PyDensity& q, const pb::handle& Y, double sigma,
                     const std::string& method, const pb::object& references, std::int64_t n_references,
                     std::uint64_t seed, bool return_ess, int threads, bool progress) {
  check_same_manifold(M, q);
  dsm::check_sigma(sigma, "sigma");
  const int D = M.D();
  const Batch b = to_batch(Y, D, "Y");
  const auto n = static_cast<std::size_t>(b.m.rows());
  if (method == "exact") {
    if (!references.is_none()) throw InvalidArgument("references are used by method='estimator' only");
    if (return_ess)
      throw InvalidArgument("return_ess: the exact target has no effective sample size (method='estimator')");
    auto out = new_array({static_cast<pb::ssize_t>(n), D});
    double* o = out.mutable_data();
    const dist::Density& Q = *q.q;
    if (!dsm::has_exact_rb_target(Q)) {
      Rng rng(0);
      dsm::exact_rb_target(Q, Q.manifold().sample_uniform(rng), sigma);  // throws the library's message naming M and q
    }
    for_rows(
        n, threads, "rb_target", progress,
        [&](std::size_t i) { Eigen::Map<Vec>(o + i * D, D) = dsm::exact_rb_target(Q, b.m.row(i).transpose(), sigma); },
        1);
    return maybe_single(out, b.single);
  }
  if (method != "estimator") throw InvalidArgument("method: expected 'exact' or 'estimator', got '" + method + "'");
  Mat refs;
  if (references.is_none()) {
    if (n_references <= 0)
      throw InvalidArgument("n_references must be a positive number of references, got " +
                            std::to_string(n_references));
    const dist::Density& Q = *q.q;
    refs = Eigen::Map<const RowMat>(
        draws(n_references, D, seed, threads, false, [&](Rng& rng) { return Q.sample(rng); }).data(), n_references, D);
  } else {
    refs = to_batch(references, D, "references", false).m;
  }
  dsm::RbEstimate r;
  r.r.resize(b.m.rows(), D);
  r.ess.resize(b.m.rows());
  constexpr Eigen::Index kBlock = 256;  // queries per estimate() call: Ctrl-C and progress between blocks
  LongCall call("rb_target", n, progress);
  without_gil([&] {
    const dsm::RbEstimator est(M.M, std::move(refs), sigma);
    for (Eigen::Index begin = 0; begin < b.m.rows(); begin += kBlock) {
      const Eigen::Index rows = std::min(kBlock, b.m.rows() - begin);
      const dsm::RbEstimate part = est.estimate(b.m.middleRows(begin, rows), threads);
      r.r.middleRows(begin, rows) = part.r;
      r.ess.segment(begin, rows) = part.ess;
      call.poll(static_cast<std::size_t>(begin + rows));
    }
    call.finish();
  });
  pb::object R = maybe_single(to_numpy(r.r), b.single);
  if (!return_ess) return R;
  return pb::make_tuple(R, maybe_single(to_numpy(r.ess), b.single));
}

pb::dict expansion(const PyDensity& q, const pb::handle& Y, double sigma, int threads) {
  dsm::check_sigma(sigma, "sigma");
  const int D = q.M.D();
  const Batch b = to_batch(Y, D, "Y");
  const auto n = static_cast<pb::ssize_t>(b.m.rows());
  std::vector<pb::array_t<double>> arrays;
  for (int k = 0; k < 7; ++k) arrays.push_back(new_array({n, D}));
  std::vector<double*> o;
  for (auto& a : arrays) o.push_back(a.mutable_data());
  for_rows(
      static_cast<std::size_t>(n), threads, "expansion", false,
      [&](std::size_t i) {
        const dsm::ExpansionTerms t = dsm::expansion_terms(*q.q, b.m.row(i).transpose());
        const Vec v[7] = {t.z, t.grad, t.b_q, t.K_grad, t.E_M, t.coefficient(), t.expansion(sigma)};
        for (int k = 0; k < 7; ++k) Eigen::Map<Vec>(o[k] + i * D, D) = v[k];
      },
      16);
  const char* names[7] = {"z",        "grad_log_q", "b_q", "K_grad_log_q", "geometric_drift", "sigma2_coefficient",
                          "expansion"};
  pb::dict out;
  for (int k = 0; k < 7; ++k) out[names[k]] = maybe_single(arrays[k], b.single);
  return out;
}
}  // namespace

void check_same_manifold(const PyManifold& M, const PyDensity& q) {
  if (M.M != q.M.M && M.M->spec() != q.M.M->spec())
    throw InvalidArgument("the density lives on " + q.M.M->spec() + ", not on " + M.M->spec());
}

void bind_density(pb::module_& m) {
  pb::class_<PyDensity>(m, "Density",
                        "A density q on M w.r.t. its Riemannian volume (rbsm::dist::Density), with exact sampling.")
      .def_property_readonly("spec", [](const PyDensity& q) { return q.q->spec(); })
      .def_property_readonly("manifold", [](const PyDensity& q) { return q.M; })
      .def("__repr__", [](const PyDensity& q) { return "<rbsm.Density " + q.q->spec() + " on " + q.M.M->spec() + ">"; })
      .def(
          "sample",
          [](const PyDensity& q, std::int64_t n, std::uint64_t seed, int threads, bool progress) {
            const auto* Q = q.q.get();
            return draws(n, q.M.D(), seed, threads, progress, [&](rbsm::Rng& rng) { return Q->sample(rng); });
          },
          "n"_a, "seed"_a = 0, "threads"_a = 0, "progress"_a = true,
          "n exact draws from q: (n, D); draw i uses the stream Rng(seed, i) (the references of\n"
          "`rbsm target --method estimator --seed S` are sample(refs, seed=S)).")
      .def(
          "log_prob",
          [](const PyDensity& q, const pb::handle& Z, int threads) {
            const Batch b = to_batch(Z, q.M.D(), "Z");
            return scalar_op(b, "Z", threads, false, [&](const Vec& z) { return q.q->log_density(z); });
          },
          "Z"_a, "threads"_a = 0,
          (std::string("log q(z) (normalised w.r.t. the Riemannian volume): (N, D) -> (N,). ") + kZ).c_str())
      .def(
          "score",
          [](const PyDensity& q, const pb::handle& Z, int threads) {
            return vector_op(q.M, Z, "Z", q.M.D(), threads, [&](const Vec& z) { return q.q->grad_log(z); });
          },
          "Z"_a, "threads"_a = 0,
          (std::string("grad_M log q(z), tangent, in ambient coordinates: (N, D) -> (N, D). ") + kZ).c_str())
      .def(
          "laplacian_log_prob",
          [](const PyDensity& q, const pb::handle& Z, int threads) {
            const Batch b = to_batch(Z, q.M.D(), "Z");
            return scalar_op(b, "Z", threads, false, [&](const Vec& z) { return q.q->laplacian_log(z); });
          },
          "Z"_a, "threads"_a = 0, (std::string("Delta_M log q(z) (Laplace-Beltrami): (N, D) -> (N,). ") + kZ).c_str())
      .def(
          "b_q",
          [](const PyDensity& q, const pb::handle& Z, int threads) {
            return vector_op(q.M, Z, "Z", q.M.D(), threads, [&](const Vec& z) { return q.q->heat_drift(z); });
          },
          "Z"_a, "threads"_a = 0,
          (std::string("b_q = 1/2 grad_M(Delta_M log q + |grad_M log q|^2), the heat-kernel term of the sigma^2\n"
                       "expansion: (N, D) -> (N, D). ") +
           kZ)
              .c_str());

  m.def("density", &make_py_density, "M"_a, "spec"_a, "mean"_a = pb::none(),
        "A density on M: spec is 'uniform', 'vmf:kappa=K', 'vonmises:kappa1=A,kappa2=B', 'matrix-fisher:f1,f2,f3'\n"
        "or a mixture dict {'weights': [w_1, ...], 'components': [{'dist': SPEC, 'mean': [...]}, ...]} (the JSON\n"
        "of `--dist @file.json`): q = sum_k w_k q_k. mean: (D,) vMF mean direction (default e_1), or for vonmises\n"
        "a point whose angles are the mean angles (docs/densities.md).");

  m.def("rb_target", &rb_target, "M"_a, "q"_a, "Y"_a, "sigma"_a, "method"_a = "exact", "references"_a = pb::none(),
        "n_references"_a = 4096, "seed"_a = 0, "return_ess"_a = false, "threads"_a = 0, "progress"_a = true,
        "The Rao-Blackwellized DSM target r_sigma(y) = E[T_sigma | pi(X) = y] at pi(y) for each row of Y:\n"
        "(N, D) -> (N, D) (docs/targets.md).\n"
        "method='exact': deterministic quadrature (vMF/uniform on spheres; any density on the two tori).\n"
        "method='estimator': the self-normalised estimator\n"
        "    r_hat(y) = sum_j w(Z_j, y) P_T(y)(Z_j - y) / (sigma^2 sum_j w(Z_j, y))\n"
        "with fibre weights w, from `references` (M, D) rows on M, or n_references draws q.sample(n, seed)\n"
        "(as `rbsm target --method estimator --refs n --seed seed`). return_ess=True also returns the effective\n"
        "sample size (sum w)^2 / sum w^2 per row: (r, ess).");

  m.def("expansion", &expansion, "q"_a, "Y"_a, "sigma"_a, "threads"_a = 0,
        "The sigma^2 expansion of the RB target at pi(y) for each row of Y:\n"
        "    r_sigma(z) = grad_M log q + sigma^2 [b_q + K grad_M log q + E_M] + o(sigma^2).\n"
        "A dict of (N, D) arrays: z, grad_log_q, b_q, K_grad_log_q, geometric_drift, sigma2_coefficient\n"
        "(b_q + K grad + E_M), expansion (grad + sigma^2 coefficient) — the keys of `rbsm score/target --json`.");
}

}  // namespace rbsm::py
