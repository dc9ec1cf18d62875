#include "rbsm/geometry/batch.hpp"

#include <array>
#include <cmath>
#include <vector>

#include <Eigen/SVD>

#include "rbsm/geometry/level_set.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"

namespace rbsm::geometry {
namespace {

using RowMap = Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

constexpr double kFocalTolerance = 1e-12;  // torus.cpp / sphere.cpp: the focal-set tolerances of project()

void write(const LocalGeometry& g, std::size_t i, int D, int d, const LocalRows& o) {
  const int k = D - d;
  const std::size_t DD = static_cast<std::size_t>(D) * D;
  Eigen::Map<Vec>(o.z + i * D, D) = g.z;
  RowMap(o.tangent + i * D * d, D, d) = g.tangent;
  RowMap(o.normal + i * D * k, D, k) = g.normal;
  RowMap(o.P_T + i * DD, D, D) = g.P_T;
  RowMap(o.P_N + i * DD, D, D) = g.P_N;
  Eigen::Map<Vec>(o.H + i * D, D) = g.H;
  RowMap(o.W_H + i * DD, D, D) = g.W_H;
  RowMap(o.ricci + i * DD, D, D) = g.ricci;
  RowMap(o.K + i * DD, D, D) = g.K;
  o.scalar[i] = g.scalar_curvature;
}

/// S^d: z = x / |x| (scaled by the largest coordinate first, as Sphere::project), the Householder frame of
/// Sphere::tangent_frame, P_T = I - z z^T, H = -d z, W_H = d P_T, Ric# = (d - 1) P_T, K = (1 - d/2) P_T.
void sphere_rows(const Sphere& M, const double* X, std::size_t begin, std::size_t end, bool project, const LocalRows& o) {
  const int D = M.ambient_dim(), d = M.dim();
  const std::size_t DD = static_cast<std::size_t>(D) * D;
  std::vector<double> v(D);
  for (std::size_t i = begin; i < end; ++i) {
    const double* x = X + i * D;
    double* z = o.z + i * D;
    double s = 0;
    bool finite = true;
    for (int a = 0; a < D; ++a) {
      finite = finite && std::isfinite(x[a]);
      s = std::max(s, std::abs(x[a]));
    }
    double n2 = 0;
    for (int a = 0; a < D; ++a) n2 += (x[a] / s) * (x[a] / s);
    const double n = std::sqrt(n2);
    if (!finite || !(s > 0.0) || s * std::sqrt(static_cast<double>(D)) <= kFocalTolerance || s * n <= kFocalTolerance) {
      M.project(Eigen::Map<const Vec>(x, D));  // throws the library's message
    }
    if (project) {
      for (int a = 0; a < D; ++a) z[a] = (x[a] / s) / n;
    } else {
      for (int a = 0; a < D; ++a) z[a] = x[a];
    }
    // unit vector u = z / |z| (z itself when projected) for the frames and operators
    double zn = 0;
    for (int a = 0; a < D; ++a) zn += z[a] * z[a];
    zn = std::sqrt(zn);
    for (int a = 0; a < D; ++a) v[a] = z[a] / zn;
    double* N = o.normal + i * D;
    for (int a = 0; a < D; ++a) N[a] = v[a];
    // Householder: Q = I - 2 w w^T / |w|^2, w = u + sign(u_1) e_1; the tangent frame is Q's columns 2..D.
    const double sign = v[0] >= 0 ? 1.0 : -1.0;
    const double w0 = v[0] + sign;
    double wsq = w0 * w0;
    for (int a = 1; a < D; ++a) wsq += v[a] * v[a];
    const double f = 2.0 / wsq;
    double* E = o.tangent + i * D * d;
    for (int a = 0; a < D; ++a) {
      const double wa = a == 0 ? w0 : v[a];
      for (int c = 1; c < D; ++c) E[a * d + (c - 1)] = (a == c ? 1.0 : 0.0) - f * wa * v[c];
    }
    double *PT = o.P_T + i * DD, *PN = o.P_N + i * DD, *WH = o.W_H + i * DD, *ric = o.ricci + i * DD, *K = o.K + i * DD;
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        const double pn = v[a] * v[b];
        const double pt = (a == b ? 1.0 : 0.0) - pn;
        PT[a * D + b] = pt;
        PN[a * D + b] = pn;
        WH[a * D + b] = d * pt;
        ric[a * D + b] = (d - 1) * pt;
        K[a * D + b] = (1.0 - 0.5 * d) * pt;
      }
    for (int a = 0; a < D; ++a) o.H[i * D + a] = -d * v[a];
    o.scalar[i] = static_cast<double>(d) * (d - 1);
  }
}

/// Torus of revolution: with rho = |(x1, x2)|, c = R (x1, x2, 0) / rho and q = x - c, the nearest point is
/// z = c + r q / |q|, the outward normal n = q / |q| = (c1 c2, c1 s2, s1) with c2 = x1 / rho, s2 = x2 / rho,
/// c1 = (rho - R) / |q|, s1 = x3 / |q|; e1 = (-s1 c2, -s1 s2, c1), e2 = (-s2, c2, 0);
/// k1 = c1 / (R + r c1), k2 = 1 / r; W_nu = -<nu, n> (k2 e1 e1^T + k1 e2 e2^T), H = -(k1 + k2) n,
/// Ric# = k1 k2 P_T (TorusOfRevolution, docs/geometry.md §4).
void torus_rows(const TorusOfRevolution& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& o) {
  const double R = M.R(), r = M.r();
  for (std::size_t i = begin; i < end; ++i) {
    const double* x = X + i * 3;
    const double rho = std::hypot(x[0], x[1]);
    const double c2 = x[0] / rho, s2 = x[1] / rho;
    const double q0 = x[0] - R * c2, q1 = x[1] - R * s2, q2 = x[2];
    const double dq = std::sqrt(q0 * q0 + q1 * q1 + q2 * q2);
    if (!std::isfinite(x[0]) || !std::isfinite(x[1]) || !std::isfinite(x[2]) || !(rho > kFocalTolerance * R) ||
        !(dq > kFocalTolerance * r))
      M.project(Eigen::Map<const Vec>(x, 3));  // throws the library's message
    const double n[3] = {q0 / dq, q1 / dq, q2 / dq};
    double* z = o.z + i * 3;
    for (int a = 0; a < 3; ++a) z[a] = project ? R * (a == 0 ? c2 : a == 1 ? s2 : 0.0) + r * n[a] : x[a];
    const double c1 = (rho - R) / dq, s1 = q2 / dq;
    const double e1[3] = {-s1 * c2, -s1 * s2, c1}, e2[3] = {-s2, c2, 0.0};
    const double k1 = c1 / (R + r * c1), k2 = 1.0 / r, KG = k1 * k2;
    double *E = o.tangent + i * 6, *N = o.normal + i * 3;
    for (int a = 0; a < 3; ++a) {
      E[a * 2] = e1[a];
      E[a * 2 + 1] = e2[a];
      N[a] = n[a];
      o.H[i * 3 + a] = -(k1 + k2) * n[a];
    }
    double *PT = o.P_T + i * 9, *PN = o.P_N + i * 9, *WH = o.W_H + i * 9, *ric = o.ricci + i * 9, *K = o.K + i * 9;
    const double h = k1 + k2;  // <H, n> = -(k1 + k2): W_H = (k1 + k2)(k2 e1 e1^T + k1 e2 e2^T)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) {
        const double E1 = e1[a] * e1[b], E2 = e2[a] * e2[b];
        const double pt = E1 + E2;
        const double wh = h * (k2 * E1 + k1 * E2);
        PT[a * 3 + b] = pt;
        PN[a * 3 + b] = (a == b ? 1.0 : 0.0) - pt;
        WH[a * 3 + b] = wh;
        ric[a * 3 + b] = KG * pt;
        K[a * 3 + b] = 0.5 * wh - KG * pt;
      }
    o.scalar[i] = 2.0 * KG;
  }
}

/// The level-set local geometry of level_set_local below with fixed-size D x D and k x D matrices,
/// written straight into row i of `o`.
/// `quadratic`: F is quadratic (so3, ellipsoids), so its Hessians are those of `hessians`, taken once per batch.
template <int D, int k>
void level_set_fixed(const LevelSetManifold& M, const Vec& zv, std::size_t i, const LocalRows& o,
                     const std::vector<Mat>* hessians) {
  constexpr int d = D - k;
  using MD = Eigen::Matrix<double, D, D>;
  using VD = Eigen::Matrix<double, D, 1>;
  using RowD = Eigen::Matrix<double, D, D, Eigen::RowMajor>;
  const LevelSetJet j = M.jet(zv, hessians ? 1 : 2);
  const std::vector<Mat>& hess = hessians ? *hessians : j.hessians;
  const Eigen::Matrix<double, k, D> J = j.J;
  const Eigen::HouseholderQR<Eigen::Matrix<double, D, k>> qr(J.transpose());
  const MD Q = qr.householderQ() * MD::Identity();
  const Eigen::Matrix<double, D, d> E = Q.template rightCols<d>();
  const Eigen::Matrix<double, D, k> N = Q.template leftCols<k>();
  const Eigen::LDLT<Eigen::Matrix<double, k, k>> G(J * J.transpose());
  // In the tangent frame: W_nu = E w_nu E^T with w_nu = -sum_i lambda_i E^T Hess F_i E, lambda = (J J^T)^{-1} J nu,
  // so tr W_nu = tr w_nu, W_nu^2 = E w_nu^2 E^T (E^T E = I) and Ric# = E (w_H - sum_a w_a^2) E^T: the d x d
  // matrices h_i = E^T Hess F_i E are formed once per point.
  using Md = Eigen::Matrix<double, d, d>;
  std::array<Md, k> h;
  for (int a = 0; a < k; ++a) h[a] = E.transpose() * Eigen::Map<const MD>(hess[static_cast<std::size_t>(a)].data()) * E;
  auto w = [&](const VD& nu) {
    const Eigen::Matrix<double, k, 1> lambda = G.solve(J * nu);
    Md m = Md::Zero();
    for (int a = 0; a < k; ++a) m -= lambda(a) * h[a];
    return m;
  };
  std::array<Md, k> wa;
  VD H = VD::Zero();
  for (int a = 0; a < k; ++a) {
    wa[a] = w(N.col(a));
    H += N.col(a) * wa[a].trace();
  }
  const Md wH = w(H);
  Md r = wH;
  for (int a = 0; a < k; ++a) r -= wa[a] * wa[a];
  const MD WH = E * wH * E.transpose();
  const MD ric = E * r * E.transpose();
  const MD PT = E * E.transpose();
  const std::size_t DD = static_cast<std::size_t>(D) * D;
  Eigen::Map<VD>(o.z + i * D) = zv;
  Eigen::Map<Eigen::Matrix<double, D, d, d == 1 ? Eigen::ColMajor : Eigen::RowMajor>>(o.tangent + i * D * d) = E;
  Eigen::Map<Eigen::Matrix<double, D, k, k == 1 ? Eigen::ColMajor : Eigen::RowMajor>>(o.normal + i * D * k) = N;
  Eigen::Map<RowD>(o.P_T + i * DD) = PT;
  Eigen::Map<RowD>(o.P_N + i * DD) = MD::Identity() - PT;
  Eigen::Map<VD>(o.H + i * D) = H;
  Eigen::Map<RowD>(o.W_H + i * DD) = WH;
  Eigen::Map<RowD>(o.ricci + i * DD) = ric;
  Eigen::Map<RowD>(o.K + i * DD) = 0.5 * WH - ric;
  o.scalar[i] = ric.trace();
}

/// Nearest rotation to x (a 3 x 3 matrix, row-major) by the polar decomposition: U diag(1, 1, det(U V^T)) V^T
/// from the SVD x = U S V^T. Used only where it is certified (|x - p| < reach, so p is THE nearest point and
/// equals the level set's KKT solution); elsewhere, and for NaN, LevelSetManifold::project decides.
Vec so3_project(const LevelSetManifold& M, const Vec& x) {
  if (x.allFinite()) {
    const Eigen::Matrix3d X = Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(x.data());
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(X, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix3d U = svd.matrixU();
    if ((U * svd.matrixV().transpose()).determinant() < 0) U.col(2) = -U.col(2);
    const Eigen::Matrix<double, 3, 3, Eigen::RowMajor> P = U * svd.matrixV().transpose();
    const Vec p = Eigen::Map<const Vec>(P.data(), 9);
    if ((x - p).norm() < M.reach()) return p;
  }
  return M.project(x);
}

/// Nearest point of the ellipsoid sum_i x_i^2 / a_i^2 = 1 (inv_a2 = 1 / a_i^2): p_i = x_i / (1 + s / a_i^2) with
/// s the root in (-min a_i^2, inf) of g(s) = sum_i x_i^2 / (a_i^2 (1 + s / a_i^2)^2) - 1, convex and decreasing
/// there (Newton, kept inside the interval by halving towards its left end). Used only where certified
/// (|x - p| < reach); elsewhere, and when Newton does not settle, LevelSetManifold::project decides.
Vec ellipsoid_project(const LevelSetManifold& M, const Vec& inv_a2, const Vec& x) {
  if (x.allFinite()) {
    const double lo = -1.0 / inv_a2.maxCoeff();
    double s = 0;
    for (int it = 0; it < 200; ++it) {
      double g = -1, dg = 0;
      for (Eigen::Index i = 0; i < x.size(); ++i) {
        const double f = 1.0 / (1.0 + s * inv_a2[i]);
        const double q = inv_a2[i] * x[i] * x[i] * f * f;
        g += q;
        dg -= 2 * q * inv_a2[i] * f;
      }
      if (!(dg < 0)) break;
      double next = s - g / dg;
      if (next <= lo) next = 0.5 * (s + lo);
      const bool done = std::abs(next - s) <= 1e-15 * (1 + std::abs(s));
      s = next;
      if (done) {
        const Vec p = x.cwiseQuotient((Vec::Ones(x.size()) + s * inv_a2));
        if ((x - p).norm() < M.reach()) return p;
        break;
      }
    }
  }
  return M.project(x);
}

LocalGeometry level_set_local(const LevelSetManifold& M, const Vec& z) {
  const int D = M.ambient_dim(), d = M.dim(), k = D - d;
  const LevelSetJet j = M.jet(z, 2);
  const Eigen::HouseholderQR<Mat> qr(j.J.transpose());
  const Mat Q = qr.householderQ() * Mat::Identity(D, D);
  LocalGeometry g;
  g.z = z;
  g.normal = Q.leftCols(k);
  g.tangent = Q.rightCols(d);
  g.P_T = g.tangent * g.tangent.transpose();
  g.P_N = Mat::Identity(D, D) - g.P_T;
  const auto G = (j.J * j.J.transpose()).ldlt();
  const Mat& E = g.tangent;
  // W_nu = -P_T (sum_i lambda_i Hess F_i) P_T, lambda = (J J^T)^{-1} J nu (LevelSetManifold::weingarten)
  auto W = [&](const Vec& nu) {
    const Vec lambda = G.solve(j.J * nu);
    Mat S = Mat::Zero(D, D);
    for (int i = 0; i < k; ++i) S += lambda(i) * j.hessians[static_cast<std::size_t>(i)];
    return Mat(-E * (E.transpose() * S * E) * E.transpose());
  };
  std::vector<Mat> Wa(static_cast<std::size_t>(k));
  g.H = Vec::Zero(D);
  for (int a = 0; a < k; ++a) {
    Wa[static_cast<std::size_t>(a)] = W(g.normal.col(a));
    g.H += g.normal.col(a) * Wa[static_cast<std::size_t>(a)].trace();
  }
  g.W_H = W(g.H);
  g.ricci = g.W_H;  // Gauss: Ric# = W_H - sum_a W_{n_a}^2 (level sets have no intrinsic override)
  for (const Mat& w : Wa) g.ricci -= w * w;
  g.K = 0.5 * g.W_H - g.ricci;
  g.scalar_curvature = g.ricci.trace();
  return g;
}

}  // namespace

LocalGeometry local_geometry(const Manifold& M, const Vec& z) {
  if (const auto* L = dynamic_cast<const LevelSetManifold*>(&M)) return level_set_local(*L, z);
  return M.local(z);
}

void local_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& out) {
  if (const auto* S = dynamic_cast<const Sphere*>(&M)) return sphere_rows(*S, X, begin, end, project, out);
  if (const auto* T = dynamic_cast<const TorusOfRevolution*>(&M)) return torus_rows(*T, X, begin, end, project, out);
  const int D = M.ambient_dim(), d = M.dim();
  if (const auto* L = dynamic_cast<const LevelSetManifold*>(&M)) {
    const bool so3 = L->spec() == "so3", ellipsoid = L->spec().rfind("ellipsoid:", 0) == 0;
    // F is quadratic on both: constant Hessians (the ellipsoid's are 2 diag(1 / a_i^2))
    std::vector<Mat> hessians;
    if (so3 || ellipsoid) hessians = L->jet(Vec::Ones(D), 2).hessians;
    const std::vector<Mat>* constant = so3 || ellipsoid ? &hessians : nullptr;
    Vec inv_a2;
    if (ellipsoid) inv_a2 = 0.5 * hessians[0].diagonal();
    for (std::size_t i = begin; i < end; ++i) {
      const Vec x = Eigen::Map<const Vec>(X + i * D, D);
      if (!project) M.check_ambient(x, "z");
      const Vec z = !project ? x : so3 ? so3_project(*L, x) : ellipsoid ? ellipsoid_project(*L, inv_a2, x) : L->project(x);
      if (D == 9 && d == 3)
        level_set_fixed<9, 6>(*L, z, i, out, constant);
      else if (D == 3 && d == 2)
        level_set_fixed<3, 1>(*L, z, i, out, constant);
      else
        write(level_set_local(*L, z), i, D, d, out);
    }
    return;
  }
  for (std::size_t i = begin; i < end; ++i) {
    const Vec x = Eigen::Map<const Vec>(X + i * D, D);
    if (!project) M.check_ambient(x, "z");
    write(local_geometry(M, project ? M.project(x) : x), i, D, d, out);
  }
}

}  // namespace rbsm::geometry
