#include "rbsm/spec.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "rbsm/error.hpp"

namespace rbsm {
namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}
}  // namespace

std::vector<std::string> parse_names(const std::string& text, const std::string& what, const std::string& noun) {
  auto names = split(text, ',');
  for (const auto& n : names)
    if (n.empty()) throw InvalidArgument(what + " '" + text + "': empty " + noun);
  return names;
}

double parse_double(const std::string& text, const std::string& what) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  if (text.empty() || end == begin || end != begin + text.size() || errno == ERANGE)  // also an embedded NUL
    throw InvalidArgument(what + ": '" + text + "' is not a number");
  if (!std::isfinite(v)) throw InvalidArgument(what + ": '" + text + "' is not finite");
  return v;
}

Eigen::VectorXd parse_vector(const std::string& text, const std::string& what) {
  const auto parts = split(text, ',');
  Eigen::VectorXd v(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i)
    v[static_cast<Eigen::Index>(i)] = parse_double(parts[i], what + " entry " + std::to_string(i + 1));
  return v;
}

Spec Spec::parse(const std::string& text) {
  Spec s;
  s.text = text;
  const auto colon = text.find(':');
  s.name = text.substr(0, colon);
  if (s.name.empty()) throw InvalidArgument("empty spec '" + text + "'");
  if (colon != std::string::npos) {
    const std::string rest = text.substr(colon + 1);
    if (rest.empty()) throw InvalidArgument("spec '" + text + "' has ':' but no parameters");
    s.args = split(rest, ',');
  }
  return s;
}

std::vector<double> Spec::numbers(std::size_t min_count, std::size_t max_count) const {
  if (args.size() < min_count || args.size() > max_count) {
    std::string expected = min_count == max_count ? std::to_string(min_count)
                                                  : std::to_string(min_count) + " to " + std::to_string(max_count);
    throw InvalidArgument("spec '" + text + "': expected " + expected + " parameter(s), got " +
                          std::to_string(args.size()));
  }
  std::vector<double> out;
  for (const auto& a : args) out.push_back(parse_double(a, "spec '" + text + "'"));
  return out;
}

std::map<std::string, double> Spec::keyvalues(const std::vector<std::string>& allowed) const {
  std::map<std::string, double> out;
  const std::set<std::string> ok(allowed.begin(), allowed.end());
  for (const auto& a : args) {
    const auto eq = a.find('=');
    if (eq == std::string::npos) throw InvalidArgument("spec '" + text + "': expected key=value, got '" + a + "'");
    const std::string key = a.substr(0, eq);
    if (!ok.count(key)) {
      std::string list;
      for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
      throw InvalidArgument("spec '" + text + "': unknown parameter '" + key + "' (expected " + list + ")");
    }
    if (out.count(key)) throw InvalidArgument("spec '" + text + "': parameter '" + key + "' given twice");
    out[key] = parse_double(a.substr(eq + 1), "spec '" + text + "' parameter " + key);
  }
  return out;
}

}  // namespace rbsm
