#include "rbsm/io/figure.hpp"

#include <cstdlib>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"

namespace rbsm::io {
namespace {
std::filesystem::path plot_script() {
  if (const char* env = std::getenv("RBSM_PLOT_SCRIPT")) return env;
  return std::filesystem::path(RBSM_SOURCE_DIR) / "scripts" / "plot_figure.py";
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

Panel& Figure::panel(std::string t, std::string xlabel, std::string ylabel) {
  Panel p;
  p.title = std::move(t);
  p.xlabel = std::move(xlabel);
  p.ylabel = std::move(ylabel);
  panels.push_back(std::move(p));
  return panels.back();
}

nlohmann::json Figure::to_json() const {
  nlohmann::json j;
  j["title"] = title;
  j["cols"] = cols;
  j["panels"] = nlohmann::json::array();
  for (const auto& p : panels) {
    nlohmann::json jp{{"title", p.title}, {"xlabel", p.xlabel}, {"ylabel", p.ylabel}, {"logx", p.logx},
                      {"logy", p.logy}, {"series", nlohmann::json::array()}};
    for (const auto& s : p.series)
      jp["series"].push_back({{"label", s.label}, {"x", s.x}, {"y", s.y}, {"yerr", s.yerr},
                              {"style", s.style}, {"color", s.color}, {"z", s.z}});
    j["panels"].push_back(jp);
  }
  return j;
}

void Figure::save(const std::filesystem::path& png) const {
  auto spec = png;
  spec.replace_extension(".json");
  atomic_write(spec, to_json().dump(1));
  atomic_write_with(png, [&](const std::filesystem::path& tmp) {
    const std::string cmd = "/usr/bin/python3 " + shell_quote(plot_script().string()) + " " +
                            shell_quote(spec.string()) + " " + shell_quote(tmp.string()) + " >&2";
    if (std::system(cmd.c_str()) != 0)
      throw IoError("rendering " + png.string() + " failed (needs /usr/bin/python3 with matplotlib: run scripts/setup.sh)");
  });
}

}  // namespace rbsm::io
