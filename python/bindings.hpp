#pragma once
// Types and helpers shared by the binding files of the Python module: the manifold and density handles,
// row-wise evaluation helpers, the output memory of the geometry calls, and the bind_* functions that
// rbsm_py.cpp's PYBIND11_MODULE calls (bind_geometry.cpp, bind_density.cpp, bind_langevin.cpp, and in
// LibTorch builds fit_py.cpp, torchscript_py.cpp).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/random.hpp"

namespace rbsm::py {

struct PyManifold {
  std::shared_ptr<const geometry::Manifold> M;
  const geometry::Manifold& operator*() const { return *M; }
  int D() const { return M->ambient_dim(); }
};

struct PyDensity {
  std::shared_ptr<const dist::Density> q;
  PyManifold M;
};

/// Throws InvalidArgument when q does not live on M.
void check_same_manifold(const PyManifold& M, const PyDensity& q);

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

/// The output arrays of one call, as views into one memory block (each array 64-byte aligned, separate and
/// writable) that they share through a capsule: the block goes back with the last of them to a small cache
/// of freed blocks that the next calls take from (output_block.cpp), so repeated calls neither page-fault nor
/// zero fresh memory. The contents are not initialised.
std::vector<pb::array_t<double>> output_block(const std::vector<std::vector<pb::ssize_t>>& shapes);

/// The docstring of a batch of points on M.
inline constexpr const char* kZ = "Z: (N, D) float64 points on M (rows of project's output), or one point (D,).";

void bind_geometry(pb::module_& m);     // bind_geometry.cpp: rbsm.Manifold, rbsm.manifold
void bind_density(pb::module_& m);      // bind_density.cpp: rbsm.Density, density, rb_target, expansion
void bind_langevin(pb::module_& m);     // bind_langevin.cpp: rbsm.LangevinResult, langevin
void bind_fit(pb::module_& m);          // fit_py.cpp (LibTorch builds)
void bind_torchscript(pb::module_& m);  // torchscript_py.cpp (LibTorch builds)

}  // namespace rbsm::py
