// Tests of the VAE baseline (include/rbsm/nn/vae.hpp, docs/anatomy.md "VAE baseline"): shapes; the KL
// term against its closed form and a Monte Carlo estimate; the Gaussian likelihood against a scalar
// loop; -ELBO decreasing on a short run of a tiny VAE, and runs deterministic in the seed; checkpoints
// reloading bit-identically and bad ones failing with IoError; the local-dimension rule on constructed
// posterior variances.
#include "rbsm/nn/vae.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/classifier.hpp"

namespace fs = std::filesystem;
using rbsm::nn::VAE;
using rbsm::nn::VAEOptions;

namespace {
fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("rbsm_vae_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

/// 64 synthetic 28x28 "digits": a bright horizontal or vertical bar of width 3 at one of 16 positions.
torch::Tensor bar_images() {
  auto x = torch::zeros({64, 1, 28, 28});
  for (int i = 0; i < 64; ++i) {
    const int pos = 4 + (i % 16) + (i / 32);
    if ((i / 16) % 2 == 0)
      x[i][0].narrow(0, pos, 3).fill_(1.0);
    else
      x[i][0].narrow(1, pos, 3).fill_(1.0);
  }
  return x;
}

const auto kTiny = VAEOptions().latent_dim(8).channels(4);
}  // namespace

TEST(Vae, Shapes) {
  torch::manual_seed(0);
  VAE vae(VAEOptions().latent_dim(100).channels(8));
  const auto x = torch::rand({5, 1, 28, 28});
  const auto q = vae->encode(x);
  EXPECT_EQ(q.mu.sizes(), (std::vector<std::int64_t>{5, 100}));
  EXPECT_EQ(q.logvar.sizes(), (std::vector<std::int64_t>{5, 100}));
  EXPECT_EQ(vae->decode(q.mu).sizes(), (std::vector<std::int64_t>{5, 1, 28, 28}));
  const auto t = vae->elbo(x, torch::randn({5, 100}));
  EXPECT_EQ(t.loss.dim(), 0);
  EXPECT_NEAR(t.loss.item<double>(), t.recon.item<double>() + t.kl.item<double>(), 1e-3);
  EXPECT_EQ(vae->log_gamma().dim(), 0);
  EXPECT_THROW(vae->encode(torch::rand({2, 1, 32, 32})), rbsm::InvalidArgument);
  EXPECT_THROW(vae->decode(torch::rand({2, 99})), rbsm::InvalidArgument);
  EXPECT_THROW(vae->elbo(x, torch::randn({5, 10})), rbsm::InvalidArgument);
  EXPECT_THROW(VAE(VAEOptions().latent_dim(0)), rbsm::InvalidArgument);
}

// KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2)/2 - 1/2 per coordinate, summed.
TEST(Vae, KlMatchesClosedFormAndMonteCarlo) {
  const std::vector<double> m{0.0, 1.5, -0.7, 2.0}, lv{0.0, -2.0, 0.8, std::log(0.25)};
  const auto mu = torch::tensor(m, torch::kFloat64).view({1, 4});
  const auto logvar = torch::tensor(lv, torch::kFloat64).view({1, 4});
  double expected = 0;
  for (int j = 0; j < 4; ++j) {
    const double s = std::exp(0.5 * lv[j]);
    expected += std::log(1.0 / s) + 0.5 * (s * s + m[j] * m[j]) - 0.5;
  }
  EXPECT_NEAR(rbsm::nn::kl_to_standard_normal(mu, logvar).item<double>(), expected, 1e-12);
  // zero exactly at the prior
  EXPECT_EQ(
      rbsm::nn::kl_to_standard_normal(torch::zeros({2, 7}, torch::kFloat64), torch::zeros({2, 7}, torch::kFloat64))
          .abs()
          .max()
          .item<double>(),
      0.0);
  // Monte Carlo: E_q[log q(z) - log p(z)], 400k draws (seed 1); std error ~ 0.005, tolerance 0.03.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const std::int64_t N = 400000;
  const auto eps = at::randn({N, 4}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  const auto sd = (0.5 * logvar).exp();
  const auto z = mu + sd * eps;
  const auto log_q = (-0.5 * eps.pow(2) - sd.log()).sum(1);
  const auto log_p = (-0.5 * z.pow(2)).sum(1);
  EXPECT_NEAR((log_q - log_p).mean().item<double>(), expected, 0.03);
}

TEST(Vae, GaussianNllMatchesScalarLoop) {
  torch::manual_seed(2);
  const auto x = torch::rand({3, 1, 4, 5}, torch::kFloat64), mean = torch::rand({3, 1, 4, 5}, torch::kFloat64);
  const double lg = -1.3;
  const auto nll = rbsm::nn::gaussian_nll(x, mean, torch::full({}, lg, torch::kFloat64));
  ASSERT_EQ(nll.sizes(), (std::vector<std::int64_t>{3}));
  const double gamma = std::exp(lg);
  for (int i = 0; i < 3; ++i) {
    double e = 0;
    const auto xi = x[i].flatten(), mi = mean[i].flatten();
    for (int k = 0; k < 20; ++k) {
      const double d = xi[k].item<double>() - mi[k].item<double>();
      e -= -0.5 * std::log(2 * M_PI * gamma) - d * d / (2 * gamma);  // -log N(x_k; m_k, gamma)
    }
    EXPECT_NEAR(nll[i].item<double>(), e, 1e-10);
  }
}

TEST(Vae, ElboDecreasesAndRunsAreDeterministic) {
  const fs::path a = temp_dir("train_a"), b = temp_dir("train_b");
  const auto opts =
      rbsm::nn::VAETrainOptions().steps(120).batch_size(16).lr(3e-3).warmup(10).gamma_lr_scale(10).seed(7);
  const auto ra = rbsm::nn::train_vae(bar_images(), kTiny, opts, a, torch::kCPU);
  EXPECT_EQ(ra.step, 120);
  EXPECT_FALSE(ra.stopped);
  const auto rows = rbsm::io::read_csv_numbers(a / "metrics.csv");
  ASSERT_EQ(rows.size(), 12u);  // log_every 10
  // columns: step, loss, recon, kl, log_gamma, lr, seconds
  const double first = rows.front()[1], last = rows.back()[1];
  EXPECT_LT(last, first - 200.0) << "-ELBO per image (nats) should fall by far more than its noise";
  EXPECT_LT(rows.back()[4], rows.front()[4]) << "the learned decoder variance gamma should shrink";
  for (const auto& r : rows) EXPECT_NEAR(r[1], r[2] + r[3], 1e-3 * std::abs(r[1]) + 1e-3);
  // Same seed -> bit-identical weights.
  rbsm::nn::train_vae(bar_images(), kTiny, opts, b, torch::kCPU);
  const auto va = rbsm::nn::load_vae(a, torch::kCPU), vb = rbsm::nn::load_vae(b, torch::kCPU);
  const auto pa = va.net->parameters(), pb = vb.net->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
  EXPECT_EQ(va.step, 120);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(Vae, StopRequestSavesACheckpoint) {
  const fs::path d = temp_dir("stop");
  rbsm::nn::VAETrainHooks hooks;
  int polls = 0;
  hooks.should_stop = [&] { return ++polls > 5; };
  const auto r = rbsm::nn::train_vae(bar_images(), kTiny, rbsm::nn::VAETrainOptions().steps(100).batch_size(8), d,
                                     torch::kCPU, hooks);
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.step, 5);
  EXPECT_EQ(rbsm::nn::load_vae(d, torch::kCPU).step, 5);
  fs::remove_all(d);
}

TEST(Vae, CheckpointReloadsBitIdentically) {
  const fs::path dir = temp_dir("ckpt");
  torch::manual_seed(4);
  VAE vae(kTiny);
  {  // a few training-mode passes so that the batch-norm running statistics are not at their defaults
    torch::NoGradGuard g;
    for (int i = 0; i < 3; ++i) vae->elbo(torch::rand({6, 1, 28, 28}), torch::randn({6, 8}));
    vae->log_gamma().fill_(-2.25);
  }
  rbsm::nn::save_vae(dir / "checkpoint.pt", *vae, {{"step", 3}, {"note", "test"}});
  int files = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1);  // no temporary left behind
  auto loaded = rbsm::nn::load_vae(dir, torch::kCPU);
  EXPECT_EQ(loaded.config.at("note"), "test");
  EXPECT_EQ(loaded.step, 3);
  const auto a = vae->named_parameters(), b = loaded.net->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  const auto ab = vae->named_buffers(), bb = loaded.net->named_buffers();
  ASSERT_EQ(ab.size(), bb.size());
  for (const auto& p : ab) EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
  vae->eval();
  torch::NoGradGuard g;
  const auto x = torch::rand({3, 1, 28, 28});
  EXPECT_TRUE(torch::equal(vae->encode(x).logvar, loaded.net->encode(x).logvar));
  EXPECT_TRUE(torch::equal(vae->decode(torch::ones({2, 8})), loaded.net->decode(torch::ones({2, 8}))));
  fs::remove_all(dir);
}

TEST(Vae, BadCheckpointsThrowIoError) {
  const fs::path dir = temp_dir("bad");
  auto message = [](const fs::path& p) {
    try {
      rbsm::nn::load_vae(p, torch::kCPU);
    } catch (const rbsm::IoError& e) {
      return std::string(e.what());
    }
    return std::string("(no IoError)");
  };
  EXPECT_NE(message(dir / "missing.pt").find("does not exist"), std::string::npos);
  EXPECT_NE(message(dir).find("has no checkpoint.pt"), std::string::npos);
  std::ofstream(dir / "junk.pt") << "PK truncated archive/data.pkl";
  EXPECT_NE(message(dir / "junk.pt").find("truncated or corrupt"), std::string::npos);
  // a valid torch archive of another kind (the classifier's): names its format
  rbsm::nn::Classifier clf;
  rbsm::nn::save_classifier(dir / "classifier.pt", clf, {});
  const auto foreign = message(dir / "classifier.pt");
  EXPECT_NE(foreign.find("not an rbsm VAE checkpoint"), std::string::npos) << foreign;
  EXPECT_NE(foreign.find(rbsm::nn::kClassifierFormat), std::string::npos) << foreign;
  // a VAE checkpoint whose weights do not fit its recorded architecture
  VAE small(kTiny);
  rbsm::nn::save_vae(dir / "mismatch.pt", *small, {});
  {
    torch::serialize::OutputArchive out, weights;
    out.write("format", c10::IValue(std::string(rbsm::nn::kVAEFormat)));
    nlohmann::json cfg{{"vae", VAEOptions().latent_dim(9).channels(4).to_json()}};
    out.write("config", c10::IValue(cfg.dump()));
    for (const auto& p : small->named_parameters()) weights.write(p.key(), p.value().detach());
    out.write("model", weights);
    out.save_to((dir / "mismatch.pt").string());
  }
  EXPECT_NE(message(dir / "mismatch.pt").find("does not fit"), std::string::npos) << message(dir / "mismatch.pt");
  fs::remove_all(dir);
}

TEST(Vae, LocalDimensionCountsVariancesStrictlyBelowThreshold) {
  const auto v = torch::tensor({0.1, 0.49999, 0.5, 0.7, 1.0, 0.2,   //
                                1.0, 1.0, 1.0, 1.0, 1.0, 1.0,       //
                                1e-6, 1e-3, 0.01, 0.3, 0.4, 0.45},  //
                               torch::kFloat64)
                     .view({3, 6});
  const auto d = rbsm::nn::local_dimension(v, 0.5);
  EXPECT_EQ(d[0].item<std::int64_t>(), 3);  // 0.1, 0.49999, 0.2 (0.5 itself is not below)
  EXPECT_EQ(d[1].item<std::int64_t>(), 0);
  EXPECT_EQ(d[2].item<std::int64_t>(), 6);
  EXPECT_EQ(rbsm::nn::local_dimension(v, 0.15)[0].item<std::int64_t>(), 1);
  EXPECT_EQ(rbsm::nn::local_dimension(v, 2.0).sum().item<std::int64_t>(), 18);
  EXPECT_THROW(rbsm::nn::local_dimension(v, 0.0), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::nn::local_dimension(v, -0.5), rbsm::InvalidArgument);
  EXPECT_THROW(rbsm::nn::local_dimension(v, std::nan("")), rbsm::InvalidArgument);
}

// Through the network: with the encoder's last layer set to weight 0 and bias b, every image has
// logvar = b, so its local dimension is #{j : exp(b_j) < 0.5} = #{j : b_j < log 0.5}.
TEST(Vae, PosteriorVariancesOfAConstructedEncoder) {
  torch::manual_seed(5);
  VAE vae(kTiny);
  const std::vector<double> logvar{-3.0, -0.70, -0.69, 0.0, -10.0, 0.5, -0.6931, -0.6932};  // log 0.5 = -0.693147
  {
    torch::NoGradGuard g;
    vae->enc_fc->weight.zero_();
    vae->enc_fc->bias.zero_();
    for (int j = 0; j < 8; ++j) vae->enc_fc->bias[8 + j] = logvar[j];
  }
  const auto var = rbsm::nn::posterior_variances(*vae, torch::rand({7, 1, 28, 28}), torch::kCPU, 3);
  ASSERT_EQ(var.sizes(), (std::vector<std::int64_t>{7, 8}));
  for (int j = 0; j < 8; ++j) EXPECT_NEAR(var[4][j].item<double>(), std::exp(logvar[j]), 1e-6);
  const auto d = rbsm::nn::local_dimension(var, 0.5);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(d[i].item<std::int64_t>(), 4);  // -3, -0.70, -10, -0.6932
}

TEST(Vae, SummaryPerClass) {
  const auto dims = torch::tensor({3, 5, 7, 2, 10}, torch::kInt64);
  const auto labels = torch::tensor({1, 1, 1, 4, 0}, torch::kInt64);
  const auto s = rbsm::nn::summarise_local_dimension(dims, labels);
  EXPECT_DOUBLE_EQ(s.all.mean, 27.0 / 5);
  EXPECT_NEAR(s.all.std, std::sqrt((2.4 * 2.4 + 0.4 * 0.4 + 1.6 * 1.6 + 3.4 * 3.4 + 4.6 * 4.6) / 4), 1e-12);
  EXPECT_EQ(s.all.n, 5);
  ASSERT_EQ(s.per_class.size(), 3u);
  EXPECT_DOUBLE_EQ(s.per_class.at(1).mean, 5.0);
  EXPECT_DOUBLE_EQ(s.per_class.at(1).std, 2.0);
  EXPECT_EQ(s.per_class.at(4).n, 1);
  EXPECT_DOUBLE_EQ(s.per_class.at(4).std, 0.0);
  const auto j = s.to_json();
  EXPECT_EQ(j.at("per_class").at("1").at("n"), 3);
  EXPECT_DOUBLE_EQ(j.at("per_class").at("0").at("mean").get<double>(), 10.0);
  EXPECT_THROW(rbsm::nn::summarise_local_dimension(dims, labels.narrow(0, 0, 3)), rbsm::InvalidArgument);
}
