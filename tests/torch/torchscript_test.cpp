// TorchScript models in the anatomy / LID pipeline (include/rbsm/anatomy/torchscript_field.hpp): an analytic
// Gaussian-subspace field written in TorchScript (score, eps and x0 outputs; vp and ve schedules) gives the
// closed-form Jacobian, spectrum, local dimension and FLIPD; the same field agrees with the native analytic
// field; rbsm's U-Net exported by export_unet_torchscript gives the native Jacobian; bad models give one-line
// errors. Expected values are closed forms, never the code under test.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "rbsm/anatomy/analysis.hpp"
#include "rbsm/anatomy/analytic_fields.hpp"
#include "rbsm/anatomy/jacobian.hpp"
#include "rbsm/anatomy/lid.hpp"
#include "rbsm/anatomy/model_field.hpp"
#include "rbsm/anatomy/torchscript_field.hpp"
#include "rbsm/error.hpp"
#include "rbsm/nn/eigen_tensor.hpp"
#include "rbsm/nn/torchscript_export.hpp"
#include "rbsm/nn/unet.hpp"
#include "rbsm/random.hpp"

namespace ra = rbsm::anatomy;

namespace {

std::string num(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

/// Data N(0, P) on span(Q) (P = Q Q^T, k-dimensional), noised by the schedule: x_t ~ N(0, C_t),
/// C_t = alpha_t^2 P + sigma_t^2 I, score -C_t^{-1} x = -(P x / (alpha_t^2 + sigma_t^2) + (I - P) x / sigma_t^2),
/// as a scripted module returning the score, eps = -sigma_t s or x0 = (x + sigma_t^2 s) / alpha_t (Tweedie).
std::string gaussian_module_bytes(const Eigen::MatrixXd& Q, const std::string& schedule, const std::string& param) {
  const auto D = Q.rows();
  const Eigen::MatrixXd P = Q * Q.transpose();
  auto Pt = torch::empty({D, D}, torch::kFloat64);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) Pt[i][j] = P(i, j);
  torch::jit::Module m("GaussianSubspace");
  m.register_buffer("P", Pt);
  const ra::NoiseSchedule sch = ra::parse_schedule(schedule);
  std::string sched =
      schedule == "vp"
          ? "    B = " + num(sch.vp.beta_min) + " * tt + " + num(0.5 * (sch.vp.beta_max - sch.vp.beta_min)) +
                " * tt * tt\n    a = torch.exp(-0.5 * B)\n    s2 = -torch.expm1(-B)\n"
          : "    s = " + num(sch.ve_sigma_min) + " * torch.exp(tt * " +
                num(std::log(sch.ve_sigma_max / sch.ve_sigma_min)) + ")\n    a = torch.ones_like(tt)\n    s2 = s * s\n";
  std::string out = param == "score" ? "    out = score\n"
                    : param == "eps" ? "    out = -torch.sqrt(s2) * score\n"
                                     : "    out = (xf + s2 * score) / a\n";
  m.define(
      "def forward(self, x, t):\n    n = x.size(0)\n    xf = x.reshape(n, -1)\n"
      "    tt = t.to(xf.dtype).reshape(n, 1)\n" +
      sched + "    px = torch.matmul(xf, self.P)\n    score = -(px / (a * a + s2) + (xf - px) / s2)\n" + out +
      "    return out.reshape(x.size())\n");
  std::ostringstream b;
  m.save(b);
  return b.str();
}

std::string module_bytes(const std::string& source) {
  torch::jit::Module m("Bad");
  m.register_buffer("w", torch::ones({1}));
  m.define(source);
  std::ostringstream b;
  m.save(b);
  return b.str();
}

ra::TorchScriptOptions options(const std::string& param, const std::string& schedule, std::vector<std::int64_t> shape) {
  ra::TorchScriptOptions o;
  o.parametrisation = ra::parse_parametrisation(param);
  o.schedule = ra::parse_schedule(schedule);
  o.input_shape = std::move(shape);
  return o;
}

}  // namespace

TEST(TorchScriptField, ScheduleInverseAndParsing) {
  for (const char* name : {"vp", "ve"}) {
    const auto s = ra::parse_schedule(name);
    for (double t : {1e-3, 0.01, 0.3, 0.77, 1.0}) EXPECT_NEAR(s.time_of_sigma(s.sigma(t)), t, 1e-12 * (1 + t)) << name;
    EXPECT_THROW(s.time_of_sigma(s.sigma(1.0) * 1.01), rbsm::InvalidArgument);
    EXPECT_THROW(s.time_of_sigma(-1), rbsm::InvalidArgument);
  }
  // VP: alpha^2 + sigma^2 = 1; VE: alpha = 1, sigma(0) = sigma_min, sigma(1) = sigma_max
  const auto vp = ra::parse_schedule("vp"), ve = ra::parse_schedule("ve");
  EXPECT_NEAR(vp.alpha(0.2) * vp.alpha(0.2) + vp.sigma(0.2) * vp.sigma(0.2), 1.0, 1e-14);
  EXPECT_DOUBLE_EQ(ve.alpha(0.4), 1.0);
  EXPECT_NEAR(ve.sigma(0.0), 0.01, 1e-15);
  EXPECT_NEAR(ve.sigma(1.0), 50.0, 1e-12);
  EXPECT_THROW(ra::parse_schedule("sub-vp"), rbsm::InvalidArgument);
  EXPECT_THROW(ra::parse_parametrisation("v"), rbsm::InvalidArgument);
  EXPECT_EQ(ra::parse_input_shape("1,28,28"), (std::vector<std::int64_t>{1, 28, 28}));
  for (const char* bad : {"", "1,,2", "1,x", "0,3", "-1,2", "3,", "99999,99999"})
    EXPECT_THROW(ra::parse_input_shape(bad), rbsm::InvalidArgument) << bad;
}

TEST(TorchScriptField, GaussianSubspaceExactSpectrumEveryParametrisationAndSchedule) {
  const int D = 12, k = 3;
  rbsm::Rng rng(5);
  const Eigen::MatrixXd Q = ra::random_isometry(D, k, rng);
  const Eigen::MatrixXd P = Q * Q.transpose(), I = Eigen::MatrixXd::Identity(D, D);
  for (const char* schedule : {"vp", "ve"})
    for (const char* param : {"score", "eps", "x0"}) {
      const auto model = ra::TorchScriptModel::load_bytes(gaussian_module_bytes(Q, schedule, param), "gauss",
                                                          options(param, schedule, {3, 4}));
      ASSERT_EQ(model.dim(), D);
      EXPECT_EQ(model.dtype(), torch::kFloat64);
      for (double t : {0.02, 0.3}) {
        const double a = model.options().schedule.alpha(t), s = model.options().schedule.sigma(t);
        const double c = a * a + s * s;
        const Eigen::MatrixXd J_exact = -(P / c + (I - P) / (s * s));
        const auto field = model.field(t);
        EXPECT_DOUBLE_EQ(field.sigma, s);
        rbsm::Rng prng(7, static_cast<std::uint64_t>(t * 100));
        auto x = torch::empty({D}, torch::kFloat64);
        for (int j = 0; j < D; ++j) x[j] = prng.normal();
        const Eigen::MatrixXd J = rbsm::nn::to_eigen(ra::score_jacobian(field, x, ra::JacobianOptions().with_chunk(5)));
        EXPECT_LT((J - J_exact).cwiseAbs().maxCoeff(), 1e-9 / (s * s)) << schedule << " " << param << " t=" << t;
        const auto pa = ra::analyze_point(field, x);
        for (int i = 0; i < D; ++i) {
          const double want = i < k ? 1 / c : 1 / (s * s);  // ascending
          EXPECT_NEAR(pa.s(i), want, 1e-9 * want) << schedule << " " << param << " rank " << i;
          EXPECT_NEAR(pa.cos_uv(i), -1.0, 1e-8);
        }
        EXPECT_EQ(pa.local_dim, k) << schedule << " " << param << " t=" << t;
      }
    }
}

TEST(TorchScriptField, GaussianSubspaceLidClosedForms) {
  const int D = 10, k = 2;
  rbsm::Rng rng(9);
  const Eigen::MatrixXd Q = ra::random_isometry(D, k, rng);
  for (const char* schedule : {"vp", "ve"}) {
    const auto model = ra::TorchScriptModel::load_bytes(gaussian_module_bytes(Q, schedule, "eps"), "gauss",
                                                        options("eps", schedule, {D}));
    const auto ts = model.time_score();
    ra::LidOptions lid;
    lid.t = 0.01;
    Eigen::VectorXd z(k);
    z << 0.7, -1.1;
    const Eigen::VectorXd x0 = Q * z;
    const auto xt = torch::from_blob(const_cast<double*>(x0.data()), {D}, torch::kFloat64).clone();
    EXPECT_EQ(ra::singular_value_lid(ts, xt, lid), k) << schedule;
    rbsm::Rng r2(1);
    const auto fl = ra::flipd_lid(ts, xt, lid, r2);
    // FLIPD = D + s^2 (tr J + |s(alpha x0)|^2) with J = -(P / c + (I - P) / s^2), c = alpha^2 + s^2:
    //       = k - k s^2 / c + s^2 alpha^2 |x0|^2 / c^2
    const double a = model.options().schedule.alpha(lid.t), s = model.options().schedule.sigma(lid.t);
    const double c = a * a + s * s;
    const double want = k - k * s * s / c + s * s * a * a * x0.squaredNorm() / (c * c);
    EXPECT_NEAR(fl.estimate, want, 1e-9) << schedule;
    rbsm::Rng r3(2);
    EXPECT_EQ(ra::normal_bundle_lid(ts, xt, lid, r3), k) << schedule;
  }
}

TEST(TorchScriptField, SameJacobianAsTheNativeAnalyticField) {
  // gaussian-subspace:D=16,d=4,sigma=0.2 is N(0, diag(1 + sigma^2 (x d), sigma^2 (x D-d))): the ve model with
  // P = the first d coordinates at the t with sigma_t = 0.2 (alpha_t = 1) is the same field.
  const int D = 16, d = 4;
  const double sigma = 0.2;
  const auto native = ra::make_analytic_field("gaussian-subspace:D=16,d=4,sigma=0.2");
  const Eigen::MatrixXd Q = Eigen::MatrixXd::Identity(D, d);
  const auto model =
      ra::TorchScriptModel::load_bytes(gaussian_module_bytes(Q, "ve", "score"), "gauss", options("score", "ve", {D}));
  const auto field = model.field(model.options().schedule.time_of_sigma(sigma));
  EXPECT_NEAR(field.sigma, sigma, 1e-14);
  rbsm::Rng rng(3);
  const auto pts = native.sample_points(3, rng);
  for (int i = 0; i < 3; ++i) {
    const auto Jn = ra::score_jacobian(native.field, pts[i]);
    const auto Jt = ra::score_jacobian(field, pts[i]);
    EXPECT_LT((Jn - Jt).abs().max().item<double>(), 1e-11);
    EXPECT_EQ(ra::analyze_point(field, pts[i]).local_dim, native.true_local_dim);
  }
}

TEST(TorchScriptField, ExportedUNetGivesTheNativeJacobian) {
  namespace nn = rbsm::nn;
  torch::manual_seed(3);
  nn::LoadedScoreModel model;
  model.net = std::make_shared<nn::UNetImpl>(
      nn::UNetOptions().channels(8).channel_mult({1, 2}).num_res_blocks(1).attn_resolutions({}));
  // a freshly initialised U-Net has a zero output layer: give it random weights so eps depends on x
  {
    torch::NoGradGuard g;
    for (auto& p : model.net->parameters()) p.copy_(0.2 * torch::randn_like(p));
  }
  model.net->eval();
  for (auto& p : model.net->parameters()) p.set_requires_grad(false);
  const auto path =
      std::filesystem::temp_directory_path() / ("rbsm_torchscript_unet_" + std::to_string(::getpid()) + ".pt");
  nn::export_unet_torchscript(model, path);
  const auto ts = ra::TorchScriptModel::load(path, options("eps", "vp", {1, 28, 28}));
  std::filesystem::remove(path);
  EXPECT_EQ(ts.dtype(), torch::kFloat32);
  const double t = 0.05;
  const auto native = ra::model_score_field(model, t), traced = ts.field(t);
  EXPECT_DOUBLE_EQ(native.sigma, traced.sigma);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  const auto x = at::randn({784}, gen, torch::kFloat32);
  const auto Jn = ra::score_jacobian(native, x), Jt = ra::score_jacobian(traced, x);
  const double scale = Jn.abs().max().item<double>();
  ASSERT_GT(scale, 0.0);
  EXPECT_LT((Jn - Jt).abs().max().item<double>(), 1e-5 * scale);
  // the score itself, on a batch of another size than the trace's
  const auto xb = at::randn({5, 784}, gen, torch::kFloat32);
  const auto sn = native(xb), st = traced(xb);
  EXPECT_LT((sn - st).abs().max().item<double>(), 1e-5 * sn.abs().max().item<double>());
}

TEST(TorchScriptField, ReverseSdeDrawsTheGaussianData) {
  // Data N(0, P) on a line in R^3: after the reverse SDE (exact score) the variance along the line is
  // ~1 + sigma_eps^2 and across it ~sigma_eps^2 (0.0105^2 vp, 0.0101^2 ve); 3000 draws, 300 steps: the
  // tolerance 0.1 is 3.9 standard errors of a variance estimate (sqrt(2/n) = 0.026) with room for the
  // Euler-Maruyama bias.
  const int D = 3;
  Eigen::MatrixXd Q(D, 1);
  Q << 0.6, 0.0, 0.8;
  for (const char* schedule : {"vp", "ve"}) {
    const auto model = ra::TorchScriptModel::load_bytes(gaussian_module_bytes(Q, schedule, "x0"), "gauss",
                                                        options("x0", schedule, {D}));
    rbsm::nn::Trajectory traj;
    const auto x = model.sample(3000, 300, 17, {0.5}, &traj);
    ASSERT_EQ(x.size(0), 3000);
    const auto q = torch::tensor({0.6, 0.0, 0.8}, torch::kFloat64);
    const auto along = torch::matmul(x, q);
    const auto across = x - along.unsqueeze(1) * q.unsqueeze(0);
    EXPECT_NEAR(along.var().item<double>(), 1.0, 0.1) << schedule;
    EXPECT_LT(across.pow(2).sum(1).mean().item<double>(), 1e-3) << schedule;
    ASSERT_EQ(traj.times.size(), 1u);
    EXPECT_NEAR(traj.times[0], 0.5, 1e-3);
    // at t = 0.5 the state is N(0, alpha^2 P + sigma^2 I): its total variance is alpha^2 + D sigma^2
    const double a = model.options().schedule.alpha(traj.times[0]), s = model.options().schedule.sigma(traj.times[0]);
    const double total = traj.states[0].to(torch::kFloat64).var(0).sum().item<double>();
    EXPECT_NEAR(total / (a * a + D * s * s), 1.0, 0.1) << schedule;
  }
}

TEST(TorchScriptField, BadModelsGiveOneLineErrors) {
  const auto o = options("score", "vp", {2, 3});
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const rbsm::Error& e) {
      return e.what();
    }
    return "no error";
  };
  auto expect = [&](auto&& f, const std::string& part) {
    const std::string m = message(f);
    EXPECT_NE(m.find(part), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  };
  EXPECT_THROW(ra::TorchScriptModel::load("/nonexistent/model.pt", o), rbsm::IoError);
  expect([&] { ra::TorchScriptModel::load("/nonexistent/model.pt", o); }, "no such file");
  EXPECT_THROW(ra::TorchScriptModel::load_bytes("not a zip archive", "junk.pt", o), rbsm::IoError);
  expect([&] { ra::TorchScriptModel::load_bytes("not a zip archive", "junk.pt", o); }, "not a TorchScript archive");
  // one argument
  EXPECT_THROW(ra::TorchScriptModel::load_bytes(module_bytes("def forward(self, x):\n    return x\n"), "m", o),
               rbsm::InvalidArgument);
  expect([&] { ra::TorchScriptModel::load_bytes(module_bytes("def forward(self, x):\n    return x\n"), "m", o); },
         "signature forward(x, t)");
  // wrong output shape
  const auto sum = module_bytes("def forward(self, x, t):\n    return x.sum(1)\n");
  EXPECT_THROW(ra::TorchScriptModel::load_bytes(sum, "m", o), rbsm::InvalidArgument);
  expect([&] { ra::TorchScriptModel::load_bytes(sum, "m", o); }, "returned shape");
  // not a tensor
  const auto tup = module_bytes("def forward(self, x, t):\n    return (x, t)\n");
  expect([&] { ra::TorchScriptModel::load_bytes(tup, "m", o); }, "expected a tensor");
  // non-finite output
  const auto nan = module_bytes("def forward(self, x, t):\n    return x / (x - x)\n");
  EXPECT_THROW(ra::TorchScriptModel::load_bytes(nan, "m", o), rbsm::NumericalError);
  expect([&] { ra::TorchScriptModel::load_bytes(nan, "m", o); }, "non-finite");
  // an input shape the model cannot take
  const auto fixed = module_bytes("def forward(self, x, t):\n    return x.reshape(-1, 5) * 0.0 + self.w\n");
  EXPECT_THROW(ra::TorchScriptModel::load_bytes(fixed, "m", o), rbsm::InvalidArgument);
  expect([&] { ra::TorchScriptModel::load_bytes(fixed, "m", o); }, "check --input-shape");
  // missing input shape
  EXPECT_THROW(ra::TorchScriptModel::load_bytes(sum, "m", options("score", "vp", {})), rbsm::InvalidArgument);
}
