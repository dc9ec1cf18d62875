// The VAE measurement study (rbsm/nn/vae_study.hpp; docs/anatomy.md "VAE baseline").
#include "rbsm/nn/vae_study.hpp"

#include <algorithm>

#include "rbsm/error.hpp"
#include "rbsm/io/figure.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/table.hpp"
#include "rbsm/nn/sampler.hpp"
#include "rbsm/nn/tensor_data.hpp"
#include "rbsm/random.hpp"

namespace rbsm::nn {
namespace fs = std::filesystem;

data::ImageSet heldout_images(const std::string& spec, int n) {
  const auto set = data::load_dataset(spec, /*train=*/false);
  if (set.size() == 0) throw IoError("data set " + spec + " has no held-out images");
  if (n <= 0 || n >= set.size()) return set;
  std::vector<int> idx(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) idx[i] = static_cast<int>(static_cast<std::int64_t>(i) * set.size() / n);
  return set.subset(idx);
}

VaeMeasurement measure_local_dimension(VAEImpl& vae, const data::ImageSet& set, double threshold,
                                       torch::Device device) {
  VaeMeasurement m;
  m.variances = posterior_variances(vae, images_to_tensor(set), device);
  m.dims = local_dimension(m.variances, threshold);
  m.labels = labels_to_tensor(set);
  m.summary = summarise_local_dimension(m.dims, m.labels);
  const auto others = m.dims.masked_select(m.labels != 1);
  m.not_one = summarise_local_dimension(others, torch::zeros_like(others)).all;
  return m;
}

namespace {

void write_images(VAEImpl& vae, const data::ImageSet& heldout, const fs::path& dir, std::uint64_t seed,
                  torch::Device device) {
  torch::NoGradGuard no_grad;
  vae.eval();
  const int n = std::min(16, heldout.size());
  std::vector<int> idx;
  for (int i = 0; i < n; ++i) idx.push_back(static_cast<int>(static_cast<std::int64_t>(i) * heldout.size() / n));
  const auto x = images_to_tensor(heldout.subset(idx));
  const auto rec = vae.decode(vae.encode(x.to(device)).mu).to(torch::kCPU).clamp(0, 1);
  std::vector<torch::Tensor> rows;
  for (int r = 0; r + 8 <= n; r += 8) {
    rows.push_back(x.narrow(0, r, 8));
    rows.push_back(rec.narrow(0, r, 8));
  }
  if (!rows.empty()) write_sample_grid(dir / "reconstructions.png", torch::cat(rows), 8);
  const std::int64_t L = vae.options().latent_dim();
  Rng rng(seed, 0);
  auto z = torch::empty({64, L}, torch::kFloat32);
  auto a = z.accessor<float, 2>();
  for (std::int64_t i = 0; i < 64; ++i)
    for (std::int64_t j = 0; j < L; ++j) a[i][j] = static_cast<float>(rng.normal());
  write_sample_grid(dir / "samples.png", vae.decode(z.to(device)).to(torch::kCPU).clamp(0, 1), 8);
}

void write_figure(const fs::path& png, const VaeMeasurement& m, double threshold, const std::string& title) {
  io::Figure fig;
  fig.title = title;
  auto& p = fig.panel("VAE local dimension per digit (posterior variance < " + io::format_double(threshold, 3) + ")",
                      "digit", "mean local dimension");
  io::Series bars{"rbsm (mean over held-out digits)", {}, {}};
  bars.style = "bar";
  for (const auto& [c, s] : m.summary.per_class) {
    bars.x.push_back(c);
    bars.y.push_back(s.mean);
  }
  p.add(bars);
  io::Series doc{"document (approx.: digit 1 ~11, others ~18)", {}, {}};
  doc.style = "points";
  doc.color = "red";
  for (int c = 0; c < 10; ++c) {
    doc.x.push_back(c);
    doc.y.push_back(c == 1 ? 11.0 : 18.0);
  }
  p.add(doc);
  auto& h = fig.panel("distribution over images", "local dimension", "fraction of images");
  const auto dims = m.dims.contiguous(), labels = m.labels.contiguous();
  const auto* d = dims.data_ptr<std::int64_t>();
  const auto* l = labels.data_ptr<std::int64_t>();
  const std::int64_t n = dims.size(0);
  const std::int64_t lo = n ? *std::min_element(d, d + n) : 0, hi = n ? *std::max_element(d, d + n) : 0;
  for (const bool one : {true, false}) {
    io::Series s{one ? "digit 1" : "other digits", {}, {}};
    s.style = "step";
    std::vector<double> count(static_cast<std::size_t>(hi - lo + 1), 0.0);
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i)
      if ((l[i] == 1) == one) count[d[i] - lo] += 1, total += 1;
    for (std::size_t k = 0; k < count.size(); ++k) {
      s.x.push_back(double(lo + static_cast<std::int64_t>(k)));
      s.y.push_back(total > 0 ? count[k] / total : 0.0);
    }
    h.add(s);
  }
  fig.save(png);
}

}  // namespace

void write_vae_report(const fs::path& dir, VAEImpl& vae, const data::ImageSet& heldout, const VaeMeasurement& m,
                      const VaeReportOptions& options, torch::Device device) {
  if (options.images) write_images(vae, heldout, dir, options.seed, device);
  io::Table t({"image", "label", "local_dim"});
  const auto dims = m.dims.contiguous(), labels = m.labels.contiguous();
  for (std::int64_t i = 0; i < dims.size(0); ++i)
    t.add_row({double(i), double(labels.data_ptr<std::int64_t>()[i]), double(dims.data_ptr<std::int64_t>()[i])});
  t.save(dir / "local_dim.csv");
  write_figure(dir / "local_dim.png", m, options.threshold, options.title);
}

VaeStudy vae_study(const VaeStudyOptions& options, const data::ImageSet& train_set, const data::ImageSet& heldout,
                   const fs::path& run, const fs::path& report_dir, torch::Device device,
                   const std::function<bool()>& should_stop) {
  options.vae.validate();
  options.train.validate();
  check_variance_threshold(options.report.threshold);
  VaeStudy st;
  if (options.reuse && fs::exists(run / "checkpoint.pt")) {
    const auto old = load_vae(run, device);
    st.reused = old.step == options.train.steps() && old.config.at("train") == options.train.to_json() &&
                VAEOptions::from_json(old.config.at("vae")).to_json() == options.vae.to_json();
    if (st.reused) st.train.step = old.step, st.train.checkpoint = run / "checkpoint.pt";
  }
  if (!st.reused) {
    io::Progress progress(options.progress_label, static_cast<std::size_t>(options.train.steps()));
    VAETrainHooks hooks;
    hooks.should_stop = should_stop;
    hooks.on_step = [&](std::int64_t step, double loss, double recon, double kl) {
      progress.update(static_cast<std::size_t>(step), "-elbo=" + io::format_double(loss, 4) +
                                                          " recon=" + io::format_double(recon, 4) +
                                                          " kl=" + io::format_double(kl, 3));
    };
    st.train = train_vae(images_to_tensor(train_set), options.vae, options.train, run, device, hooks);
    progress.finish("-elbo=" + io::format_double(st.train.last_loss, 4));
  }
  st.vae = load_vae(run, device);
  st.measurement = measure_local_dimension(*st.vae.net, heldout, options.report.threshold, device);
  VaeReportOptions report = options.report;
  if (const auto at = report.title.find("{steps}"); at != std::string::npos)
    report.title.replace(at, 7, std::to_string(st.vae.step));
  write_vae_report(report_dir, *st.vae.net, heldout, st.measurement, report, device);
  return st;
}

}  // namespace rbsm::nn
