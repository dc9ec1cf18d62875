#pragma once
/// Device selection for LibTorch code: devices are passed in, never assumed.
#include <string>

#include <torch/types.h>

namespace rbsm::nn {

/// Parses "cpu", "cuda", "cuda:N" or "auto" (CUDA when available, else CPU); throws InvalidArgument
/// for anything else, or for CUDA when no GPU is present.
torch::Device parse_device(const std::string& text);

/// Sets the CPU threads of LibTorch's intra-op pool *and* of the BLAS library under it. Debian's
/// OpenBLAS (libopenblas0-pthread) keeps its own pool, sized to all cores, whose idle threads spin: with
/// torch set to one thread, a "--threads 1" job still ran two busy BLAS threads and, beside another job,
/// slowed both several-fold. The BLAS call is looked up at run time (dlsym), so any other BLAS is left as is.
/// Returns the previous LibTorch thread count. n >= 1.
int set_compute_threads(int n);

}  // namespace rbsm::nn
