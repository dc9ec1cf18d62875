#pragma once
/// Local intrinsic dimension (LID) of the data at a point x_0, read off a time-conditioned VP-SDE score
/// model s(x, t) ~ grad log p_t(x) three ways (docs/anatomy.md "Local intrinsic dimension benchmark"):
///
///  1. singular-value rule (score-models-learn-manifold-structure §3.2): singular values s_i of the
///     Jacobian J = grad_x s(alpha_t x_0, t) (ascending); d = r_t, the smallest r with
///     1/s_i < (1 + kappa) sigma_t^2 for every rank i > r (measures.hpp local_dimension).
///  2. normal bundle (Stanczuk et al., "Your diffusion model secretly knows the dimension of the data
///     manifold", Algorithm 1): K points x^(k) = alpha_t x_0 + sigma_t eps_k at small t, the D x K matrix
///     of scores s(x^(k), t), its singular values in descending order sv_1 >= ... >= sv_D; the normal
///     dimension is n = argmax_i (sv_i - sv_{i+1}) (the number of singular values before the largest
///     gap) and d = D - n.
///  3. FLIPD (Kamkari et al., "A geometric view of data complexity", 2024): with rho(x, delta) the data
///     density convolved with N(0, delta^2 I), LID ~ D + d log rho / d log delta, and by the heat equation
///     d log rho / d log delta = delta^2 (Delta log rho + |grad log rho|^2). For the VP-SDE,
///     x_t / alpha_t = x_0 + delta eps with delta = sigma_t / alpha_t, so rho(y, delta) = alpha_t^D p_t(alpha_t y),
///     grad_y log rho = alpha_t s(alpha_t y, t), Delta_y log rho = alpha_t^2 tr grad s(alpha_t y, t); the
///     alpha_t factors cancel against delta^2 = sigma_t^2 / alpha_t^2:
///        FLIPD(x_0, t) = D + sigma_t^2 (tr grad_x s(alpha_t x_0, t) + |s(alpha_t x_0, t)|^2).
///     The trace is exact (D one-hot cotangents) or Hutchinson's E[v^T J v] with Rademacher v.
///
/// Also here: the exact VP score of N(0, I_d) on a d-dimensional subspace (closed-form answers for the
/// tests: all three methods return d at small t; FLIPD = d - sigma_t^2 (d - alpha_t^2 |x_0|^2)).
#include <cstdint>
#include <functional>
#include <string>

#include <Eigen/Dense>
#include <torch/types.h>

#include "rbsm/anatomy/score_field.hpp"
#include "rbsm/nn/sde.hpp"
#include "rbsm/random.hpp"

namespace rbsm::anatomy {

/// A time-conditioned score model on flattened points: s(x, t) for x [n, D], t [n], differentiable in x,
/// with the VP-SDE it was trained for.
struct TimeScoreModel {
  nn::ScoreFn score;
  nn::VPSDE sde;
  std::int64_t dim = 0;                       ///< D
  torch::ScalarType dtype = torch::kFloat32;  ///< dtype the score takes
  std::string description;
  /// Schedules other than `sde` (a variance-exploding TorchScript model: alpha_t = 1): when set, these
  /// give alpha_t and sigma_t instead of sde's. Every estimator reads the schedule through alpha() / sigma().
  std::function<double(double)> alpha_of, sigma_of;
  double alpha(double t) const { return alpha_of ? alpha_of(t) : sde.alpha(t); }
  double sigma(double t) const { return sigma_of ? sigma_of(t) : sde.sigma(t); }
  /// The field x -> s(x, t) at one time, with sigma = sigma_t (for the anatomy routines).
  ScoreField at_time(double t) const;
};

enum class LidMethod { SingularValue, NormalBundle, Flipd };
std::string to_string(LidMethod method);  ///< "singular-value" | "normal-bundle" | "flipd"
/// Throws InvalidArgument naming the text for anything but the three names above.
LidMethod parse_lid_method(const std::string& text);

struct LidOptions {
  double t = 0.01;                  ///< diffusion time of all three estimators (sigma_t ~ 0.045 for beta 0.1..20)
  double kappa = 0.1;               ///< slack of the singular-value rule (> -1)
  std::int64_t normal_samples = 0;  ///< K of the normal-bundle method (0: 4 D)
  /// Normal bundle: subtract the mean score (over the K points) before the SVD. Off the manifold (a
  /// held-out image, a distance >> sigma_t from the learned M) every score shares the pull back to M,
  /// a rank-one component that makes the largest gap the first one (d = D - 1); centring removes it
  /// and leaves the spread of the scores, which spans the normal space. On M the mean is ~0 and
  /// centring changes nothing (docs/anatomy.md §9).
  bool normal_centre = false;
  std::int64_t hutchinson_probes = 0;  ///< FLIPD trace: 0 = exact (D cotangents), else this many Rademacher probes
  std::int64_t chunk = 128;            ///< cotangents / score evaluations per pass
  /// Throws InvalidArgument for t outside (0, 1], kappa <= -1, negative counts, chunk < 1.
  void validate() const;
};

/// Method 1: J at alpha_t x_0 (score_jacobian), its singular values, local_dimension(s, sigma_t^2, kappa).
/// `x0` is [D] or [1, D]. If `singular_values` is given it receives s (ascending).
int singular_value_lid(const TimeScoreModel& model, const torch::Tensor& x0, const LidOptions& options,
                       Eigen::VectorXd* singular_values = nullptr);

/// The normal-bundle rule on singular values sorted descending: D - n, n = argmax_i (sv_i - sv_{i+1})
/// (1-based, i = 1..D-1; first maximum on ties). Throws InvalidArgument for fewer than 2 values or
/// values that are not descending.
int largest_gap_dimension(const Eigen::VectorXd& sv_descending, std::int64_t ambient_dim);

/// Method 2: K = options.normal_samples (or 4 D) perturbed points, drawn from `rng`. If `singular_values`
/// is given it receives the D singular values of the score matrix (descending; centred with
/// options.normal_centre).
int normal_bundle_lid(const TimeScoreModel& model, const torch::Tensor& x0, const LidOptions& options, Rng& rng,
                      Eigen::VectorXd* singular_values = nullptr);

/// FLIPD's formula: D + sigma^2 (trace + norm2).
inline double flipd_formula(std::int64_t ambient_dim, double sigma2, double trace_grad_score, double score_norm2) {
  return static_cast<double>(ambient_dim) + sigma2 * (trace_grad_score + score_norm2);
}

struct FlipdParts {
  double estimate = 0;  ///< FLIPD(x_0, t)
  double trace = 0;     ///< tr grad s(alpha_t x_0, t) (exact or Hutchinson)
  double norm2 = 0;     ///< |s(alpha_t x_0, t)|^2
  double sigma2 = 0;    ///< sigma_t^2
};

/// Method 3 (a real number, not rounded). Hutchinson probes are drawn from `rng` (unused for the exact trace).
FlipdParts flipd_lid(const TimeScoreModel& model, const torch::Tensor& x0, const LidOptions& options, Rng& rng);

/// tr grad_x s(x, t) at one point x: exact (probes = 0; D one-hot cotangents in chunks) or Hutchinson
/// with `probes` Rademacher vectors from `rng`.
double score_divergence(const TimeScoreModel& model, const torch::Tensor& x, double t, std::int64_t probes,
                        std::int64_t chunk, Rng& rng);

/// The exact VP score of data N(0, I_d) on span(Q) (Q: D x d, orthonormal columns):
/// p_t = N(0, Q Q^T + sigma_t^2 (I - Q Q^T)) (alpha_t^2 + sigma_t^2 = 1), so
/// s(x, t) = -Q Q^T x - (I - Q Q^T) x / sigma_t^2. Double precision. Throws InvalidArgument unless Q has
/// orthonormal columns (to 1e-8) and 1 <= d < D.
TimeScoreModel gaussian_subspace_vp_score(const Eigen::MatrixXd& Q, const nn::VPSDE& sde = {});

/// FLIPD of the model above at x_0 in span(Q), in closed form: d - sigma_t^2 (d - alpha_t^2 |x_0|^2).
double flipd_gaussian_subspace(std::int64_t d, double sigma2, double alpha2_x0_norm2);

/// A D x m matrix with orthonormal columns (m <= D): Householder QR of a Gaussian matrix from `rng`,
/// column signs fixed so that R has a positive diagonal (Haar-distributed). Throws InvalidArgument for m > D.
Eigen::MatrixXd random_isometry(std::int64_t D, std::int64_t m, Rng& rng);

}  // namespace rbsm::anatomy
