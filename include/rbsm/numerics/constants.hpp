#pragma once
/// Mathematical constants used across rbsm (one definition; M_PI is POSIX, not standard C++17).
namespace rbsm {

inline constexpr double kPi = 3.14159265358979323846;

}  // namespace rbsm
