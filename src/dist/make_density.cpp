// make_density: the one place where `--dist` specs become densities (docs/densities.md §7).
#include <cmath>

#include <nlohmann/json.hpp>

#include "detail.hpp"

#include "rbsm/dist/density.hpp"
#include "rbsm/dist/matrix_fisher.hpp"
#include "rbsm/dist/mixture.hpp"
#include "rbsm/dist/torus_von_mises.hpp"
#include "rbsm/dist/uniform.hpp"
#include "rbsm/dist/vmf.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/spec.hpp"

namespace rbsm::dist {
namespace {

constexpr const char* kExpected =
    "expected uniform, vmf:kappa=K, vonmises:kappa1=A,kappa2=B, matrix-fisher:f1,f2,f3 or @mixture.json";

double required(const std::map<std::string, double>& kv, const std::string& key, const Spec& s) {
  const auto it = kv.find(key);
  if (it == kv.end()) throw InvalidArgument("spec '" + s.text + "': missing parameter '" + key + "'");
  if (it->second < 0.0)
    throw InvalidArgument("spec '" + s.text + "': " + key + " = " + detail::number(it->second) +
                          " is negative (expected " + key + " >= 0)");
  return it->second;
}

void no_mean(const std::optional<Vec>& mean, const std::string& what) {
  if (mean) throw InvalidArgument(what + " takes no mean (a mean is used by vmf and vonmises only)");
}

/// The torus angles of the point a mean vector projects to.
Eigen::Vector2d mean_angles(const TorusVonMises& probe, const geometry::Manifold& M, const Vec& mean) {
  M.check_ambient(mean, "the vonmises mean point");
  try {
    return probe.angles(M.project(mean));
  } catch (const GeometryError& e) {
    throw InvalidArgument(std::string("the vonmises mean point has no angles on ") + M.spec() + ": " + e.what());
  }
}

std::unique_ptr<Density> mixture_from_text(const std::string& text, std::shared_ptr<const geometry::Manifold> manifold,
                                           const std::string& where) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string msg = e.what();
    throw InvalidArgument(where + " is not valid JSON (" + msg + ")");
  } catch (const nlohmann::json::exception& e) {  // out_of_range.406: a number beyond double, e.g. 1e400
    std::string msg = e.what();
    const auto close = msg.find("] ");
    if (close != std::string::npos) msg = msg.substr(close + 2);
    throw InvalidArgument(where + " is not valid JSON for rbsm (" + msg + ": numbers must be finite doubles)");
  }
  if (!j.is_object()) throw InvalidArgument(where + ": expected an object with keys \"weights\" and \"components\"");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "weights" && it.key() != "components")
      throw InvalidArgument(where + ": unknown key \"" + it.key() + "\" (expected \"weights\" and \"components\")");
  if (!j.contains("weights") || !j["weights"].is_array())
    throw InvalidArgument(where + ": missing \"weights\" (expected an array of positive numbers)");
  if (!j.contains("components") || !j["components"].is_array() || j["components"].empty())
    throw InvalidArgument(where +
                          ": missing \"components\" (expected a non-empty array of {\"dist\": ..., \"mean\": [...]})");
  const auto& jw = j["weights"];
  const auto& jc = j["components"];
  if (jw.size() != jc.size())
    throw InvalidArgument(where + ": " + std::to_string(jw.size()) + " weights for " + std::to_string(jc.size()) +
                          " components (expected one weight per component)");
  std::vector<double> weights;
  std::vector<std::unique_ptr<Density>> components;
  for (std::size_t k = 0; k < jc.size(); ++k) {
    const std::string item = where + " component " + std::to_string(k + 1);
    if (!jw[k].is_number() || !(jw[k].get<double>() > 0.0))
      throw InvalidArgument(where + ": weight " + std::to_string(k + 1) + " is " + jw[k].dump() +
                            " (expected a number > 0)");
    weights.push_back(jw[k].get<double>());
    const auto& c = jc[k];
    if (!c.is_object() || !c.contains("dist") || !c["dist"].is_string())
      throw InvalidArgument(item + ": expected an object with a string \"dist\" (and optionally \"mean\")");
    for (auto it = c.begin(); it != c.end(); ++it)
      if (it.key() != "dist" && it.key() != "mean")
        throw InvalidArgument(item + ": unknown key \"" + it.key() + "\" (expected \"dist\" and \"mean\")");
    const std::string dist = c["dist"].get<std::string>();
    if (!dist.empty() && dist[0] == '@') throw InvalidArgument(item + ": mixtures cannot be nested");
    std::optional<Vec> mean;
    if (c.contains("mean")) {
      const auto& m = c["mean"];
      if (!m.is_array() || m.empty()) throw InvalidArgument(item + ": \"mean\" must be a non-empty array of numbers");
      Vec v(static_cast<Eigen::Index>(m.size()));
      for (std::size_t i = 0; i < m.size(); ++i) {
        if (!m[i].is_number())
          throw InvalidArgument(item + ": \"mean\" entry " + std::to_string(i + 1) + " is not a number");
        v[static_cast<Eigen::Index>(i)] = m[i].get<double>();
      }
      mean = v;
    }
    try {
      components.push_back(make_density(dist, manifold, mean));
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(item + ": " + e.what());
    }
  }
  return std::make_unique<Mixture>(std::move(manifold), std::move(weights), std::move(components));
}

std::unique_ptr<Density> make_mixture(const std::string& path, std::shared_ptr<const geometry::Manifold> manifold) {
  return mixture_from_text(io::read_file(path), std::move(manifold), "mixture file '" + path + "'");
}

}  // namespace

std::unique_ptr<Density> make_mixture_json(const std::string& json_text,
                                           std::shared_ptr<const geometry::Manifold> manifold,
                                           const std::string& where) {
  if (!manifold) throw InvalidArgument("make_mixture_json: no manifold");
  return mixture_from_text(json_text, std::move(manifold), where);
}

std::unique_ptr<Density> make_density(const std::string& text, std::shared_ptr<const geometry::Manifold> manifold,
                                      const std::optional<Vec>& mean) {
  if (!manifold) throw InvalidArgument("make_density: no manifold");
  if (!text.empty() && text[0] == '@') {
    no_mean(mean, "a mixture (give each component's \"mean\" in the JSON file)");
    return make_mixture(text.substr(1), std::move(manifold));
  }
  const Spec s = Spec::parse(text);
  if (s.name == "uniform") {
    if (!s.args.empty()) throw InvalidArgument("spec '" + text + "': uniform takes no parameters");
    no_mean(mean, "uniform");
    return std::make_unique<Uniform>(std::move(manifold));
  }
  if (s.name == "vmf") {
    const double kappa = required(s.keyvalues({"kappa"}), "kappa", s);
    Vec mu = Vec::Zero(manifold->ambient_dim());
    if (mean) {
      mu = *mean;
    } else {
      mu[0] = 1.0;
    }
    return std::make_unique<VonMisesFisher>(std::move(manifold), kappa, mu);
  }
  if (s.name == "vonmises") {
    const auto kv = s.keyvalues({"kappa1", "kappa2"});
    const double a = required(kv, "kappa1", s), b = required(kv, "kappa2", s);
    auto q = std::make_unique<TorusVonMises>(manifold, a, b);
    if (!mean) return q;
    return std::make_unique<TorusVonMises>(manifold, a, b, mean_angles(*q, *manifold, *mean));
  }
  if (s.name == "matrix-fisher") {
    const auto f = s.numbers(3, 3);
    no_mean(mean, "matrix-fisher");
    return std::make_unique<MatrixFisher>(std::move(manifold), Eigen::Vector3d(f[0], f[1], f[2]));
  }
  throw InvalidArgument("unknown density '" + s.name + "' in spec '" + text + "' (" + kExpected + ")");
}

}  // namespace rbsm::dist
