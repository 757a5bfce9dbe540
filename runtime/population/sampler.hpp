#pragma once

// Client sampling: which k clients take part in a round. One small interface, three
// strategies (random, weighted by num_samples, least recently picked). Every strategy costs
// O(k) expected or O(k log n) per call, never O(population); excluded clients a call runs into
// add to that, and only when they crowd out most of the population does random fall back to
// one pass over it. Not thread safe: one sampler belongs to one server.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "runtime/population/client_id.hpp"
#include "runtime/population/registry.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// What one client's task produced, as the protocol loops report it to the sampler.
struct client_outcome {
  double loss = 0;       // the client's mean training loss
  uint32_t samples = 0;  // samples it trained on
  double duration = 0;   // simulated task duration, seconds (0 under the real clock)
};

class sampler {
 public:
  using exclude_fn = std::function<bool(client_id)>;

  virtual ~sampler() = default;

  // k distinct clients for `round`, in ascending id order, none for which excluded(id) is true
  // (an empty function excludes nothing; async mode passes the in-flight set). Sets each
  // picked client's last_round to `round` in the registry. Deterministic: same seed and same
  // sequence of calls give the same picks. Throws std::invalid_argument, leaving the sampler
  // and registry unchanged, when fewer than k clients are eligible.
  virtual std::vector<client_id> sample(uint32_t k, int32_t round,
                                        const exclude_fn& excluded = {}) = 0;

  // Client `id` (picked by this sampler) reported `outcome`. The loops call it for every
  // update they accept, in a deterministic order (sync: ascending id after each round; async:
  // in processing order). Default: ignored.
  virtual void observe(client_id id, const client_outcome& outcome);

  // Per-population heap bytes this strategy holds (capacity based); the per-call O(k)
  // scratch space is not counted.
  virtual size_t bytes() const = 0;

  // Checkpoints: the strategy's state as bytes (the calls made so far; least_recent: its ring
  // of 4 bytes per client), restored by load_state into a sampler of the same kind over the
  // same registry and seed, which then picks exactly what the saved one would have. The
  // registry's last_round values are saved with the registry. A sampler that does not override
  // these (your own) cannot be checkpointed: saves_state() is false and a run with checkpoints
  // is refused; save_state / load_state throw std::logic_error. load_state throws
  // checkpoint_error (runtime/checkpoint/byte_codec.hpp) for bytes of another kind, size or
  // population, leaving the sampler unchanged.
  virtual bool saves_state() const { return false; }
  virtual std::vector<char> save_state() const;
  virtual void load_state(const char* data, size_t size);
};

// The strategy `kind` over `reg`, which must outlive the sampler.
//   random:       uniform without replacement.
//   weighted:     probability proportional to num_samples, without replacement, successive
//                 draws (numpy's choice(p=..., replace=False)); clients with 0 samples are
//                 never picked.
//   least_recent: never-picked clients first in id order, then by oldest pick; clients
//                 picked in the same call are ordered by id. Excluded clients keep their place.
//   oort:         utility-guided selection (runtime/population/oort_sampler.hpp) with `oort`.
std::unique_ptr<sampler> make_sampler(sampling_kind kind, client_registry& reg, uint64_t seed,
                                      const oort_config& oort = {});

}  // namespace fedactor
