#include "rbsm/geometry/manifold.hpp"

#include <cmath>

#include "rbsm/error.hpp"

namespace rbsm::geometry {

void Manifold::check_ambient(const Vec& x, const std::string& what) const {
  if (x.size() != ambient_dim())
    throw InvalidArgument(what + " has " + std::to_string(x.size()) + " coordinates, but " + spec() + " lives in R^" +
                          std::to_string(ambient_dim()));
  if (!x.allFinite()) throw InvalidArgument(what + " has a NaN or infinite coordinate");
}

Mat Manifold::tangent_projector(const Vec& z) const {
  const Mat E = tangent_frame(z);
  return E * E.transpose();
}

Mat Manifold::normal_projector(const Vec& z) const {
  return Mat::Identity(ambient_dim(), ambient_dim()) - tangent_projector(z);
}

Vec Manifold::second_fundamental_form(const Vec& z, const Vec& u, const Vec& v) const {
  // <II(u,v), n_a> = <W_{n_a} u, v>  (SPEC.md), so II(u,v) = sum_a n_a <W_{n_a} u, v>.
  const Mat N = normal_frame(z);
  Vec out = Vec::Zero(ambient_dim());
  for (int a = 0; a < N.cols(); ++a) out += N.col(a) * v.dot(weingarten(z, N.col(a)) * u);
  return out;
}

Vec Manifold::mean_curvature(const Vec& z) const {
  // H = sum_i II(e_i, e_i) = sum_a n_a tr(W_{n_a}).
  const Mat N = normal_frame(z);
  Vec H = Vec::Zero(ambient_dim());
  for (int a = 0; a < N.cols(); ++a) H += N.col(a) * weingarten(z, N.col(a)).trace();
  return H;
}

Mat Manifold::weingarten_mean(const Vec& z) const { return weingarten(z, mean_curvature(z)); }

Mat Manifold::ricci(const Vec& z) const {
  // Gauss equation: Ric# = W_H - sum_a W_{n_a}^2.
  const Mat N = normal_frame(z);
  Mat ric = weingarten_mean(z);
  for (int a = 0; a < N.cols(); ++a) {
    const Mat W = weingarten(z, N.col(a));
    ric -= W * W;
  }
  return ric;
}

Mat Manifold::correction_operator(const Vec& z) const { return 0.5 * weingarten_mean(z) - ricci(z); }

double Manifold::scalar_curvature(const Vec& z) const { return ricci(z).trace(); }

double Manifold::gauss_residual(const Vec& z) const {
  const Mat N = normal_frame(z);
  Mat r = ricci(z) - weingarten_mean(z);
  for (int a = 0; a < N.cols(); ++a) {
    const Mat W = weingarten(z, N.col(a));
    r += W * W;
  }
  return r.cwiseAbs().maxCoeff();
}

LocalGeometry Manifold::local(const Vec& z) const {
  LocalGeometry g;
  g.z = z;
  g.tangent = tangent_frame(z);
  g.normal = normal_frame(z);
  g.P_T = g.tangent * g.tangent.transpose();
  g.P_N = Mat::Identity(ambient_dim(), ambient_dim()) - g.P_T;
  g.H = Vec::Zero(ambient_dim());
  for (int a = 0; a < g.normal.cols(); ++a) g.H += g.normal.col(a) * weingarten(z, g.normal.col(a)).trace();
  g.W_H = weingarten(z, g.H);
  g.ricci = ricci(z);
  g.K = 0.5 * g.W_H - g.ricci;
  g.scalar_curvature = g.ricci.trace();
  return g;
}

}  // namespace rbsm::geometry
