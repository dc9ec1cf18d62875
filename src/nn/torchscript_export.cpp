#include "rbsm/nn/torchscript_export.hpp"

#include <fstream>
#include <sstream>

#include <torch/csrc/jit/frontend/tracer.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/nn/unet.hpp"

namespace rbsm::nn {

void export_unet_torchscript(const LoadedScoreModel& model, const std::filesystem::path& out) {
  if (!model.net) throw InvalidArgument("export-torchscript: no network loaded");
  if (!model.device.is_cpu()) throw InvalidArgument("export-torchscript: load the model on the CPU");
  const auto& net = model.net;  // eval mode, weights without gradients (load_score_model)
  const std::int64_t c = model.channels, h = model.height, w = model.width;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20261205);
  const auto x = at::randn({2, c, h, w}, gen, torch::kFloat32);
  const auto t = torch::tensor({0.3f, 0.7f});
  const auto fn = [&](torch::jit::Stack in) -> torch::jit::Stack {
    return {net->forward(in.at(0).toTensor(), in.at(1).toTensor())};
  };
  std::shared_ptr<torch::jit::Graph> graph;
  {
    torch::jit::Stack inputs{x, t};
    auto traced = torch::jit::tracer::trace(
        inputs, fn, [](const torch::autograd::Variable&) { return std::string(); },
        /*strict=*/true, /*force_outplace=*/false);
    graph = traced.first->graph;
  }
  // A module whose forward is the traced graph (with the module itself as first input, unused: the
  // weights are constants of the graph), as torch.jit.trace builds one in Python.
  torch::jit::Module module("RbsmUNetEps");
  graph->insertInput(0, "self")->setType(module._ivalue()->type());
  auto* fwd = module._ivalue()->compilation_unit()->create_function(
      c10::QualifiedName(*module.type()->name(), "forward"), graph);
  module.type()->addMethod(fwd);

  std::ostringstream bytes;
  module.save(bytes);
  // Check the round trip on a fresh batch of another size before writing.
  {
    torch::NoGradGuard no_grad;
    std::istringstream in(bytes.str());
    auto loaded = torch::jit::load(in);
    const auto x3 = at::randn({3, c, h, w}, gen, torch::kFloat32);
    const auto t3 = torch::tensor({0.01f, 0.5f, 1.0f});
    const auto want = net->forward(x3, t3);
    const auto got = loaded.forward({x3, t3}).toTensor();
    const double err = (got - want).abs().max().item<double>(), scale = want.abs().max().item<double>();
    if (!(err <= 1e-5 * std::max(scale, 1.0)))
      throw NumericalError("export-torchscript: the traced U-Net differs from the network by " + std::to_string(err));
  }
  if (out.has_parent_path()) io::ensure_directory(out.parent_path());
  io::atomic_write(out, bytes.str());  // NAME.tmp.PID, fsync, rename: never a half-written model
}

}  // namespace rbsm::nn
