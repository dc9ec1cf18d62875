#pragma once
/// rbsm's own U-Net as a TorchScript archive (`rbsm export-torchscript`; docs/python.md "TorchScript"):
/// the network eps_theta(x, t) of a score-model checkpoint, traced in C++ with LibTorch's tracer
/// (torch::jit::tracer::trace, the engine behind torch.jit.trace), its weights folded into the graph as
/// constants. The archive loads in Python with torch.jit.load and in rbsm with --torchscript
/// --parametrisation eps --schedule vp --input-shape C,H,W; any batch size is accepted (the U-Net never
/// reads the batch size as a number). The same archive is what the tests compare with the native path.
#include <filesystem>

#include "rbsm/nn/checkpoint.hpp"

namespace rbsm::nn {

/// Traces model.net (loaded on the CPU) on a batch of two points of the model's shape at t = (0.3, 0.7) and writes the
/// module (forward(x [n, c, h, w], t [n]) -> eps [n, c, h, w], float32, CPU) to `out` atomically. Throws
/// IoError if `out` cannot be written, NumericalError if the saved module does not reproduce the network
/// on a fresh batch of three points (max |difference| > 1e-5 max |eps|).
void export_unet_torchscript(const LoadedScoreModel& model, const std::filesystem::path& out);

}  // namespace rbsm::nn
