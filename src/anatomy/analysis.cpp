#include "rbsm/anatomy/analysis.hpp"

#include <chrono>

#include <torch/torch.h>

#include "rbsm/anatomy/measures.hpp"

namespace rbsm::anatomy {
namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
/// +1 or -1 so that sign * v has a positive entry of largest magnitude.
double canonical_sign(const Eigen::VectorXd& v) {
  Eigen::Index i;
  v.cwiseAbs().maxCoeff(&i);
  return v(i) < 0 ? -1.0 : 1.0;
}
}  // namespace

PointAnatomy measure(const JacobianDecomposition& dec, double sigma, double kappa, bool keep_features) {
  PointAnatomy p;
  p.sigma = sigma;
  p.s = dec.s;
  p.lambda = dec.lambda;
  p.local_dim = local_dimension(dec.s, sigma * sigma, kappa);
  p.cos_uv = cos_uv(dec.U, dec.V);
  p.phi_uv = overlap_curve(dec.U, dec.V);
  p.phi_uw = overlap_curve(dec.U, dec.W);
  p.phi_vw = overlap_curve(dec.V, dec.W);
  if (keep_features) {
    const double sm = canonical_sign(dec.v_minus()), sp = canonical_sign(dec.v_plus());
    const Eigen::VectorXd w0 = dec.w_zero(), wm = dec.w_minus(), wp = dec.w_plus();
    p.features = {sm * dec.u_minus(), sm * dec.v_minus(),      canonical_sign(w0) * w0, sp * dec.u_plus(),
                  sp * dec.v_plus(),  canonical_sign(wm) * wm, canonical_sign(wp) * wp};
  }
  return p;
}

PointAnatomy analyze_point(const ScoreField& field, const torch::Tensor& x, const AnatomyOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  const torch::Tensor J = score_jacobian(field, x, options.jacobian);
  const double t_jac = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const JacobianDecomposition dec = decompose_jacobian(J, options.backend);
  const double t_dec = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  PointAnatomy p = measure(dec, field.sigma, options.kappa, options.keep_features);
  p.seconds_jacobian = t_jac;
  p.seconds_decomposition = t_dec;
  p.seconds_measures = seconds_since(t0);
  return p;
}

}  // namespace rbsm::anatomy
