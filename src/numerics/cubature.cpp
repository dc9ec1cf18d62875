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
#include "rbsm/random.hpp"

namespace rbsm::numerics {

namespace {
constexpr double kPi = 3.14159265358979323846;
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

/// A rectangle chart [x0, x1] x [y0, y1] -> M with its log area element.
struct RectChart {
  double x0, x1, y0, y1;
  int nx, ny;  // initial cells per axis
  std::function<void(double x, double y, double* z, double& log_jac)> map;
};

RectChart chart_for(const geometry::Manifold& M) {
  if (M.spec() == "sphere:2")
    return {-1.0, 1.0, -kPi, kPi, 4, 8, [](double u, double phi, double* z, double& lj) {
              const double s = std::sqrt(std::max(0.0, 1.0 - u * u));
              z[0] = s * std::cos(phi), z[1] = s * std::sin(phi), z[2] = u;
              lj = 0.0;
            }};
  const geometry::AngularChart* chart = geometry::angular_chart(M);
  const int D = M.ambient_dim();
  return {-kPi, kPi, -kPi, kPi, 8, 8, [chart, D](double a1, double a2, double* z, double& lj) {
            const Vec p = chart->point(a1, a2);
            for (int k = 0; k < D; ++k) z[k] = p[k];
            lj = chart->log_area_element(a1, a2);
          }};
}

struct Cell {
  double x0, x1, y0, y1;
  double log_self;         // m x m rule on the cell
  double log_kids[4];      // m x m rule on each quarter
  double log_best() const { return log_add(log_add(log_kids[0], log_kids[1]), log_add(log_kids[2], log_kids[3])); }
  double log_err() const { return log_abs_diff(log_self, log_best()); }
};

class Cubature {
 public:
  Cubature(const geometry::Manifold& M, const BatchEnergy& energy, const CubatureOptions& o)
      : chart_(chart_for(M)), energy_(energy), o_(o), D_(M.ambient_dim()) {
    gauss_legendre(o.order, gx_, gw_);
  }

  LogNormaliser run() {
    std::vector<Cell> leaves;
    {
      std::vector<Cell> init;
      const double hx = (chart_.x1 - chart_.x0) / chart_.nx, hy = (chart_.y1 - chart_.y0) / chart_.ny;
      for (int i = 0; i < chart_.nx; ++i)
        for (int j = 0; j < chart_.ny; ++j)
          init.push_back({chart_.x0 + i * hx, chart_.x0 + (i + 1) * hx, chart_.y0 + j * hy, chart_.y0 + (j + 1) * hy,
                          0, {0, 0, 0, 0}});
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
      for (std::size_t k = 0; k < order.size() && k < 4096; ++k) {
        split[order[k]] = 1;
        acc = log_add(acc, leaves[order[k]].log_err());
        if (acc >= log_e - std::log(2.0)) break;
      }
      std::vector<Cell> kept, fresh;
      for (std::size_t k = 0; k < leaves.size(); ++k) {
        if (!split[k]) {
          kept.push_back(leaves[k]);
          continue;
        }
        const Cell& p = leaves[k];
        const double xm = 0.5 * (p.x0 + p.x1), ym = 0.5 * (p.y0 + p.y1);
        const double xs[3] = {p.x0, xm, p.x1}, ys[3] = {p.y0, ym, p.y1};
        for (int q = 0; q < 4; ++q)
          fresh.push_back({xs[q / 2], xs[q / 2 + 1], ys[q % 2], ys[q % 2 + 1], p.log_kids[q], {0, 0, 0, 0}});
      }
      evaluate(fresh, /*with_self=*/false);
      kept.insert(kept.end(), fresh.begin(), fresh.end());
      leaves = std::move(kept);
    }
  }

 private:
  /// Fills log_kids (and log_self if asked) of every cell with one batched energy call.
  void evaluate(std::vector<Cell>& cells, bool with_self) {
    const int m = o_.order, per = m * m, rules = with_self ? 5 : 4;
    const Eigen::Index n = static_cast<Eigen::Index>(cells.size()) * rules * per;
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> Zr(n, D_);  // one node per row
    Vec logw(n);
    Eigen::Index row = 0;
    const auto add_rule = [&](double x0, double x1, double y0, double y1) {
      const double cx = 0.5 * (x0 + x1), rx = 0.5 * (x1 - x0), cy = 0.5 * (y0 + y1), ry = 0.5 * (y1 - y0);
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j) {
          double lj = 0;
          chart_.map(cx + rx * gx_[i], cy + ry * gx_[j], Zr.row(row).data(), lj);
          logw[row] = std::log(rx * gw_[i] * ry * gw_[j]) + lj;
          ++row;
        }
    };
    for (const Cell& c : cells) {
      const double xm = 0.5 * (c.x0 + c.x1), ym = 0.5 * (c.y0 + c.y1);
      const double xs[3] = {c.x0, xm, c.x1}, ys[3] = {c.y0, ym, c.y1};
      if (with_self) add_rule(c.x0, c.x1, c.y0, c.y1);
      for (int q = 0; q < 4; ++q) add_rule(xs[q / 2], xs[q / 2 + 1], ys[q % 2], ys[q % 2 + 1]);
    }
    const Vec E = energy_(Mat(Zr));
    if (E.size() != n) throw InvalidArgument("log_normaliser: the energy returned the wrong number of values");
    for (Eigen::Index k = 0; k < n; ++k)
      if (std::isnan(E[k]) || E[k] == std::numeric_limits<double>::infinity())
        throw NumericalError("log_normaliser: the energy is not finite at a quadrature node");
    evaluations_ += n;
    row = 0;
    const auto rule_value = [&]() {
      double acc = kNegInf;
      for (int k = 0; k < per; ++k, ++row) acc = log_add(acc, E[row] + logw[row]);
      return acc;
    };
    for (Cell& c : cells) {
      if (with_self) c.log_self = rule_value();
      for (int q = 0; q < 4; ++q) c.log_kids[q] = rule_value();
    }
  }

  RectChart chart_;
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
  return M.spec() == "sphere:2" || geometry::angular_chart(M) != nullptr;
}

LogNormaliser log_normaliser(const geometry::Manifold& M, const BatchEnergy& energy, const CubatureOptions& o) {
  if (!(o.rel_tol > 0) || o.order < 2 || o.max_evaluations < 1)
    throw InvalidArgument("log_normaliser: need rel_tol > 0, order >= 2, max_evaluations >= 1");
  if (has_product_chart(M)) return Cubature(M, energy, o).run();
  return importance_sampling(M, energy, o);
}

}  // namespace rbsm::numerics
