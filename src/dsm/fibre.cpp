// Fibre weights of the conditional law of Z given pi(X) = y (docs/targets.md §2).
#include "rbsm/dsm/fibre.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include <Eigen/Eigenvalues>

#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/geometry/torus.hpp"

namespace rbsm::dsm {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLogSqrt2Pi = 0.91893853320467274178;  // log sqrt(2 pi)
constexpr double kSqrtHalfPi = 1.25331413731550025121;  // sqrt(pi / 2)

/// Mills ratio Q(x) / phi(x) for x >= 0.
double mills(double x) { return kSqrtHalfPi * erfcx(x / std::sqrt(2.0)); }
/// Upper tail Q(x) = P(N(0,1) > x) for x >= 0.
double upper_tail(double x) { return std::isinf(x) ? 0.0 : 0.5 * std::erfc(x / std::sqrt(2.0)); }
double phi(double x) { return std::isinf(x) ? 0.0 : std::exp(-0.5 * x * x - kLogSqrt2Pi); }
double x_phi(double x) { return std::isinf(x) ? 0.0 : x * phi(x); }

}  // namespace

void check_sigma(double sigma, const char* what) {
  char got[32];
  std::snprintf(got, sizeof got, "%g", sigma);
  if (!(sigma > 0.0) || !std::isfinite(sigma))
    throw InvalidArgument(std::string(what) + " must be a finite number > 0, got " + got);
  // Beyond these the powers sigma^2 ... sigma^6 of the targets and expansions over- or underflow.
  if (sigma > 1e50 || sigma < 1e-50)
    throw InvalidArgument(std::string(what) + " = " + got + " is outside [1e-50, 1e50] (sigma^6 must stay finite)");
}

double erfcx(double x) {
  if (!(x >= 0.0)) throw InvalidArgument("erfcx: expected x >= 0, got " + std::to_string(x));
  if (x < 25.0) return std::exp(x * x) * std::erfc(x);
  // Asymptotic series 1/(x sqrt(pi)) sum_k (-1)^k (2k-1)!! / (2 x^2)^k; at x >= 25 eight terms are
  // below 1e-25 relative.
  const double inv = 1.0 / (2.0 * x * x);
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 8; ++k) {
    term *= -(2.0 * k - 1.0) * inv;
    sum += term;
  }
  return sum / (x * std::sqrt(M_PI));
}

double log_half_line_moment(int n, double m) {
  if (n < 0) throw InvalidArgument("log_half_line_moment: order must be >= 0, got " + std::to_string(n));
  if (std::isnan(m)) throw InvalidArgument("log_half_line_moment: m is NaN");
  if (m >= -0.5) {
    // Forward recurrence, renormalised so that m^n never overflows.
    double j_prev = kSqrtHalfPi * std::erfc(-m / std::sqrt(2.0));  // J_0
    if (n == 0) return std::log(j_prev);
    double j = m * j_prev + std::exp(-0.5 * m * m);  // J_1
    double log_scale = 0.0;
    for (int k = 2; k <= n; ++k) {
      const double next = m * j + (k - 1) * j_prev;
      j_prev = j;
      j = next;
      if (j > 1e200) {
        j *= 1e-200;
        j_prev *= 1e-200;
        log_scale += 200.0 * std::log(10.0);
      }
    }
    return std::log(j) + log_scale;
  }
  // m < -0.5: J_n(m) = exp(-m^2/2) K_n(a), K_k(a) = int_0^inf v^k exp(-v^2/2 - a v) dv, a = -m, which
  // satisfies K_{k+1} = k K_{k-1} - a K_k. K is the minimal solution: run the recurrence backward
  // from far above n (Miller) and normalise with K_0 = sqrt(pi/2) erfcx(a / sqrt 2).
  const double a = -m;
  const double root = std::sqrt(static_cast<double>(n) + 1.0) + 20.0 / a;
  const int top = static_cast<int>(std::ceil(root * root)) + 10;
  double k_next = 0.0, k_cur = 1.0, k_n = (top == n) ? 1.0 : 0.0;
  for (int k = top; k >= 1; --k) {
    const double k_prev = (k_next + a * k_cur) / k;  // K_{k-1}
    k_next = k_cur;
    k_cur = k_prev;
    if (k - 1 == n) k_n = k_cur;
    // Rescale both ways (the dominant backward solution first shrinks like 1/sqrt(k!) from the top);
    // every rescale after k_n is recorded hits both, so k_n / k_cur stays exact.
    const double f = k_cur > 1e200 ? 1e-200 : (k_cur < 1e-200 && k_n == 0.0 ? 1e200 : 1.0);
    k_cur *= f;
    k_next *= f;
    k_n *= f;
  }
  const double log_k0 = std::log(kSqrtHalfPi * erfcx(a / std::sqrt(2.0)));
  return -0.5 * m * m + std::log(k_n) - std::log(k_cur) + log_k0;
}

double log_sphere_ray_weight(int d, double sigma, double c) { return log_sphere_ray_weight(d, sigma, c, 1.0 - c * c); }

double log_sphere_ray_weight(int d, double sigma, double c, double one_minus_c2) {
  return -one_minus_c2 / (2.0 * sigma * sigma) + (d + 1) * std::log(sigma) + log_half_line_moment(d, c / sigma);
}

double log_gauss_poly_integral(double p0, double p1, double p2, double a, double b) {
  if (!(a < b)) return -kInf;
  if (b <= 0.0) return log_gauss_poly_integral(p0, -p1, p2, -b, -a);  // u -> -u
  double value;
  double log_factor = 0.0;
  if (a >= 0.0) {
    // Both ends in the right tail: factor phi(a) out of every moment.
    log_factor = -0.5 * a * a - kLogSqrt2Pi;
    const double e = std::isinf(b) ? 0.0 : std::exp(0.5 * (a * a - b * b));  // phi(b)/phi(a)
    const double i0 = mills(a) - (std::isinf(b) ? 0.0 : e * mills(b));
    const double i1 = 1.0 - e;
    const double i2 = i0 + a - (std::isinf(b) ? 0.0 : b * e);
    value = p0 * i0 + p1 * i1 + p2 * i2;
  } else {
    // a < 0 < b: no tail problem.
    const double i0 = 1.0 - upper_tail(b) - upper_tail(-a);
    const double i1 = phi(a) - phi(b);
    const double i2 = i0 + x_phi(a) - x_phi(b);
    value = p0 * i0 + p1 * i1 + p2 * i2;
  }
  if (!(value > 0.0)) return -kInf;
  return log_factor + std::log(value);
}

namespace {

/// S^d: the ray rho > 0, exact.
class SphereFibre final : public FibreWeight {
 public:
  SphereFibre(int d, const Vec& y, double sigma) : d_(d), sigma_(sigma) {
    y_ = y;
    P_T_ = Mat::Identity(y.size(), y.size()) - y * y.transpose();
  }
  double log_weight(const Vec& Z) const override { return log_sphere_ray_weight(d_, sigma_, y_.dot(Z)); }

 private:
  int d_;
  double sigma_;
};

/// Clifford torus: c_i > -r_i, det = (1 + c1/r1)(1 + c2/r2), exact.
class CliffordFibre final : public FibreWeight {
 public:
  CliffordFibre(const geometry::CliffordTorus& T, const Vec& y, double sigma) : sigma_(sigma) {
    y_ = y;
    E_ = T.tangent_frame(y);
    N_ = T.normal_frame(y);
    P_T_ = E_ * E_.transpose();
    r_ << T.r1(), T.r2();
  }
  double log_weight(const Vec& Z) const override {
    const Vec diff = Z - y_;
    const Eigen::Vector2d t = E_.transpose() * diff, m = N_.transpose() * diff;
    double lw = -t.squaredNorm() / (2.0 * sigma_ * sigma_);
    for (int i = 0; i < 2; ++i)  // c = m_i + sigma u, (1 + c/r_i) = (1 + m_i/r_i) + (sigma/r_i) u, c > -r_i
      lw += log_gauss_poly_integral(1.0 + m[i] / r_[i], sigma_ / r_[i], 0.0, (-r_[i] - m[i]) / sigma_, kInf);
    return lw;
  }

 private:
  double sigma_;
  Mat E_, N_;
  Eigen::Vector2d r_;
};

/// Torus of revolution: -r < c < R/|cos a1| - r (cos a1 < 0) or c > -r; det = (1 + c k1)(1 + c k2).
class RevolutionFibre final : public FibreWeight {
 public:
  RevolutionFibre(const geometry::TorusOfRevolution& T, const Vec& y, double sigma) : sigma_(sigma) {
    y_ = y;
    E_ = T.tangent_frame(y);
    n_ = T.normal_frame(y).col(0);
    P_T_ = E_ * E_.transpose();
    const double a1 = T.angles(y)[0];
    const Eigen::Vector2d k = T.principal_curvatures(a1);
    k1_ = k[0];
    k2_ = k[1];
    lo_ = -T.r();
    hi_ = std::cos(a1) < 0.0 ? T.R() / std::abs(std::cos(a1)) - T.r() : kInf;
  }
  double log_weight(const Vec& Z) const override {
    const Vec diff = Z - y_;
    const double m = n_.dot(diff);
    const double t2 = (E_.transpose() * diff).squaredNorm();
    const double A1 = 1.0 + m * k1_, B1 = sigma_ * k1_, A2 = 1.0 + m * k2_, B2 = sigma_ * k2_;
    return -t2 / (2.0 * sigma_ * sigma_) + log_gauss_poly_integral(A1 * A2, A1 * B2 + A2 * B1, B1 * B2,
                                                                   (lo_ - m) / sigma_,
                                                                   std::isinf(hi_) ? kInf : (hi_ - m) / sigma_);
  }

 private:
  double sigma_, k1_, k2_, lo_, hi_;
  Mat E_;
  Vec n_;
};

/// Any manifold: N_y M in place of F_y, Z restricted to |Z - y| < reach; E[det(I - W_nu)] for
/// nu ~ N(m, sigma^2 I_k) by a tensor Gauss-Hermite rule, exact because det(I - W_nu) is a polynomial
/// of degree d in nu.
/// det A of a 1 x 1, 2 x 2 or 3 x 3 matrix in closed form (no LU, no allocation).
double small_determinant(const Mat& A) {
  if (A.rows() == 1) return A(0, 0);
  if (A.rows() == 2) return A(0, 0) * A(1, 1) - A(0, 1) * A(1, 0);
  return A(0, 0) * (A(1, 1) * A(2, 2) - A(1, 2) * A(2, 1)) - A(0, 1) * (A(1, 0) * A(2, 2) - A(1, 2) * A(2, 0)) +
         A(0, 2) * (A(1, 0) * A(2, 1) - A(1, 1) * A(2, 0));
}

class WholeNormalSpaceFibre final : public FibreWeight {
 public:
  WholeNormalSpaceFibre(const geometry::Manifold& M, const Vec& y, double sigma) : sigma_(sigma), reach_(M.reach()) {
    y_ = y;
    E_ = M.tangent_frame(y);
    N_ = M.normal_frame(y);
    P_T_ = E_ * E_.transpose();
    const int d = M.dim(), k = M.codim();
    for (int a = 0; a < k; ++a) W_.push_back(E_.transpose() * M.weingarten(y, N_.col(a)) * E_);
    // E_xi det(I - sum_a (m_a + sigma xi_a) W_a), xi ~ N(0, I_k), is a polynomial of degree d in xi.
    // Up to d = 3 it has a closed form: with B = I - sum_a m_a W_a and X = sigma sum_a xi_a W_a,
    //   d = 1: B;  d = 2: det B + E det X = det B + sigma^2 sum_a det W_a;
    //   d = 3: det(B - X) = det B - tr(adj(B) X) + tr(B adj(X)) - det X, and the odd terms vanish, so
    //          E = det B + tr(B C), C = E adj(X) = sigma^2 sum_a adj(W_a) (adj is quadratic, xi_a independent).
    // Above, a probabilists' Gauss-Hermite rule with n = floor(d/2) + 1 nodes per normal direction
    // (exact to degree 2n - 1 >= d, by Golub-Welsch) on the k-dimensional grid.
    if (d <= 3) {
      C_ = Mat::Zero(d, d);
      for (const Mat& W : W_) {
        if (d == 2) c2_ += sigma * sigma * small_determinant(W);
        if (d == 3)
          for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j) {  // adj(W)_ij = cofactor C_ji
              const int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
              C_(i, j) += sigma * sigma * (W(r0, c0) * W(r1, c1) - W(r0, c1) * W(r1, c0));
            }
      }
      return;
    }
    const int n = d / 2 + 1;
    Mat J = Mat::Zero(n, n);
    for (int i = 1; i < n; ++i) J(i, i - 1) = J(i - 1, i) = std::sqrt(static_cast<double>(i));
    Eigen::SelfAdjointEigenSolver<Mat> es(J);
    const Vec nodes = es.eigenvalues();
    const Vec weights = es.eigenvectors().row(0).transpose().array().square();
    long grid = 1;
    for (int a = 0; a < k; ++a) grid *= n;
    if (grid > 4096)
      throw InvalidArgument("whole-normal-space fibre weight: Gauss-Hermite grid too large for " + M.spec());
    // The node part G_g = I - sigma sum_a xi_a W_a does not depend on Z: formed once here, so log_weight
    // only subtracts sum_a m_a W_a before each determinant.
    G_.assign(grid, Mat::Identity(d, d));
    grid_w_.assign(grid, 1.0);
    for (long g = 0; g < grid; ++g) {
      long rest = g;
      for (int a = 0; a < k; ++a) {
        const int i = static_cast<int>(rest % n);
        rest /= n;
        G_[g] -= sigma * nodes[i] * W_[a];
        grid_w_[g] *= weights[i];
      }
    }
  }
  double log_weight(const Vec& Z) const override {
    const Vec diff = Z - y_;
    if (!(diff.norm() < reach_)) return -kInf;
    const Vec t = E_.transpose() * diff, m = N_.transpose() * diff;
    const int d = static_cast<int>(E_.cols());
    Mat Wm = Mat::Zero(d, d);
    for (std::size_t a = 0; a < W_.size(); ++a) Wm += m[a] * W_[a];
    double expectation = 0.0;
    if (d <= 3) {  // closed form (constructor)
      const Mat B = Mat::Identity(d, d) - Wm;
      expectation = small_determinant(B) + (d == 3 ? (B.array() * C_.transpose().array()).sum() : c2_);
    } else {
      Mat A(d, d);
      for (std::size_t g = 0; g < grid_w_.size(); ++g) {
        A.noalias() = G_[g] - Wm;
        expectation += grid_w_[g] * A.determinant();
      }
    }
    if (!(expectation > 0.0)) return -kInf;
    return -t.squaredNorm() / (2.0 * sigma_ * sigma_) + std::log(expectation);
  }

 private:
  double sigma_, reach_;
  Mat E_, N_;
  std::vector<Mat> W_;
  std::vector<Mat> G_;  // d > 3: I - sigma sum_a xi_a W_a at each Gauss-Hermite node
  Mat C_;               // d = 3: sigma^2 sum_a adj(W_a)
  double c2_ = 0.0;     // d = 2: sigma^2 sum_a det W_a (d = 1: no sigma^2 term)
  std::vector<double> grid_w_;
};

}  // namespace

std::unique_ptr<FibreWeight> make_fibre_weight(const geometry::Manifold& M, const Vec& y_in, double sigma,
                                               FibreModel model) {
  check_sigma(sigma);
  M.check_ambient(y_in, "query point y");
  const Vec y = M.project(y_in);
  if (model == FibreModel::whole_normal_space) return std::make_unique<WholeNormalSpaceFibre>(M, y, sigma);
  if (dynamic_cast<const geometry::Sphere*>(&M)) return std::make_unique<SphereFibre>(M.dim(), y, sigma);
  if (auto* T = dynamic_cast<const geometry::CliffordTorus*>(&M)) return std::make_unique<CliffordFibre>(*T, y, sigma);
  if (auto* T = dynamic_cast<const geometry::TorusOfRevolution*>(&M))
    return std::make_unique<RevolutionFibre>(*T, y, sigma);
  throw InvalidArgument("the exact fibre weight is implemented for sphere:d, clifford-torus:r1,r2 and torus:R,r, not " +
                        M.spec() + " (use the whole-normal-space weight)");
}

}  // namespace rbsm::dsm
