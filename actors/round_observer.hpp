#pragma once

// The round observer: receives each round's record and model from the server, has the
// evaluator score the model every `eval.every` rounds (on its own thread, so training goes
// on meanwhile), and hands the records, evaluation attached, to the host's callback in
// round order. A checkpoint the server sends after a round's record is handed to the host's
// checkpoint callback in its place in that order: after the records before it (so the host has
// written them) and before those after it. flush_atom answers once everything received so far
// has been handed on.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/evaluator.hpp"
#include "messages/param_blob.hpp"
#include "runtime/metrics/round_record.hpp"
#include "runtime/protocol/loop_checkpoint.hpp"

namespace fedactor {

using flush_atom = caf::atom_constant<caf::atom("flush")>;

// A server checkpoint, in its place among the records (in-process only: never serialized).
struct checkpoint_note {
  std::shared_ptr<const loop_checkpoint> checkpoint;
};

using observer_actor =
    caf::typed_actor<caf::reacts_to<round_record, param_blob>, caf::reacts_to<checkpoint_note>,
                     caf::replies_to<flush_atom>::with<bool>>;

struct observer_config {
  std::optional<evaluator_actor> evaluator;  // none: records pass straight through
  uint32_t every = 0;                        // evaluate rounds divisible by this; 0 = never
  uint32_t last_round = 0;                   // always evaluated (the final model)
  double timeout_s = 3600;
  std::function<void(const round_record&)> on_round;          // called on the observer's thread
  std::function<void(const loop_checkpoint&)> on_checkpoint;  // likewise; empty: dropped
};

struct observer_state {
  struct entry {
    round_record rec;
    bool ready = false;
    std::shared_ptr<const loop_checkpoint> checkpoint;  // set: a checkpoint, not a record
  };
  observer_config cfg;
  std::deque<entry> queue;
  std::vector<caf::typed_response_promise<bool>> flushing;  // flushes waiting for the queue
  static inline const char* name = "fedactor.observer";
};

observer_actor::behavior_type round_observer(observer_actor::stateful_pointer<observer_state> self,
                                             observer_config cfg);

}  // namespace fedactor

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedactor::round_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(fedactor::checkpoint_note)
