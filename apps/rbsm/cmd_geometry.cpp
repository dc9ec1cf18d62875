// rbsm geometry --manifold SPEC --point x1,...,xD [--normal n1,...,nD]: projects the point onto M and
// prints every curvature operator there as a D x D ambient matrix (docs/geometry.md §6).
#include <Eigen/Eigenvalues>

#include "cli.hpp"

#include "rbsm/geometry/manifold.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::cli {
namespace {

using geometry::Mat;
using geometry::Vec;

json to_json(const Vec& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

json to_json(const Mat& m) {  // an array of rows
  json rows = json::array();
  for (int i = 0; i < m.rows(); ++i) rows.push_back(to_json(Vec(m.row(i).transpose())));
  return rows;
}

/// Eigenvalues (ascending) of a symmetric operator restricted to T_z M, i.e. of E^T A E.
Vec tangent_eigenvalues(const Mat& A, const Mat& E) {
  return Eigen::SelfAdjointEigenSolver<Mat>(E.transpose() * A * E).eigenvalues();
}

json geometry_at(const geometry::Manifold& M, const Vec& x, const Vec* normal) {
  const Vec z = M.project(x);
  const geometry::LocalGeometry g = M.local(z);
  json j;
  j["manifold"] = M.spec();
  j["d"] = M.dim();
  j["D"] = M.ambient_dim();
  j["point"] = to_json(x);
  j["z"] = to_json(z);
  j["distance"] = (x - z).norm();
  j["reach"] = M.reach();
  j["tangent_frame"] = to_json(g.tangent);
  j["normal_frame"] = to_json(g.normal);
  j["tangent_projector"] = to_json(g.P_T);
  j["normal_projector"] = to_json(g.P_N);
  j["mean_curvature"] = to_json(g.H);
  j["weingarten_H"] = to_json(g.W_H);
  j["ricci"] = to_json(g.ricci);
  j["K"] = to_json(g.K);
  j["K_eigenvalues"] = to_json(tangent_eigenvalues(g.K, g.tangent));
  j["ricci_eigenvalues"] = to_json(tangent_eigenvalues(g.ricci, g.tangent));
  j["scalar_curvature"] = g.scalar_curvature;
  // For a surface Ric# = K_G Id on T_z M, so K_G = tr Ric# / 2 (any codimension).
  if (M.dim() == 2) j["gaussian_curvature"] = 0.5 * g.scalar_curvature;
  j["gauss_residual"] = M.gauss_residual(z);
  j["geometric_drift"] = to_json(M.geometric_drift(z));
  if (normal) {
    M.check_ambient(*normal, "--normal");
    const Vec nu = g.P_N * *normal;  // the normal part of the given vector
    j["normal"] = to_json(nu);
    j["weingarten_nu"] = to_json(M.weingarten(z, nu));
  }
  return j;
}

/// The command's options: the manifold spec and the points as given.
struct GeometryCli {
  std::string manifold, point, normal;
};

Register reg("geometry",
             "Project a point onto a manifold and print its curvature operators there (P_T, H, W_H, Ric#, K, ...)",
             [](CLI::App& app, const Common&) -> Runner {
               auto o = std::make_shared<GeometryCli>();
               app.add_option("--manifold", o->manifold,
                              "manifold spec: sphere:d, clifford-torus:r1,r2, torus:R,r, so3, ellipsoid:a1,...,aD")
                   ->required();
               app.add_option("--point", o->point, "x1,...,xD: the ambient point to project onto M")->required();
               app.add_option("--normal", o->normal,
                              "n1,...,nD: also print W_nu for the normal part nu of this vector (weingarten_nu)");
               app.footer(
                   "Every operator is a D x D ambient matrix (an array of rows) acting as zero on the normal space:\n"
                   "tangent_projector P_T, mean_curvature H = sum_i II(e_i, e_i) (no 1/d), weingarten_H W_H,\n"
                   "ricci Ric# (intrinsic where a closed form exists), K = 1/2 W_H - Ric#, gauss_residual =\n"
                   "max |Ric# - W_H + sum_a W_{n_a}^2|, geometric_drift E_M. Conventions: docs/geometry.md.");
               return [o]() -> json {
                 const auto M = geometry::make_manifold(o->manifold);
                 const Vec x = parse_vector(o->point, "--point");
                 M->check_ambient(x, "--point");
                 if (o->normal.empty()) return geometry_at(*M, x, nullptr);
                 const Vec n = parse_vector(o->normal, "--normal");
                 return geometry_at(*M, x, &n);
               };
             });

}  // namespace
}  // namespace rbsm::cli
