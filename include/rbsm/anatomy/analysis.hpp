#pragma once
/// One anatomy of a score field at one point: Jacobian, SVD, symmetrised eigen-decomposition,
/// local dimension, cosines and overlaps (docs/anatomy.md; score-models-learn-manifold-structure §2-3).
/// Only the summaries and the seven feature vectors of Figure 2 are kept, not the D x D bases, so
/// hundreds of points fit in memory.
#include <array>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <torch/types.h>

#include "rbsm/anatomy/decomposition.hpp"
#include "rbsm/anatomy/jacobian.hpp"
#include "rbsm/anatomy/score_field.hpp"

namespace rbsm::anatomy {

struct AnatomyOptions {
  double kappa = 0.1;  ///< slack of the local-dimension rule (must be > -1)
  JacobianOptions jacobian;
  LinalgBackend backend = LinalgBackend::Torch;
  bool keep_features = true;  ///< keep u_-, v_-, w_0, u_+, v_+, w_-, w_+ (Figure 2)
};

/// Names of the Figure 2 features, in the order PointAnatomy::features holds them.
inline constexpr std::array<const char*, 7> kFeatureNames = {"u_minus", "v_minus", "w_zero", "u_plus",
                                                             "v_plus",  "w_minus", "w_plus"};

struct PointAnatomy {
  Eigen::VectorXd s;                       ///< singular values, ascending
  Eigen::VectorXd lambda;                  ///< eigenvalues of the symmetrised Jacobian, by |lambda| ascending
  Eigen::VectorXd cos_uv;                  ///< u_i . v_i per rank
  Eigen::VectorXd phi_uv, phi_uw, phi_vw;  ///< Phi_n^{u,v}, Phi_n^{u,w}, Phi_n^{v,w}, n = 1..D (eq. 2)
  int local_dim = 0;                       ///< r_t
  double sigma = 0;                        ///< the field's sigma_t
  std::vector<Eigen::VectorXd> features;   ///< kFeatureNames order (empty unless keep_features)
  double seconds_jacobian = 0, seconds_decomposition = 0, seconds_measures = 0;
};

/// Everything measured from a decomposition (no timing). Feature signs are fixed so that each
/// v_i (and w_i) has a positive entry of largest magnitude; u_i follows v_i (J v_i = s_i u_i).
PointAnatomy measure(const JacobianDecomposition& dec, double sigma, double kappa, bool keep_features);

/// Jacobian at x (score_jacobian), decomposition and measures, with the seconds each phase took.
PointAnatomy analyze_point(const ScoreField& field, const torch::Tensor& x, const AnatomyOptions& options = {});

}  // namespace rbsm::anatomy
