#include "rbsm/anatomy/torchscript_field.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <torch/script.h>
#include <torch/torch.h>

#include "rbsm/anatomy/measures.hpp"
#include "rbsm/data/points.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/random.hpp"

namespace rbsm::anatomy {

struct TorchScriptModel::Impl {
  mutable torch::jit::Module module;
};

namespace {

/// The first line of a LibTorch error (its messages carry a C++ or TorchScript traceback after it).
std::string first_line(const std::string& what) {
  const auto nl = what.find('\n');
  std::string s = what.substr(0, nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

/// The most informative line of a TorchScript interpreter error: the last "...Error: ..." line if any.
std::string script_error(const std::string& what) {
  std::istringstream in(what);
  std::string line, found;
  while (std::getline(in, line))
    if (line.find("Error: ") != std::string::npos) found = line;
  if (found.empty()) return first_line(what);
  const auto start = found.find_first_not_of(' ');
  return start == std::string::npos ? found : found.substr(start);
}

std::string shape_text(std::int64_t n, const std::vector<std::int64_t>& shape) {
  std::string s = "[" + std::to_string(n);
  for (auto v : shape) s += ", " + std::to_string(v);
  return s + "]";
}

void check_time(double t) {
  if (!(t > 0 && t <= 1)) throw InvalidArgument("time t = " + std::to_string(t) + ", expected 0 < t <= 1");
}

}  // namespace

// ------------------------------------------------------------------ parametrisation, schedule, shape
Parametrisation parse_parametrisation(const std::string& text) {
  if (text == "score") return Parametrisation::Score;
  if (text == "eps") return Parametrisation::Eps;
  if (text == "x0") return Parametrisation::X0;
  throw InvalidArgument("--parametrisation '" + text + "': expected score, eps or x0");
}

std::string to_string(Parametrisation p) {
  switch (p) {
    case Parametrisation::Score:
      return "score";
    case Parametrisation::Eps:
      return "eps";
    case Parametrisation::X0:
      return "x0";
  }
  return "?";
}

double NoiseSchedule::alpha(double t) const { return kind == Kind::VP ? vp.alpha(t) : 1.0; }

double NoiseSchedule::sigma(double t) const {
  if (kind == Kind::VP) return vp.sigma(t);
  return ve_sigma_min * std::pow(ve_sigma_max / ve_sigma_min, t);
}

double NoiseSchedule::time_of_sigma(double s) const {
  validate();
  const double lo = sigma(0.0), hi = sigma(1.0);
  if (!(s > lo && s <= hi))
    throw InvalidArgument("--sigma " + std::to_string(s) + ": outside the " + name() + " schedule's range (" +
                          std::to_string(lo) + ", " + std::to_string(hi) + "]");
  if (kind == Kind::VE) return std::min(1.0, std::log(s / ve_sigma_min) / std::log(ve_sigma_max / ve_sigma_min));
  // sigma_t^2 = 1 - exp(-B(t)), B(t) = b0 t + (b1 - b0) t^2 / 2: solve the quadratic for B = -log(1 - s^2).
  const double B = -std::log1p(-s * s), a = 0.5 * (vp.beta_max - vp.beta_min), b = vp.beta_min;
  const double t = a > 0 ? 2.0 * B / (b + std::sqrt(b * b + 4.0 * a * B)) : B / b;
  return std::clamp(t, std::numeric_limits<double>::min(), 1.0);
}

std::string NoiseSchedule::name() const { return kind == Kind::VP ? "vp" : "ve"; }

void NoiseSchedule::validate() const {
  if (kind == Kind::VP) return vp.validate();
  if (!(std::isfinite(ve_sigma_min) && std::isfinite(ve_sigma_max) && ve_sigma_min > 0 && ve_sigma_min < ve_sigma_max))
    throw InvalidArgument("ve schedule: sigma_min = " + std::to_string(ve_sigma_min) +
                          ", sigma_max = " + std::to_string(ve_sigma_max) + ", expected 0 < sigma_min < sigma_max");
}

NoiseSchedule parse_schedule(const std::string& text) {
  NoiseSchedule s;
  if (text == "vp")
    s.kind = NoiseSchedule::Kind::VP;
  else if (text == "ve")
    s.kind = NoiseSchedule::Kind::VE;
  else
    throw InvalidArgument("--schedule '" + text + "': expected vp or ve");
  return s;
}

std::vector<std::int64_t> parse_input_shape(const std::string& text) {
  const std::string bad = "--input-shape '" + text + "': expected positive integers separated by commas, e.g. 1,28,28";
  std::vector<std::int64_t> shape;
  std::size_t pos = 0;
  double total = 1;
  while (true) {
    const auto comma = text.find(',', pos);
    const std::string part = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.empty() || part.size() > 9 || part.find_first_not_of("0123456789") != std::string::npos)
      throw InvalidArgument(bad);
    const std::int64_t v = std::stoll(part);
    if (v < 1) throw InvalidArgument(bad);
    total *= static_cast<double>(v);
    shape.push_back(v);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (total > static_cast<double>(std::int64_t{1} << 26))
    throw InvalidArgument("--input-shape '" + text + "': " + std::to_string(static_cast<long long>(total)) +
                          " values per point, at most 2^26");
  return shape;
}

// ------------------------------------------------------------------ loading
TorchScriptModel TorchScriptModel::load(const std::filesystem::path& path, const TorchScriptOptions& options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw IoError("--torchscript " + path.string() + ": no such file");
  return load_bytes(io::read_file(path), path.string(), options);  // IoError "cannot read PATH: reason"
}

TorchScriptModel TorchScriptModel::load_bytes(const std::string& bytes, const std::string& name,
                                              const TorchScriptOptions& options) {
  TorchScriptModel m;
  m.name_ = name;
  m.options_ = options;
  m.impl_ = std::make_shared<Impl>();
  try {
    std::istringstream in(bytes);
    m.impl_->module = torch::jit::load(in, torch::kCPU);
  } catch (const c10::Error& e) {
    throw IoError("--torchscript " + name + ": not a TorchScript archive (torch.jit.save / ScriptModule.save): " +
                  first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw IoError("--torchscript " + name + ": not a TorchScript archive: " + first_line(e.what()));
  }
  m.check_and_init();
  return m;
}

void TorchScriptModel::check_and_init() {
  options_.schedule.validate();
  const auto& shape = options_.input_shape;
  if (shape.empty()) throw InvalidArgument("--input-shape is required with --torchscript (e.g. 1,28,28)");
  dim_ = 1;
  for (auto v : shape) {
    if (v < 1) throw InvalidArgument("--input-shape: sizes must be >= 1");
    dim_ *= v;
  }
  auto& module = impl_->module;
  module.eval();
  dtype_ = torch::kFloat32;
  bool found = false;
  for (auto p : module.parameters()) {
    if (!found && p.is_floating_point()) dtype_ = p.scalar_type(), found = true;
    p.requires_grad_(false);
  }
  if (!found)
    for (const auto& b : module.buffers())
      if (b.is_floating_point()) {
        dtype_ = b.scalar_type();
        break;
      }
  const auto method = module.find_method("forward");
  if (!method) throw InvalidArgument("--torchscript " + name_ + ": the module has no forward method");
  const auto& args = method->function().getSchema().arguments();
  std::size_t required = 0;  // arguments after self without a default
  for (std::size_t i = 1; i < args.size(); ++i)
    if (!args[i].default_value()) ++required;
  if (args.size() < 3 || required > 2) {
    std::string sig;
    for (std::size_t i = 1; i < args.size(); ++i) sig += (i > 1 ? ", " : "") + args[i].name();
    throw InvalidArgument("--torchscript " + name_ + ": forward(" + sig +
                          ") does not have the signature forward(x, t) -> tensor of x's shape");
  }
  // One trial evaluation: two zero points at t = 0.5 (checks the signature, the input shape and the output).
  torch::NoGradGuard no_grad;
  const auto x = torch::zeros({2, dim_}, torch::kFloat64);
  forward(x, torch::full({2}, 0.5, torch::kFloat64));
}

// ------------------------------------------------------------------ evaluation
torch::Tensor TorchScriptModel::forward(const torch::Tensor& x, const torch::Tensor& t) const {
  if (x.dim() != 2 || x.size(1) != dim_)
    throw InvalidArgument("TorchScript model " + name_ + ": points of shape " + c10::str(x.sizes()) +
                          ", expected [n, " + std::to_string(dim_) + "]");
  const std::int64_t n = x.size(0);
  std::vector<std::int64_t> full{n};
  full.insert(full.end(), options_.input_shape.begin(), options_.input_shape.end());
  const auto xi = x.to(torch::kCPU, dtype_).reshape(full);
  const auto ti = t.to(torch::kCPU, dtype_).reshape({n});
  c10::IValue out;
  try {
    out = impl_->module.forward({xi, ti});
  } catch (const c10::Error& e) {
    throw InvalidArgument(
        "TorchScript model " + name_ + " failed on x of shape " + shape_text(n, options_.input_shape) +
        " and t of shape [" + std::to_string(n) +
        "] (check --input-shape and the signature forward(x, t)): " + script_error(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw InvalidArgument("TorchScript model " + name_ + " failed on x of shape " +
                          shape_text(n, options_.input_shape) +
                          " (check --input-shape and the signature forward(x, t)): " + script_error(e.what()));
  }
  if (!out.isTensor())
    throw InvalidArgument("TorchScript model " + name_ + ": forward(x, t) returned " + out.tagKind() +
                          ", expected a tensor of x's shape " + shape_text(n, options_.input_shape));
  const auto y = out.toTensor();
  if (y.sizes() != xi.sizes())
    throw InvalidArgument("TorchScript model " + name_ + ": forward(x, t) returned shape " + c10::str(y.sizes()) +
                          " for x of shape " + shape_text(n, options_.input_shape) + ", expected the same shape");
  if (!y.is_floating_point())
    throw InvalidArgument("TorchScript model " + name_ + ": forward(x, t) returned a " +
                          std::string(c10::toString(y.scalar_type())) + " tensor, expected floating point");
  if (!torch::isfinite(y.detach()).all().item<bool>()) {
    const double t0 = ti.to(torch::kFloat64)[0].item<double>();
    throw NumericalError("TorchScript model " + name_ +
                         ": non-finite output (NaN or inf) at t = " + std::to_string(t0));
  }
  return y.reshape({n, dim_}).to(x.scalar_type());
}

torch::Tensor TorchScriptModel::score(const torch::Tensor& x, const torch::Tensor& t) const {
  const auto out = forward(x, t);
  if (options_.parametrisation == Parametrisation::Score) return out;
  const auto tc = t.to(torch::kCPU, torch::kFloat64).contiguous().reshape({-1});
  const std::int64_t n = tc.size(0);
  auto a = torch::empty({n, 1}, torch::kFloat64), s = torch::empty({n, 1}, torch::kFloat64);
  const auto* tp = tc.data_ptr<double>();
  for (std::int64_t i = 0; i < n; ++i) {
    check_time(tp[i]);
    a[i][0] = options_.schedule.alpha(tp[i]);
    s[i][0] = options_.schedule.sigma(tp[i]);
  }
  const auto alpha = a.to(x.options()), sigma = s.to(x.options());
  if (options_.parametrisation == Parametrisation::Eps) return -out / sigma;  // s = -eps / sigma_t
  return (alpha * out - x) / (sigma * sigma);                                 // s = (alpha_t x0 - x) / sigma_t^2
}

ScoreField TorchScriptModel::field(double t) const {
  check_time(t);
  ScoreField f;
  const TorchScriptModel self = *this;
  f.score = [self, t](const torch::Tensor& x) { return self.score(x, torch::full({x.size(0)}, t, x.options())); };
  f.dim = dim_;
  f.sigma = options_.schedule.sigma(t);
  f.description = "TorchScript " + name_ + " (" + to_string(options_.parametrisation) + ", " +
                  options_.schedule.name() + ") at t=" + std::to_string(t);
  return f;
}

TimeScoreModel TorchScriptModel::time_score() const {
  TimeScoreModel m;
  const TorchScriptModel self = *this;
  m.score = [self](const torch::Tensor& x, const torch::Tensor& t) { return self.score(x, t); };
  m.sde = options_.schedule.vp;
  const NoiseSchedule schedule = options_.schedule;
  m.alpha_of = [schedule](double t) { return schedule.alpha(t); };
  m.sigma_of = [schedule](double t) { return schedule.sigma(t); };
  m.dim = dim_;
  m.dtype = dtype_;
  m.description = "TorchScript " + name_ + " (" + to_string(options_.parametrisation) + ", " + schedule.name() + ")";
  return m;
}

// ------------------------------------------------------------------ sampling by the reverse SDE
torch::Tensor TorchScriptModel::sample(std::int64_t n, std::int64_t steps, std::uint64_t seed,
                                       const std::vector<double>& snapshot_times, nn::Trajectory* trajectory,
                                       const std::function<void(std::int64_t)>& on_step) const {
  if (n < 1) throw InvalidArgument("number of points to sample " + std::to_string(n) + ", expected >= 1");
  nn::SamplerOptions so;
  so.steps(steps).snapshot_times(snapshot_times);
  so.validate();
  const TorchScriptModel self = *this;
  const nn::ScoreFn score = [self](const torch::Tensor& x, const torch::Tensor& t) { return self.score(x, t); };
  // The generator seed of nn::sample_images' one batch: for vp the same draws as `rbsm anatomy --checkpoint`
  // with the same seed (x_1 and the noise are drawn in the same order; only the shape differs).
  const std::uint64_t stream = Rng(seed, 0)();
  if (options_.schedule.kind == NoiseSchedule::Kind::VP) {
    auto r = nn::sample(score, options_.schedule.vp, {n, dim_}, so, stream, torch::kCPU, on_step);
    if (trajectory) *trajectory = std::move(r.trajectory);
    return r.x0.to(torch::kFloat64);
  }
  // VE: dx = -g(t)^2 s(x, t) dt + g(t) dw_bar backwards in t, g^2 = d sigma_t^2 / dt = 2 sigma_t^2 log(smax / smin);
  // the same grid, snapshot rule and seeding as nn::sample (x_1 ~ N(0, sigma_1^2 I), last step without noise).
  torch::NoGradGuard no_grad;
  const auto& sch = options_.schedule;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(stream);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto noise = [&] { return at::randn({n, dim_}, gen, f32); };
  const std::int64_t N = steps;
  const double eps = so.eps(), dt = (1.0 - eps) / static_cast<double>(N);
  auto grid_time = [&](std::int64_t i) { return i == N ? eps : 1.0 - static_cast<double>(i) * dt; };
  std::vector<std::int64_t> snap(snapshot_times.size());
  for (std::size_t k = 0; k < snapshot_times.size(); ++k) {
    std::int64_t i = std::clamp<std::int64_t>(std::llround((1.0 - snapshot_times[k]) / dt), 0, N);
    for (std::int64_t j : {i - 1, i + 1})
      if (j >= 0 && j <= N && std::abs(grid_time(j) - snapshot_times[k]) < std::abs(grid_time(i) - snapshot_times[k]))
        i = j;
    snap[k] = i;
  }
  nn::Trajectory traj;
  traj.requested_times = snapshot_times;
  traj.times.resize(snapshot_times.size());
  traj.states.resize(snapshot_times.size());
  auto keep = [&](std::int64_t i, const torch::Tensor& x) {
    for (std::size_t k = 0; k < snap.size(); ++k)
      if (snap[k] == i) traj.times[k] = grid_time(i), traj.states[k] = x.clone();
  };
  const double log_ratio = std::log(sch.ve_sigma_max / sch.ve_sigma_min);
  torch::Tensor x = noise() * sch.sigma(1.0);
  keep(0, x);
  for (std::int64_t i = 0; i < N; ++i) {
    const double t = grid_time(i), s = sch.sigma(t), g2 = 2.0 * s * s * log_ratio;
    const auto mean = x + (g2 * dt) * score(x, torch::full({n}, t, x.options()));
    x = i + 1 == N ? mean : mean + std::sqrt(g2 * dt) * noise();
    if (!torch::isfinite(x).all().item<bool>())
      throw NumericalError("sampler: non-finite state at t = " + std::to_string(grid_time(i + 1)) + " (step " +
                           std::to_string(i + 1) + " of " + std::to_string(N) + ")");
    keep(i + 1, x);
    if (on_step) on_step(i + 1);
  }
  if (trajectory) *trajectory = std::move(traj);
  return x.to(torch::kFloat64);
}

std::vector<AnatomySlice> torchscript_anatomy(const TorchScriptModel& model, const std::vector<double>& times,
                                              const torch::Tensor& points, std::int64_t n, std::int64_t steps,
                                              const AnatomyOptions& options, std::uint64_t seed,
                                              const std::function<void(std::int64_t, std::int64_t)>& progress,
                                              const std::function<void(std::int64_t, std::int64_t)>& on_sample_step) {
  check_kappa(options.kappa);
  if (times.empty()) throw InvalidArgument("torchscript anatomy: no times given");
  for (double t : times) check_time(t);
  std::vector<torch::Tensor> states;
  std::vector<double> used = times;
  if (points.defined()) {
    if (points.dim() != 2 || points.size(1) != model.dim() || points.size(0) < 1)
      throw InvalidArgument("points of shape " + c10::str(points.sizes()) + ", expected [n, " +
                            std::to_string(model.dim()) + "] with n >= 1");
    states.assign(times.size(), points);
  } else {
    nn::Trajectory traj;
    model.sample(n, steps, seed, times, &traj, [&](std::int64_t i) {
      if (on_sample_step) on_sample_step(i, steps);
    });
    states = traj.states;
    used = traj.times;
  }
  const std::int64_t per = states.front().size(0), total = per * static_cast<std::int64_t>(times.size());
  std::vector<AnatomySlice> slices;
  for (std::size_t k = 0; k < times.size(); ++k) {
    const auto field = model.field(used[k]);
    const std::int64_t offset = static_cast<std::int64_t>(k) * per;
    slices.push_back(analyze_points(field, used[k], states[k].to(model.dtype()), options, [&](std::int64_t i) {
      if (progress) progress(offset + i, total);
    }));
    slices.back().requested_t = times[k];
  }
  return slices;
}

torch::Tensor read_points_file(const std::filesystem::path& path, std::int64_t dim) {
  const data::Table t = data::read_table(path);
  if (t.values.cols() != dim)
    throw InvalidArgument("--points " + path.string() + ": rows of " + std::to_string(t.values.cols()) +
                          " values, the model takes " + std::to_string(dim) + " (the product of --input-shape)");
  const std::int64_t n = t.values.rows();
  auto out = torch::empty({n, dim}, torch::kFloat64);
  auto* p = out.data_ptr<double>();
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < dim; ++j) p[i * dim + j] = t.values(i, j);
  return out;
}

}  // namespace rbsm::anatomy
