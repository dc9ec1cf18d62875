#include "rbsm/geometry/batch.hpp"

#include "batch_rows.hpp"

namespace rbsm::geometry {
namespace batch_detail {

using RowMap = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

void write(const LocalGeometry& g, std::size_t i, int D, int d, const LocalRows& o) {
  const int k = D - d;
  const std::size_t DD = static_cast<std::size_t>(D) * D;
  if (o.z) Eigen::Map<Vec>(o.z + i * D, D) = g.z;
  if (o.tangent) RowMap(o.tangent + i * D * d, D, d) = g.tangent;
  if (o.normal) RowMap(o.normal + i * D * k, D, k) = g.normal;
  if (o.P_T) RowMap(o.P_T + i * DD, D, D) = g.P_T;
  if (o.P_N) RowMap(o.P_N + i * DD, D, D) = g.P_N;
  if (o.H) Eigen::Map<Vec>(o.H + i * D, D) = g.H;
  if (o.W_H) RowMap(o.W_H + i * DD, D, D) = g.W_H;
  if (o.ricci) RowMap(o.ricci + i * DD, D, D) = g.ricci;
  if (o.K) RowMap(o.K + i * DD, D, D) = g.K;
  if (o.scalar) o.scalar[i] = g.scalar_curvature;
}

}  // namespace batch_detail

using namespace batch_detail;

LocalGeometry local_geometry(const Manifold& M, const Vec& z) {
  if (const auto* L = dynamic_cast<const LevelSetManifold*>(&M)) return level_set_local(*L, z);
  return M.local(z);
}

void project_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, double* Z) {
  LocalRows out;
  out.z = Z;
  local_rows(M, X, begin, end, true, out);
}

void local_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& out) {
  if (const auto* S = dynamic_cast<const Sphere*>(&M)) return sphere_rows(*S, X, begin, end, project, out);
  if (const auto* T = dynamic_cast<const TorusOfRevolution*>(&M)) return torus_rows(*T, X, begin, end, project, out);
  if (const auto* C = dynamic_cast<const CliffordTorus*>(&M)) return clifford_rows(*C, X, begin, end, project, out);
  if (const auto* L = dynamic_cast<const LevelSetManifold*>(&M)) return level_set_rows(*L, X, begin, end, project, out);
  const int D = M.ambient_dim(), d = M.dim();
  const bool local = wants_frame(out) || wants_curvature(out);
  for (std::size_t i = begin; i < end; ++i) {
    const Vec x = Eigen::Map<const Vec>(X + i * D, D);
    if (!project) M.check_ambient(x, "z");
    const Vec z = project ? M.project(x) : x;
    if (out.z) Eigen::Map<Vec>(out.z + i * D, D) = z;
    if (local) {
      LocalRows rest = out;
      rest.z = nullptr;
      write(M.local(z), i, D, d, rest);
    }
    if (out.drift) Eigen::Map<Vec>(out.drift + i * D, D) = M.geometric_drift(z);
  }
}

}  // namespace rbsm::geometry
