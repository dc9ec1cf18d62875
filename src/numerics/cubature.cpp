// Normalising constants on M by adaptive cubature or importance sampling (include/rbsm/numerics/cubature.hpp).
#include "rbsm/numerics/cubature.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"
#include "rbsm/numerics/constants.hpp"
#include "rbsm/random.hpp"

namespace rbsm::numerics {

namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();

double log_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log1p(std::exp(-std::abs(a - b)));
}
/// log |e^a - e^b|.
double log_abs_diff(double a, double b) {
  if (a == b) return kNegInf;
  const double m = std::max(a, b);
  return m + std::log(-std::expm1(-std::abs(a - b)));
}

/// A box chart [lo_0, hi_0] x ... x [lo_{k-1}, hi_{k-1}] -> M (k = 2 or 3) with its log volume element.
struct BoxChart {
  int k;
  double lo[3], hi[3];
  int n[3];  // initial cells per axis
  std::function<void(const double* x, double* z, double& log_jac)> map;
};

BoxChart chart_for(const geometry::Manifold& M) {
  if (M.spec() == "sphere:2")  // (theta, phi): dvol = sin theta dtheta dphi, analytic up to the poles
    return {2, {0.0, -kPi, 0}, {kPi, kPi, 0}, {4, 8, 1}, [](const double* x, double* z, double& lj) {
              const double st = std::sin(x[0]);
              z[0] = st * std::cos(x[1]), z[1] = st * std::sin(x[1]), z[2] = std::cos(x[0]);
              lj = std::log(st);
            }};
  if (M.spec() == "so3") {
    // ZYZ Euler angles with u = cos beta: R = Rz(alpha) Ry(beta) Rz(gamma), Haar dvol = du dalpha dgamma for
    // the metric |w|^2 (total 8 pi^2), times (sqrt 2)^3 for the Frobenius metric of R^9 (geometry/so3.hpp).
    const double lj0 = 1.5 * std::log(2.0);
    return {3, {-kPi, -1.0, -kPi}, {kPi, 1.0, kPi}, {4, 2, 4}, [lj0](const double* x, double* z, double& lj) {
              const double ca = std::cos(x[0]), sa = std::sin(x[0]), cb = x[1],
                           sb = std::sqrt(std::max(0.0, 1.0 - x[1] * x[1])), cg = std::cos(x[2]), sg = std::sin(x[2]);
              // row-major Rz(a) Ry(b) Rz(g)
              z[0] = ca * cb * cg - sa * sg, z[1] = -ca * cb * sg - sa * cg, z[2] = ca * sb;
              z[3] = sa * cb * cg + ca * sg, z[4] = -sa * cb * sg + ca * cg, z[5] = sa * sb;
              z[6] = -sb * cg, z[7] = sb * sg, z[8] = cb;
              lj = lj0;
            }};
  }
  const geometry::AngularChart* chart = geometry::angular_chart(M);
  const int D = M.ambient_dim();
  return {2, {-kPi, -kPi, 0}, {kPi, kPi, 0}, {8, 8, 1}, [chart, D](const double* x, double* z, double& lj) {
            const Vec p = chart->point(x[0], x[1]);
            for (int k = 0; k < D; ++k) z[k] = p[k];
            lj = chart->log_area_element(x[0], x[1]);
          }};
}

struct Cell {
  double lo[3], hi[3];
  double log_self;     // m^k rule on the cell
  double log_kids[8];  // m^k rule on each of its 2^k children
  int kids;
  double log_best() const {
    double acc = kNegInf;
    for (int q = 0; q < kids; ++q) acc = log_add(acc, log_kids[q]);
    return acc;
  }
  double log_err() const { return log_abs_diff(log_self, log_best()); }
  /// Child q: bit a of q picks the lower or upper half of axis a.
  Cell child(int q, int k) const {
    Cell c{};
    for (int a = 0; a < 3; ++a) {
      const double mid = 0.5 * (lo[a] + hi[a]);
      const bool upper = a < k && ((q >> a) & 1);
      c.lo[a] = a < k ? (upper ? mid : lo[a]) : lo[a];
      c.hi[a] = a < k ? (upper ? hi[a] : mid) : hi[a];
    }
    c.kids = kids;
    return c;
  }
};

class Cubature {
 public:
  Cubature(const geometry::Manifold& M, const BatchEnergy& energy, const CubatureOptions& o)
      : chart_(chart_for(M)), energy_(energy), o_(o), D_(M.ambient_dim()) {
    gauss_legendre(o.order, gx_, gw_);
  }

  LogNormaliser run() {
    const int k = chart_.k, kids = 1 << k;
    std::vector<Cell> leaves;
    {
      std::vector<Cell> init;
      int idx[3] = {0, 0, 0};
      const int total = chart_.n[0] * chart_.n[1] * (k == 3 ? chart_.n[2] : 1);
      for (int t = 0; t < total; ++t) {
        idx[0] = t % chart_.n[0], idx[1] = (t / chart_.n[0]) % chart_.n[1], idx[2] = t / (chart_.n[0] * chart_.n[1]);
        Cell c{};
        for (int a = 0; a < 3; ++a) {
          const double h = (chart_.hi[a] - chart_.lo[a]) / chart_.n[a];
          c.lo[a] = chart_.lo[a] + idx[a] * h, c.hi[a] = chart_.lo[a] + (idx[a] + 1) * h;
        }
        c.kids = kids;
        init.push_back(c);
      }
      evaluate(init, /*with_self=*/true);
      leaves = std::move(init);
    }
    LogNormaliser r;
    r.method = "adaptive-cubature";
    for (;;) {
      double log_z = kNegInf, log_e = kNegInf;
      for (const Cell& c : leaves) log_z = log_add(log_z, c.log_best()), log_e = log_add(log_e, c.log_err());
      r.log_z = log_z;
      r.error = std::exp(log_e - log_z);
      r.cells = static_cast<std::int64_t>(leaves.size());
      r.evaluations = evaluations_;
      if (o_.on_round) o_.on_round(evaluations_, r.error);
      if (r.error <= o_.rel_tol) {
        r.converged = true;
        return r;
      }
      if (evaluations_ >= o_.max_evaluations) return r;
      // Split the cells carrying half of the error (at most 4096 per round).
      std::vector<std::size_t> order(leaves.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(),
                [&](std::size_t a, std::size_t b) { return leaves[a].log_err() > leaves[b].log_err(); });
      std::vector<char> split(leaves.size(), 0);
      double acc = kNegInf;
      for (std::size_t j = 0; j < order.size() && j < 4096; ++j) {
        split[order[j]] = 1;
        acc = log_add(acc, leaves[order[j]].log_err());
        if (acc >= log_e - std::log(2.0)) break;
      }
      std::vector<Cell> kept, fresh;
      for (std::size_t j = 0; j < leaves.size(); ++j) {
        if (!split[j]) {
          kept.push_back(leaves[j]);
          continue;
        }
        for (int q = 0; q < kids; ++q) {
          Cell c = leaves[j].child(q, k);
          c.log_self = leaves[j].log_kids[q];
          fresh.push_back(c);
        }
      }
      evaluate(fresh, /*with_self=*/false);
      kept.insert(kept.end(), fresh.begin(), fresh.end());
      leaves = std::move(kept);
    }
  }

 private:
  /// Fills log_kids (and log_self if asked) of every cell with one batched energy call.
  void evaluate(std::vector<Cell>& cells, bool with_self) {
    const int m = o_.order, k = chart_.k, kids = 1 << k;
    const int per = k == 3 ? m * m * m : m * m, rules = with_self ? kids + 1 : kids;
    const Eigen::Index n = static_cast<Eigen::Index>(cells.size()) * rules * per;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Zr(n, D_);  // one node per row
    Vec logw(n);
    Eigen::Index row = 0;
    const auto add_rule = [&](const Cell& c) {
      double centre[3], radius[3];
      for (int a = 0; a < 3; ++a) centre[a] = 0.5 * (c.lo[a] + c.hi[a]), radius[a] = 0.5 * (c.hi[a] - c.lo[a]);
      for (int t = 0; t < per; ++t) {
        const int i[3] = {t % m, (t / m) % m, t / (m * m)};
        double x[3] = {0, 0, 0}, lw = 0, lj = 0;
        for (int a = 0; a < k; ++a) x[a] = centre[a] + radius[a] * gx_[i[a]], lw += std::log(radius[a] * gw_[i[a]]);
        chart_.map(x, Zr.row(row).data(), lj);
        logw[row] = lw + lj;
        ++row;
      }
    };
    for (const Cell& c : cells) {
      if (with_self) add_rule(c);
      for (int q = 0; q < kids; ++q) add_rule(c.child(q, k));
    }
    const Vec E = energy_(Mat(Zr));
    if (E.size() != n) throw InvalidArgument("log_normaliser: the energy returned the wrong number of values");
    for (Eigen::Index j = 0; j < n; ++j)
      if (std::isnan(E[j]) || E[j] == std::numeric_limits<double>::infinity())
        throw NumericalError("log_normaliser: the energy is not finite at a quadrature node");
    evaluations_ += n;
    row = 0;
    const auto rule_value = [&]() {
      double acc = kNegInf;
      for (int j = 0; j < per; ++j, ++row) acc = log_add(acc, E[row] + logw[row]);
      return acc;
    };
    for (Cell& c : cells) {
      if (with_self) c.log_self = rule_value();
      for (int q = 0; q < kids; ++q) c.log_kids[q] = rule_value();
    }
  }

  BoxChart chart_;
  const BatchEnergy& energy_;
  CubatureOptions o_;
  int D_;
  Vec gx_, gw_;
  std::int64_t evaluations_ = 0;
};

LogNormaliser importance_sampling(const geometry::Manifold& M, const BatchEnergy& energy, const CubatureOptions& o) {
  if (o.samples < 2) throw InvalidArgument("log_normaliser: need at least 2 importance samples");
  Rng rng(o.seed, 0);
  const std::int64_t block = 65536;
  std::vector<double> values;
  values.reserve(static_cast<std::size_t>(o.samples));
  for (std::int64_t done = 0; done < o.samples; done += block) {
    const std::int64_t nb = std::min(block, o.samples - done);
    Mat Z(nb, M.ambient_dim());
    for (std::int64_t i = 0; i < nb; ++i) Z.row(i) = M.sample_uniform(rng).transpose();
    const Vec E = energy(Z);
    for (std::int64_t i = 0; i < nb; ++i) {
      if (std::isnan(E[i]) || E[i] == std::numeric_limits<double>::infinity())
        throw NumericalError("log_normaliser: the energy is not finite at a sample");
      values.push_back(E[i]);
    }
    if (o.on_round) o.on_round(done + nb, 0.0);
  }
  const double m = *std::max_element(values.begin(), values.end());
  double s = 0, s2 = 0;
  for (double v : values) {
    const double w = std::exp(v - m);
    s += w, s2 += w * w;
  }
  const double n = static_cast<double>(values.size()), mean = s / n;
  const double var = std::max(0.0, s2 / n - mean * mean) * n / (n - 1);
  LogNormaliser r;
  r.method = "importance-sampling";
  r.log_z = std::log(M.volume()) + m + std::log(mean);
  r.error = std::sqrt(var / n) / mean;  // delta method: se(log Zhat) = se(Zhat) / Zhat
  r.evaluations = o.samples;
  r.converged = true;
  return r;
}
}  // namespace

void gauss_legendre(int n, Vec& nodes, Vec& weights) {
  if (n < 1) throw InvalidArgument("gauss_legendre: n must be >= 1");
  nodes.resize(n);
  weights.resize(n);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(kPi * (i + 0.75) / (n + 0.5)), dp = 0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = x;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
        p0 = p1, p1 = p2;
      }
      if (n == 1) p1 = x, p0 = 1.0;
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double dx = p1 / dp;
      x -= dx;
      if (std::abs(dx) < 1e-16) break;
    }
    nodes[i] = -x, nodes[n - 1 - i] = x;
    weights[i] = weights[n - 1 - i] = 2.0 / ((1.0 - x * x) * dp * dp);
  }
}

bool has_product_chart(const geometry::Manifold& M) {
  return M.spec() == "sphere:2" || M.spec() == "so3" || geometry::angular_chart(M) != nullptr;
}

LogNormaliser log_normaliser(const geometry::Manifold& M, const BatchEnergy& energy, const CubatureOptions& o) {
  if (!(o.rel_tol > 0) || o.order < 2 || o.max_evaluations < 1)
    throw InvalidArgument("log_normaliser: need rel_tol > 0, order >= 2, max_evaluations >= 1");
  if (has_product_chart(M)) return Cubature(M, energy, o).run();
  return importance_sampling(M, energy, o);
}

}  // namespace rbsm::numerics
