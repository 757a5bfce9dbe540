// Micro-benchmark of the client state store (runtime/state/client_state_store, see
// docs/strategies-state.md): one thread puts CLIENTS values of FLOATS floats through a
// MEMORY_MIB memory bound, then reads them back. Prints puts/s, the final flush, gets/s of
// values in memory and of random clients (mostly spilled to the file), updates/s (get + put
// of a random client: the SCAFFOLD pattern), the store's counters, peak RSS and the file size.
// Wall time (the store waits on the disk) and this process's CPU time, per phase. Every value
// read is checked. The database file is removed at the end.
//
//   client_state_store [CLIENTS] [FLOATS] [MEMORY_MIB] [DIR]
//                      (defaults 1000000 100 64 /tmp)

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/math/rng.hpp"
#include "runtime/state/client_state_store.hpp"

using namespace fedactor;
namespace fs = std::filesystem;

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// A /proc/self/status field in bytes (VmRSS, VmHWM).
uint64_t status_bytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0)
      return std::strtoull(line.c_str() + key.size(), nullptr, 10) * 1024;
  }
  return 0;
}

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// Client c's value in version `version`: cheap to make, checkable from two floats.
void fill(std::vector<float>& v, uint32_t c, uint32_t version) {
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.25f;
  v.front() = static_cast<float>(c);
  v.back() = static_cast<float>(version);
}

struct phase {
  const char* name;
  double wall0 = wall_now(), cpu0 = cpu_now();
  void done(uint64_t ops, const char* unit) const {
    const double wall = wall_now() - wall0, cpu = cpu_now() - cpu0;
    std::printf("%-36s %8.2f s wall %8.2f s cpu", name, wall, cpu);
    if (ops > 1) {
      std::printf(" %10" PRIu64 " %-7s %10.0f %s/s (wall) %10.0f %s/s (cpu)", ops, unit, ops / wall,
                  unit, ops / cpu, unit);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const uint32_t clients = argc > 1 ? static_cast<uint32_t>(std::stoul(argv[1])) : 1000000;
  const uint32_t floats = argc > 2 ? static_cast<uint32_t>(std::stoul(argv[2])) : 100;
  const size_t memory = (argc > 3 ? std::stoull(argv[3]) : 64) << 20;
  const fs::path dir = argc > 4 ? fs::path(argv[4]) : fs::temp_directory_path();
  const fs::path file = dir / ("fedactor_state_bench_" + std::to_string(::getpid()) + ".db");
  const uint32_t random_ops = std::min<uint32_t>(clients, 200000);
  uint64_t bad = 0;

  const size_t entry = client_state_store::entry_overhead + floats * sizeof(float);
  std::printf(
      "client state store: %u clients x %u floats (%.1f MiB of values), memory bound "
      "%.0f MiB (%zu entries of %zu bytes), file %s\n",
      clients, floats, mib(uint64_t{clients} * floats * sizeof(float)), mib(memory), memory / entry,
      entry, file.c_str());
  const uint64_t rss_start = status_bytes("VmRSS");
  {
    client_state_store store(file, memory);
    const auto slot = store.declare_slot("scaffold.c", floats);

    {
      phase p{"put (new clients, in order)"};
      for (uint32_t c = 0; c < clients; ++c) {
        std::vector<float> v(floats);
        fill(v, c, 0);
        store.put(c, slot, std::move(v));
      }
      p.done(clients, "puts");
    }
    {
      phase p{"flush"};
      store.flush();
      p.done(1, "flushes");
    }
    {
      // The most recent half of what memory holds: all cached.
      const uint32_t hot = std::min<uint32_t>(clients, static_cast<uint32_t>(memory / entry / 2));
      const uint32_t passes = std::max<uint32_t>(1, 1000000 / hot);
      const uint64_t hits0 = store.stats().hits;
      phase p{"get (cached)"};
      for (uint32_t pass = 0; pass < passes; ++pass) {
        for (uint32_t c = clients - hot; c < clients; ++c) {
          const auto v = store.get(c, slot);
          bad += !v || v->front() != static_cast<float>(c) || v->back() != 0.0f;
        }
      }
      p.done(uint64_t{passes} * hot, "gets");
      std::printf("  of which answered from memory: %" PRIu64 "\n", store.stats().hits - hits0);
    }
    {
      rng r{stream_key(1, 0x62656e63, 1)};
      const uint64_t hits0 = store.stats().hits;
      phase p{"get (random clients)"};
      for (uint32_t i = 0; i < random_ops; ++i) {
        const auto c = static_cast<uint32_t>(r.below(clients));
        const auto v = store.get(c, slot);
        bad += !v || v->front() != static_cast<float>(c) || v->back() != 0.0f;
      }
      p.done(random_ops, "gets");
      std::printf("  of which answered from memory: %" PRIu64 "\n", store.stats().hits - hits0);
    }
    {
      rng r{stream_key(1, 0x62656e63, 2)};
      phase p{"update (get + put, random clients)"};
      for (uint32_t i = 0; i < random_ops; ++i) {
        const auto c = static_cast<uint32_t>(r.below(clients));
        auto v = store.get(c, slot);
        bad += !v || v->front() != static_cast<float>(c);
        if (!v) continue;
        v->back() += 1.0f;
        store.put(c, slot, std::move(*v));
      }
      p.done(random_ops, "updates");
    }
    {
      phase p{"flush"};
      store.flush();
      p.done(1, "flushes");
    }
    const auto s = store.stats();
    std::printf("counters: peak bytes in memory %" PRIu64 " (bound %zu), entries in memory %" PRIu64
                ", hits %" PRIu64 ", disk reads %" PRIu64 ", spills %" PRIu64
                ", disk writes %" PRIu64 ", write batches %" PRIu64 "\n",
                s.peak_bytes_in_memory, memory, s.entries_in_memory, s.hits, s.disk_reads, s.spills,
                s.disk_writes, s.write_batches);
    uint64_t file_bytes = fs::file_size(file);
    std::error_code ec;
    const auto wal = fs::file_size(file.string() + "-wal", ec);
    if (!ec) file_bytes += wal;
    std::printf("file: %.1f MiB (%.1f bytes per client)\n", mib(file_bytes),
                static_cast<double>(file_bytes) / clients);
  }
  std::printf("RSS: %.1f MiB at start, peak %.1f MiB (peak - start %.1f MiB)\n", mib(rss_start),
              mib(status_bytes("VmHWM")), mib(status_bytes("VmHWM") - rss_start));
  std::printf("values read wrong: %" PRIu64 "\n", bad);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(file.string() + suffix);
  return bad == 0 ? 0 : 1;
}
