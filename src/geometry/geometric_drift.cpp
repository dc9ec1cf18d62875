// E_M by graph coordinates (the default Manifold::geometric_drift) and, for surfaces in R^3, by the
// curvature formula (docs/level_set.md §4).
#include "rbsm/geometry/geometric_drift.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <vector>

#include "rbsm/error.hpp"

namespace rbsm::geometry {
namespace {

double default_step(const Manifold& M, double h) { return h > 0 ? h : 0.2 * std::min(M.reach(), 1.0); }

/// Two Richardson extrapolations of a central-difference estimate with error c2 h^2 + c4 h^4 + ...
template <class F>
Vec richardson(F estimate, double h) {
  const Vec a = estimate(h), b = estimate(h / 2), c = estimate(h / 4);
  const Vec ab = (4 * b - a) / 3, bc = (4 * c - b) / 3;
  return (16 * bc - ab) / 15;
}

/// Psi(t) = log J(t) + log det(I - W_{N c(t)}(y)) on the graph chart at y (SPEC.md "Expansion").
class GraphChart {
 public:
  GraphChart(const Manifold& M, const Vec& y) : M_(M), y_(y), E_(M.tangent_frame(y)), N_(M.normal_frame(y)) {
    // W_{N c}(y) = sum_a c_a W_{n_a}(y), restricted to T_y M in the frame E.
    for (int a = 0; a < N_.cols(); ++a) W_.push_back(E_.transpose() * M.weingarten(y, N_.col(a)) * E_);
  }
  const Mat& E() const { return E_; }

  double psi(const Vec& t) const {
    const int d = static_cast<int>(E_.cols());
    const Vec p = graph_point(M_, y_, E_, t);
    const Vec c = N_.transpose() * (p - y_);
    // T_p M = span(E + N Dc): with a frame E_p, E^T E_p = A and N^T E_p = Dc A.
    const Mat Ep = M_.tangent_frame(p);
    const Mat Dc = (N_.transpose() * Ep) * (E_.transpose() * Ep).inverse();
    const double logJ = 0.5 * std::log((Mat::Identity(d, d) + Dc.transpose() * Dc).determinant());
    Mat I_minus_W = Mat::Identity(d, d);
    for (std::size_t a = 0; a < W_.size(); ++a) I_minus_W -= c(static_cast<Eigen::Index>(a)) * W_[a];
    const double det = I_minus_W.determinant();
    if (!(det > 0)) throw GeometryError(M_.spec() + ": det(I - W_h) <= 0 in the graph chart; step too large for E_M");
    return logJ + std::log(det);
  }

 private:
  const Manifold& M_;
  Vec y_;
  Mat E_, N_;
  std::vector<Mat> W_;
};

}  // namespace

Vec graph_point(const Manifold& M, const Vec& y, const Mat& E, const Vec& t) {
  Vec p = M.project(y + E * t);
  double last = std::numeric_limits<double>::infinity();
  const double tol = 1e-15 * (1 + y.norm());
  for (int it = 0; it < 30; ++it) {
    const Vec r = t - E.transpose() * (p - y);
    const double rn = r.norm();
    if (rn <= tol || rn >= 0.5 * last) {
      if (rn > 1e-10 * (1 + y.norm())) break;
      return p;
    }
    last = rn;
    const Mat Ep = M.tangent_frame(p);
    p = M.project(p + Ep * (E.transpose() * Ep).lu().solve(r));
  }
  std::ostringstream s;
  s << M.spec() << ": no graph point over the tangent offset |t| = " << t.norm() << " (E_M step too large?)";
  throw GeometryError(s.str());
}

Vec graph_geometric_drift(const Manifold& M, const Vec& y, double h) {
  M.check_ambient(y, "point");
  const GraphChart chart(M, y);
  const int d = M.dim();
  // g_j(h) = 1/2 sum_i d_j d_i^2 Psi by central stencils on the lattice h Z^d (values memoised).
  auto estimate = [&](double step) {
    std::map<std::vector<int>, double> memo;
    auto psi = [&](std::vector<int> k) {
      auto it = memo.find(k);
      if (it != memo.end()) return it->second;
      Vec t(d);
      for (int i = 0; i < d; ++i) t(i) = step * k[static_cast<std::size_t>(i)];
      return memo[k] = chart.psi(t);
    };
    auto at = [&](int j, int kj, int i, int ki) {
      std::vector<int> k(static_cast<std::size_t>(d), 0);
      k[static_cast<std::size_t>(j)] += kj;
      k[static_cast<std::size_t>(i)] += ki;
      return psi(k);
    };
    const double h3 = step * step * step;
    Vec g(d);
    for (int j = 0; j < d; ++j) {
      // d_j^3 Psi = [Psi(2h) - 2 Psi(h) + 2 Psi(-h) - Psi(-2h)] / (2 h^3) + O(h^2)
      double sum = (at(j, 2, j, 0) - 2 * at(j, 1, j, 0) + 2 * at(j, -1, j, 0) - at(j, -2, j, 0)) / (2 * h3);
      for (int i = 0; i < d; ++i) {
        if (i == j) continue;
        // d_j d_i^2 Psi = [S(h) - S(-h)] / (2h), S(s) = [Psi(s e_j + h e_i) - 2 Psi(s e_j) + Psi(s e_j - h e_i)] / h^2
        const double Sp = at(j, 1, i, 1) - 2 * at(j, 1, i, 0) + at(j, 1, i, -1);
        const double Sm = at(j, -1, i, 1) - 2 * at(j, -1, i, 0) + at(j, -1, i, -1);
        sum += (Sp - Sm) / (2 * h3);
      }
      g(j) = 0.5 * sum;
    }
    return g;
  };
  return chart.E() * richardson(estimate, default_step(M, h));
}

Vec surface_geometric_drift(const Manifold& M, const Vec& z, double s) {
  if (M.dim() != 2 || M.ambient_dim() != 3)
    throw InvalidArgument("surface_geometric_drift needs a surface in R^3, got " + M.spec() +
                          " (d = " + std::to_string(M.dim()) + ", D = " + std::to_string(M.ambient_dim()) + ")");
  M.check_ambient(z, "point");
  const Vec n = M.normal_frame(z).col(0);
  const Mat E = M.tangent_frame(z);
  // H and K_G at p with the unit normal continued from n (W_n flips sign with n; K_G does not).
  auto curvatures = [&](const Vec& p) {
    Vec np = M.normal_frame(p).col(0);
    if (np.dot(n) < 0) np = -np;
    const Mat Ep = M.tangent_frame(p);
    const Mat W = Ep.transpose() * M.weingarten(p, np) * Ep;
    Vec hk(2);
    hk << W.trace(), W.determinant();
    return hk;
  };
  // Columns: grad H, grad K_G in the frame E, by central differences along pi(z +- s e_i).
  auto estimate = [&](double step) {
    Vec g(4);
    for (int i = 0; i < 2; ++i) {
      const Vec diff =
          (curvatures(M.project(z + step * E.col(i))) - curvatures(M.project(z - step * E.col(i)))) / (2 * step);
      g(i) = diff(0);
      g(2 + i) = diff(1);
    }
    return g;
  };
  const Vec g = richardson(estimate, default_step(M, s));
  const Vec grad_H = E * g.head(2), grad_KG = E * g.tail(2);
  const Mat W = M.weingarten(z, n);
  const double H = (E.transpose() * W * E).trace();
  return 0.5 * W * grad_H + 0.5 * H * grad_H - grad_KG;
}

Vec Manifold::geometric_drift(const Vec& z) const { return graph_geometric_drift(*this, z); }

}  // namespace rbsm::geometry
