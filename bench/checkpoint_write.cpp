// Size and write time of a sync server checkpoint (docs/checkpoints.md) for a large population:
// a registry of CLIENTS clients, a sampler of kind SAMPLER that has picked K clients a round for
// ROUNDS rounds, a model of FLOATS values with a fedadam server optimizer (two moments), the
// loop state encoded (runtime/checkpoint/loop_state) and written atomically with its checksum
// (runtime/checkpoint/run_checkpoint: temp file, fsync, rename, fsync of the directory).
// Prints the size of each part, the file size, and the encode and write times (median of 5).
//
//   checkpoint_write [CLIENTS] [SAMPLER] [K] [ROUNDS] [FLOATS] [DIR]
//                    (defaults 1000000 random 1000 100 100000 /tmp)

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/checkpoint/run_checkpoint.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/population/sampler.hpp"
#include "runtime/strategy/server_optimizer.hpp"

using namespace fedactor;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const uint64_t clients = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::string kind = argc > 2 ? argv[2] : "random";
  const uint32_t k = argc > 3 ? static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10)) : 1000;
  const uint32_t rounds =
      argc > 4 ? static_cast<uint32_t>(std::strtoul(argv[4], nullptr, 10)) : 100;
  const size_t floats = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 100000;
  const fs::path dir = fs::path(argc > 6 ? argv[6] : "/tmp") /
                       ("fedactor_ckpt_bench_" + std::to_string(static_cast<long>(getpid())));
  sampling_kind sk = sampling_kind::random;
  if (kind == "weighted") sk = sampling_kind::weighted;
  if (kind == "least_recent") sk = sampling_kind::least_recent;

  client_registry reg(clients, 1, 1, [](client_id id) { return 50 + id % 150; });
  auto pick = make_sampler(sk, reg, 1);
  for (uint32_t r = 1; r <= rounds; ++r) pick->sample(k, static_cast<int32_t>(r));
  auto opt = make_server_optimizer(server_optimizer_defaults("fedadam"), floats);
  std::vector<float> model(floats, 0.5f), next(floats);
  opt->step(model.data(), model.data(), next.data(), floats);

  using clock = std::chrono::steady_clock;
  std::vector<double> encode_s, write_s;
  size_t file_bytes = 0;
  sync_loop_state s;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = clock::now();
    s = sync_loop_state{};
    s.rounds_done = rounds;
    s.version = rounds;
    s.model = next;
    s.optimizer = opt->save_state();
    s.sampler = pick->save_state();
    byte_writer w;
    reg.save_picks(w);
    s.registry = w.take();
    run_checkpoint c;
    c.round = rounds;
    c.loop = encode(s);
    const auto t1 = clock::now();
    write_run_checkpoint(dir, c);
    const auto t2 = clock::now();
    encode_s.push_back(std::chrono::duration<double>(t1 - t0).count());
    write_s.push_back(std::chrono::duration<double>(t2 - t1).count());
    file_bytes = fs::file_size(checkpoint_state_file(dir));
  }
  std::sort(encode_s.begin(), encode_s.end());
  std::sort(write_s.begin(), write_s.end());
  std::printf("clients %llu, sampler %s, %u picked a round for %u rounds, model %zu floats\n",
              static_cast<unsigned long long>(clients), kind.c_str(), k, rounds, floats);
  std::printf("registry %zu B, sampler %zu B, model %zu B, optimizer %zu B\n", s.registry.size(),
              s.sampler.size(), s.model.size() * sizeof(float), s.optimizer.size());
  std::printf("state.ckpt %zu B (%.2f MiB); encode %.1f ms, write (fsync, rename) %.1f ms\n",
              file_bytes, file_bytes / 1048576.0, encode_s[2] * 1e3, write_s[2] * 1e3);
  fs::remove_all(dir);
  return 0;
}
