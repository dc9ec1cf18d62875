// The Python module `rbsm` (docs/python.md): the library's geometry, densities, RB targets and Langevin
// sampling, vectorised over numpy batches (rows looped in C++ with the GIL released), and rbsm.fit
// (python/fit_py.cpp, with LibTorch). Every computation is a library call; this file converts arrays,
// checks shapes and maps errors: InvalidArgument -> ValueError (GeometryError -> rbsm.GeometryError, a
// ValueError), IoError -> OSError, NumericalError and other rbsm errors -> RuntimeError.
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "common.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dsm/expansion.hpp"
#include "rbsm/dsm/fibre.hpp"
#include "rbsm/dsm/rb_estimator.hpp"
#include "rbsm/dsm/rb_exact.hpp"
#include "rbsm/geometry/batch.hpp"
#include "rbsm/random.hpp"
#include "rbsm/sampling/drifts.hpp"
#include "rbsm/sampling/langevin.hpp"
#include "rbsm/sampling/langevin_batch.hpp"

namespace rbsm::py {

void bind_fit(pb::module_& m);          // fit_py.cpp (LibTorch builds)
void bind_torchscript(pb::module_& m);  // torchscript_py.cpp (LibTorch builds)

namespace {

using namespace pybind11::literals;

// ------------------------------------------------------------------ manifold
struct PyManifold {
  std::shared_ptr<const geometry::Manifold> M;
  const geometry::Manifold& operator*() const { return *M; }
  int D() const { return M->ambient_dim(); }
};

/// out[i] = f(z_i) for a vector-valued f with `len` entries.
template <class F>
pb::object vector_op(const PyManifold& pm, const pb::handle& Z, const char* name, int len, int threads, F f) {
  const Batch b = to_batch(Z, pm.D(), name);
  const auto n = static_cast<std::size_t>(b.m.rows());
  auto out = new_array({static_cast<pb::ssize_t>(n), len});
  double* o = out.mutable_data();
  for_rows(
      n, threads, name, false,
      [&](std::size_t i) {
        const Vec v = f(Vec(b.m.row(i).transpose()));
        Eigen::Map<Vec>(o + i * len, len) = v;
      },
      16);
  return maybe_single(out, b.single);
}

/// out[i] = f(z_i) for a scalar f.
template <class F>
pb::object scalar_op(const Batch& b, const char* name, int threads, bool progress, F f, std::size_t grain = 16) {
  const auto n = static_cast<std::size_t>(b.m.rows());
  auto out = new_array({static_cast<pb::ssize_t>(n)});
  double* o = out.mutable_data();
  for_rows(
      n, threads, name, progress, [&](std::size_t i) { o[i] = f(Vec(b.m.row(i).transpose())); }, grain);
  return maybe_single(out, b.single);
}

/// A (N, cols) float64 C-contiguous view of X (no copy when it already is one; otherwise converted or
/// copied as to_batch does, with its checks and messages).
struct InputRows {
  pb::array_t<double, pb::array::c_style | pb::array::forcecast> a;
  std::size_t n = 0;
  bool single = false;
};

InputRows to_rows(const pb::handle& X, int cols, const char* name) {
  pb::array a = pb::array::ensure(X);
  const char kind = a ? a.dtype().kind() : 0;
  const bool ok = a && (kind == 'f' || kind == 'i' || kind == 'u') &&
                  ((a.ndim() == 2 && a.shape(1) == cols) || (a.ndim() == 1 && a.shape(0) == cols));
  if (!ok) {
    to_batch(X, cols, name);  // throws to_batch's error
    throw pb::type_error(std::string(name) + ": expected a float64 array of shape (N, " + std::to_string(cols) + ")");
  }
  InputRows r;
  r.a = pb::array_t<double, pb::array::c_style | pb::array::forcecast>::ensure(a);
  if (!r.a) throw pb::type_error(std::string(name) + ": cannot convert to float64");
  r.single = a.ndim() == 1;
  r.n = r.single ? 1 : static_cast<std::size_t>(r.a.shape(0));
  return r;
}

/// The output arrays of one geometry call, allocated as one block (each array 64-byte aligned) that the arrays
/// share through a capsule (the block is freed with the last of them). One block of the same size per call
/// lets malloc reuse it from call to call without returning it to the kernel (glibc trims freed memory above
/// twice the largest block it has unmapped, which ten separate arrays exceed), and in a block of 4 MiB or more
/// the whole 2 MiB pages are marked MADV_HUGEPAGE, so memory that is fresh after all is faulted in 2 MiB pages
/// instead of 4 KiB ones (numpy does the same for its arrays from 4 MiB on). The first touch happens in the
/// rows' threads.
std::vector<pb::array_t<double>> output_block(const std::vector<std::vector<pb::ssize_t>>& shapes) {
  constexpr std::size_t kAlign = 8, kHuge = std::size_t{2} << 20;  // kAlign doubles = 64 bytes
  std::vector<std::size_t> offsets;
  std::size_t total = 0;
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (pb::ssize_t e : shape) n *= static_cast<std::size_t>(e);
    offsets.push_back(total);
    total += (n + kAlign - 1) / kAlign * kAlign;
  }
  const std::size_t bytes = std::max<std::size_t>(total * sizeof(double), 64);
  const std::size_t size = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, size);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (size >= 2 * kHuge) {  // advice only (no error if THP is off): the whole 2 MiB pages inside the block
    const auto first = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) / kHuge * kHuge;
    const auto last = (reinterpret_cast<std::uintptr_t>(p) + size) / kHuge * kHuge;
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#endif
  const pb::capsule owner(p, [](void* q) { std::free(q); });
  std::vector<pb::array_t<double>> out;
  for (std::size_t i = 0; i < shapes.size(); ++i)
    out.emplace_back(shapes[i], static_cast<double*>(p) + offsets[i], owner);
  return out;
}

/// The outputs of geometry::local_rows, by name (the keys of M.local).
enum class Output { z, tangent, normal, P_T, P_N, H, W_H, ricci, K, scalar, drift };

std::vector<pb::ssize_t> output_shape(const geometry::Manifold& M, Output o, pb::ssize_t n) {
  const pb::ssize_t D = M.ambient_dim(), d = M.dim(), k = M.codim();
  switch (o) {
    case Output::tangent:
      return {n, D, d};
    case Output::normal:
      return {n, D, k};
    case Output::P_T:
    case Output::P_N:
    case Output::W_H:
    case Output::ricci:
    case Output::K:
      return {n, D, D};
    case Output::scalar:
      return {n};
    default:
      return {n, D};
  }
}

double*& output_slot(geometry::LocalRows& r, Output o) {
  switch (o) {
    case Output::z:
      return r.z;
    case Output::tangent:
      return r.tangent;
    case Output::normal:
      return r.normal;
    case Output::P_T:
      return r.P_T;
    case Output::P_N:
      return r.P_N;
    case Output::H:
      return r.H;
    case Output::W_H:
      return r.W_H;
    case Output::ricci:
      return r.ricci;
    case Output::K:
      return r.K;
    case Output::scalar:
      return r.scalar;
    default:
      return r.drift;
  }
}

/// geometry::local_rows over the rows of X for the requested outputs: blocks of 64 rows on `threads`
/// threads (rbsm::parallel_for, the GIL released); an error is re-raised naming its row.
std::vector<pb::array_t<double>> geometry_rows(const PyManifold& pm, const InputRows& X, bool project,
                                               const std::vector<Output>& outputs, int threads, const char* label) {
  const geometry::Manifold& M = *pm;
  const auto n = X.n;
  std::vector<std::vector<pb::ssize_t>> shapes;
  for (Output o : outputs) shapes.push_back(output_shape(M, o, static_cast<pb::ssize_t>(n)));
  std::vector<pb::array_t<double>> arrays = output_block(shapes);
  geometry::LocalRows out;
  for (std::size_t j = 0; j < outputs.size(); ++j) output_slot(out, outputs[j]) = arrays[j].mutable_data();
  const double* x = X.a.data();
  // M.project: Manifold::project's values (geometry::project_rows); M.local: local_rows' certified closed forms
  const bool project_only = project && outputs.size() == 1 && outputs[0] == Output::z;
  auto rows = [&](std::size_t begin, std::size_t end) {
    if (project_only)
      geometry::project_rows(M, x, begin, end, out.z);
    else
      geometry::local_rows(M, x, begin, end, project, out);
  };
  constexpr std::size_t kBlock = 64;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  for_rows(
      blocks, threads, label, false,
      [&](std::size_t blk) {
        const std::size_t begin = blk * kBlock, end = std::min<std::size_t>(begin + kBlock, n);
        try {
          rows(begin, end);
        } catch (const rbsm::Error&) {  // name the row: redo the block one row at a time
          for (std::size_t i = begin; i < end; ++i) {
            try {
              rows(i, i + 1);
            } catch (const rbsm::Error&) {
              rethrow_with_row(i, n);
            }
          }
        }
      },
      1, false);
  return arrays;
}

/// One output of local_rows at the rows of Z (points on M, or X projected when `project`).
pb::object geometry_op(const PyManifold& pm, const pb::handle& Z, Output o, bool project, int threads) {
  const InputRows X = to_rows(Z, pm.D(), project ? "X" : "Z");
  return maybe_single(geometry_rows(pm, X, project, {o}, threads, project ? "project" : "geometry")[0], X.single);
}

/// The per-point library function `name` at each row of Z (Manifold::project, tangent_projector, ricci,
/// geometric_drift, ...: one virtual call per point): the reference the batched methods are tested against.
pb::object per_point(const PyManifold& pm, const std::string& name, const pb::handle& Z, int threads) {
  const geometry::Manifold& M = *pm;
  const Batch b = to_batch(Z, pm.D(), "Z");
  const auto n = static_cast<pb::ssize_t>(b.m.rows());
  const pb::ssize_t D = M.ambient_dim(), d = M.dim(), k = M.codim();
  std::function<Mat(const Vec&)> f;
  std::vector<pb::ssize_t> shape{n, D};
  if (name == "project") {
    f = [&](const Vec& z) { return Mat(M.project(z)); };
  } else if (name == "tangent_projector" || name == "normal_projector" || name == "weingarten_H" || name == "ricci" ||
             name == "correction_operator") {
    shape = {n, D, D};
    if (name == "tangent_projector") f = [&](const Vec& z) { return M.tangent_projector(z); };
    if (name == "normal_projector") f = [&](const Vec& z) { return M.normal_projector(z); };
    if (name == "weingarten_H") f = [&](const Vec& z) { return M.weingarten_mean(z); };
    if (name == "ricci") f = [&](const Vec& z) { return M.ricci(z); };
    if (name == "correction_operator") f = [&](const Vec& z) { return M.correction_operator(z); };
  } else if (name == "tangent_frame") {
    shape = {n, D, d};
    f = [&](const Vec& z) { return M.tangent_frame(z); };
  } else if (name == "normal_frame") {
    shape = {n, D, k};
    f = [&](const Vec& z) { return M.normal_frame(z); };
  } else if (name == "mean_curvature") {
    f = [&](const Vec& z) { return Mat(M.mean_curvature(z)); };
  } else if (name == "geometric_drift") {
    f = [&](const Vec& z) { return Mat(M.geometric_drift(z)); };
  } else if (name == "scalar_curvature") {
    shape = {n};
    f = [&](const Vec& z) { return Mat::Constant(1, 1, M.scalar_curvature(z)); };
  } else {
    throw rbsm::InvalidArgument("_per_point: unknown operator '" + name + "'");
  }
  auto out = new_array(shape);
  double* o = out.mutable_data();
  const std::size_t len = static_cast<std::size_t>(out.size() / std::max<pb::ssize_t>(n, 1));
  for_rows(
      static_cast<std::size_t>(n), threads, name, false,
      [&](std::size_t i) {
        const Mat A = f(Vec(b.m.row(i).transpose()));
        Eigen::Map<RowMat>(o + i * len, A.rows(), A.cols()) = A;
      },
      16);
  return maybe_single(out, b.single);
}

pb::dict local_batch(const PyManifold& pm, const pb::handle& X, bool project, int threads) {
  const InputRows rows = to_rows(X, pm.D(), "X");
  using O = Output;
  const std::vector<O> outputs{O::z, O::tangent, O::normal, O::P_T, O::P_N, O::H, O::W_H, O::ricci, O::K, O::scalar};
  const char* names[] = {"z",
                         "tangent_frame",
                         "normal_frame",
                         "tangent_projector",
                         "normal_projector",
                         "mean_curvature",
                         "weingarten_H",
                         "ricci",
                         "K",
                         "scalar_curvature"};
  const std::vector<pb::array_t<double>> arrays = geometry_rows(pm, rows, project, outputs, threads, "local");
  pb::dict o;
  for (std::size_t j = 0; j < outputs.size(); ++j) o[names[j]] = maybe_single(arrays[j], rows.single);
  return o;
}

/// n exact draws, draw i from Rng(seed, i) (as `rbsm target --method estimator` draws its references).
template <class F>
pb::array_t<double> draws(std::int64_t n, int D, std::uint64_t seed, int threads, bool progress, F f) {
  if (n < 0) throw InvalidArgument("n must be >= 0, got " + std::to_string(n));
  auto out = new_array({static_cast<pb::ssize_t>(n), D});
  double* o = out.mutable_data();
  for_rows(
      static_cast<std::size_t>(n), threads, "sample", progress,
      [&](std::size_t i) {
        Rng rng(seed, i);
        Eigen::Map<Vec>(o + i * D, D) = f(rng);
      },
      64);
  return out;
}

// ------------------------------------------------------------------ density
struct PyDensity {
  std::shared_ptr<const dist::Density> q;
  PyManifold M;
};

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

void check_same_manifold(const PyManifold& M, const PyDensity& q) {
  if (M.M != q.M.M && M.M->spec() != q.M.M->spec())
    throw InvalidArgument("the density lives on " + q.M.M->spec() + ", not on " + M.M->spec());
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

// ------------------------------------------------------------------ Langevin
struct PyLangevin {
  pb::array_t<double> samples;  // (chains, records, D)
  double acceptance_rate = 1;
  bool fast_path = false;
};

PyLangevin langevin(const PyManifold& M, const pb::object& drift, const pb::object& q, const pb::object& sigma_obj,
                    int chains, int steps, double step_size, std::uint64_t seed, int burn_in, int record_every,
                    bool metropolis, const pb::object& initial, bool fast_path, int references, int threads,
                    bool progress) {
  sampling::LangevinOptions o;
  o.chains = chains;
  o.steps = steps;
  o.step_size = step_size;
  o.seed = seed;
  o.burn_in = burn_in;
  o.record_every = record_every;
  o.metropolis = metropolis;
  o.force_generic = !fast_path;
  o.threads = threads;
  const int D = M.D();
  if (!initial.is_none()) {
    Batch b = to_batch(initial, D, "initial", false);
    if (b.m.rows() != chains)
      throw InvalidArgument("initial: expected shape (" + std::to_string(chains) + ", " + std::to_string(D) +
                            ") (one row per chain), got " + std::to_string(b.m.rows()) + " rows");
    o.initial = std::move(b.m);
  }
  sampling::LangevinResult res;
  if (pb::isinstance<pb::str>(drift)) {
    if (q.is_none()) throw InvalidArgument("langevin: a named drift needs the density q (q=rbsm.density(M, ...))");
    const PyDensity& Q = q.cast<const PyDensity&>();
    check_same_manifold(M, Q);
    const std::string name = drift.cast<std::string>();
    double sigma = 0.1;
    if (!sigma_obj.is_none()) {
      sigma = sigma_obj.cast<double>();
    } else if (name != "true") {
      throw InvalidArgument("langevin: drift '" + name + "' needs the noise level sigma");
    }
    if (o.metropolis && !sampling::drift_has_potential(name, *Q.q))
      throw InvalidArgument(sampling::mala_without_potential_message(name));
    sampling::DriftOptions dopt;
    dopt.references = references;
    dopt.seed = seed;
    dopt.threads = threads;
    LongCall call("langevin", static_cast<std::size_t>(chains), progress);
    o.on_chain_done = [&](std::size_t done) { call.poll(done); };
    without_gil([&] {
      const sampling::Drift d = sampling::build_drift(name, *Q.q, sigma, "none", dopt);
      call.poll(0);
      res = sampling::run_langevin(*M.M, d, o);
      call.finish();
    });
  } else if (PyCallable_Check(drift.ptr())) {
    if (!q.is_none() || !sigma_obj.is_none())
      throw InvalidArgument("langevin: q and sigma are for named drifts; a callable drift takes neither");
    LongCall call("langevin", static_cast<std::size_t>(steps), progress);
    // The GIL is held here: the callable runs once per step on all chains (chains x D -> chains x D).
    res = sampling::run_langevin_batched(
        *M.M,
        [&](const Mat& Z, int) -> Mat {
          pb::object r = drift(to_numpy(Z));
          Batch b = to_batch(r, D, "the drift's result", false);
          if (b.m.rows() != Z.rows())
            throw InvalidArgument("the drift's result: expected shape (" + std::to_string(Z.rows()) + ", " +
                                  std::to_string(D) + "), got " + std::to_string(b.m.rows()) + " rows");
          return std::move(b.m);
        },
        o,
        [&](int k) {
          if (PyErr_CheckSignals() != 0) throw pb::error_already_set();
          call.poll(static_cast<std::size_t>(k + 1));
        });
    call.finish();
  } else {
    throw pb::type_error(
        "langevin: drift must be a drift name (true, rb, rb-extrinsic, ...) or a callable f(Z) -> (N, D)");
  }
  PyLangevin out;
  auto S = new_array({res.chains, res.records_per_chain, D});
  Eigen::Map<RowMat>(S.mutable_data(), res.samples.rows(), D) = res.samples;
  out.samples = S;
  out.acceptance_rate = res.acceptance_rate;
  out.fast_path = res.fast_path;
  return out;
}

// ------------------------------------------------------------------ docstrings
constexpr const char* kZ = "Z: (N, D) float64 points on M (rows of project's output), or one point (D,).";

}  // namespace

void register_errors(pb::module_& m) {
  static pb::exception<GeometryError> geometry_error(m, "GeometryError", PyExc_ValueError);
  pb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const GeometryError& e) {
      PyErr_SetString(geometry_error.ptr(), e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const rbsm::Error& e) {  // NumericalError and any other rbsm error
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
}

}  // namespace rbsm::py

PYBIND11_MODULE(rbsm, m) {
  using namespace rbsm::py;
  using namespace pybind11::literals;
  namespace geometry = rbsm::geometry;
  m.doc() =
      "rbsm: Rao-Blackwellized score matching on manifolds (docs/python.md).\n\n"
      "Vectorised over numpy batches: points are (N, D) float64 arrays (float32 and integer arrays are\n"
      "converted, non-contiguous ones copied; a single (D,) point gives unbatched results). Rows are looped\n"
      "in C++ on `threads` threads (0: all cores) with the GIL released. Errors: ValueError for invalid\n"
      "arguments (rbsm.GeometryError, a ValueError, for points without a unique nearest point), OSError\n"
      "for files, RuntimeError for numerical failures.";
  m.attr("__version__") = "0.1.0";
  register_errors(m);

  pb::class_<PyManifold>(m, "Manifold",
                         "An embedded manifold M of dimension d in R^D (rbsm::geometry::Manifold).\n\n"
                         "At z in M, R^D = T_z M (+) N_z M with projectors P_T, P_N; II(u, v) in N_z M;\n"
                         "<W_nu u, v> = <II(u, v), nu>; H = sum_i II(e_i, e_i) (a trace, no 1/d);\n"
                         "Gauss: Ric# = W_H - sum_a W_{n_a}^2; K = 1/2 W_H - Ric#. Every operator is a D x D\n"
                         "ambient matrix acting as zero on N_z M.")
      .def_property_readonly("spec", [](const PyManifold& M) { return M.M->spec(); })
      .def_property_readonly(
          "d", [](const PyManifold& M) { return M.M->dim(); }, "intrinsic dimension d")
      .def_property_readonly(
          "D", [](const PyManifold& M) { return M.M->ambient_dim(); }, "ambient dimension D")
      .def_property_readonly(
          "codim", [](const PyManifold& M) { return M.M->codim(); }, "k = D - d")
      .def_property_readonly("reach", [](const PyManifold& M) { return M.M->reach(); })
      .def_property_readonly(
          "volume", [](const PyManifold& M) { return M.M->volume(); }, "Riemannian volume of M")
      .def("__repr__", [](const PyManifold& M) { return "rbsm.manifold('" + M.M->spec() + "')"; })
      .def(
          "project",
          [](const PyManifold& M, const pb::handle& X, int threads) {
            return geometry_op(M, X, Output::z, true, threads);
          },
          "X"_a, "threads"_a = 0,
          "Nearest-point projection pi(x) of each row: (N, D) -> (N, D). Raises rbsm.GeometryError where the\n"
          "nearest point is not unique (sphere centre, torus axis) or x lies outside the reach.")
      .def(
          "tangent_projector",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::P_T, false, threads);
          },
          "Z"_a, "threads"_a = 0, (std::string("P_T = E E^T: (N, D) -> (N, D, D). ") + kZ).c_str())
      .def(
          "normal_projector",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::P_N, false, threads);
          },
          "Z"_a, "threads"_a = 0, (std::string("P_N = I - P_T: (N, D) -> (N, D, D). ") + kZ).c_str())
      .def(
          "tangent_frame",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::tangent, false, threads);
          },
          "Z"_a, "threads"_a = 0,
          (std::string("Orthonormal tangent frame E (columns): (N, D) -> (N, D, d). ") + kZ).c_str())
      .def(
          "normal_frame",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::normal, false, threads);
          },
          "Z"_a, "threads"_a = 0,
          (std::string("Orthonormal normal frame N (columns): (N, D) -> (N, D, k). ") + kZ).c_str())
      .def(
          "mean_curvature",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::H, false, threads);
          },
          "Z"_a, "threads"_a = 0,
          (std::string("Mean curvature vector H = sum_i II(e_i, e_i) (a trace, no 1/d; in N_z M): (N, D) -> (N, D). ") +
           kZ)
              .c_str())
      .def(
          "weingarten",
          [](const PyManifold& M, const pb::handle& Z, const pb::handle& Nu, int threads) {
            const Batch nu = to_batch(Nu, M.D(), "nu");
            const Batch z = to_batch(Z, M.D(), "Z");
            if (nu.m.rows() != z.m.rows())
              throw rbsm::InvalidArgument("nu: expected one row per row of Z (" + std::to_string(z.m.rows()) +
                                          "), got " + std::to_string(nu.m.rows()));
            const int D = M.D();
            auto out = new_array({z.m.rows(), D, D});
            double* o = out.mutable_data();
            for_rows(
                static_cast<std::size_t>(z.m.rows()), threads, "weingarten", false,
                [&](std::size_t i) {
                  Eigen::Map<RowMat>(o + i * D * D, D, D) =
                      M.M->weingarten(z.m.row(i).transpose(), nu.m.row(i).transpose());
                },
                16);
            return maybe_single(out, z.single);
          },
          "Z"_a, "nu"_a, "threads"_a = 0,
          "Weingarten map W_nu, <W_nu u, v> = <II(u, v), nu> (nu projected onto N_z M first): Z, nu (N, D) ->\n"
          "(N, D, D).")
      .def(
          "weingarten_H",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::W_H, false, threads);
          },
          "Z"_a, "threads"_a = 0, (std::string("W_H, the Weingarten map of H: (N, D) -> (N, D, D). ") + kZ).c_str())
      .def(
          "ricci",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::ricci, false, threads);
          },
          "Z"_a, "threads"_a = 0,
          (std::string(
               "Ric# (Gauss: W_H - sum_a W_{n_a}^2; intrinsic closed forms where known): (N, D) -> (N, D, D). ") +
           kZ)
              .c_str())
      .def(
          "correction_operator",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::K, false, threads);
          },
          "Z"_a, "threads"_a = 0, (std::string("K = 1/2 W_H - Ric#: (N, D) -> (N, D, D). ") + kZ).c_str())
      .def(
          "scalar_curvature",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::scalar, false, threads);
          },
          "Z"_a, "threads"_a = 0, (std::string("tr Ric#: (N, D) -> (N,). ") + kZ).c_str())
      .def(
          "gauss_residual",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            const Batch b = to_batch(Z, M.D(), "Z");
            return scalar_op(b, "Z", threads, false, [&](const Vec& z) { return M.M->gauss_residual(z); });
          },
          "Z"_a, "threads"_a = 0,
          (std::string("max |Ric# - W_H + sum_a W_{n_a}^2| (entrywise): (N, D) -> (N,). ") + kZ).c_str())
      .def(
          "geometric_drift",
          [](const PyManifold& M, const pb::handle& Z, int threads) {
            return geometry_op(M, Z, Output::drift, false, threads);
          },
          "Z"_a, "threads"_a = 0,
          (std::string(
               "E_M, the embedding-only drift of the sigma^2 expansion r_sigma = grad_M log q + sigma^2 (b_q +\n"
               "K grad_M log q + E_M) + o(sigma^2); tangent: (N, D) -> (N, D). ") +
           kZ)
              .c_str())
      .def("_per_point", &per_point, "name"_a, "Z"_a, "threads"_a = 0,
           "For tests: the per-point library function `name` ('project', 'tangent_projector', 'normal_projector',\n"
           "'tangent_frame', 'normal_frame', 'mean_curvature', 'weingarten_H', 'ricci', 'correction_operator',\n"
           "'scalar_curvature', 'geometric_drift') at each row, one virtual call per point: the reference that the\n"
           "batched methods of the same name are tested against.")
      .def("local", &local_batch, "X"_a, "project"_a = true, "threads"_a = 0,
           "All local geometry in one pass per point (rbsm::geometry::LocalGeometry): a dict with z (N, D),\n"
           "tangent_frame (N, D, d), normal_frame (N, D, k), tangent_projector, normal_projector, weingarten_H,\n"
           "ricci, K (N, D, D), mean_curvature (N, D), scalar_curvature (N,). With project=True (default) the\n"
           "rows of X are projected onto M first.")
      .def(
          "sample_uniform",
          [](const PyManifold& M, std::int64_t n, std::uint64_t seed, int threads) {
            return draws(n, M.D(), seed, threads, false, [&](rbsm::Rng& rng) { return M.M->sample_uniform(rng); });
          },
          "n"_a, "seed"_a = 0, "threads"_a = 0,
          "n exact draws from the normalised Riemannian volume: (n, D); draw i uses the stream Rng(seed, i).");

  m.def(
      "manifold",
      [](const std::string& spec) {
        return PyManifold{std::shared_ptr<const geometry::Manifold>(geometry::make_manifold(spec))};
      },
      "spec"_a,
      "A manifold from its spec: sphere:d, clifford-torus:r1,r2, torus:R,r, so3, ellipsoid:a1,...,aD\n"
      "(docs/geometry.md). Raises ValueError for a malformed spec.");

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

  pb::class_<PyLangevin>(m, "LangevinResult", "Recorded states of manifold Langevin chains.")
      .def_readonly("samples", &PyLangevin::samples, "(chains, records, D): the recorded states of each chain")
      .def_readonly("acceptance_rate", &PyLangevin::acceptance_rate, "MALA acceptance rate (1 without metropolis)")
      .def_readonly("fast_path", &PyLangevin::fast_path, "whether the sphere fast path ran");

  m.def("langevin", &langevin, "M"_a, "drift"_a, "q"_a = pb::none(), "sigma"_a = pb::none(), "chains"_a = 1000,
        "steps"_a = 2000, "step_size"_a = 1e-2, "seed"_a = 0, "burn_in"_a = -1, "record_every"_a = 10,
        "metropolis"_a = false, "initial"_a = pb::none(), "fast_path"_a = true, "references"_a = 4096, "threads"_a = 0,
        "progress"_a = true,
        "Manifold Langevin dynamics, projected Euler-Maruyama (docs/langevin.md):\n"
        "    z' = pi(z + h b(z) + sqrt(2h) P_T(z) xi),  xi ~ N(0, I_D),  h = step_size.\n"
        "drift: a name of `rbsm equilibrium --drift` for the density q at noise level sigma (true = grad_M log q,\n"
        "rb, rb-extrinsic, rb-geometric, rb-full, first-order, source-expansion), or a Python callable\n"
        "f(Z) -> (chains, D) called once per step with the states of all chains (chains, D).\n"
        "Chain c uses the stream Rng(seed, c) (uniform start unless initial (chains, D) is given); states are\n"
        "recorded every record_every steps after burn_in (-1: steps / 2). metropolis=True: MALA (named drifts\n"
        "with a potential). fast_path=False forces the generic path on spheres. Returns a LangevinResult\n"
        "(samples: (chains, records, D)).");

#ifdef RBSM_WITH_TORCH
  bind_fit(m);
  bind_torchscript(m);
#endif
}
