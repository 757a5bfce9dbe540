#pragma once

// The byte form of a protocol loop's checkpoint state (runtime/protocol/loop_checkpoint.hpp),
// and which runs can be checkpointed mid-run.
//
//   u32 "SYNC" or "ASYN" tag, u32 layout version (6), then the struct's fields in order
//   (runtime/checkpoint/byte_codec.hpp: little-endian fixed-size values, u64-counted vectors).
//   Older layouts are still read: 1 (before scripted events were checkpointed) ends before
//   `fired_events` (no events fired), 2 before a sync run's `pending` (no round in progress),
//   3 before a sync run's `clip_bound`, norm totals and `privacy` (none of them), 4 before a
//   sync run's `sample_size` (fixed size).
//   An async run with robust settings keeps its norm bound, norm totals and held updates in
//   its `buffer` bytes (fedbuff::save); layout 5 adds nothing to an async run's state.
//   Layout 6 adds an async run's `concurrency` (selection.adaptive_size; 0 = fixed) at the
//   end, and such a run's buffer bytes end with its spread sums; 5 and older: fixed
//   concurrency. A sync run's layout 6 is its layout 5.
//
// Decoding checks every length against the bytes and throws checkpoint_error naming the field
// that does not fit, another loop's state, or trailing bytes.

#include <optional>
#include <string>
#include <vector>

#include "runtime/protocol/loop_checkpoint.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

std::vector<char> encode(const sync_loop_state& s);
std::vector<char> encode(const async_loop_state& s);
// `what` names the checkpoint in errors.
sync_loop_state decode_sync_state(const std::vector<char>& bytes, const std::string& what);
async_loop_state decode_async_state(const std::vector<char>& bytes, const std::string& what);

// Why a run of `sc` is checkpointed only at its end, or nullopt when it is checkpointed every
// checkpoint.every rounds / steps. Async runs whose edges pre-aggregate (groups span the
// checkpoint, their members' answers are held at the edge) and async runs of an algorithm
// with client state (a client's state is written when its task ends, which under the
// simulated clock is before the server releases its answer, so the state store runs ahead of
// any step boundary) are checkpointed at the end only.
std::optional<std::string> mid_run_checkpoint_limit(const scenario& sc);

}  // namespace fedactor
