// The closed-form row kernels of geometry::local_rows (batch_rows.hpp): spheres, the torus of revolution
// and the Clifford torus, written straight into the output rows with no per-point allocation.
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "batch_rows.hpp"

namespace rbsm::geometry::batch_detail {
namespace {

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
void sphere_kernel(const Sphere& M, const double* X, std::size_t begin, std::size_t end, bool project,
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

}  // namespace

void sphere_rows(const Sphere& M, const double* X, std::size_t begin, std::size_t end, bool project,
                 const LocalRows& o) {
  if (M.ambient_dim() == 3) return sphere_kernel<3>(M, X, begin, end, project, o);
  sphere_kernel<0>(M, X, begin, end, project, o);
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

}  // namespace rbsm::geometry::batch_detail
