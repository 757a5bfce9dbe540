#pragma once

// The FedBuff server buffer (asynchronous aggregation): client updates are folded one at a
// time, each weighted by its sample count times a staleness weight, and every `buffer_size`
// updates the server steps: the server optimizer moves the model by Σ w·Δ / Σ w (with `sgd`:
// model += server_lr · Σ w·Δ / Σ w), version++.
//
// Folding goes through a weighted_accumulator (exact fixed-point sums), so the model after a
// step does not depend on the order in which the buffered updates arrived. Only what lands in
// which buffer depends on arrival order; the caller fixes that order (simulated time releases
// results in finish order, see runtime/timing/release_queue.hpp).
//
// Two delta rules (async_config::delta):
//   base    (FedBuff)      Δ = params − model at the update's base version (kept on the server
//                           for the last staleness_threshold+1 versions)
//   current (the tutorial) Δ = params − current model at fold time. The model only changes at
//                           a step, which also empties the buffer, so this is what the
//                           tutorial computes at aggregation time.
//
// Robust settings (scenario section `robust`, docs/robustness.md "Async (FedBuff)"): each
// offered update's Δ (before its staleness weight) is held to the L2 norm bound C — clipped to
// norm C, or refused (offer_result::out_of_bound) — and, with a rule other than mean, the
// buffer holds its K = buffer_size Δs (memory K × model floats) instead of folding them, and
// the step applies the rule (median, trimmed mean, (multi-)Krum, unweighted: staleness and
// sample weights do not enter it) to them in (client id, arrival) order. An adaptive C moves
// after every step from the fraction of that buffer's checked updates with norm <= C
// (runtime/math/adaptive_clip.hpp). Groups (offer_group) are refused with robust settings on:
// their aggregate hides the members' updates.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/math/accumulator.hpp"
#include "runtime/math/adaptive_clip.hpp"
#include "runtime/math/update_spread.hpp"
#include "runtime/scenario/scenario.hpp"
#include "runtime/strategy/server_optimizer.hpp"
#include "runtime/strategy/staleness_weight.hpp"

namespace fedactor {

class byte_writer;
class byte_reader;

// One client's result as the server sees it.
struct fedbuff_update {
  const float* params;    // client model after local training
  size_t size;            // number of values in params
  uint32_t num_samples;   // > 0
  uint64_t base_version;  // server version the client started from
  double loss;            // client's training loss (finite)
  uint32_t client = 0;    // who sent it: orders the updates a robust rule holds
};

// What one server step did (one metrics line).
struct aggregation_record {
  uint64_t version = 0;                       // version after the step
  uint32_t updates = 0;                       // updates folded into this step
  uint64_t stale_discarded = 0;               // cumulative stale updates discarded so far
  std::vector<uint32_t> staleness_histogram;  // [s] = updates folded with staleness s
                                              // (size staleness_threshold + 1)
  double mean_decay = 0;                      // mean decay weight of the folded updates
  double mean_loss = 0;                       // sample-weighted mean loss of the folded updates
  // robust.norm_bound on (0 = off): the bound this buffer's updates were held to (an adaptive
  // one moves after the step), and the updates it clipped and rejected since the last step.
  double norm_bound = 0;
  uint32_t norm_clipped = 0;
  uint32_t norm_rejected = 0;
  // measure_spread() on: the relative variance of the folded updates around the step's mean
  // (runtime/math/update_spread.hpp, weights nᵢ·decay), and how many of them it describes (a
  // group's members are not measured: spread_updates < updates then).
  double rel_var = 0;
  uint32_t spread_updates = 0;
};

// Running totals (the tutorial's get_stats() and more). Group members count one each.
struct fedbuff_stats {
  uint64_t total_updates = 0;     // folded (accepted and fresh enough)
  uint64_t stale_updates = 0;     // discarded: staleness > threshold
  uint64_t rejected_updates = 0;  // invalid: wrong size, non-finite, no samples, future version,
                                  // norm above the bound (reject)
  uint64_t norm_clipped = 0;      // robust.norm_bound clip: updates scaled down to the bound
  uint64_t norm_rejected = 0;     // robust.norm_bound reject: refused (in rejected_updates too)
  uint64_t aggregations = 0;      // server steps so far
  uint64_t current_version = 0;   // = aggregations
  uint32_t buffered = 0;          // updates folded since the last step
};

enum class offer_result {
  folded,        // kept in the buffer, no step yet
  aggregated,    // kept, and it filled the buffer: the server stepped (version() moved on)
  stale,         // staleness > threshold: discarded and counted
  rejected,      // invalid: counted, nothing kept
  out_of_bound,  // Δ norm above the norm bound (mode reject): counted as rejected, nothing kept
};

const char* to_string(offer_result x);

class fedbuff {
 public:
  // `optimizer` steps the first `trainable` values (the parameters; 0 = all of them); the
  // values after them (a model's buffers) take the plain weighted mean. `weight` weighs an
  // update by its staleness (empty: make_staleness_weight(cfg.decay)). Throws
  // std::invalid_argument for an empty model, a null optimizer or one whose dim is not the
  // trainable size, buffer_size 0, staleness_threshold > max_staleness_threshold, or robust
  // settings that fail robust_settings_problem (or an adaptive quantile outside (0, 1), a
  // non-positive lr). `robust` default: no bound, rule mean (plain FedBuff).
  fedbuff(std::vector<float> initial_model, const async_config& cfg,
          std::unique_ptr<server_optimizer> optimizer, staleness_weight weight = {},
          size_t trainable = 0, const robust_config& robust = {});

  // Staleness s = version() − base_version. Rejected (counted, nothing kept) when size differs
  // from the model's, a parameter or the loss is not finite, num_samples is 0, base_version is
  // ahead of version(), or a weighted term exceeds the accumulator's range. Stale when
  // s > staleness_threshold. Otherwise folded with weight num_samples·decay(s); when the buffer
  // then holds buffer_size updates the server steps (result `aggregated`).
  // With robust settings, after the staleness check: Δ = params − ref (in float) with a norm
  // that is not finite is rejected; above the norm bound it is clipped to it (clip) or refused
  // as out_of_bound (reject); then folded (rule mean) or held for the step's rule (other rules;
  // a held Δ must be finite).
  offer_result offer(const fedbuff_update& u);

  // A group pre-aggregated at an edge: `count` updates sharing one base version. `sums` holds
  // Σ nᵢ·Δᵢ (delta rule base, Δᵢ = paramsᵢ − model_at(base_version)) or Σ nᵢ·paramsᵢ (delta
  // rule current), with weight Σ nᵢ and side scalar Σ nᵢ·lossᵢ: fold each member with
  // acc.add(x, nᵢ, lossᵢ). Folded as if each member were offered now (weight nᵢ·decay(s)), to
  // float rounding of the group mean. Counts `count` toward the buffer and the statistics; the
  // step fires once buffered >= buffer_size, so a group may overshoot: that step folds more
  // than buffer_size updates (aggregation_record::updates says how many). Rejected when
  // sums.dim() differs from the model size, count is 0 or differs from sums.count(), or
  // base_version is ahead of version(), or robust settings are on; stale (all `count`
  // members) when s > threshold.
  offer_result offer_group(const weighted_accumulator& sums, uint64_t base_version, uint32_t count);

  // From now on every single update folded (offer) also adds its weight nᵢ·decay and ‖Δᵢ‖²
  // to the buffer's spread (one more pass over Δ, nothing kept), and each step's record
  // carries rel_var (selection.adaptive_size in async mode, docs/selection.md). Its sums are
  // then part of save()/load(). Call before the first offer or load.
  void measure_spread() { measure_spread_ = true; }

  uint64_t version() const { return version_; }
  const std::vector<float>& model() const { return history_.back(); }

  // The model at `version`, kept for the last staleness_threshold+1 versions (all versions
  // v with version() − threshold <= v <= version()); nullptr otherwise.
  const std::vector<float>* model_at(uint64_t version) const;

  const fedbuff_stats& stats() const { return stats_; }
  const server_optimizer& optimizer() const { return *optimizer_; }
  const async_config& config() const { return cfg_; }
  // The L2 bound the next offered update is held to (adaptive: moves after each step); 0 when
  // robust.norm_bound is off.
  double norm_bound() const;
  // Updates held for a robust rule since the last step (0 with rule mean).
  size_t held() const { return held_.size(); }

  // Records of the steps since the last call, oldest first.
  std::vector<aggregation_record> take_records();

  // Checkpoints: the version, the kept model versions, the buffer (its exact sums, staleness
  // counts, decay and loss sums), the statistics and the server optimizer's state. Records not
  // yet taken are not saved. load() restores them into a fedbuff built with the same
  // configuration and model size, which then continues bit-identically; it throws
  // checkpoint_error naming what does not fit (leaving the buffer unchanged, except the
  // optimizer when its own state is what failed). With robust settings on, the bytes end with
  // the current norm bound, the buffer's norm counts, the run's norm totals and the held Δs
  // (client ids and values); without, they are as before robust settings existed. With
  // measure_spread() on, they end with the buffer's spread sums (W, S, n).
  void save(byte_writer& out) const;
  void load(byte_reader& in);

 private:
  // Folds Δ (model size values) with weight samples·decay, `count` updates of staleness s:
  // Δ = x − base, or x itself when base is null.
  offer_result fold(const float* x, const float* base, double samples, uint64_t s, uint32_t count,
                    __int128 loss_fixed, uint64_t loss_samples);
  // offer() with robust settings on, past the staleness check; `ref` is Δ's base.
  offer_result offer_robust(const fedbuff_update& u, const float* ref, uint64_t s);
  // Counts `count` updates of staleness s as in the buffer; steps when it is full.
  offer_result note_buffered(uint64_t s, uint32_t count, double decay, __int128 loss_fixed,
                             uint64_t loss_samples);
  void step();
  void clear_buffer();
  void save_robust(byte_writer& out) const;

  async_config cfg_;
  std::unique_ptr<server_optimizer> optimizer_;
  staleness_weight weight_;
  size_t trainable_ = 0;
  std::deque<std::vector<float>> history_;  // back() = current, front() = oldest kept
  uint64_t version_ = 0;
  weighted_accumulator acc_;  // Σ w·Δ, Σ w of the buffer
  uint32_t buffered_ = 0;
  std::vector<uint32_t> histogram_;  // staleness counts of the buffer
  __int128 decay_sum_ = 0;           // Σ decay, fixed point (2^-32 units)
  __int128 loss_sum_ = 0;            // Σ n·loss, fixed point (2^-32 units)
  uint64_t loss_samples_ = 0;        // Σ n
  fedbuff_stats stats_;
  std::vector<aggregation_record> records_;
  std::vector<float> delta_;  // scratch: a group's mean Δ, the step's mean
  // Robust settings (scenario section robust).
  robust_settings robust_;                 // rule and fixed bound (norm_bound: the configured C)
  std::optional<adaptive_clip> adaptive_;  // target_quantile > 0
  norm_bound_counts norm_;                 // the buffer's updates checked against the bound
  struct held_update {
    uint32_t client;
    std::vector<float> delta;
  };
  std::vector<held_update> held_;  // rule other than mean: the buffer's Δs, in arrival order
  bool measure_spread_ = false;
  update_spread spread_;  // the buffer's single updates (measure_spread())
};

}  // namespace fedactor
