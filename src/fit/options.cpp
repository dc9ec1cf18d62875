// The options of a manifold fit (include/rbsm/fit/fit.hpp): targets, checks, JSON (exact readers for the
// configs of checkpoints, io::json_get), the noise levels and the law the levels are drawn from.
#include <cmath>
#include <string>
#include <vector>

#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/io/json_read.hpp"
#include "rbsm/random.hpp"

namespace rbsm::fit {

Target parse_target(const std::string& name) {
  if (name == "raw") return Target::raw;
  if (name == "rb") return Target::rb;
  throw InvalidArgument("unknown --target '" + name + "' (expected raw or rb)");
}
std::string to_string(Target t) { return t == Target::raw ? "raw" : "rb"; }

void FitOptions::validate() const {
  net.validate();
  const auto positive = [](const char* what, double v) {
    if (!(v > 0) || !std::isfinite(v)) throw InvalidArgument(std::string(what) + " must be > 0 and finite");
  };
  positive("--sigma-min", sigma_min);
  positive("--sigma-max", sigma_max);
  positive("--lr", lr);
  if (!(level_power >= 0 && level_power <= 8)) throw InvalidArgument("--level-power must be in [0, 8]");
  if (!(spread >= 1 && spread <= 10)) throw InvalidArgument("--spread must be in [1, 10]");
  if (spread != 1 && target != Target::rb)
    throw InvalidArgument("--spread needs --target rb (the raw target is the score of the noise that made y)");
  if (!leave_one_out && target != Target::rb)
    throw InvalidArgument("--no-leave-one-out needs --target rb (it chooses the RB estimate's references)");
  if (!(sigma_max > sigma_min)) throw InvalidArgument("--sigma-max must be larger than --sigma-min");
  if (levels < 2 || levels > 1000) throw InvalidArgument("--levels must be in [2, 1000]");
  if (steps < 1 || steps > 100'000'000) throw InvalidArgument("--steps must be in [1, 1e8]");
  if (batch < 1 || batch > 1'000'000) throw InvalidArgument("--batch must be in [1, 1e6]");
  if (warmup < 0) throw InvalidArgument("--warmup must be >= 0");
  if (!(ema_decay >= 0 && ema_decay < 1)) throw InvalidArgument("--ema must be in [0, 1)");
  if (eval_every < 1) throw InvalidArgument("--eval-every must be >= 1");
  if (patience < 0) throw InvalidArgument("--patience must be >= 0");
  if (val_examples < 1 || val_examples > 10'000'000) throw InvalidArgument("--val-examples must be in [1, 1e7]");
  if (checkpoint_every < 1) throw InvalidArgument("--checkpoint-every must be >= 1");
}

nlohmann::json FitOptions::to_json() const {
  nlohmann::json j = {{"manifold", manifold},
                      {"net", net.to_json()},
                      {"target", to_string(target)},
                      {"sigma_min", sigma_min},
                      {"sigma_max", sigma_max},
                      {"levels", levels},
                      {"steps", steps},
                      {"batch", batch},
                      {"lr", lr},
                      {"warmup", warmup},
                      {"ema_decay", ema_decay},
                      {"eval_every", eval_every},
                      {"patience", patience},
                      {"val_examples", val_examples},
                      {"checkpoint_every", checkpoint_every},
                      {"seed", seed}};
  // Written only when not the default, so a default fit's config is the one written before they existed.
  if (level_power != 0) j["level_power"] = level_power;
  if (spread != 1) j["spread"] = spread;
  if (!leave_one_out) j["leave_one_out"] = false;
  return j;
}

FitOptions FitOptions::from_json(const nlohmann::json& j) {
  try {
    FitOptions o;
    o.manifold = io::json_get<std::string>(j, "manifold");
    o.net = NoiseNetOptions::from_json(j.at("net"));
    o.target = parse_target(io::json_get<std::string>(j, "target"));
    o.sigma_min = io::json_get<double>(j, "sigma_min");
    o.sigma_max = io::json_get<double>(j, "sigma_max");
    o.levels = io::json_get<std::int64_t>(j, "levels");
    o.steps = io::json_get<std::int64_t>(j, "steps");
    o.batch = io::json_get<std::int64_t>(j, "batch");
    o.lr = io::json_get<double>(j, "lr");
    o.warmup = io::json_get<std::int64_t>(j, "warmup");
    o.ema_decay = io::json_get<double>(j, "ema_decay");
    o.eval_every = io::json_get<std::int64_t>(j, "eval_every");
    o.patience = io::json_get<std::int64_t>(j, "patience");
    o.val_examples = io::json_get<std::int64_t>(j, "val_examples");
    o.checkpoint_every = io::json_get<std::int64_t>(j, "checkpoint_every");
    o.seed = io::json_get<std::uint64_t>(j, "seed");
    o.level_power = io::json_get_or(j, "level_power", 0.0);
    o.spread = io::json_get_or(j, "spread", 1.0);
    o.leave_one_out = io::json_get_or(j, "leave_one_out", true);
    o.validate();
    return o;
  } catch (const std::exception& e) {  // the JSON kinds (io::json_get) and the values (validate)
    throw IoError(std::string("malformed fit options in checkpoint: ") + e.what());
  }
}

std::vector<double> FitOptions::level_probabilities() const {
  const std::vector<double> s = sigma_levels();
  std::vector<double> p(s.size());
  double total = 0;
  for (std::size_t l = 0; l < s.size(); ++l) total += p[l] = std::pow(s[l] / sigma_min, -level_power);
  for (double& v : p) v /= total;
  return p;
}

LevelSampler::LevelSampler(const FitOptions& o) : uniform_(o.level_power == 0) {
  double c = 0;
  for (double p : o.level_probabilities()) cdf_.push_back(c += p);
  cdf_.back() = 1.0;
}

int LevelSampler::operator()(Rng& rng) const {
  if (uniform_) return static_cast<int>(rng() % static_cast<std::uint64_t>(cdf_.size()));
  const double u = rng.uniform();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<int>(std::min<std::ptrdiff_t>(it - cdf_.begin(), static_cast<std::ptrdiff_t>(cdf_.size()) - 1));
}

std::vector<double> FitOptions::sigma_levels() const {
  std::vector<double> s(static_cast<std::size_t>(levels));
  for (std::int64_t l = 0; l < levels; ++l)
    s[l] = sigma_min * std::pow(sigma_max / sigma_min, static_cast<double>(l) / static_cast<double>(levels - 1));
  return s;
}

}  // namespace rbsm::fit
