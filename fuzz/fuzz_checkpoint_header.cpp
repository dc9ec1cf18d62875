// Fuzz target: the header of an rbsm checkpoint (src/nn/checkpoint.cpp open_checkpoint): the format tag
// and config JSON that LibTorch reads out of the archive, checked and parsed by the torch-free
// io::check_checkpoint_format and io::parse_checkpoint_config. Input: byte 0 says which strings exist
// (bit 0: a format tag, bit 1: a config) and which kind is expected (bit 2: manifold-fit, else
// score-model); then the format tag up to the first newline, the config text after it. Every key of an
// accepted config is then read with each exact reader (io::json_get, what the options' from_json and the
// resume checks use): it is refused with rbsm::Error or read back as exactly the value the JSON holds.
#include <optional>
#include <string>
#include <vector>

#include "fuzz_common.hpp"

#include "rbsm/io/checkpoint_header.hpp"
#include "rbsm/io/json_read.hpp"

namespace {
template <class T>
void read_exactly(const nlohmann::json& j, const std::string& key) {
  rbsm::fuzz::expect_clean([&] {
    const T v = rbsm::io::json_get<T>(j, key);
    if (nlohmann::json(v) != j.at(key)) {  // numbers compare by value: 3 == 3.0, but never 1 == true
      std::fprintf(stderr, "fuzz: json_get read %s as %s\n", j.at(key).dump().c_str(),
                   nlohmann::json(v).dump().c_str());
      std::abort();
    }
  });
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 4096) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t nl = rest.find('\n');
  std::optional<std::string> format, config;
  if (data[0] & 1) format = rest.substr(0, nl);
  if (data[0] & 2) config = nl == std::string::npos ? std::string() : rest.substr(nl + 1);
  const bool fit = data[0] & 4;
  rbsm::fuzz::expect_clean([&] {
    rbsm::io::check_checkpoint_format(format, fit ? "rbsm-manifold-fit-v1" : "rbsm-score-model-v1",
                                      fit ? "manifold-fit" : "score-model", "fuzz.pt");
    const nlohmann::json j = rbsm::io::parse_checkpoint_config(config, "fuzz.pt");
    (void)j.dump();  // an accepted config can be written back (the resumed run's config.json)
    if (!j.is_object()) return;
    for (const auto& [key, value] : j.items()) {
      read_exactly<bool>(j, key);
      read_exactly<int>(j, key);
      read_exactly<std::int64_t>(j, key);
      read_exactly<std::uint64_t>(j, key);
      read_exactly<double>(j, key);
      read_exactly<std::string>(j, key);
      read_exactly<std::vector<std::int64_t>>(j, key);
      read_exactly<std::vector<double>>(j, key);
    }
  });
  return 0;
}
