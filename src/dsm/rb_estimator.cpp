// The self-normalised RB estimator (docs/targets.md §4).
#include "rbsm/dsm/rb_estimator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "rbsm/error.hpp"
#include "rbsm/geometry/sphere.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::dsm {
namespace {
constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kPrune = 40.0;  // references whose weight is below e^-40 of the largest are skipped
constexpr int kBlock = 32;       // queries per block (one matrix product each)
}  // namespace

/// S^d: log w(c) = -(1 - c^2)/(2 sigma^2) + (d + 1) log sigma + log J_d(c / sigma); the estimator
/// uses L(c) = c^2/(2 sigma^2) + log J_d(c / sigma) (the constants cancel in the ratio).
struct RbEstimator::SphereKernel {
  int d;
  double sigma, inv_2s2, m_lo, inv_h;
  static constexpr double kPolyFrom = 9.0, kStep = 1.0 / 256.0;
  std::vector<double> f, df;  // log J_d and its derivative on the grid m_lo + i h
  std::vector<double> poly;   // J_d(m) = sqrt(2 pi) sum_i poly[i] m^{d - 2i} for m >= 9
  Mat refs_row;               // N x D (rows = references), for sparse accumulation

  SphereKernel(int d_, double sigma_, const Mat& refs) : d(d_), sigma(sigma_), inv_2s2(0.5 / (sigma_ * sigma_)) {
    m_lo = std::max(-1.0 / sigma - 1e-9, -40.0);
    inv_h = 1.0 / kStep;
    const int n = static_cast<int>(std::ceil((kPolyFrom - m_lo) * inv_h)) + 2;
    f.resize(n);
    df.resize(n);
    for (int i = 0; i < n; ++i) {
      const double m = m_lo + i * kStep;
      f[i] = log_half_line_moment(d, m);
      df[i] = std::exp(log_half_line_moment(d + 1, m) - f[i]) - m;  // (log J_d)' = J_{d+1}/J_d - m
    }
    // E[(m + Y)^d] = sum_{k even} C(d, k) (k - 1)!! m^{d - k}.
    double binom = 1.0, dfact = 1.0;
    for (int k = 0; k <= d; k += 2) {
      if (k > 0) {
        binom *= static_cast<double>(d - k + 2) * (d - k + 1) / (static_cast<double>(k - 1) * k);
        dfact *= (k - 1);
      }
      poly.push_back(binom * dfact);
    }
    refs_row = refs;
  }

  /// log J_d(m), exact to ~1e-11 (table) or to rounding (polynomial, scalar fallback).
  double log_j(double m) const {
    if (m >= kPolyFrom) {
      const double x = 1.0 / (m * m);
      double p = 0.0;
      for (int i = static_cast<int>(poly.size()) - 1; i >= 0; --i) p = p * x + poly[i];
      return 0.91893853320467274178 + d * std::log(m) + std::log(p);
    }
    if (m < m_lo) return log_half_line_moment(d, m);
    const double u = (m - m_lo) * inv_h;
    const int i = static_cast<int>(u);
    const double t = u - i, t2 = t * t, t3 = t2 * t;
    // cubic Hermite on [i, i + 1]
    return (2 * t3 - 3 * t2 + 1) * f[i] + (t3 - 2 * t2 + t) * kStep * df[i] + (-2 * t3 + 3 * t2) * f[i + 1] +
           (t3 - t2) * kStep * df[i + 1];
  }
  double L(double c) const { return c * c * inv_2s2 + log_j(c / sigma); }

  /// Weights of one query from its column of inner products c (length N); returns the number of
  /// active references and writes w (0 for pruned ones), sum w, sum w^2.
  /// `skip`: a reference left out (leave-one-out), or -1.
  int weights(const double* c, int N, double* w, int* active, double& sw, double& sw2, long skip = -1) const {
    double cmax = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < N; ++j)
      if (j != skip) cmax = std::max(cmax, c[j]);
    const double ref = L(cmax);
    // c* with L(c*) = ref - 40: L is increasing, so bisection.
    double lo = -1.0 - 1e-12, hi = cmax;
    if (L(lo) >= ref - kPrune) hi = lo;
    for (int it = 0; it < 30 && hi - lo > 1e-9; ++it) {
      const double mid = 0.5 * (lo + hi);
      (L(mid) >= ref - kPrune ? hi : lo) = mid;
    }
    const double cstar = lo;
    // Polynomial path in relative form: J_d(m) / J_d-ish reference, all in one exponent.
    int na = 0;
    sw = sw2 = 0.0;
    for (int j = 0; j < N; ++j) {
      if (c[j] < cstar || j == skip) {
        w[j] = 0.0;
        continue;
      }
      const double wj = std::exp(L(c[j]) - ref);
      w[j] = wj;
      sw += wj;
      sw2 += wj * wj;
      active[na++] = j;
    }
    return na;
  }
};

RbEstimator::RbEstimator(std::shared_ptr<const geometry::Manifold> manifold, Mat references, double sigma)
    : manifold_(std::move(manifold)), refs_(std::move(references)), sigma_(sigma) {
  check_sigma(sigma);
  if (!manifold_) throw InvalidArgument("RbEstimator: no manifold");
  if (refs_.rows() < 1) throw InvalidArgument("RbEstimator: the reference set is empty (need N >= 1 references)");
  if (refs_.cols() != manifold_->ambient_dim())
    throw InvalidArgument("RbEstimator: references have " + std::to_string(refs_.cols()) + " columns, but " +
                          manifold_->spec() + " lives in R^" + std::to_string(manifold_->ambient_dim()));
  if (!refs_.allFinite()) throw InvalidArgument("RbEstimator: a reference point has a NaN or infinite coordinate");
  const bool exact = dynamic_cast<const geometry::Sphere*>(manifold_.get()) ||
                     manifold_->spec().rfind("clifford-torus", 0) == 0 || manifold_->spec().rfind("torus:", 0) == 0;
  model_ = exact ? FibreModel::exact : FibreModel::whole_normal_space;
  if (dynamic_cast<const geometry::Sphere*>(manifold_.get())) {
    // References are put on the sphere exactly (they are samples of q; rounding only).
    for (Eigen::Index j = 0; j < refs_.rows(); ++j) refs_.row(j).normalize();
    sphere_ = std::make_unique<SphereKernel>(manifold_->dim(), sigma, refs_);
  }
}

RbEstimator::~RbEstimator() = default;

RbEstimate RbEstimator::estimate(const Mat& queries, int threads, const std::vector<long>* exclude) const {
  const int D = manifold_->ambient_dim();
  if (queries.cols() != D)
    throw InvalidArgument("RbEstimator: queries have " + std::to_string(queries.cols()) + " columns, expected " +
                          std::to_string(D));
  const Eigen::Index nq = queries.rows();
  const int N = static_cast<int>(refs_.rows());
  if (exclude && static_cast<Eigen::Index>(exclude->size()) != nq)
    throw InvalidArgument("RbEstimator: " + std::to_string(exclude->size()) + " excluded indices for " +
                          std::to_string(nq) + " queries");
  if (exclude && N < 2) throw InvalidArgument("RbEstimator: leave-one-out needs at least 2 references");
  const auto skip_of = [&](Eigen::Index q) { return exclude ? (*exclude)[q] : -1L; };
  RbEstimate out{Mat::Zero(nq, D), Vec::Zero(nq)};
  if (sphere_) {
    const SphereKernel& K = *sphere_;
    const std::size_t blocks = (nq + kBlock - 1) / kBlock;
    parallel_for(blocks, threads, [&](std::size_t b) {
      const Eigen::Index q0 = b * kBlock, nb = std::min<Eigen::Index>(kBlock, nq - q0);
      Mat Y(nb, D);
      for (Eigen::Index i = 0; i < nb; ++i) Y.row(i) = manifold_->project(queries.row(q0 + i).transpose()).transpose();
      const Mat C = refs_ * Y.transpose();  // N x nb: column i = <y_i, Z_j>
      Mat W(N, nb);
      std::vector<int> active(N);
      Vec sw(nb), sw2(nb);
      long total_active = 0;
      std::vector<std::vector<int>> act(nb);
      for (Eigen::Index i = 0; i < nb; ++i) {
        const int na = K.weights(C.col(i).data(), N, W.col(i).data(), active.data(), sw[i], sw2[i], skip_of(q0 + i));
        act[i].assign(active.begin(), active.begin() + na);
        total_active += na;
      }
      Mat S(nb, D);
      if (total_active > static_cast<long>(N) * nb / 4) {
        S = W.transpose() * refs_;  // dense: one matrix product
      } else {
        S.setZero();
        for (Eigen::Index i = 0; i < nb; ++i)
          for (int j : act[i]) S.row(i) += W(j, i) * K.refs_row.row(j);
      }
      for (Eigen::Index i = 0; i < nb; ++i) {
        const Vec y = Y.row(i).transpose(), s = S.row(i).transpose();
        out.r.row(q0 + i) = ((s - y.dot(s) * y) / (sigma_ * sigma_ * sw[i])).transpose();  // P_T(y) Z = Z - <y,Z> y
        out.ess[q0 + i] = sw[i] * sw[i] / sw2[i];
      }
    });
    return out;
  }
  parallel_for(static_cast<std::size_t>(nq), threads, [&](std::size_t q) {
    const auto fw = make_fibre_weight(*manifold_, queries.row(q).transpose(), sigma_, model_);
    std::vector<double> lw(N);
    double lmax = kNegInf;
    const long skip = skip_of(static_cast<Eigen::Index>(q));
    for (int j = 0; j < N; ++j) {
      lw[j] = j == skip ? kNegInf : fw->log_weight(refs_.row(j).transpose());
      lmax = std::max(lmax, lw[j]);
    }
    if (!(lmax > kNegInf))
      throw NumericalError("RbEstimator: every reference has zero weight at query " + std::to_string(q) +
                           " (no reference within the reach of its projection)");
    Vec s = Vec::Zero(D);
    double sw = 0.0, sw2 = 0.0;
    for (int j = 0; j < N; ++j) {
      const double w = lw[j] == kNegInf ? 0.0 : std::exp(lw[j] - lmax);
      if (w == 0.0) continue;
      s += w * (refs_.row(j).transpose() - fw->y());
      sw += w;
      sw2 += w * w;
    }
    out.r.row(q) = (fw->tangent_projector() * s / (sigma_ * sigma_ * sw)).transpose();
    out.ess[q] = sw * sw / sw2;
  });
  return out;
}

Vec RbEstimator::estimate_one(const Vec& y, double* ess) const {
  const RbEstimate e = estimate(y.transpose(), 1);
  if (ess) *ess = e.ess[0];
  return e.r.row(0).transpose();
}

}  // namespace rbsm::dsm
