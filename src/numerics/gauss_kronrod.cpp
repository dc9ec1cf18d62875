// Globally adaptive Gauss-Kronrod 10/21 quadrature (include/rbsm/numerics/gauss_kronrod.hpp).
#include "rbsm/numerics/gauss_kronrod.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <string>
#include <utility>

#include "rbsm/error.hpp"

namespace rbsm::numerics {
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
constexpr double kEps = std::numeric_limits<double>::epsilon();

/// The algorithm, for component arrays A (Eigen::Array<double, 1, 1> for scalars: no allocation per
/// piece; Eigen::ArrayXd for vectors) and an integrand F(x, double* out).
template <class A, class F>
class Adaptive {
 public:
  Adaptive(const F& f, int n, const QuadratureOptions& o)
      : f_(f), n_(n), o_(o), scale_(o.scale.size() == n ? A(o.scale) : A(A::Ones(n))) {}

  A run(const std::vector<double>& breaks) {
    min_length_ = std::ldexp(breaks.back() - breaks.front(), -50);
    for (std::size_t i = 0; i + 1 < breaks.size(); ++i)
      if (breaks[i + 1] > breaks[i]) add(breaks[i], breaks[i + 1]);
    if (pieces_.empty()) return A::Zero(n_);
    for (;;) {
      if (converged()) return total_;
      if (static_cast<int>(pieces_.size()) >= o_.max_intervals) {
        if (!o_.throw_on_failure) return total_;
        throw NumericalError("integrate: tolerance " + std::to_string(o_.rel_tol) + " not reached with " +
                             std::to_string(pieces_.size()) +
                             " intervals (the integrand is too rough or too peaked for this tolerance)");
      }
      if (queue_.empty()) return total_;  // every piece is final
      const std::size_t worst = queue_.top().second;
      queue_.pop();
      const double a = pieces_[worst].a, b = pieces_[worst].b, mid = 0.5 * (a + b);
      remove(pieces_[worst]);
      pieces_[worst] = evaluate(a, mid);
      insert(worst);
      pieces_.push_back(evaluate(mid, b));
      insert(pieces_.size() - 1);
    }
  }

 private:
  struct Piece {
    double a, b;
    A integral, abs_integral, error;  // error: 0 once the piece is final
  };

  Piece evaluate(double a, double b) {
    const double c = 0.5 * (a + b), h = 0.5 * (b - a);
    A kron = A::Zero(n_), gauss = A::Zero(n_), abs_sum = A::Zero(n_), v1(n_), v2(n_);
    f_(c, v1.data());
    kron += kWgk[10] * v1;
    abs_sum += kWgk[10] * v1.abs();
    for (int j = 0; j < 10; ++j) {
      f_(c - h * kXgk[j], v1.data());
      f_(c + h * kXgk[j], v2.data());
      kron += kWgk[j] * (v1 + v2);
      abs_sum += kWgk[j] * (v1.abs() + v2.abs());
      if (j % 2 == 1) gauss += kWg[j / 2] * (v1 + v2);
    }
    if (!kron.allFinite())
      throw NumericalError("integrate: the integrand is NaN or infinite on [" + std::to_string(a) + ", " +
                           std::to_string(b) + "]");
    Piece p{a, b, kron * h, abs_sum * h, ((kron - gauss) * h).abs()};
    // Below the rounding floor 50 eps int |f| the Kronrod-Gauss difference says nothing about the error.
    const bool at_rounding = (p.error <= 50.0 * kEps * p.abs_integral).all();
    if (at_rounding || b - a < min_length_) p.error.setZero();
    return p;
  }

  void add(double a, double b) {
    pieces_.push_back(evaluate(a, b));
    insert(pieces_.size() - 1);
  }
  void insert(std::size_t i) {
    const Piece& p = pieces_[i];
    total_ += p.integral;
    abs_total_ += p.abs_integral;
    error_ += p.error;
    const double scaled = (p.error * scale_).maxCoeff();
    if (scaled > 0.0) queue_.emplace(scaled, i);
  }
  void remove(const Piece& p) {
    total_ -= p.integral;
    abs_total_ -= p.abs_integral;
    error_ -= p.error;
  }
  double tolerance() const {
    const A& size = o_.relative_to_abs_integral ? abs_total_ : total_;
    return std::max(o_.abs_tol, o_.rel_tol * (size.abs() * scale_).maxCoeff());
  }
  /// The running sums drift by rounding over many updates: a claim of convergence is checked on exact sums.
  bool converged() {
    if ((error_ * scale_).maxCoeff() > tolerance()) return false;
    total_.setZero();
    abs_total_.setZero();
    error_.setZero();
    for (const Piece& p : pieces_) {
      total_ += p.integral;
      abs_total_ += p.abs_integral;
      error_ += p.error;
    }
    return (error_ * scale_).maxCoeff() <= tolerance();
  }

  const F& f_;
  int n_;
  const QuadratureOptions& o_;
  A scale_;
  A total_ = A::Zero(n_), abs_total_ = A::Zero(n_), error_ = A::Zero(n_);
  double min_length_ = 0.0;
  std::vector<Piece> pieces_;
  std::priority_queue<std::pair<double, std::size_t>> queue_;  // (scaled error, piece) of the pieces not final
};

}  // namespace

Eigen::ArrayXd integrate_adaptive(const VectorIntegrand& f, int n, const std::vector<double>& breaks,
                                  const QuadratureOptions& options) {
  if (breaks.size() < 2) throw InvalidArgument("integrate_adaptive: need at least two break points");
  if (n < 1) throw InvalidArgument("integrate_adaptive: need n >= 1 components, got " + std::to_string(n));
  return Adaptive<Eigen::ArrayXd, VectorIntegrand>(f, n, options).run(breaks);
}

double integrate(const std::function<double(double)>& f, double a, double b, double rel_tol, double abs_tol) {
  if (a == b) return 0.0;
  if (a > b) return -integrate(f, b, a, rel_tol, abs_tol);
  QuadratureOptions o;
  o.rel_tol = rel_tol;
  o.abs_tol = abs_tol;
  o.relative_to_abs_integral = true;
  o.max_intervals = 200000;
  constexpr int kPieces = 6;  // 126 nodes to start: a narrow peak is not missed
  std::vector<double> breaks(kPieces + 1);
  for (int i = 0; i <= kPieces; ++i) breaks[i] = a + (b - a) * i / kPieces;
  breaks.back() = b;
  const auto g = [&f](double x, double* out) { out[0] = f(x); };
  return Adaptive<Eigen::Array<double, 1, 1>, decltype(g)>(g, 1, o).run(breaks)[0];
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

}  // namespace rbsm::numerics
