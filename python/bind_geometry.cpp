// rbsm.Manifold (docs/python.md §2): the batched geometry methods, each one geometry::local_rows /
// project_rows call over all rows (rows in blocks of 64 on `threads` threads, the GIL released), writing
// straight into the numpy arrays of one output block; M._per_point, the per-point reference of the tests.
#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "bindings.hpp"

#include "rbsm/geometry/batch.hpp"

namespace rbsm::py {
namespace {

using namespace pybind11::literals;

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

}  // namespace

void bind_geometry(pb::module_& m) {
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
}

}  // namespace rbsm::py
