// The output memory of the geometry calls (output_block in bindings.hpp): one block per call, and freed blocks
// kept for the next calls.
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <new>

#include "bindings.hpp"

namespace rbsm::py {
namespace {

constexpr std::size_t kHeader = 64;  // bytes before the first array: the block's capacity (and 64-byte alignment)

/// Freed output blocks, kept (up to kMaxBlocks blocks and kMaxBytes in all) for the next calls. Without it every
/// call of more than glibc's (adaptive) mmap threshold gets fresh pages from the kernel whenever glibc has given
/// the previous block back (it does so depending on what else was freed in between): 488 page faults per
/// M.local call of 4096 S^2 points (2 MB), each page zeroed by the kernel, 4-5x the time of computing the
/// output. A kept block is warm and already mapped. Used with the GIL held (allocation in the call, release in
/// the arrays' capsule destructor); the mutex is for safety only.
class BlockCache {
 public:
  static constexpr std::size_t kMaxBytes = std::size_t{64} << 20, kMaxBlocks = 4;

  /// A kept block of capacity in [bytes, 2 bytes] (the smallest), or null.
  void* take(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto best = kept_.end();
    for (auto it = kept_.begin(); it != kept_.end(); ++it)
      if (it->bytes >= bytes && it->bytes <= 2 * bytes && (best == kept_.end() || it->bytes < best->bytes)) best = it;
    if (best == kept_.end()) return nullptr;
    void* p = best->p;
    total_ -= best->bytes;
    kept_.erase(best);
    return p;
  }

  /// Keeps a freed block (the oldest kept ones go first to make room) or frees it when it is too large.
  void give(void* p, std::size_t bytes) {
    if (bytes <= kMaxBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      while (!kept_.empty() && (total_ + bytes > kMaxBytes || kept_.size() >= kMaxBlocks)) {
        std::free(kept_.front().p);
        total_ -= kept_.front().bytes;
        kept_.pop_front();
      }
      kept_.push_back({p, bytes});
      total_ += bytes;
      return;
    }
    std::free(p);
  }

 private:
  struct Kept {
    void* p;
    std::size_t bytes;
  };
  std::mutex mutex_;
  std::deque<Kept> kept_;
  std::size_t total_ = 0;
};

BlockCache& cache() {
  static auto* c = new BlockCache;  // never destroyed: capsules may be released during interpreter shutdown
  return *c;
}

/// A block of at least `bytes` bytes after its header (64-byte aligned), kept or new. New blocks of 4 MiB or more
/// get MADV_HUGEPAGE on their whole 2 MiB pages (advice only; numpy does the same for its arrays), so that their
/// first touch faults 2 MiB at a time instead of 4 KiB.
char* block(std::size_t bytes) {
  const std::size_t size = (kHeader + bytes + 63) / 64 * 64;
  void* p = cache().take(size);
  if (!p) {
    p = std::aligned_alloc(64, size);
    if (!p) throw std::bad_alloc();
    *static_cast<std::size_t*>(p) = size;
#ifdef MADV_HUGEPAGE
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    if (size >= 2 * kHuge) {
      const auto first = (reinterpret_cast<std::uintptr_t>(p) + kHuge - 1) / kHuge * kHuge;
      const auto last = (reinterpret_cast<std::uintptr_t>(p) + size) / kHuge * kHuge;
      if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
    }
#endif
  }
  return static_cast<char*>(p);
}

}  // namespace

std::vector<pb::array_t<double>> output_block(const std::vector<std::vector<pb::ssize_t>>& shapes) {
  constexpr std::size_t kAlign = 8;  // doubles: each array starts on a 64-byte boundary
  std::vector<std::size_t> offsets;
  std::size_t total = 0;
  for (const auto& shape : shapes) {
    std::size_t n = 1;
    for (pb::ssize_t e : shape) n *= static_cast<std::size_t>(e);
    offsets.push_back(total);
    total += (n + kAlign - 1) / kAlign * kAlign;
  }
  char* p = block(total * sizeof(double));
  const pb::capsule owner(p, [](void* q) { cache().give(q, *static_cast<std::size_t*>(q)); });
  double* data = reinterpret_cast<double*>(p + kHeader);
  std::vector<pb::array_t<double>> out;
  for (std::size_t i = 0; i < shapes.size(); ++i) out.emplace_back(shapes[i], data + offsets[i], owner);
  return out;
}

}  // namespace rbsm::py
