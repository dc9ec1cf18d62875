#pragma once
/// Parsing of the small spec strings used on the command line: `name:arg1,arg2,...` where args are
/// numbers (`sphere:2`, `torus:3,1`) or key=value pairs (`vmf:kappa=2`). Every failure throws
/// InvalidArgument naming the spec and what was expected.
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace rbsm {

struct Spec {
  std::string text;               ///< the whole spec as given
  std::string name;               ///< part before ':'
  std::vector<std::string> args;  ///< comma-separated parts after ':'

  static Spec parse(const std::string& text);
  /// All args as finite numbers; throws unless there are between `min_count` and `max_count`.
  std::vector<double> numbers(std::size_t min_count, std::size_t max_count) const;
  /// Args of the form key=value; throws on unknown keys (not in `allowed`) or a malformed pair.
  std::map<std::string, double> keyvalues(const std::vector<std::string>& allowed) const;
};

/// Parses "1,2.5,-3" into a vector; throws InvalidArgument naming `what` on a bad or non-finite entry.
Eigen::VectorXd parse_vector(const std::string& text, const std::string& what);
/// Splits a comma-separated list of names ("true,rb"; spaces dropped); throws InvalidArgument
/// "WHAT 'TEXT': empty NOUN" for an empty entry or list (e.g. noun "drift name").
std::vector<std::string> parse_names(const std::string& text, const std::string& what, const std::string& noun);
/// Parses one finite double; throws InvalidArgument naming `what`.
double parse_double(const std::string& text, const std::string& what);

}  // namespace rbsm
