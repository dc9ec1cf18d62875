#pragma once
// Test helper: the message of the rbsm::Error that f throws, or "(no error)".
#include <functional>
#include <string>

#include "rbsm/error.hpp"

inline std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const rbsm::Error& e) {
    return e.what();
  }
  return "(no error)";
}
