#pragma once

// A run's checkpoint directory (docs/checkpoints.md):
//
//   DIR/state.ckpt            the checkpoint (runtime/checkpoint/checkpoint_file.hpp: written
//                             atomically, checked on reading); its body is run_checkpoint below
//   DIR/client_state-N.db     the clients' state store as of round / step N (sync runs of
//                             SCAFFOLD or FedBN), named by state.ckpt
//
// state.ckpt is the commit point: a client state snapshot is written (atomically, beside it)
// before the state.ckpt that names it, and older snapshots are removed after.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "runtime/checkpoint/byte_codec.hpp"
#include "runtime/metrics/round_record.hpp"

namespace fedactor {

struct run_checkpoint {
  std::string scenario_yaml;  // to_yaml of the run's scenario: a resume must match it
  uint32_t round = 0;         // rounds (sync) or server steps (async) done
  bool finished = false;      // the checkpoint at the end of the run
  std::string client_state;   // the client state snapshot's file name in DIR, or empty
  double round_wall_s = 0;    // wall seconds of the rounds so far (the summary's rate)
  round_record last_eval;     // the last evaluated record so far (evaluated false: none)
  std::vector<char> loop;     // the loop's state (runtime/checkpoint/loop_state.hpp)
};

// The checkpoint file in `dir`.
inline std::filesystem::path checkpoint_state_file(const std::filesystem::path& dir) {
  return dir / "state.ckpt";
}

// Writes DIR/state.ckpt atomically, then removes the client_state-*.db files it does not
// name. Throws std::runtime_error naming the file on failure.
void write_run_checkpoint(const std::filesystem::path& dir, const run_checkpoint& c);

// Reads DIR/state.ckpt. Throws checkpoint_error, one line naming the file: missing, damaged,
// or naming a client state snapshot that is not there.
run_checkpoint read_run_checkpoint(const std::filesystem::path& dir);

}  // namespace fedactor
