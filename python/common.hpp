#pragma once
// Shared helpers of the Python bindings (python/rbsm_py.cpp, python/fit_py.cpp): numpy <-> Eigen with
// shape checks, long calls with the GIL released, Ctrl-C and progress on stderr.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "rbsm/error.hpp"
#include "rbsm/geometry/manifold.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/parallel.hpp"

namespace rbsm::py {

namespace pb = pybind11;
using geometry::Mat;
using geometry::Vec;
using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Thrown inside a long call when Ctrl-C was seen (the KeyboardInterrupt is already set in Python).
struct Interrupted {};

/// A batch of points given from Python: rows x cols float64, and whether a single (cols,) vector was given.
struct Batch {
  Mat m;
  bool single = false;
};

inline std::string shape_text(const pb::array& a) {
  std::string s = "(";
  for (pb::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

/// Converts `obj` (a numpy array or anything np.asarray takes) to an N x cols float64 matrix. Integer and
/// float32 arrays are converted, non-contiguous ones copied; bool, complex, object and string arrays are
/// refused (TypeError). A 1-D array of length cols is one point (Batch::single). Wrong shapes raise ValueError
/// naming the expected shape.
inline Batch to_batch(const pb::handle& obj, int cols, const char* name, bool allow_single = true) {
  pb::array a = pb::array::ensure(obj);
  if (!a)
    throw pb::type_error(std::string(name) + ": expected a float64 array of shape (N, " + std::to_string(cols) + ")");
  const char kind = a.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw pb::type_error(std::string(name) + ": expected a real (float or integer) array, got dtype " +
                         std::string(pb::str(a.dtype())));
  const bool single = a.ndim() == 1 && allow_single;
  if (!((a.ndim() == 2 && a.shape(1) == cols) || (single && a.shape(0) == cols)))
    throw rbsm::InvalidArgument(std::string(name) + ": expected shape (N, " + std::to_string(cols) + ")" +
                                (allow_single ? " or (" + std::to_string(cols) + ",)" : "") + ", got " + shape_text(a));
  auto c = pb::array_t<double, pb::array::c_style | pb::array::forcecast>::ensure(a);
  if (!c) throw pb::type_error(std::string(name) + ": cannot convert to float64");
  const Eigen::Index n = single ? 1 : static_cast<Eigen::Index>(c.shape(0));
  Batch b;
  b.single = single;
  b.m = Eigen::Map<const RowMat>(c.data(), n, cols);
  return b;
}

/// A new float64 array of the given shape (C order).
inline pb::array_t<double> new_array(const std::vector<pb::ssize_t>& shape) { return pb::array_t<double>(shape); }

/// Returns `a` with its leading axis dropped when the input was a single point.
inline pb::object maybe_single(pb::array_t<double> a, bool single) {
  if (!single) return std::move(a);
  if (a.ndim() == 1) return pb::float_(a.at(0));
  return a[pb::int_(0)];
}

inline pb::array_t<double> to_numpy(const Mat& m) {
  auto out = new_array({m.rows(), m.cols()});
  Eigen::Map<RowMat>(out.mutable_data(), m.rows(), m.cols()) = m;
  return out;
}

inline pb::array_t<double> to_numpy(const Vec& v) {
  auto out = new_array({v.size()});
  Eigen::Map<Vec>(out.mutable_data(), v.size()) = v;
  return out;
}

/// The state of one long call: Ctrl-C checks (PyErr_CheckSignals, from the calling thread, at most every
/// 20 ms) and a progress bar on stderr that appears once the call has run for 0.5 s (when enabled).
class LongCall {
 public:
  LongCall(std::string label, std::size_t total, bool progress)
      : label_(std::move(label)),
        total_(total),
        progress_(progress),
        caller_(std::this_thread::get_id()),
        start_(std::chrono::steady_clock::now()),
        last_check_(start_) {}

  /// Called from any thread with the GIL released, `done` items finished. Throws Interrupted after Ctrl-C.
  void poll(std::size_t done, const std::string& status = "") {
    if (stop_.load(std::memory_order_relaxed)) throw Interrupted{};
    if (std::this_thread::get_id() != caller_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_check_ < std::chrono::milliseconds(20)) return;
    last_check_ = now;
    {
      pb::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        stop_ = true;
        throw Interrupted{};
      }
    }
    if (progress_ && now - start_ > std::chrono::milliseconds(500)) {
      if (!bar_) bar_ = std::make_unique<io::Progress>(label_, total_, true);
      bar_->update(done, status);
    }
  }
  /// Counts one finished item (any thread) and polls.
  void tick(const std::string& status = "") { poll(++done_, status); }
  /// The final line (only if the bar was shown), with every item counted.
  void finish(const std::string& status = "") {
    if (!bar_) return;
    bar_->update(total_, status);
    bar_->finish(status);
  }

 private:
  std::string label_;
  std::size_t total_;
  bool progress_;
  std::thread::id caller_;
  std::chrono::steady_clock::time_point start_, last_check_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> done_{0};
  std::unique_ptr<io::Progress> bar_;
};

/// Runs f() with the GIL released; Ctrl-C (LongCall::poll) becomes KeyboardInterrupt.
template <class F>
void without_gil(F&& f) {
  bool interrupted = false;
  {
    pb::gil_scoped_release release;
    try {
      f();
    } catch (const Interrupted&) {
      interrupted = true;
    }
  }
  if (interrupted) {
    if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    throw pb::error_already_set();
  }
}

/// Re-throws an rbsm error of row i with the row in the message (same exception type).
[[noreturn]] inline void rethrow_with_row(std::size_t i, std::size_t n) {
  const std::string where = n > 1 ? "row " + std::to_string(i) + ": " : "";
  try {
    throw;
  } catch (const GeometryError& e) {
    throw GeometryError(where + e.what());
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(where + e.what());
  } catch (const NumericalError& e) {
    throw NumericalError(where + e.what());
  }
}

/// f(i) for every row i in [0, n), on `threads` threads (0: all), with the GIL released, Ctrl-C and progress.
/// With name_rows = false, errors pass unchanged (f names its rows itself).
template <class F>
void for_rows(std::size_t n, int threads, const std::string& label, bool progress, F&& f, std::size_t grain = 8,
              bool name_rows = true) {
  LongCall call(label, n, progress);
  without_gil([&] {
    parallel_for(
        n, threads,
        [&](std::size_t i) {
          try {
            f(i);
          } catch (const rbsm::Error&) {
            if (!name_rows) throw;
            rethrow_with_row(i, n);
          }
          call.tick();
        },
        grain);
    call.finish();
  });
}

}  // namespace rbsm::py
