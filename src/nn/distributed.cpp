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

extern char** environ;

namespace rbsm::nn {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kBucketBytes = std::int64_t{32} << 20;

std::string first_line(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}
std::string seconds_text(double s) {
  std::ostringstream o;
  o << s << " s";
  return o.str();
}
std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0 + 0.5));
}
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<std::uint8_t>& b) { return {b.begin(), b.end()}; }

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

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

// ------------------------------------------------------------------ the local launcher
namespace {
std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int s = WTERMSIG(status);
    const char* name = ::strsignal(s);
    return "was killed by signal " + std::to_string(s) + (name ? std::string(" (") + name + ")" : std::string());
  }
  return "ended with status " + std::to_string(status);
}
}  // namespace

std::vector<std::string> own_command_line_for_workers() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string cur;
  for (char c : all) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) args.push_back(cur);
  if (args.empty()) throw IoError("cannot read this process' command line from /proc/self/cmdline");
  std::vector<std::string> out;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  out.push_back(ec ? args[0] : exe.string());
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--nproc" || a == "--threads") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0 || a.rfind("--threads=", 0) == 0) continue;
    out.push_back(a);
  }
  return out;
}

LaunchResult launch_local_workers(const std::vector<std::string>& argv_in, const LaunchOptions& o,
                                  const std::function<bool()>& interrupted) {
  if (argv_in.empty()) throw InvalidArgument("launch_local_workers: empty command");
  if (o.nproc < 1 || o.nproc > 1024)
    throw InvalidArgument("--nproc " + std::to_string(o.nproc) + ": expected [1, 1024]");
  if (env("WORLD_SIZE"))
    throw InvalidArgument("--nproc " + std::to_string(o.nproc) + " with WORLD_SIZE set in the environment: the " +
                          "workers are launched already (drop --nproc, or unset WORLD_SIZE)");
  // The launcher serves the store: the port is bound before any worker starts, so it is never raced for.
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.master_port);
  so.isServer = true;
  so.waitWorkers = false;
  so.timeout = to_ms(o.timeout_seconds);
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    throw DistributedError("--nproc: cannot serve the rendezvous on " + o.master_addr + ":" +
                           std::to_string(o.master_port) + " (" + first_line(e.what()) + ")");
  }
  const int port = store->getPort();

  std::vector<std::string> args = argv_in;
  args.push_back("--threads");
  args.push_back(std::to_string(std::max(1, o.threads_per_worker)));
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  const std::vector<std::string> ours{"RANK",        "WORLD_SIZE",  "LOCAL_RANK",       "LOCAL_WORLD_SIZE",
                                      "MASTER_ADDR", "MASTER_PORT", "RBSM_STORE_HOSTED"};
  std::vector<std::string> base;
  bool glog_set = false;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    const std::string key = kv.substr(0, kv.find('='));
    if (key == "GLOG_minloglevel") glog_set = true;
    if (std::find(ours.begin(), ours.end(), key) == ours.end()) base.push_back(kv);
  }
  if (!glog_set) base.push_back("GLOG_minloglevel=3");  // c10d's own log lines: our errors say it in one line
  std::vector<std::vector<std::string>> envs(o.nproc, base);
  for (int r = 0; r < o.nproc; ++r) {
    envs[r].push_back("RANK=" + std::to_string(r));
    envs[r].push_back("LOCAL_RANK=" + std::to_string(r));
    envs[r].push_back("WORLD_SIZE=" + std::to_string(o.nproc));
    envs[r].push_back("LOCAL_WORLD_SIZE=" + std::to_string(o.nproc));
    envs[r].push_back("MASTER_ADDR=" + o.master_addr);
    envs[r].push_back("MASTER_PORT=" + std::to_string(port));
    envs[r].push_back("RBSM_STORE_HOSTED=1");
  }
  std::vector<std::vector<char*>> cenvs(o.nproc);
  for (int r = 0; r < o.nproc; ++r) {
    for (auto& kv : envs[r]) cenvs[r].push_back(kv.data());
    cenvs[r].push_back(nullptr);
  }

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw IoError(std::string("--nproc: pipe: ") + std::strerror(errno));
  const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  std::vector<pid_t> pids(o.nproc, -1);
  std::vector<int> status(o.nproc, 0);
  std::vector<bool> done(o.nproc, false);
  const auto kill_all = [&](int sig) {
    for (int r = 0; r < o.nproc; ++r)
      if (pids[r] > 0 && !done[r]) ::kill(pids[r], sig);
  };
  for (int r = 0; r < o.nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      kill_all(SIGKILL);
      throw IoError(std::string("--nproc: fork: ") + std::strerror(errno));
    }
    if (pid == 0) {     // the worker: only async-signal-safe calls until execve
      ::setpgid(0, 0);  // the terminal's Ctrl-C reaches the launcher, which forwards it once
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(125);
      ::dup2(r == 0 ? out_pipe[1] : devnull, STDOUT_FILENO);
      ::execve(cargv[0], cargv.data(), cenvs[r].data());
      ::_exit(127);
    }
    pids[r] = pid;
  }
  ::close(out_pipe[1]);
  if (devnull >= 0) ::close(devnull);

  LaunchResult result;
  int alive = o.nproc, first_failed = -1;
  bool forwarded = false, pipe_open = true;
  // A clean end: status 0, or, after a forwarded Ctrl-C, the CLI's "interrupted" status 130.
  const auto clean = [&](int st) {
    return WIFEXITED(st) && (WEXITSTATUS(st) == 0 || (forwarded && WEXITSTATUS(st) == 130));
  };
  bool has_deadline = false;  // once a worker failed: when the rest get killed
  Clock::time_point deadline{};
  std::vector<bool> killed(o.nproc, false);
  while (alive > 0 || pipe_open) {
    if (pipe_open) {
      pollfd p{out_pipe[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, 50);
      if (ready > 0) {
        char buf[4096];
        const ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
        if (n > 0)
          result.root_stdout.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EINTR && errno != EAGAIN))
          pipe_open = false;  // rank 0 closed its stdout (it ended)
      }
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (interrupted && !forwarded && interrupted()) {
      kill_all(SIGINT);
      forwarded = true;
    }
    std::vector<int> failed_now;
    for (int r = 0; r < o.nproc; ++r) {
      if (done[r]) continue;
      int st = 0;
      const pid_t w = ::waitpid(pids[r], &st, WNOHANG);
      if (w != pids[r]) continue;
      done[r] = true;
      status[r] = st;
      --alive;
      if (!clean(st)) failed_now.push_back(r);
    }
    if (first_failed < 0 && !failed_now.empty()) {
      // Seen in the same poll: a worker killed by a signal is the cause, the others noticed it.
      first_failed = failed_now.front();
      for (int r : failed_now)
        if (WIFSIGNALED(status[r])) {
          first_failed = r;
          break;
        }
      deadline = Clock::now() + to_ms(o.timeout_seconds + 5.0);
      has_deadline = true;
    }
    if (has_deadline && Clock::now() > deadline && alive > 0) {
      for (int r = 0; r < o.nproc; ++r)
        if (!done[r]) killed[r] = true;
      kill_all(SIGKILL);
      has_deadline = false;
    }
  }
  ::close(out_pipe[0]);
  if (first_failed >= 0) {
    std::string msg = "worker " + std::to_string(first_failed) + " of " + std::to_string(o.nproc) + " " +
                      describe_status(status[first_failed]);
    for (int r = 0; r < o.nproc; ++r)
      if (r != first_failed && !killed[r] && !clean(status[r]))
        msg += "; worker " + std::to_string(r) + " " + describe_status(status[r]);
    for (int r = 0; r < o.nproc; ++r)
      if (killed[r])
        msg += "; worker " + std::to_string(r) + " did not stop within " + seconds_text(o.timeout_seconds + 5.0) +
               " and was killed";
    throw DistributedError("--nproc " + std::to_string(o.nproc) + ": " + msg);
  }
  return result;
}

}  // namespace rbsm::nn
