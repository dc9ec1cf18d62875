#pragma once
/// Validation of option values in one place per kind (docs/reliability.md): counts, rates, scales,
/// seeds, thread counts and the memory a run would need. Every check throws InvalidArgument with a
/// one-line message that names the option (`what`, e.g. "--sigma") and the offending value; the
/// `*_text` forms return that message instead ("" when the text is valid), for CLI11 validators.
#include <cstdint>
#include <string>

namespace rbsm::validate {

/// Upper bound of --threads: more workers than this only cost start-up time (and LibTorch hangs
/// creating 10^5 of them).
constexpr int kMaxThreads = 1024;

/// "" if `text` is a decimal integer in [0, 2^64 - 1], else the reason (negative, not an integer, too large).
std::string seed_text(const std::string& text);
/// "" if `text` is an integer in [0, kMaxThreads], else the reason.
std::string threads_text(const std::string& text);

/// A finite number.
void finite(double value, const std::string& what);
/// A finite number > 0 (scales: sigma, kappa of a bandwidth, step sizes, learning rates).
void positive(double value, const std::string& what);
/// A finite number >= 0.
void non_negative(double value, const std::string& what);
/// An integer count in [min, max].
void count(long long value, const std::string& what, long long min, long long max);
/// Fails (before allocating) when `bytes` exceed the memory of this machine; `what` names the options.
void memory(double bytes, const std::string& what);

/// The physical memory of this machine in bytes (0 if unknown).
double physical_memory_bytes();

}  // namespace rbsm::validate
