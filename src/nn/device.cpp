#include "rbsm/nn/device.hpp"

#include <dlfcn.h>

#include <torch/cuda.h>
#include <torch/utils.h>

#include "rbsm/error.hpp"

namespace rbsm::nn {

torch::Device parse_device(const std::string& text) {
  if (text == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (text == "cpu") return torch::Device(torch::kCPU);
  if (text.rfind("cuda", 0) == 0) {
    if (!torch::cuda::is_available()) throw InvalidArgument("--device " + text + ": no CUDA GPU is available");
    try {
      return torch::Device(text);
    } catch (const std::exception&) {
      throw InvalidArgument("--device: malformed device '" + text + "'");
    }
  }
  throw InvalidArgument("--device: unknown device '" + text + "' (expected cpu, cuda, cuda:N or auto)");
}

int set_compute_threads(int n) {
  if (n < 1) throw InvalidArgument("threads = " + std::to_string(n) + ", expected >= 1");
  const int previous = torch::get_num_threads();
  torch::set_num_threads(n);
  using SetThreads = void (*)(int);
  if (auto* openblas = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) openblas(n);
  return previous;
}

}  // namespace rbsm::nn
