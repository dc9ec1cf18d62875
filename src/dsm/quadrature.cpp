// Adaptive Gauss-Kronrod 10/21 quadrature for vector-valued integrands (docs/targets.md §3).
#include "rbsm/dsm/quadrature.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "rbsm/error.hpp"

namespace rbsm::dsm {
namespace {

// QUADPACK qk21: Kronrod nodes (positive half, descending), Kronrod and Gauss weights.
constexpr double kXgk[11] = {0.995657163025808080735527280689003,
                             0.973906528517171720077964012084452,
                             0.930157491355708226001207180059508,
                             0.865063366688984510732096688423493,
                             0.780817726586416897063717578345042,
                             0.679409568299024406234327365114874,
                             0.562757134668604683339000099272694,
                             0.433395394129247190799265943165784,
                             0.294392862701460198131126603103866,
                             0.148874338981631210884826001129720,
                             0.0};
constexpr double kWgk[11] = {
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390, 0.054755896574351996031381300244580,
    0.075039674810919952767043140916190, 0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077208980100202, 0.134709217311473325928054001771707, 0.142775938577060080797094273138717,
    0.147739104901338491374841515972068, 0.149445554002916905664936468389821};
// Gauss 10-point weights for the nodes kXgk[1], kXgk[3], ..., kXgk[9].
constexpr double kWg[5] = {0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
                           0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
                           0.295524224714752870173892994651338};

struct Piece {
  double a, b;
  Eigen::ArrayXd integral, error;
  double scaled_error;
};

Piece gk21(const VectorIntegrand& f, int n, double a, double b, const Eigen::ArrayXd& scale) {
  const double c = 0.5 * (a + b), h = 0.5 * (b - a);
  Eigen::ArrayXd kron = Eigen::ArrayXd::Zero(n), gauss = Eigen::ArrayXd::Zero(n), v1(n), v2(n);
  for (int j = 0; j < 11; ++j) {
    if (j == 10) {
      f(c, v1.data());
      kron += kWgk[10] * v1;
    } else {
      f(c - h * kXgk[j], v1.data());
      f(c + h * kXgk[j], v2.data());
      kron += kWgk[j] * (v1 + v2);
      if (j % 2 == 1) gauss += kWg[j / 2] * (v1 + v2);
    }
  }
  if (!kron.allFinite())
    throw NumericalError("integrate_adaptive: the integrand is not finite on [" + std::to_string(a) + ", " +
                         std::to_string(b) + "]");
  Piece p{a, b, kron * h, ((kron - gauss) * h).abs(), 0.0};
  p.scaled_error = (p.error * scale).maxCoeff();
  return p;
}

}  // namespace

Eigen::ArrayXd integrate_adaptive(const VectorIntegrand& f, int n, const std::vector<double>& breaks,
                                  const QuadratureOptions& options) {
  if (breaks.size() < 2) throw InvalidArgument("integrate_adaptive: need at least two break points");
  const Eigen::ArrayXd scale = options.scale.size() == n ? options.scale : Eigen::ArrayXd::Ones(n);
  std::vector<Piece> pieces;
  for (std::size_t i = 0; i + 1 < breaks.size(); ++i)
    if (breaks[i + 1] > breaks[i]) pieces.push_back(gk21(f, n, breaks[i], breaks[i + 1], scale));
  for (;;) {
    Eigen::ArrayXd total = Eigen::ArrayXd::Zero(n), error = Eigen::ArrayXd::Zero(n);
    std::size_t worst = 0;
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      total += pieces[i].integral;
      error += pieces[i].error;
      if (pieces[i].scaled_error > pieces[worst].scaled_error) worst = i;
    }
    const double tol = options.rel_tol * (total.abs() * scale).maxCoeff();
    if ((error * scale).maxCoeff() <= tol || (error * scale).maxCoeff() == 0.0) return total;
    if (static_cast<int>(pieces.size()) >= options.max_intervals) {
      if (!options.throw_on_failure) return total;
      throw NumericalError("integrate_adaptive: tolerance " + std::to_string(options.rel_tol) + " not reached with " +
                           std::to_string(pieces.size()) + " intervals");
    }
    const Piece w = pieces[worst];
    const double mid = 0.5 * (w.a + w.b);
    if (!(mid > w.a && mid < w.b)) return total;  // interval at rounding level: cannot improve
    pieces[worst] = gk21(f, n, w.a, mid, scale);
    pieces.push_back(gk21(f, n, mid, w.b, scale));
  }
}

std::vector<double> peak_breaks(double lo, double hi, double centre, double width) {
  std::vector<double> b{lo, hi};
  if (centre > lo && centre < hi) b.push_back(centre);
  for (double s = width / 4.0; s < 2.0 * (hi - lo); s *= 2.0) {
    if (centre - s > lo && centre - s < hi) b.push_back(centre - s);
    if (centre + s > lo && centre + s < hi) b.push_back(centre + s);
  }
  std::sort(b.begin(), b.end());
  b.erase(std::unique(b.begin(), b.end()), b.end());
  return b;
}

}  // namespace rbsm::dsm
