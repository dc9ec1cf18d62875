#pragma once
/// The self-normalised Rao-Blackwellized estimator (SPEC.md; docs/targets.md §4):
///
///     r_hat(y) = sum_j w(Z_j, y) P_T(y)(Z_j - y) / (sigma^2 sum_j w(Z_j, y)),
///
/// from a reference set {Z_j} (samples of q or the training data), with the fibre weights of
/// fibre.hpp computed in log space (no overflow at sigma = 0.01), batched over query points and
/// parallel over queries with rbsm::parallel_for (deterministic: no randomness, no reductions across
/// threads). Also returns the effective sample size (sum w)^2 / sum w^2.
///
/// On S^d the weight depends on c = <y, Z> only and increases with c, so a query needs the inner
/// products of one matrix product, then the weights of the references with c above the point where
/// the weight has fallen by e^-40 (the others change no digit of the result). log J_d(c / sigma) is
/// evaluated exactly: a closed-form polynomial for c / sigma >= 9 and a cubic Hermite table
/// (spacing 1/256, interpolation error < 1e-11) below.
#include <memory>
#include <vector>

#include "rbsm/dsm/fibre.hpp"
#include "rbsm/geometry/manifold.hpp"

namespace rbsm::dsm {

struct RbEstimate {
  Mat r;    ///< queries x D: r_hat at each query's projection
  Vec ess;  ///< effective sample size per query, in [1, N]
};

class RbEstimator {
 public:
  /// `references`: N x D, rows on M (N >= 1). The exact fibre is used where fibre.hpp has it,
  /// otherwise the whole-normal-space weight. Throws InvalidArgument for sigma <= 0 / NaN, an empty
  /// or wrongly sized reference set.
  RbEstimator(std::shared_ptr<const geometry::Manifold> manifold, Mat references, double sigma);
  ~RbEstimator();

  /// r_hat and the ESS at each row of `queries` (projected onto M first). With `exclude` (one entry per
  /// query: a reference index, or -1), query q's sum leaves out reference (*exclude)[q]: the leave-one-out
  /// target of a query made by noising that reference (otherwise the target points back at it).
  RbEstimate estimate(const Mat& queries, int threads = 0, const std::vector<long>* exclude = nullptr) const;
  /// One query.
  Vec estimate_one(const Vec& y, double* ess = nullptr) const;

  double sigma() const { return sigma_; }
  const Mat& references() const { return refs_; }

 private:
  struct SphereKernel;
  std::shared_ptr<const geometry::Manifold> manifold_;
  Mat refs_;
  double sigma_;
  std::unique_ptr<SphereKernel> sphere_;
  FibreModel model_;
};

}  // namespace rbsm::dsm
