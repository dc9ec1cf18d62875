// Data-parallel training on c10d: the world, bucketed gradient all-reduce, the local launcher
// (include/rbsm/nn/distributed.hpp, docs/distributed.md).
#include "rbsm/nn/distributed.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <torch/torch.h>
#ifndef USE_C10D_GLOO
#error "rbsm's data-parallel training needs LibTorch's c10d with Gloo (USE_C10D_GLOO)"
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "distributed_detail.hpp"

extern char** environ;

namespace rbsm::nn {
namespace {

using namespace distributed_detail;
constexpr std::int64_t kBucketBytes = std::int64_t{32} << 20;

std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

int env_int(const char* name, const std::string& value, long lo, long hi) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || v < lo || v > hi)
    throw InvalidArgument(std::string(name) + "='" + value + "': expected an integer in [" + std::to_string(lo) + ", " +
                          std::to_string(hi) + "]");
  return static_cast<int>(v);
}

bool is_loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

void check_resolves(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0)
    throw InvalidArgument("MASTER_ADDR '" + host + "' does not resolve (" + ::gai_strerror(rc) +
                          "): expected the host name or address of rank 0");
  ::freeaddrinfo(res);
}
}  // namespace

// ------------------------------------------------------------------ options
void check_backend(const std::string& backend) {
  if (backend == "nccl")
    throw InvalidArgument("--backend nccl: this LibTorch has no NCCL (a CPU build); use --backend gloo");
  if (backend != "gloo") throw InvalidArgument("--backend '" + backend + "': expected gloo or nccl");
}

void DistributedOptions::validate() const {
  if (world_size < 1) throw InvalidArgument("WORLD_SIZE " + std::to_string(world_size) + ": expected >= 1");
  if (rank < 0 || rank >= world_size)
    throw InvalidArgument("RANK " + std::to_string(rank) +
                          ": expected a rank in [0, WORLD_SIZE = " + std::to_string(world_size) + ")");
  if (master_port < 1 || master_port > 65535)
    throw InvalidArgument("MASTER_PORT " + std::to_string(master_port) + ": expected a port in [1, 65535]");
  if (!(timeout_seconds > 0) || timeout_seconds > 1e6)
    throw InvalidArgument("--timeout " + std::to_string(timeout_seconds) + ": expected seconds in (0, 1e6]");
  check_backend(backend);
  if (master_addr.empty()) throw InvalidArgument("MASTER_ADDR is empty: expected the host of rank 0");
}

std::optional<DistributedOptions> DistributedOptions::from_environment() {
  const auto ws = env("WORLD_SIZE");
  if (!ws) return std::nullopt;
  DistributedOptions o;
  o.world_size = env_int("WORLD_SIZE", *ws, 1, 1 << 20);
  const auto need = [&](const char* name) {
    const auto v = env(name);
    if (!v)
      throw InvalidArgument(std::string("WORLD_SIZE is set but ") + name + " is not (the launch contract is " +
                            "RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT)");
    return *v;
  };
  o.rank = env_int("RANK", need("RANK"), 0, o.world_size - 1);
  o.local_rank = env("LOCAL_RANK") ? env_int("LOCAL_RANK", *env("LOCAL_RANK"), 0, 1 << 20) : o.rank;
  if (o.world_size > 1) {
    o.master_addr = need("MASTER_ADDR");
    o.master_port = env_int("MASTER_PORT", need("MASTER_PORT"), 1, 65535);
  }
  // The store is served by the launcher: ours, or torchrun's agent (TORCHELASTIC_USE_AGENT_STORE).
  o.store_hosted =
      env("RBSM_STORE_HOSTED").value_or("0") == "1" || env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  o.profile = env("RBSM_DIST_PROFILE").value_or("0") == "1";
  return o;
}

Shard batch_shard(std::int64_t batch, int rank, int size) {
  if (size < 1 || rank < 0 || rank >= size) throw InvalidArgument("batch_shard: rank outside the world");
  if (batch < size)
    throw InvalidArgument("--batch " + std::to_string(batch) + " is smaller than the " + std::to_string(size) +
                          " workers: every worker needs at least one example per step");
  return {batch * rank / size, batch * (rank + 1) / size};
}

// ------------------------------------------------------------------ the world
struct World::Impl {
  int rank = 0, size = 1;
  double timeout = 300;
  bool profile = false;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> pg;
  double reduce_seconds = 0, wait_seconds = 0;
  std::int64_t calls = 0, bytes = 0;

  [[noreturn]] void fail(const std::string& what, const std::exception& e) const {
    throw DistributedError(what + " failed on rank " + std::to_string(rank) + " of " + std::to_string(size) + " (" +
                           first_line(e.what()) + "): a worker died, or did not get there within " +
                           seconds_text(timeout));
  }
};

World::World() : impl_(std::make_shared<Impl>()) {}

int World::rank() const { return impl_->rank; }
int World::size() const { return impl_->size; }
double World::timeout_seconds() const { return impl_->timeout; }
double World::all_reduce_seconds() const { return impl_->reduce_seconds; }
double World::wait_seconds() const { return impl_->wait_seconds; }
std::int64_t World::all_reduce_calls() const { return impl_->calls; }
std::int64_t World::all_reduce_bytes() const { return impl_->bytes; }

World World::join(const DistributedOptions& o, const std::string& fingerprint) {
  o.validate();
  World w;
  w.impl_->timeout = o.timeout_seconds;
  if (o.world_size == 1) return w;
  check_resolves(o.master_addr);
  const auto timeout = to_ms(o.timeout_seconds);
  const std::string where = o.master_addr + ":" + std::to_string(o.master_port);
  const bool serve = o.rank == 0 && !o.store_hosted;

  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.master_port);
  so.isServer = serve;
  so.waitWorkers = false;
  so.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    const std::string m = first_line(e.what());
    if (serve && m.find("in use") != std::string::npos)
      throw DistributedError("MASTER_PORT " + std::to_string(o.master_port) + " is already in use on " + o.master_addr +
                             ": choose a free port");
    if (serve) throw DistributedError("rank 0 cannot serve the rendezvous on " + where + " (" + m + ")");
    throw DistributedError("rank " + std::to_string(o.rank) + " could not reach the master at " + where + " within " +
                           seconds_text(o.timeout_seconds) + " (is rank 0 running there, are MASTER_ADDR and " +
                           "MASTER_PORT right?)");
  }
  auto rbsm_store = c10::make_intrusive<c10d::PrefixStore>("rbsm", store);
  const std::string me = std::to_string(o.rank);
  try {
    if (rbsm_store->add("claim/" + me, 1) > 1)
      throw DistributedError("RANK " + me + " joined twice (two workers were started with the same RANK)");
    rbsm_store->set("world/" + me, bytes(std::to_string(o.world_size) + "\n" + fingerprint));
    const auto check = [&](int r) {
      const std::string v = text(rbsm_store->get("world/" + std::to_string(r)));
      const std::string ws = v.substr(0, v.find('\n')), fp = v.substr(v.find('\n') + 1);
      if (ws != std::to_string(o.world_size))
        throw DistributedError("WORLD_SIZE mismatch: rank " + me + " has WORLD_SIZE " + std::to_string(o.world_size) +
                               ", rank " + std::to_string(r) + " has " + ws + " (start every worker with the same)");
      if (fp != fingerprint)
        throw DistributedError("rank " + std::to_string(r) + " was started with other training options than rank " +
                               me + " (every worker must run the same command)");
    };
    if (o.rank == 0) {
      std::vector<std::string> keys;
      for (int r = 1; r < o.world_size; ++r) keys.push_back("world/" + std::to_string(r));
      try {
        rbsm_store->wait(keys, timeout);
      } catch (const std::exception&) {
        std::string missing;
        for (int r = 1; r < o.world_size; ++r)
          if (!rbsm_store->check({"world/" + std::to_string(r)}))
            missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        throw DistributedError("rendezvous on " + where + ": rank(s) " + missing + " of WORLD_SIZE " +
                               std::to_string(o.world_size) + " did not join within " +
                               seconds_text(o.timeout_seconds));
      }
      for (int r = 1; r < o.world_size; ++r) check(r);
    } else {
      try {
        rbsm_store->wait({"world/0"}, timeout);
      } catch (const std::exception&) {
        throw DistributedError("rendezvous on " + where + ": rank 0 did not join within " +
                               seconds_text(o.timeout_seconds));
      }
      check(0);
    }
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError("rendezvous on " + where + " failed (" + first_line(e.what()) + ")");
  }

  try {
    auto gopts = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const auto ifname = env("GLOO_SOCKET_IFNAME"))
      gopts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(*ifname));
    else if (is_loopback(o.master_addr))
      gopts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
      gopts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    auto gloo_store = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
    w.impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(gloo_store, o.rank, o.world_size, gopts);
  } catch (const std::exception& e) {
    throw DistributedError("connecting the " + std::to_string(o.world_size) + " workers (Gloo) failed on rank " + me +
                           " (" + first_line(e.what()) + ")");
  }
  w.impl_->rank = o.rank;
  w.impl_->size = o.world_size;
  w.impl_->profile = o.profile;
  w.impl_->store = store;
  return w;
}

void World::barrier() {
  if (impl_->size == 1) return;
  try {
    impl_->pg->barrier()->wait();
  } catch (const std::exception& e) {
    impl_->fail("barrier", e);
  }
}

void World::all_reduce_sum(const std::vector<at::Tensor>& tensors, std::vector<double>& scalars) {
  if (impl_->size == 1) return;
  // Buckets: tensors of one dtype, in order, at most kBucketBytes each (a larger tensor gets its own).
  struct Bucket {
    at::ScalarType dtype;
    std::vector<std::size_t> members;
    std::int64_t numel = 0;
  };
  std::vector<Bucket> buckets;
  std::map<at::ScalarType, std::size_t> open;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor& t = tensors[i];
    if (!t.defined()) throw InvalidArgument("all_reduce_sum: undefined tensor " + std::to_string(i));
    const auto dt = t.scalar_type();
    auto it = open.find(dt);
    if (it == open.end() ||
        (buckets[it->second].numel + t.numel()) * static_cast<std::int64_t>(t.element_size()) > kBucketBytes) {
      buckets.push_back({dt, {}, 0});
      it = open.insert_or_assign(dt, buckets.size() - 1).first;
    }
    buckets[it->second].members.push_back(i);
    buckets[it->second].numel += t.numel();
  }
  if (buckets.empty()) buckets.push_back({at::kDouble, {}, 0});
  std::vector<at::Tensor> flat(buckets.size());
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const std::int64_t extra = b == 0 ? static_cast<std::int64_t>(scalars.size()) : 0;
    flat[b] = torch::empty({buckets[b].numel + extra}, torch::TensorOptions().dtype(buckets[b].dtype));
    std::int64_t off = 0;
    for (auto i : buckets[b].members) {
      const auto n = tensors[i].numel();
      flat[b].narrow(0, off, n).copy_(tensors[i].reshape({-1}));
      off += n;
    }
    for (std::int64_t k = 0; k < extra; ++k) flat[b][off + k] = scalars[k];
    impl_->bytes += flat[b].numel() * static_cast<std::int64_t>(flat[b].element_size());
  }
  if (impl_->profile) {
    const auto t0 = Clock::now();
    barrier();
    impl_->wait_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  }
  const auto t0 = Clock::now();
  try {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& f : flat) {
      std::vector<at::Tensor> one{f};
      works.push_back(impl_->pg->allreduce(one));
    }
    for (auto& w : works) w->wait();
  } catch (const std::exception& e) {
    impl_->fail("all-reduce", e);
  }
  impl_->reduce_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
  ++impl_->calls;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    std::int64_t off = 0;
    for (auto i : buckets[b].members) {
      const auto n = tensors[i].numel();
      at::Tensor dst = tensors[i];
      dst.copy_(flat[b].narrow(0, off, n).view(dst.sizes()));
      off += n;
    }
    if (b == 0)
      for (std::size_t k = 0; k < scalars.size(); ++k)
        scalars[k] = flat[0][off + static_cast<std::int64_t>(k)].item<double>();
  }
}

double World::all_reduce_sum(double x) {
  std::vector<double> s{x};
  all_reduce_sum({}, s);
  return s[0];
}

void all_reduce_gradients(World& world, const std::vector<at::Tensor>& parameters, std::vector<double>& scalars) {
  if (world.size() == 1) return;
  std::vector<at::Tensor> grads;
  grads.reserve(parameters.size());
  for (const auto& p : parameters) {
    at::Tensor p_mut = p;
    if (!p_mut.grad().defined()) p_mut.mutable_grad() = torch::zeros_like(p_mut);
    grads.push_back(p_mut.grad());
  }
  torch::NoGradGuard no_grad;
  world.all_reduce_sum(grads, scalars);
}

ReducedStep reduced_backward(World& world, at::Tensor loss, double share, const std::vector<at::Tensor>& parameters,
                             bool stop_here, const std::function<std::string()>& context) {
  if (world.size() > 1) loss = loss * share;
  loss.backward();
  std::vector<double> scalars{loss.item<double>(), stop_here ? 1.0 : 0.0};
  try {
    all_reduce_gradients(world, parameters, scalars);
  } catch (const DistributedError& e) {
    throw DistributedError(std::string(e.what()) + "; " + context());
  }
  return {scalars[0], scalars[1] > 0};
}

}  // namespace rbsm::nn
