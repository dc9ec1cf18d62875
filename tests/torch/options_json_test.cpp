// The options structs' JSON readers (from_json of every options struct a checkpoint or a resumed run's
// config carries) under systematic mutation: each key deleted, and each value (also inside nested objects
// and arrays) replaced by values of every wrong kind and extreme size. The contract (issue 16): from_json
// either throws IoError / InvalidArgument with a one-line message, or returns options that represent the
// input exactly (their to_json gives back the mutated value: a reader that truncates 1.5 to 1, reads true
// as 1, wraps -1 to 2^64 - 1 or casts 1e308 to an integer would silently run something else). This is the
// structured counterpart of the libFuzzer targets for the readers that need LibTorch's option types.
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rbsm/error.hpp"
#include "rbsm/fit/fit.hpp"
#include "rbsm/fit/noise_net.hpp"
#include "rbsm/nn/classifier.hpp"
#include "rbsm/nn/mlp.hpp"
#include "rbsm/nn/train.hpp"
#include "rbsm/nn/unet.hpp"
#include "rbsm/nn/vae.hpp"

namespace rbsm {
namespace {

using nlohmann::json;

/// Values of every JSON kind and the extremes of each numeric kind.
std::vector<json> hostile_values() {
  return {json(nullptr),
          json(true),
          json(false),
          json("x"),
          json(""),
          json::array(),
          json::array({1}),
          json::object(),
          json(0),
          json(-1),
          json(1.5),
          json(-0.5),
          json(1e308),
          json(-1e308),
          json(std::numeric_limits<std::int64_t>::min()),
          json(std::numeric_limits<std::int64_t>::max()),
          json(std::numeric_limits<std::uint64_t>::max())};
}

/// Every mutation of `j`: each key (at any depth) deleted, each value replaced by each hostile value.
void mutations(const json& j, const json::json_pointer& at, std::vector<std::pair<std::string, json>>& out,
               const json& root) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const json::json_pointer p = at / it.key();
      json deleted = root;
      deleted.at(at).erase(it.key());
      out.emplace_back("delete " + p.to_string(), deleted);
      mutations(it.value(), p, out, root);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) mutations(j[i], at / i, out, root);
  }
  if (at.empty()) return;
  for (const json& v : hostile_values()) {
    json m = root;
    m[at] = v;
    out.emplace_back(at.to_string() + " = " + v.dump(), m);
  }
}

/// Checks the contract for one reader. `read` parses and validates; `write` serialises what was read.
template <class Options>
void check_reader(const std::string& what, const Options& defaults) {
  const json original = defaults.to_json();
  // Sanity: the defaults round-trip exactly (identity, the independent reference for everything below).
  ASSERT_EQ(Options::from_json(original).to_json(), original) << what;
  std::vector<std::pair<std::string, json>> cases;
  cases.emplace_back("whole = null", json(nullptr));
  cases.emplace_back("whole = array", json::array({original}));
  cases.emplace_back("whole = 1", json(1));
  mutations(original, json::json_pointer(), cases, original);
  int refused = 0, accepted = 0;
  for (const auto& [label, j] : cases) {
    SCOPED_TRACE(what + ": " + label);
    try {
      const Options o = Options::from_json(j);
      o.validate();
      ++accepted;
      // Accepted: the options must say exactly what the input said, key by key (numbers compare by value,
      // so 3.0 for an integer 3 is fine; a boolean for a number, a truncated fraction or a wrapped sign is not).
      const json back = o.to_json();
      for (const auto& [k, v] : j.items()) {
        if (back.contains(k)) EXPECT_EQ(back.at(k), v) << "key " << k << " was read as " << back.at(k).dump();
      }
    } catch (const IoError& e) {
      ++refused;
      const std::string msg = e.what();
      EXPECT_FALSE(msg.empty());
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    } catch (const InvalidArgument& e) {
      ++refused;
      const std::string msg = e.what();
      EXPECT_FALSE(msg.empty());
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "escaped as a raw " << typeid(e).name() << ": " << e.what();
    }
  }
  EXPECT_GT(refused, 0) << what;  // the mutations include deletions of required keys
  EXPECT_GT(accepted + refused, static_cast<int>(original.size())) << what;
}

TEST(OptionsJson, TrainOptionsReaderRefusesOrRepresentsExactly) { check_reader("TrainOptions", nn::TrainOptions()); }
TEST(OptionsJson, UNetOptionsReaderRefusesOrRepresentsExactly) { check_reader("UNetOptions", nn::UNetOptions()); }
TEST(OptionsJson, MLPOptionsReaderRefusesOrRepresentsExactly) { check_reader("MLPOptions", nn::MLPOptions()); }
TEST(OptionsJson, VAEOptionsReaderRefusesOrRepresentsExactly) { check_reader("VAEOptions", nn::VAEOptions()); }
TEST(OptionsJson, VAETrainOptionsReaderRefusesOrRepresentsExactly) {
  check_reader("VAETrainOptions", nn::VAETrainOptions());
}
TEST(OptionsJson, ClassifierOptionsReaderRefusesOrRepresentsExactly) {
  check_reader("ClassifierOptions", nn::ClassifierOptions());
}
TEST(OptionsJson, NoiseNetOptionsReaderRefusesOrRepresentsExactly) {
  check_reader("NoiseNetOptions", fit::NoiseNetOptions());
}
TEST(OptionsJson, FitOptionsReaderRefusesOrRepresentsExactly) { check_reader("FitOptions", fit::FitOptions()); }

}  // namespace
}  // namespace rbsm
