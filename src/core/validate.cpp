#include "rbsm/validate.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "rbsm/error.hpp"

namespace rbsm::validate {
namespace {
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}
}  // namespace

std::string seed_text(const std::string& text) {
  const std::string t = trimmed(text);
  if (t.empty()) return "the seed is empty";
  if (t[0] == '-') return "the seed " + t + " is negative (seeds are 0 ... 18446744073709551615)";
  if (t.find_first_not_of("0123456789") != std::string::npos) return "the seed " + t + " is not a non-negative integer";
  const std::string digits = t.substr(std::min(t.find_first_not_of('0'), t.size() - 1));
  if (digits.size() > 20 || (digits.size() == 20 && digits > "18446744073709551615"))
    return "the seed " + t + " is larger than 2^64 - 1 = 18446744073709551615";
  return "";
}

std::string threads_text(const std::string& text) {
  const std::string t = trimmed(text);
  if (t.empty()) return "the thread count is empty";
  if (t[0] == '-') return "the thread count " + t + " is negative (0 = all cores)";
  if (t.find_first_not_of("0123456789") != std::string::npos) return "the thread count " + t + " is not an integer";
  if (t.size() > 9 || std::stol(t) > kMaxThreads)
    return "the thread count " + t + " is more than " + std::to_string(kMaxThreads) +
           " (0 = all cores; more threads than cores only add overhead)";
  return "";
}

void finite(double value, const std::string& what) {
  if (!std::isfinite(value)) throw InvalidArgument(what + " = " + num(value) + " is not a finite number");
}

void positive(double value, const std::string& what) {
  finite(value, what);
  if (!(value > 0)) throw InvalidArgument(what + " = " + num(value) + " must be positive");
}

void non_negative(double value, const std::string& what) {
  finite(value, what);
  if (value < 0) throw InvalidArgument(what + " = " + num(value) + " must not be negative");
}

void count(long long value, const std::string& what, long long min, long long max) {
  if (value < min || value > max)
    throw InvalidArgument(what + " = " + std::to_string(value) + " is out of range (" + std::to_string(min) + " ... " +
                          std::to_string(max) + ")");
}

double physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<double>(pages) * static_cast<double>(size) : 0.0;
}

void memory(double bytes, const std::string& what) {
  const double have = physical_memory_bytes();
  if (!(bytes >= 0) || (have > 0 && bytes > have))
    throw InvalidArgument(what + " would need " + num(bytes / 1073741824.0) +
                          " GiB of memory, more than this machine's " + num(have / 1073741824.0) +
                          " GiB (reduce them)");
}

}  // namespace rbsm::validate
