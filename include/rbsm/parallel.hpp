#pragma once
/// Deterministic data parallelism: `parallel_for(n, threads, f)` calls f(i) for every i in [0, n)
/// on up to `threads` threads (0 = hardware concurrency). Items are independent; anything random
/// inside f must use `Rng(seed, i)`, so the result is the same for every thread count.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace rbsm {

/// Number of worker threads for a request (0 = all hardware threads).
inline int resolve_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

/// Calls f(i) for i in [0, n), dynamically scheduled in blocks of `grain`. Exceptions thrown by f
/// are rethrown (the first one) after all workers stop.
template <class F>
void parallel_for(std::size_t n, int threads, F&& f, std::size_t grain = 1) {
  const int nt = std::min<std::size_t>(resolve_threads(threads), (n + grain - 1) / std::max<std::size_t>(grain, 1));
  if (nt <= 1) {
    for (std::size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (;;) {
      const std::size_t begin = next.fetch_add(grain);
      if (begin >= n) return;
      const std::size_t end = std::min(n, begin + grain);
      try {
        for (std::size_t i = begin; i < end; ++i) f(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next.store(n);
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace rbsm
