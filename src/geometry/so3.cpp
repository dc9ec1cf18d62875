#include "rbsm/geometry/so3.hpp"

#include <cmath>
#include <memory>

#include "rbsm/error.hpp"
#include "rbsm/numerics/constants.hpp"

namespace rbsm::geometry {
namespace {

using Mat3 = Eigen::Matrix3d;
Mat3 as_matrix(const Vec& x) { return Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(x.data()); }
Vec as_vector(const Mat3& A) {
  Vec x(9);
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) x(3 * a + b) = A(a, b);
  return x;
}

/// The six pairs i <= j of the upper triangle of R^T R - I.
constexpr int kPairs[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};

/// Hess F_ij is constant: d^2 F_ij / dR_cb dR_ef = delta_ce (delta_bi delta_fj + delta_bj delta_fi).
std::vector<Mat> so3_hessians() {
  std::vector<Mat> h(6, Mat::Zero(9, 9));
  for (int p = 0; p < 6; ++p) {
    const int i = kPairs[p][0], j = kPairs[p][1];
    for (int c = 0; c < 3; ++c) {
      h[p](3 * c + i, 3 * c + j) += 1;
      h[p](3 * c + j, 3 * c + i) += 1;
    }
  }
  return h;
}

LevelSetFunction so3_function() {
  LevelSetFunction F;
  F.D = 9;
  F.k = 6;
  auto hessians = std::make_shared<const std::vector<Mat>>(so3_hessians());
  F.eval = [hessians](const Vec& x, int order) {
    const Mat3 R = as_matrix(x);
    const Mat3 C = R.transpose() * R - Mat3::Identity();
    LevelSetJet jet;
    jet.F.resize(6);
    for (int p = 0; p < 6; ++p) jet.F(p) = C(kPairs[p][0], kPairs[p][1]);
    if (order >= 1) {
      // dF_ij / dR_cb = delta_bi R_cj + delta_bj R_ci.
      jet.J = Mat::Zero(6, 9);
      for (int p = 0; p < 6; ++p) {
        const int i = kPairs[p][0], j = kPairs[p][1];
        for (int c = 0; c < 3; ++c) {
          jet.J(p, 3 * c + i) += R(c, j);
          jet.J(p, 3 * c + j) += R(c, i);
        }
      }
    }
    if (order >= 2) jet.hessians = *hessians;
    return jet;
  };
  return F;
}

}  // namespace

double so3_volume() { return 16 * std::sqrt(2.0) * kPi * kPi; }
double so3_reach() { return std::sqrt(2.0); }

Vec rotation_from_quaternion(double w, double x, double y, double z) {
  const double n = std::sqrt(w * w + x * x + y * y + z * z);
  if (!(n > 0) || !std::isfinite(n))
    throw InvalidArgument("rotation_from_quaternion: quaternion must be non-zero and finite");
  w /= n, x /= n, y /= n, z /= n;
  Mat3 R;
  R << 1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),  //
      2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),   //
      2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y);
  return as_vector(R);
}

double rotation_angle(const Vec& R) {
  if (R.size() != 9) throw InvalidArgument("rotation_angle: expected 9 entries, got " + std::to_string(R.size()));
  const double c = 0.5 * (R(0) + R(4) + R(8) - 1);
  return std::acos(std::max(-1.0, std::min(1.0, c)));
}

std::unique_ptr<LevelSetManifold> make_so3() {
  LevelSetOptions o;
  o.spec = "so3";
  o.reach = so3_reach();
  o.volume = so3_volume();
  o.sample_uniform = [](Rng& rng) {
    const double w = rng.normal(), x = rng.normal(), y = rng.normal(), z = rng.normal();
    return rotation_from_quaternion(w, x, y, z);
  };
  // Newton starts at x when det x > 0. Otherwise the nearest rotation is U diag(1, 1, -1) V^T
  // (A = U S V^T, U, V in SO(3)), so start from U diag(s1, s2, s3) V^T, on the det > 0 side.
  o.start = [](const Vec& x) {
    const Mat3 A = as_matrix(x);
    if (A.determinant() > 0) return x;
    const Eigen::JacobiSVD<Mat3> svd(A, Eigen::ComputeFullU | Eigen::ComputeFullV);
    const Eigen::Vector3d s = svd.singularValues();
    return as_vector(A - 2 * s(2) * svd.matrixU().col(2) * svd.matrixV().col(2).transpose());
  };
  o.on_component = [](const Vec& p) { return as_matrix(p).determinant() > 0; };
  // Beyond the reach: max_R tr(A^T R) = s1 + s2 + sign(det A) s3, attained at a unique R iff
  // s2 > 0 (det A >= 0) or s2 > s3 (det A < 0); p is certified when it attains the maximum.
  o.certify_beyond_reach = [](const Vec& x, const Vec& p, const Mat&) {
    const Mat3 A = as_matrix(x);
    const Eigen::Vector3d s = Eigen::JacobiSVD<Mat3>(A).singularValues();
    const double det = A.determinant(), scale = 1e-10 * (1 + s(0));
    const bool unique = det >= 0 ? s(1) > scale : s(1) - s(2) > scale;
    const double best = s(0) + s(1) + (det >= 0 ? s(2) : -s(2));
    return unique && std::abs(x.dot(p) - best) <= scale * (1 + s(0));
  };
  return std::make_unique<LevelSetManifold>(so3_function(), o);
}

}  // namespace rbsm::geometry
