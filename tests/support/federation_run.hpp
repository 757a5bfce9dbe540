#pragma once

// Runs a scenario in-process through the embedding API (federation), collecting its
// per-round records: the reference that other tests compare with.

#include <cstddef>
#include <vector>

#include <caf/actor_system.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"

namespace fedactor::testing {

struct federation_run {
  federation_result result;
  std::vector<round_record> records;  // one per round (sync) or server step (async)
};

inline federation_run run_federation(const scenario& s, size_t scheduler_threads = 2) {
  system_config cfg;
  cfg.set("scheduler.max-threads", scheduler_threads);
  caf::actor_system sys{cfg};
  federation fl{sys, s};
  federation_run out;
  fl.on_round([&](const round_record& r) { out.records.push_back(r); });
  out.result = fl.run();
  return out;
}

}  // namespace fedactor::testing
