// rbsm train --data mnist --out RUN [...]: trains a VP-SDE score model (U-Net, noise prediction) and
// writes the run folder RUN (config.json, log.txt, metrics.csv, checkpoint.pt). --resume RUN continues
// a run bit-identically; Ctrl-C saves a checkpoint and exits cleanly. --nproc N trains data-parallel on N
// local workers (or the RANK/WORLD_SIZE/... environment of a launcher). docs/diffusion.md, docs/distributed.md.
#include <algorithm>
#include <optional>
#include <sstream>
#include <utility>

#include "cli.hpp"
#include "distributed_cli.hpp"

#include "rbsm/data/images.hpp"
#include "rbsm/error.hpp"
#include "rbsm/io/files.hpp"
#include "rbsm/io/progress.hpp"
#include "rbsm/io/run_folder.hpp"
#include "rbsm/nn/checkpoint.hpp"
#include "rbsm/nn/device.hpp"
#include "rbsm/nn/tensor_data.hpp"
#include "rbsm/nn/train.hpp"

namespace rbsm::cli {
namespace {
namespace fs = std::filesystem;

struct TrainCli {
  std::string data = "mnist", out, resume, device = "auto";
  std::int64_t steps = 2000, batch = 128, channels = 32, res_blocks = 2, warmup = 200, checkpoint_every = 500;
  std::vector<std::int64_t> mults{1, 2, 2}, attention{7};
  double lr = 2e-4, ema = 0.999, dropout = 0.0;
  DistributedCli dist;
};

Register reg(
    "train", "Train a VP-SDE score model (time-conditioned U-Net) on images and write a run folder",
    [](CLI::App& app, const Common& common) -> Runner {
      auto o = std::make_shared<TrainCli>();
      app.add_option("--data", o->data, "mnist | fashion-mnist | PATH (IDX folder)")->capture_default_str();
      app.add_option("--out", o->out, "run folder to create (config.json, metrics.csv, checkpoint.pt)");
      app.add_option("--resume", o->resume, "continue the run in this folder (up to --steps in total)");
      app.add_option("--steps", o->steps, "total optimiser steps")->capture_default_str();
      app.add_option("--batch", o->batch, "batch size")->capture_default_str();
      app.add_option("--lr", o->lr, "Adam learning rate (after a linear warm-up)")->capture_default_str();
      app.add_option("--warmup", o->warmup, "learning-rate warm-up steps")->capture_default_str();
      app.add_option("--ema", o->ema, "EMA decay of the weights used for sampling")->capture_default_str();
      app.add_option("--channels", o->channels, "U-Net base width C")->capture_default_str();
      app.add_option("--mults", o->mults, "width multiplier per resolution level")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--res-blocks", o->res_blocks, "residual blocks per level")->capture_default_str();
      app.add_option("--attention", o->attention, "resolutions with self-attention (0: none)")
          ->delimiter(',')
          ->capture_default_str();
      app.add_option("--dropout", o->dropout, "dropout in the residual blocks")->capture_default_str();
      app.add_option("--checkpoint-every", o->checkpoint_every, "steps between checkpoints")->capture_default_str();
      app.add_option("--device", o->device, "auto | cpu | cuda[:N]")->capture_default_str();
      add_distributed_options(app, o->dist);
      return [o, &app, &common]() -> json {
        const torch::Device device = nn::parse_device(o->device);
        std::vector<std::int64_t> attn;
        for (auto r : o->attention)
          if (r > 0) attn.push_back(r);
        nn::UNetOptions arch = nn::UNetOptions()
                                   .channels(o->channels)
                                   .channel_mult(o->mults)
                                   .num_res_blocks(o->res_blocks)
                                   .attn_resolutions(attn)
                                   .dropout(o->dropout);
        nn::TrainOptions opts = nn::TrainOptions()
                                    .steps(o->steps)
                                    .batch_size(o->batch)
                                    .lr(o->lr)
                                    .warmup(o->warmup)
                                    .ema_decay(o->ema)
                                    .checkpoint_every(o->checkpoint_every)
                                    .seed(common.seed)
                                    .data(o->data);
        opts.validate();  // before anything is read or written
        const bool resume = !o->resume.empty();
        fs::path out;
        json resumed_config;
        if (resume) {
          if (!o->out.empty() && fs::path(o->out) != fs::path(o->resume))
            throw InvalidArgument("--out " + o->out + " and --resume " + o->resume +
                                  " name different folders (a resumed run continues in its own folder)");
          out = o->resume;
          resumed_config = nn::read_checkpoint_config(out);  // IoError if missing or corrupt
          // Architecture and hyperparameters come from the checkpoint; contradicting flags are errors.
          const json& tr = resumed_config.at("train");
          const json arch_ckpt = resumed_config.at("unet");
          std::string conflicts;
          auto given = [&](const char* flag) { return app.get_option(flag)->count() > 0; };
          const json arch_cli = arch.to_json();
          for (const auto& [flag, key] :
               std::vector<std::pair<std::string, std::string>>{{"--channels", "channels"},
                                                                {"--mults", "channel_mult"},
                                                                {"--res-blocks", "num_res_blocks"},
                                                                {"--attention", "attn_resolutions"},
                                                                {"--dropout", "dropout"}})
            if (given(flag.c_str()) && arch_ckpt.at(key) != arch_cli.at(key)) conflicts += " " + flag;
          if (given("--batch") && tr.at("batch_size").get<std::int64_t>() != o->batch) conflicts += " --batch";
          if (given("--lr") && tr.at("lr").get<double>() != o->lr) conflicts += " --lr";
          if (given("--ema") && tr.at("ema_decay").get<double>() != o->ema) conflicts += " --ema";
          if (given("--warmup") && tr.at("warmup").get<std::int64_t>() != o->warmup) conflicts += " --warmup";
          if (given("--seed") && tr.at("seed").get<std::uint64_t>() != common.seed) conflicts += " --seed";
          if (!conflicts.empty())
            throw InvalidArgument("--resume " + o->resume + ": the checkpoint was trained with other settings of" +
                                  conflicts + " (a resumed run keeps its own)");
          if (!given("--data")) o->data = tr.value("data", std::string("mnist"));
          if (resumed_config.at("step").get<std::int64_t>() >= o->steps)
            throw InvalidArgument(
                "--steps " + std::to_string(o->steps) + ": the run " + o->resume + " is already at step " +
                std::to_string(resumed_config.at("step").get<std::int64_t>()) + " (give a larger total)");
        } else {
          if (o->out.empty()) throw InvalidArgument("--out RUN is required (or --resume RUN)");
          out = o->out;
          arch.validate();
          if (fs::exists(out / "checkpoint.pt"))
            throw InvalidArgument("--out " + o->out + " already holds a checkpoint (continue it with --resume " +
                                  o->out + ", or choose another folder)");
        }
        const std::int64_t batch = resume ? resumed_config.at("train").at("batch_size").get<std::int64_t>() : o->batch;
        if (auto launched = launch_workers_if_asked(o->dist, common, batch)) return *launched;
        nn::World world =
            join_world(o->dist, opts.to_json().dump() + arch.to_json().dump() + o->data + (resume ? " resume" : ""));
        const data::ImageSet set = data::load_dataset(o->data, /*train=*/true);
        const torch::Tensor images = nn::images_to_tensor(set);
        const int threads = apply_threads(common);

        json config{{"command", "train"},     {"data", o->data},        {"n_train", set.size()},
                    {"device", device.str()}, {"threads", threads},     {"workers", world.size()},
                    {"unet", arch.to_json()}, {"train", opts.to_json()}};
        if (resume) {
          json previous = json::object();
          try {
            previous = json::parse(io::read_file(out / "config.json"));
          } catch (const std::exception&) {
          }
          config = previous.is_object() ? previous : config;
          config["resumes"].push_back({{"from_step", resumed_config.at("step")},
                                       {"to_steps", o->steps},
                                       {"threads", threads},
                                       {"workers", world.size()},
                                       {"device", device.str()}});
        }
        // Rank 0 writes the run folder, the log and the progress bar; the other ranks only train.
        std::optional<io::RunFolder> run_folder;
        if (world.is_root()) run_folder.emplace(out, config, io::RunFolder::Placement::in_place);  // resumable
        const auto log = [&](const std::string& line) {
          if (run_folder) run_folder->log(line);
        };
        log("train: " + std::to_string(set.size()) + " images from " + o->data + ", device " + device.str() + ", " +
            std::to_string(threads) + " threads" +
            (world.size() > 1 ? " on each of " + std::to_string(world.size()) + " workers" : "") +
            (resume ? ", resuming from step " + std::to_string(resumed_config.at("step").get<std::int64_t>()) : ""));

        const std::int64_t start = resume ? resumed_config.at("step").get<std::int64_t>() : 0;
        std::optional<io::Progress> progress;
        if (world.is_root()) progress.emplace("train", static_cast<std::size_t>(o->steps - start));
        nn::TrainHooks hooks;
        hooks.should_stop = [] { return interrupted().load(); };
        hooks.on_step = [&](std::int64_t step, double loss, double lr) {
          if (!progress) return;
          std::ostringstream s;
          s.precision(4);
          s << "loss=" << loss << " lr=" << lr;
          progress->update(static_cast<std::size_t>(step - start), s.str());
        };
        const auto r = nn::train_score_model(images, arch, nn::VPSDE(), opts, out, device, resume, hooks, world);
        if (progress) progress->finish("loss=" + fmt(r.last_loss));
        const double rate = r.seconds > 0 ? static_cast<double>(r.step - r.start_step) / r.seconds : 0.0;
        const std::int64_t steps_done = std::max<std::int64_t>(1, r.step - r.start_step);
        json dist{{"workers", world.size()},
                  {"rank", world.rank()},
                  {"all_reduce_seconds", r.all_reduce_seconds},
                  {"all_reduce_seconds_per_step", r.all_reduce_seconds / static_cast<double>(steps_done)},
                  {"wait_seconds_per_step", r.wait_seconds / static_cast<double>(steps_done)}};
        if (!world.is_root())
          return {{"run", out.string()},      {"step", r.step},       {"stopped", r.stopped},
                  {"last_loss", r.last_loss}, {"seconds", r.seconds}, {"steps_per_second", rate},
                  {"distributed", dist}};
        if (r.stopped)
          log("train: interrupted at step " + std::to_string(r.step) +
              "; checkpoint saved, continue with: rbsm train --resume " + out.string() + " --steps " +
              std::to_string(o->steps));
        else
          log("train: done, " + std::to_string(r.step) + " steps, last loss " + fmt(r.last_loss) + ", " + fmt(rate, 3) +
              " steps/s");
        const auto model = nn::load_score_model(out, torch::kCPU);
        return {{"run", out.string()},
                {"checkpoint", r.checkpoint.string()},
                {"step", r.step},
                {"start_step", r.start_step},
                {"stopped", r.stopped},
                {"last_loss", r.last_loss},
                {"seconds", r.seconds},
                {"steps_per_second", rate},
                {"parameters", model.parameter_count()},
                {"distributed", dist}};
      };
    });

}  // namespace
}  // namespace rbsm::cli
