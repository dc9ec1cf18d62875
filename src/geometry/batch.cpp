#include "rbsm/geometry/batch.hpp"

#include <algorithm>
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

bool wants_frame(const LocalRows& o) { return o.tangent || o.normal || o.P_T || o.P_N; }
bool wants_curvature(const LocalRows& o) { return o.H || o.W_H || o.ricci || o.K || o.scalar; }

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

/// Without projection: z must be finite, as the per-point operators' check_ambient(z, "z") requires.
void check_finite(const Manifold& M, const double* x, int D) {
  for (int a = 0; a < D; ++a)
    if (!std::isfinite(x[a])) M.check_ambient(Eigen::Map<const Vec>(x, D), "z");  // throws the library's message
}

/// dst = c (I - v v^T) (D x D, row-major), rounded as Sphere::ricci's (d - 1) * (I - u u^T).
template <int DC>
inline void scaled_tangent_projector(double* dst, const double* v, int D, double c) {
  for (int a = 0; a < D; ++a) {
    const double va = v[a];
    double* row = dst + a * D;
    for (int b = 0; b < D; ++b) row[b] = -(c * (va * v[b]));
    row[a] = c * (1.0 - va * va);
  }
}

/// Rows are done in chunks of kChunk: first the few scalars of each point (a short dependent chain of
/// divisions and square roots per point, which the CPU overlaps across the points of a chunk), then the
/// output rows. A chunk with a bad row (NaN, the focal set) throws the first bad row's error.
constexpr std::size_t kChunk = 64;

/// S^d: z = x / |x| (scaled by the largest coordinate first, as Sphere::project), u = z / |z| (z itself
/// when projected), the Householder frame of Sphere::tangent_frame, P_T = I - u u^T, P_N = u u^T, H = -d u,
/// W_H = d P_T, Ric# = (d - 1) P_T, K = (1 - d/2) P_T, E_M = 0. DC: D at compile time (0: runtime).
template <int DC>
void sphere_rows(const Sphere& M, const double* X, std::size_t begin, std::size_t end, bool project,
                 const LocalRows& o) {
  const int D = DC > 0 ? DC : M.ambient_dim(), d = D - 1;
  const std::size_t DD = static_cast<std::size_t>(D) * D;
  std::vector<double> V(kChunk * static_cast<std::size_t>(D));  // the unit vectors u of a chunk
  const bool frame = wants_frame(o) || o.H || o.W_H || o.ricci || o.K;
  for (std::size_t c0 = begin; c0 < end; c0 += kChunk) {
    const std::size_t c1 = std::min(end, c0 + kChunk);
    bool bad = false;
    for (std::size_t i = c0; i < c1; ++i) {
      const double* x = X + i * D;
      double* v = V.data() + (i - c0) * D;
      double s = 0;
      bool finite = true;
      for (int a = 0; a < D; ++a) {
        finite = finite && std::isfinite(x[a]);
        s = std::max(s, std::abs(x[a]));
      }
      double n2 = 0;
      for (int a = 0; a < D; ++a) n2 += (x[a] / s) * (x[a] / s);
      const double n = std::sqrt(n2);
      bad = bad || !finite || !(s > 0.0) || s * std::sqrt(static_cast<double>(D)) <= kFocalTolerance ||
            s * n <= kFocalTolerance;
      if (project) {
        const double inv_n = 1.0 / n;
        for (int a = 0; a < D; ++a) v[a] = (x[a] / s) * inv_n;
      } else {
        double zn = 0;  // u = z / |z| as the per-point operators' z.normalized()
        for (int a = 0; a < D; ++a) zn += x[a] * x[a];
        zn = std::sqrt(zn);
        for (int a = 0; a < D; ++a) v[a] = x[a] / zn;
      }
    }
    if (bad)
      for (std::size_t i = c0; i < c1; ++i) {
        if (!project) check_finite(M, X + i * D, D);
        M.project(Eigen::Map<const Vec>(X + i * D, D));  // throws the library's message at the first bad row
      }
    for (std::size_t i = c0; i < c1; ++i) {
      const double* x = X + i * D;
      // a local copy when D is fixed: the compiler then knows the output stores cannot change it
      std::array<double, (DC > 0 ? DC : 1)> ufix;
      if constexpr (DC > 0) std::copy(V.data() + (i - c0) * D, V.data() + (i - c0 + 1) * D, ufix.data());
      const double* v = DC > 0 ? ufix.data() : V.data() + (i - c0) * D;
      if (o.z) {
        double* z = o.z + i * D;
        for (int a = 0; a < D; ++a) z[a] = project ? v[a] : x[a];
      }
      if (o.scalar) o.scalar[i] = static_cast<double>(d) * (d - 1);
      if (o.drift)
        for (int a = 0; a < D; ++a) o.drift[i * D + a] = 0.0;
      if (!frame) continue;
      if (o.normal)
        for (int a = 0; a < D; ++a) o.normal[i * D + a] = v[a];
      if (o.H)
        for (int a = 0; a < D; ++a) o.H[i * D + a] = -d * v[a];
      if (o.tangent) {
        // Householder: Q = I - 2 w w^T / |w|^2, w = u + sign(u_1) e_1; the tangent frame is Q's columns 2..D.
        const double sign = v[0] >= 0 ? 1.0 : -1.0;
        const double w0 = v[0] + sign;
        double wsq = w0 * w0;
        for (int a = 1; a < D; ++a) wsq += v[a] * v[a];
        const double f = 2.0 / wsq;
        double* E = o.tangent + i * D * d;
        for (int a = 0; a < D; ++a) {
          const double fwa = f * (a == 0 ? w0 : v[a]);
          double* row = E + a * d;
          for (int c = 1; c < D; ++c) row[c - 1] = -(fwa * v[c]);
          if (a > 0) row[a - 1] = 1.0 - fwa * v[a];
        }
      }
      if (o.P_N) {
        double* PN = o.P_N + i * DD;
        for (int a = 0; a < D; ++a)
          for (int b = 0; b < D; ++b) PN[a * D + b] = v[a] * v[b];
      }
      if (o.P_T) scaled_tangent_projector<DC>(o.P_T + i * DD, v, D, 1.0);
      if (o.W_H) scaled_tangent_projector<DC>(o.W_H + i * DD, v, D, static_cast<double>(d));
      if (o.ricci) scaled_tangent_projector<DC>(o.ricci + i * DD, v, D, static_cast<double>(d - 1));
      if (o.K) scaled_tangent_projector<DC>(o.K + i * DD, v, D, 1.0 - 0.5 * d);
    }
  }
}

/// Torus of revolution: with rho = |(x1, x2)|, c = R (x1, x2, 0) / rho and q = x - c, the nearest point is
/// z = c + r q / |q|, the outward normal n = q / |q| = (c1 c2, c1 s2, s1) with c2 = x1 / rho, s2 = x2 / rho,
/// c1 = (rho - R) / |q|, s1 = x3 / |q|; e1 = (-s1 c2, -s1 s2, c1), e2 = (-s2, c2, 0);
/// k1 = c1 / (R + r c1), k2 = 1 / r; W_nu = -<nu, n> (k2 e1 e1^T + k1 e2 e2^T), H = -(k1 + k2) n,
/// Ric# = k1 k2 P_T, E_M = 1/2 k1 (dk1/da1) / r e1 with dk1/da1 = -R s1 / (R + r c1)^2
/// (TorusOfRevolution, docs/geometry.md §4). Without projection the same ratios of z give its angles.
void torus_rows(const TorusOfRevolution& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& o) {
  const double R = M.R(), r = M.r(), inv_r = 1.0 / r;
  // per point of a chunk: cos/sin of both angles, the normal's third entry and 1 / (R + r c1)
  double C2[kChunk], S2[kChunk], C1[kChunk], S1[kChunk], IRT[kChunk], N2[kChunk];
  for (std::size_t c0 = begin; c0 < end; c0 += kChunk) {
    const std::size_t cend = std::min(end, c0 + kChunk);
    bool bad = false;
    for (std::size_t i = c0; i < cend; ++i) {
      const double* x = X + i * 3;
      const std::size_t j = i - c0;
      const double rho2 = x[0] * x[0] + x[1] * x[1];  // hypot's scaling only where the squares leave the normal range
      const double rho = rho2 > 1e-290 && rho2 < 1e300 ? std::sqrt(rho2) : std::hypot(x[0], x[1]);
      const double inv_rho = 1.0 / rho;
      const double c2 = x[0] * inv_rho, s2 = x[1] * inv_rho;
      const double q0 = x[0] - R * c2, q1 = x[1] - R * s2, q2 = x[2];
      const double dq = std::sqrt(q0 * q0 + q1 * q1 + q2 * q2);
      bad = bad || !std::isfinite(x[0]) || !std::isfinite(x[1]) || !std::isfinite(x[2]) ||
            !(rho > kFocalTolerance * R) || !(dq > kFocalTolerance * r);
      const double inv_dq = 1.0 / dq;
      C2[j] = c2, S2[j] = s2;
      C1[j] = (rho - R) * inv_dq, S1[j] = q2 * inv_dq, N2[j] = q2 * inv_dq;
      IRT[j] = 1.0 / (R + r * C1[j]);
    }
    if (bad)
      for (std::size_t i = c0; i < cend; ++i) {
        const double* x = X + i * 3;
        if (!project) check_finite(M, x, 3);
        const double rho = std::hypot(x[0], x[1]);
        const double q[3] = {x[0] - R * x[0] / rho, x[1] - R * x[1] / rho, x[2]};
        if (!std::isfinite(x[0]) || !std::isfinite(x[1]) || !std::isfinite(x[2]) || !(rho > kFocalTolerance * R) ||
            !(std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) > kFocalTolerance * r))
          M.project(Eigen::Map<const Vec>(x, 3));  // throws the library's message at the first bad row
      }
    for (std::size_t i = c0; i < cend; ++i) {
      const double* x = X + i * 3;
      const std::size_t j = i - c0;
      const double c2 = C2[j], s2 = S2[j], c1 = C1[j], s1 = S1[j], inv_rt = IRT[j];
      const double n[3] = {c1 * c2, c1 * s2, N2[j]};
      if (o.z) {
        double* z = o.z + i * 3;
        for (int a = 0; a < 3; ++a) z[a] = project ? R * (a == 0 ? c2 : a == 1 ? s2 : 0.0) + r * n[a] : x[a];
      }
      const double e1[3] = {-s1 * c2, -s1 * s2, c1}, e2[3] = {-s2, c2, 0.0};
      const double k1 = c1 * inv_rt, k2 = inv_r, KG = k1 * k2;
      if (o.tangent) {
        double* E = o.tangent + i * 6;
        for (int a = 0; a < 3; ++a) {
          E[a * 2] = e1[a];
          E[a * 2 + 1] = e2[a];
        }
      }
      if (o.normal)
        for (int a = 0; a < 3; ++a) o.normal[i * 3 + a] = n[a];
      if (o.H)
        for (int a = 0; a < 3; ++a) o.H[i * 3 + a] = -(k1 + k2) * n[a];
      if (o.scalar) o.scalar[i] = 2.0 * KG;
      if (o.drift) {
        const double g = 0.5 * k1 * (-R * s1 * inv_rt * inv_rt) * inv_r;
        for (int a = 0; a < 3; ++a) o.drift[i * 3 + a] = g * e1[a];
      }
      const double h = k1 + k2;  // <H, n> = -(k1 + k2): W_H = (k1 + k2)(k2 e1 e1^T + k1 e2 e2^T)
      double E1[9], E2[9];
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) {
          E1[a * 3 + b] = e1[a] * e1[b];
          E2[a * 3 + b] = e2[a] * e2[b];
        }
      if (o.P_T)
        for (int m = 0; m < 9; ++m) o.P_T[i * 9 + m] = E1[m] + E2[m];
      if (o.P_N)
        for (int m = 0; m < 9; ++m) o.P_N[i * 9 + m] = (m % 4 == 0 ? 1.0 : 0.0) - (E1[m] + E2[m]);
      if (o.W_H)
        for (int m = 0; m < 9; ++m) o.W_H[i * 9 + m] = h * (k2 * E1[m] + k1 * E2[m]);
      if (o.ricci)
        for (int m = 0; m < 9; ++m) o.ricci[i * 9 + m] = KG * (E1[m] + E2[m]);
      if (o.K)
        for (int m = 0; m < 9; ++m) o.K[i * 9 + m] = 0.5 * (h * (k2 * E1[m] + k1 * E2[m])) - KG * (E1[m] + E2[m]);
    }
  }
}

/// Clifford torus S^1(r1) x S^1(r2) in R^4: z = (r1 x_12 / |x_12|, r2 x_34 / |x_34|); with (c_i, s_i) the unit
/// vector of pair i, n_1 = (c1, s1, 0, 0), n_2 = (0, 0, c2, s2), e_1 = (-s1, c1, 0, 0), e_2 = (0, 0, -s2, c2);
/// H = -n_1 / r1 - n_2 / r2, W_H = e_1 e_1^T / r1^2 + e_2 e_2^T / r2^2, Ric# = 0, K = W_H / 2, E_M = 0
/// (CliffordTorus, docs/geometry.md §3).
void clifford_rows(const CliffordTorus& M, const double* X, std::size_t begin, std::size_t end, bool project,
                   const LocalRows& o) {
  const double r[2] = {M.r1(), M.r2()};
  for (std::size_t i = begin; i < end; ++i) {
    const double* x = X + i * 4;
    if (!project) check_finite(M, x, 4);
    double c[2], s[2];
    bool ok = std::isfinite(x[0]) && std::isfinite(x[1]) && std::isfinite(x[2]) && std::isfinite(x[3]);
    for (int p = 0; p < 2; ++p) {
      const double np = std::hypot(x[2 * p], x[2 * p + 1]);
      ok = ok && np > kFocalTolerance * r[p];
      c[p] = x[2 * p] / np;
      s[p] = x[2 * p + 1] / np;
    }
    if (!ok) M.project(Eigen::Map<const Vec>(x, 4));  // throws the library's message
    if (o.z)
      for (int p = 0; p < 2; ++p) {
        o.z[i * 4 + 2 * p] = project ? r[p] * c[p] : x[2 * p];
        o.z[i * 4 + 2 * p + 1] = project ? r[p] * s[p] : x[2 * p + 1];
      }
    double e[2][4] = {{-s[0], c[0], 0, 0}, {0, 0, -s[1], c[1]}}, n[2][4] = {{c[0], s[0], 0, 0}, {0, 0, c[1], s[1]}};
    if (o.tangent)
      for (int a = 0; a < 4; ++a)
        for (int p = 0; p < 2; ++p) o.tangent[i * 8 + a * 2 + p] = e[p][a];
    if (o.normal)
      for (int a = 0; a < 4; ++a)
        for (int p = 0; p < 2; ++p) o.normal[i * 8 + a * 2 + p] = n[p][a];
    if (o.H)
      for (int a = 0; a < 4; ++a) o.H[i * 4 + a] = -n[0][a] / r[0] - n[1][a] / r[1];
    if (o.scalar) o.scalar[i] = 0.0;
    if (o.drift)
      for (int a = 0; a < 4; ++a) o.drift[i * 4 + a] = 0.0;
    for (int a = 0; a < 4; ++a)
      for (int b = 0; b < 4; ++b) {
        const double E1 = e[0][a] * e[0][b], E2 = e[1][a] * e[1][b];
        const double wh = E1 / (r[0] * r[0]) + E2 / (r[1] * r[1]);
        const std::size_t j = i * 16 + a * 4 + b;
        if (o.P_T) o.P_T[j] = E1 + E2;
        if (o.P_N) o.P_N[j] = (a == b ? 1.0 : 0.0) - (E1 + E2);
        if (o.W_H) o.W_H[j] = wh;
        if (o.ricci) o.ricci[j] = 0.0;
        if (o.K) o.K[j] = 0.5 * wh;
      }
  }
}

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

}  // namespace

LocalGeometry local_geometry(const Manifold& M, const Vec& z) {
  if (const auto* L = dynamic_cast<const LevelSetManifold*>(&M)) return level_set_local(*L, z);
  return M.local(z);
}

void project_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, double* Z) {
  LocalRows out;
  out.z = Z;
  if (dynamic_cast<const Sphere*>(&M) || dynamic_cast<const TorusOfRevolution*>(&M) ||
      dynamic_cast<const CliffordTorus*>(&M))
    return local_rows(M, X, begin, end, true, out);
  const int D = M.ambient_dim();
  for (std::size_t i = begin; i < end; ++i)
    Eigen::Map<Vec>(Z + i * D, D) = M.project(Eigen::Map<const Vec>(X + i * D, D));
}

void local_rows(const Manifold& M, const double* X, std::size_t begin, std::size_t end, bool project,
                const LocalRows& out) {
  if (const auto* S = dynamic_cast<const Sphere*>(&M)) {
    if (S->ambient_dim() == 3) return sphere_rows<3>(*S, X, begin, end, project, out);
    return sphere_rows<0>(*S, X, begin, end, project, out);
  }
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
