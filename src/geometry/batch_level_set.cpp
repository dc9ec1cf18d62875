// The level-set row kernels of geometry::local_rows (batch_rows.hpp): one jet of F and one QR per point, in
// fixed-size matrices for so3 and 3-D ellipsoids, whose projections are certified closed forms.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <Eigen/SVD>

#include "batch_rows.hpp"

namespace rbsm::geometry::batch_detail {
namespace {

/// F quadratic (so3, ellipsoids): constant Hessians, kept as their non-zero entries, and J in closed form.
struct QuadraticLevelSet {
  enum Kind { kSo3, kEllipsoid } kind;
  Vec inv_a2;  ///< ellipsoid: 1 / a_i^2
  struct Entry {
    int row, col;
    double value;
  };
  std::vector<std::vector<Entry>> hessians;  ///< Hess F_i, non-zero entries
};

/// J = dF (k x D) of so3 (dF_ij / dR_cb = delta_bi R_cj + delta_bj R_ci) or of the ellipsoid (2 x_i / a_i^2),
/// summed in the order of so3.cpp / ellipsoid.cpp's F.eval.
template <int D, int k>
void quadratic_jacobian(const QuadraticLevelSet& q, const double* z, Eigen::Matrix<double, k, D>& J) {
  if constexpr (D == 9 && k == 6) {
    if (q.kind == QuadraticLevelSet::kSo3) {
      constexpr int kPairs[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};
      J.setZero();
      for (int p = 0; p < 6; ++p) {
        const int a = kPairs[p][0], b = kPairs[p][1];
        for (int c = 0; c < 3; ++c) {
          J(p, 3 * c + a) += z[3 * c + b];
          J(p, 3 * c + b) += z[3 * c + a];
        }
      }
      return;
    }
  }
  if constexpr (k == 1)
    for (int a = 0; a < D; ++a) J(0, a) = 2 * (z[a] * q.inv_a2[a]);
}

/// The level-set local geometry of level_set_local below with fixed-size D x D and k x D matrices,
/// written straight into row i of `o` (only the outputs asked for). `quadratic`: so3 or an ellipsoid (J in
/// closed form, constant sparse Hessians); otherwise the jet of LevelSetManifold.
template <int D, int k>
void level_set_fixed(const LevelSetManifold& M, const double* zp, std::size_t i, const LocalRows& o,
                     const QuadraticLevelSet* quadratic) {
  constexpr int d = D - k;
  using MD = Eigen::Matrix<double, D, D>;
  using VD = Eigen::Matrix<double, D, 1>;
  using RowD = Eigen::Matrix<double, D, D, Eigen::RowMajor>;
  const bool curvature = wants_curvature(o);
  Eigen::Matrix<double, k, D> J;
  LevelSetJet j;
  if (quadratic) {
    quadratic_jacobian<D, k>(*quadratic, zp, J);
  } else {
    j = M.jet(Eigen::Map<const Vec>(zp, D), curvature ? 2 : 1);
    J = j.J;
  }
  const Eigen::HouseholderQR<Eigen::Matrix<double, D, k>> qr(J.transpose());
  const MD Q = qr.householderQ() * MD::Identity();
  const Eigen::Matrix<double, D, d> E = Q.template rightCols<d>();
  const Eigen::Matrix<double, D, k> N = Q.template leftCols<k>();
  const std::size_t DD = static_cast<std::size_t>(D) * D;
  if (o.z) Eigen::Map<VD>(o.z + i * D) = Eigen::Map<const VD>(zp);
  if (o.tangent)
    Eigen::Map<Eigen::Matrix<double, D, d, d == 1 ? Eigen::ColMajor : Eigen::RowMajor>>(o.tangent + i * D * d) = E;
  if (o.normal)
    Eigen::Map<Eigen::Matrix<double, D, k, k == 1 ? Eigen::ColMajor : Eigen::RowMajor>>(o.normal + i * D * k) = N;
  if (o.P_T || o.P_N) {
    const MD PT = E * E.transpose();
    if (o.P_T) Eigen::Map<RowD>(o.P_T + i * DD) = PT;
    if (o.P_N) Eigen::Map<RowD>(o.P_N + i * DD) = MD::Identity() - PT;
  }
  if (!curvature) return;
  const Eigen::LDLT<Eigen::Matrix<double, k, k>> G(J * J.transpose());
  // In the tangent frame: W_nu = E w_nu E^T with w_nu = -sum_i lambda_i E^T Hess F_i E, lambda = (J J^T)^{-1} J nu,
  // so tr W_nu = tr w_nu, W_nu^2 = E w_nu^2 E^T (E^T E = I) and Ric# = E (w_H - sum_a w_a^2) E^T: the d x d
  // matrices h_i = E^T Hess F_i E are formed once per point (from the non-zero entries when F is quadratic).
  using Md = Eigen::Matrix<double, d, d>;
  std::array<Md, k> h;
  for (int a = 0; a < k; ++a) {
    if (quadratic) {
      h[a].setZero();
      for (const auto& e : quadratic->hessians[static_cast<std::size_t>(a)])
        h[a].noalias() += e.value * E.row(e.row).transpose() * E.row(e.col);
    } else {
      h[a] = E.transpose() * Eigen::Map<const MD>(j.hessians[static_cast<std::size_t>(a)].data()) * E;
    }
  }
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
  if (o.H) Eigen::Map<VD>(o.H + i * D) = H;
  if (!(o.W_H || o.ricci || o.K || o.scalar)) return;
  const Md wH = w(H);
  Md r = wH;
  for (int a = 0; a < k; ++a) r -= wa[a] * wa[a];
  if (o.scalar) o.scalar[i] = r.trace();  // tr E r E^T = tr r (E^T E = I)
  if (!(o.W_H || o.ricci || o.K)) return;
  const MD WH = E * wH * E.transpose();
  const MD ric = E * r * E.transpose();
  if (o.W_H) Eigen::Map<RowD>(o.W_H + i * DD) = WH;
  if (o.ricci) Eigen::Map<RowD>(o.ricci + i * DD) = ric;
  if (o.K) Eigen::Map<RowD>(o.K + i * DD) = 0.5 * WH - ric;
}

/// Nearest rotation to x (a 3 x 3 matrix, row-major) by the polar decomposition: U diag(1, 1, det(U V^T)) V^T
/// from the SVD x = U S V^T, written to p. Used only where it is certified (|x - p| < reach, so p is THE nearest
/// point and equals the level set's KKT solution); elsewhere, and for NaN, LevelSetManifold::project decides.
void so3_project(const LevelSetManifold& M, const double* x, double* p) {
  using Row3 = Eigen::Matrix<double, 3, 3, Eigen::RowMajor>;
  bool finite = true;
  for (int a = 0; a < 9; ++a) finite = finite && std::isfinite(x[a]);
  if (finite) {
    const Eigen::Matrix3d X = Eigen::Map<const Row3>(x);
    const Eigen::JacobiSVD<Eigen::Matrix3d> svd(X, Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::Matrix3d U = svd.matrixU();
    if ((U * svd.matrixV().transpose()).determinant() < 0) U.col(2) = -U.col(2);
    Eigen::Map<Row3> P(p);
    P = U * svd.matrixV().transpose();
    if ((Eigen::Map<const Row3>(x) - P).norm() < M.reach()) return;
  }
  Eigen::Map<Eigen::Matrix<double, 9, 1>> out(p);
  out = M.project(Eigen::Map<const Vec>(x, 9));
}

/// Nearest point of the ellipsoid sum_i x_i^2 / a_i^2 = 1 (inv_a2 = 1 / a_i^2), written to p: p_i = x_i / (1 + s /
/// a_i^2) with s the root in (-min a_i^2, inf) of g(s) = sum_i x_i^2 / (a_i^2 (1 + s / a_i^2)^2) - 1, convex and
/// decreasing there (Newton, kept inside the interval by halving towards its left end). Used only where certified
/// (|x - p| < reach); elsewhere, and when Newton does not settle, LevelSetManifold::project decides.
void ellipsoid_project(const LevelSetManifold& M, const Vec& inv_a2, const double* x, double* p) {
  const int D = static_cast<int>(inv_a2.size());
  bool finite = true;
  for (int a = 0; a < D; ++a) finite = finite && std::isfinite(x[a]);
  if (finite) {
    const double lo = -1.0 / inv_a2.maxCoeff();
    double s = 0;
    for (int it = 0; it < 200; ++it) {
      double g = -1, dg = 0;
      for (int a = 0; a < D; ++a) {
        const double f = 1.0 / (1.0 + s * inv_a2[a]);
        const double q = inv_a2[a] * x[a] * x[a] * f * f;
        g += q;
        dg -= 2 * q * inv_a2[a] * f;
      }
      if (!(dg < 0)) break;
      double next = s - g / dg;
      if (next <= lo) next = 0.5 * (s + lo);
      const bool done = std::abs(next - s) <= 1e-15 * (1 + std::abs(s));
      s = next;
      if (done) {
        double dist2 = 0;
        for (int a = 0; a < D; ++a) {
          p[a] = x[a] / (1.0 + s * inv_a2[a]);
          dist2 += (x[a] - p[a]) * (x[a] - p[a]);
        }
        if (std::sqrt(dist2) < M.reach()) return;
        break;
      }
    }
  }
  Eigen::Map<Vec>(p, D) = M.project(Eigen::Map<const Vec>(x, D));
}

}  // namespace

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

void level_set_rows(const LevelSetManifold& L, const double* X, std::size_t begin, std::size_t end, bool project,
                    const LocalRows& o) {
  const int D = L.ambient_dim(), d = L.dim();
  const bool so3 = L.spec() == "so3", ellipsoid = L.spec().rfind("ellipsoid:", 0) == 0;
  QuadraticLevelSet quadratic;
  if (so3 || ellipsoid) {  // F is quadratic on both: constant Hessians (the ellipsoid's are 2 diag(1 / a_i^2))
    quadratic.kind = so3 ? QuadraticLevelSet::kSo3 : QuadraticLevelSet::kEllipsoid;
    const std::vector<Mat> hessians = L.jet(Vec::Ones(D), 2).hessians;
    for (const Mat& h : hessians) {
      quadratic.hessians.emplace_back();
      for (int a = 0; a < D; ++a)
        for (int b = 0; b < D; ++b)
          if (h(a, b) != 0) quadratic.hessians.back().push_back({a, b, h(a, b)});
    }
    if (ellipsoid) quadratic.inv_a2 = 0.5 * hessians[0].diagonal();
  }
  const QuadraticLevelSet* q = so3 || ellipsoid ? &quadratic : nullptr;
  const bool local = wants_frame(o) || wants_curvature(o);
  std::vector<double> zbuf(static_cast<std::size_t>(D));
  for (std::size_t i = begin; i < end; ++i) {
    const double* x = X + i * D;
    const double* z = x;
    if (!project) {
      check_finite(L, x, D);
    } else {
      double* p = o.z ? o.z + i * D : zbuf.data();
      if (so3)
        so3_project(L, x, p);
      else if (ellipsoid)
        ellipsoid_project(L, quadratic.inv_a2, x, p);
      else
        Eigen::Map<Vec>(p, D) = L.project(Eigen::Map<const Vec>(x, D));
      z = p;
    }
    if (o.z && !project) std::copy(x, x + D, o.z + i * D);
    if (local) {
      LocalRows rest = o;
      rest.z = nullptr;  // written above
      if (D == 9 && d == 3)
        level_set_fixed<9, 6>(L, z, i, rest, q);
      else if (D == 3 && d == 2)
        level_set_fixed<3, 1>(L, z, i, rest, q);
      else if (D == 4 && d == 3)
        level_set_fixed<4, 1>(L, z, i, rest, q);
      else
        write(level_set_local(L, Eigen::Map<const Vec>(z, D)), i, D, d, rest);
    }
    if (o.drift) Eigen::Map<Vec>(o.drift + i * D, D) = L.geometric_drift(Eigen::Map<const Vec>(z, D));
  }
}

}  // namespace rbsm::geometry::batch_detail
