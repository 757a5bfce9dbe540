#pragma once

// The server side of DP-FedAvg (McMahan, Ramage, Talwar, Zhang 2018, "Learning Differentially
// Private Recurrent Language Models", the fixed-denominator estimator) with adaptive clipping
// (Andrew, Thakkar, McMahan, Ramaswamy 2021, "Differentially Private Learning with Adaptive
// Clipping"), actor-free; docs/privacy.md.
//
// Each round the edges clip every client's Δ to L2 norm C and fold it with weight 1
// (runtime/privacy/update_clip.hpp); the server then releases
//   Δ̃ = (Σ_i clip_C(Δ_i) + N(0, (z_Δ·C)² I)) / k,     k = selection.clients_per_round,
// once per round, whatever the number of edges. With adaptive clipping it also releases the
// noised fraction of unclipped updates b̃ = (Σ_i 1[‖Δ_i‖ <= C] + N(0, σ_b²)) / k and moves
// C <- C·exp(−η_C·(b̃ − γ)) (kept within [1e-30, 1e30]); the update noise is raised to z_Δ = (z⁻² −
// (2σ_b)⁻²)^(−1/2) so that both releases together are one Gaussian mechanism of noise multiplier z
// (the count has sensitivity 1/2 after centring each bit at 1/2, a public shift by k/2). The
// accountant (runtime/privacy/rdp_accountant.hpp) composes one sampled Gaussian step of rate q and
// multiplier z per round.
//
// Noise is drawn from counter-based streams of (scenario seed, round): a run, and a run
// resumed from a checkpoint, add the same noise.

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/math/accumulator.hpp"
#include "runtime/privacy/rdp_accountant.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// What one round released, for its record.
struct dp_round {
  double clip = 0;       // C the round's updates were clipped to
  double noise_std = 0;  // z_Δ·C: std of the noise on each coordinate of the sum
  double next_clip = 0;  // C of the next round
  double epsilon = 0;    // ε spent after this round at δ (+inf: no noise)
  double delta = 0;
};

class dp_fedavg {
 public:
  // Adaptive clipping keeps C within these.
  static constexpr double min_clip = 1e-30;
  static constexpr double max_clip = 1e30;

  // `cfg.mode` must be dp_fedavg; throws std::invalid_argument for a configuration
  // validate() refuses (adaptive with 2σ_b <= z, no clients per round).
  dp_fedavg(const privacy_config& cfg, uint64_t seed, uint32_t clients_per_round);

  // This round's clip bound C (what the edges clip to).
  double clip() const { return clip_; }
  // z_Δ: the noise multiplier of the update sum (z itself with fixed clipping).
  double update_noise_multiplier() const { return z_update_; }

  // The round's noised mean update into out (acc.dim() values): (Σ + noise) / k, with
  // noise_i = z_Δ·C·N(0, 1) from the stream (seed, dp_noise, round), coordinate order.
  void release(const weighted_accumulator& acc, uint32_t round, float* out) const;

  // Ends round `round`: `unclipped` of its updates had norm <= C; q = the rate clients were
  // sampled at (clients_per_round / available clients). Moves C (adaptive clipping) and the
  // accountant, and returns the round's figures.
  dp_round end_round(uint32_t round, uint64_t unclipped, double q);

  // ε spent so far at the configured δ.
  privacy_spent spent() const { return accountant_.spent(delta_); }
  const rdp_accountant& accountant() const { return accountant_; }

  // The state a checkpoint keeps (C and the accountant's totals), and back: load throws
  // checkpoint_error naming `what` when the bytes are not that, changing nothing.
  std::vector<char> save_state() const;
  void load_state(const std::vector<char>& bytes, const std::string& what);

 private:
  privacy_config cfg_;
  uint64_t seed_;
  double k_;
  double delta_;
  double clip_;
  double z_update_;
  rdp_accountant accountant_;
};

}  // namespace fedactor
