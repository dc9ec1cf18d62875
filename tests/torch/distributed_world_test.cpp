// The world of data-parallel training in threads of one process (include/rbsm/nn/distributed.hpp,
// docs/distributed.md): all-reduce of every dtype and the scalars, batch shards, and the environment
// contract of the rendezvous, checked variable by variable. The multi-process tests are in
// distributed_test.cpp.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "rbsm/error.hpp"
#include "rbsm/nn/distributed.hpp"

namespace rbsm::nn {
namespace {
using namespace testing;

int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

/// Whether something accepts TCP connections on 127.0.0.1:port within `seconds` (polled every 10 ms).
bool wait_until_listening(int port, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

DistributedOptions local(int rank, int size, int port, double timeout = 20) {
  DistributedOptions o;
  o.rank = rank;
  o.world_size = size;
  o.master_port = port;
  o.timeout_seconds = timeout;
  return o;
}

TEST(Distributed, AllReduceSumsEveryDtypeAndTheScalars) {
  const int port = free_port();
  std::vector<std::vector<torch::Tensor>> got(2);
  std::vector<std::vector<double>> scalars(2);
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r)
    threads.emplace_back([&, r] {
      try {
        World w = World::join(local(r, 2, port));
        // rank r: float32 [r+1, ...] of shape 3x4, float64 arange * (r+1), a float32 vector
        got[r] = {torch::full({3, 4}, static_cast<float>(r + 1)), torch::arange(5, torch::kFloat64) * (r + 1),
                  torch::full({7}, 0.5f * static_cast<float>(r))};
        scalars[r] = {1.0 + r, r == 1 ? 1.0 : 0.0};
        w.all_reduce_sum(got[r], scalars[r]);
        EXPECT_EQ(w.all_reduce_sum(0.25 * (r + 1)), 0.75);
        w.barrier();
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(errors[r], "") << "rank " << r;
    EXPECT_TRUE(torch::equal(got[r][0], torch::full({3, 4}, 3.0f)));
    EXPECT_TRUE(torch::equal(got[r][1], torch::arange(5, torch::kFloat64) * 3));
    EXPECT_TRUE(torch::equal(got[r][2], torch::full({7}, 0.5f)));
    EXPECT_EQ(scalars[r], (std::vector<double>{3.0, 1.0}));
  }
}

TEST(Distributed, BatchShardsPartitionTheBatch) {
  for (int n : {1, 2, 3, 7})
    for (std::int64_t B : {7, 8, 64, 1000}) {
      std::int64_t next = 0;
      for (int r = 0; r < n; ++r) {
        const Shard s = batch_shard(B, r, n);
        EXPECT_EQ(s.begin, next);
        EXPECT_TRUE(s.size() == B / n || s.size() == B / n + 1) << B << " over " << n;
        next = s.end;
      }
      EXPECT_EQ(next, B);
    }
  EXPECT_THROW(batch_shard(2, 0, 3), InvalidArgument);
}

TEST(Distributed, TheEnvironmentContractIsCheckedVariableByVariable) {
  const auto with = [](std::vector<std::pair<const char*, const char*>> vars) -> std::string {
    for (const char* k : {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) ::unsetenv(k);
    for (const auto& [k, v] : vars) ::setenv(k, v, 1);
    std::string what;
    try {
      DistributedOptions::from_environment();
    } catch (const InvalidArgument& e) {
      what = e.what();
    }
    for (const auto& kv : vars) ::unsetenv(kv.first);
    return what;
  };
  EXPECT_FALSE(DistributedOptions::from_environment().has_value());  // no WORLD_SIZE: one process
  EXPECT_NE(with({{"WORLD_SIZE", "two"}}).find("WORLD_SIZE='two'"), std::string::npos);
  EXPECT_NE(with({{"WORLD_SIZE", "2"}}).find("RANK is not"), std::string::npos);
  EXPECT_NE(with({{"WORLD_SIZE", "2"}, {"RANK", "2"}}).find("RANK='2': expected an integer in [0, 1]"),
            std::string::npos);
  EXPECT_NE(with({{"WORLD_SIZE", "2"}, {"RANK", "1"}}).find("MASTER_ADDR is not"), std::string::npos);
  EXPECT_NE(with({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                .find("MASTER_PORT='70000'"),
            std::string::npos);
  EXPECT_EQ(with({{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "29500"}}), "");
}

TEST(Distributed, ABadEnvironmentFailsAtOnceNamingIt) {
  using Clock = std::chrono::steady_clock;
  const auto elapsed = [](Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  // A master host that does not resolve.
  auto bad_host = local(1, 2, free_port());
  bad_host.master_addr = "no-such-host.invalid";
  auto t0 = Clock::now();
  try {
    World::join(bad_host);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("MASTER_ADDR 'no-such-host.invalid' does not resolve"), std::string::npos)
        << e.what();
  }
  // A port somebody else listens on.
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 1), 0);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int taken = ntohs(a.sin_port);
  t0 = Clock::now();
  try {
    World::join(local(0, 2, taken));
    FAIL();
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("MASTER_PORT " + std::to_string(taken) + " is already in use"),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(elapsed(t0), 2.0);
  ::close(s);
  // No master listening: rank 1 gives up after its (1 s) timeout, naming the address.
  const int nobody = free_port();
  t0 = Clock::now();
  try {
    World::join(local(1, 2, nobody, 1.0));
    FAIL();
  } catch (const DistributedError& e) {
    EXPECT_NE(std::string(e.what()).find("could not reach the master at 127.0.0.1:" + std::to_string(nobody)),
              std::string::npos)
        << e.what();
  }
  EXPECT_LT(elapsed(t0), 10.0);
  // WORLD_SIZE mismatch: rank 1 says 3, rank 0 says 2: both fail at once naming both, long before the 20 s
  // timeout. Rank 1 starts once rank 0 listens, so that its time is the exchange alone and not the client's
  // reconnection back-off (about 1 s per refused try in c10d), which a loaded machine (ctest -j2) can stretch.
  const int port = free_port();
  std::string e0, e1;
  double t1 = 0;
  std::thread r0([&] {
    try {
      World::join(local(0, 2, port, 20.0));
    } catch (const std::exception& e) {
      e0 = e.what();
    }
  });
  if (!wait_until_listening(port, 10.0)) {
    r0.join();  // it times out
    FAIL() << "rank 0 never listened on port " << port << ": " << e0;
  }
  std::thread r1([&] {
    const auto start = Clock::now();
    try {
      World::join(local(1, 3, port, 20.0));
    } catch (const std::exception& e) {
      e1 = e.what();
    }
    t1 = elapsed(start);
  });
  r0.join();
  r1.join();
  EXPECT_NE(e1.find("WORLD_SIZE mismatch: rank 1 has WORLD_SIZE 3, rank 0 has 2"), std::string::npos) << e1;
  EXPECT_LT(t1, 5.0);
  EXPECT_NE(e0.find("WORLD_SIZE mismatch: rank 0 has WORLD_SIZE 2, rank 1 has 3"), std::string::npos) << e0;
}

}  // namespace
}  // namespace rbsm::nn
