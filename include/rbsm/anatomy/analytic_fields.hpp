#pragma once
/// Analytic score fields with known Jacobians and local dimensions (docs/anatomy.md §5): the unit
/// tests of the anatomy analysis and the `rbsm anatomy --field SPEC` runs.
///
///  - `gaussian-subspace:D=784,d=20,sigma=0.1`: data N(0, I_d) on the first d coordinates plus
///    N(0, sigma^2 I_D) noise. g(x) = -Sigma^{-1} x, Sigma = diag(1 + sigma^2 (x d), sigma^2 (x D-d));
///    Jacobian -diag(1/(1+sigma^2), 1/sigma^2); local dimension d; u_i = -v_i (conservative).
///  - `noisy-sphere:D=50,d=2,kappa=2,sigma=0.05`: vMF(e_1, kappa) on the unit sphere S^d in the first
///    d+1 coordinates of R^D, smoothed by N(0, sigma^2 I_D). Closed form (docs/anatomy.md §5.2):
///    g(x) = (E[z|x] - x) / sigma^2, E[z|x] = A_{d+1}(|m|) m/|m|, m = kappa e_1 + P x / sigma^2,
///    A_p(k) = I_{p/2}(k) / I_{p/2-1}(k). Local dimension d at small sigma.
///  - `linear:D=50,d=10,sigma=0.1,skew=0.5,seed=0`: g(x) = (S + K) x with S = Q diag(-1/(1+sigma^2) (x d),
///    -1/sigma^2 (x D-d)) Q^T for a random rotation Q, and K = skew * Q_d G Q_d^T, G a random skew d x d
///    matrix with spectral norm 1: non-conservative only within the d-dimensional "manifold", like the
///    document's finding. Singular vectors differ from eigenvectors; u_i != +-v_i on the first d ranks.
#include <memory>
#include <optional>
#include <string>

#include <Eigen/Dense>

#include "rbsm/anatomy/field_spec.hpp"
#include "rbsm/anatomy/score_field.hpp"
#include "rbsm/random.hpp"

namespace rbsm::anatomy {

struct AnalyticField {
  ScoreField field;
  int true_local_dim = 0;                   ///< the dimension the local-dimension rule should find
  std::optional<Eigen::MatrixXd> jacobian;  ///< the constant Jacobian, for linear fields
  /// `n` points from the (noisy) data distribution the field is the score of, rows of an [n, D] tensor
  /// (double). Deterministic in `rng`.
  std::function<torch::Tensor(int n, Rng& rng)> sample_points;
};

/// Builds a field from its spec (see above). Throws InvalidArgument naming the spec for an unknown
/// name, unknown or missing keys, d >= D (d + 1 > D for the sphere), sigma <= 0, kappa < 0.
AnalyticField make_analytic_field(const std::string& spec);

/// A_p(k) = I_{p/2}(k) / I_{p/2-1}(k), the mean resultant length of vMF in R^p (p >= 2, k >= 0),
/// elementwise by the scalar bessel_ratio_A (= dist::bessel_ratio) on a double tensor,
/// differentiable (dA/dk = 1 - A^2 - (p-1) A / k).
torch::Tensor bessel_ratio_A(const torch::Tensor& k, int p);
/// The scalar A_p(k), bessel_ratio_A(double k, int p), is declared in field_spec.hpp (dist::bessel_ratio).

}  // namespace rbsm::anatomy
