#pragma once

// Oort's training selector (Lai et al., "Oort: Efficient Federated Learning via Guided
// Participant Selection", OSDI 2021), with the defaults of FedScale's implementation
// (thirdparty/oort/oort.py, fedscale/cloud/config_parser.py; docs/selection.md).
//
// Each round (a new `round` value; async: a new model version) first:
//   - the pacer: the mean statistical utility of the previous round's exploited clients that
//     reported joins a history; every pacer_step rounds (from round 2 x pacer_step) the sums of
//     the last two windows are compared: within 10 % of each other (a plateau) the preferred
//     duration's percentile round_threshold rises by pacer_delta (at most 100 = no
//     preference); 5 x apart or more it falls by pacer_delta (at least pacer_delta);
//   - the exploration factor epsilon <- max(epsilon x decay, min) (0.9 x 0.98 in the first);
//   - T, the preferred round duration: the round_threshold percentile of the reported
//     clients' last durations (none while nobody reported, or at 100 %);
//   - the normalisation of the utilities: the positive utilities' minimum x 0.999, range
//     (at least 1e-4) and clip value (their clip_bound quantile).
// Then a call for k clients: floor(k x epsilon) are meant for exploration. The reported,
// eligible clients get the score
//     s_i = (min(U_i, clip) - min) / range + sqrt(0.1 ln(t) / t_i)     (t = max(round, 1),
//                                                                        t_i: its last report)
//     s_i *= (T / d_i)^alpha    when its last duration d_i > T,
// min(k - explore, reported) of them are exploited: drawn with probability proportional to
// s_i, without replacement, from the pool of clients with s_i >= (1 - cut_off) x the
// exploit-th largest score. The rest are never-reported eligible clients drawn uniformly; when
// those run out, the best-scored remaining reported clients fill the call.
//
// U_i, the statistical utility, is |B_i| x sqrt(mean of the squared per-sample losses) in
// Oort; the loops report the mean loss L_i only, so U_i = |B_i| x L_i (a lower bound, equal
// when the losses are alike).
//
// Cost: a new round costs O(r) for r reported clients (percentile and normalisation), a call
// O(r log r + k) for the scores and the pool (r is at most the clients ever picked, not the
// population), plus O(k) expected for exploration, and O(unseen) only when rejections of
// excluded or already picked clients pile up. observe() is O(1). Memory: 20 bytes per client
// (client_stats) plus 4 per exploited pick of the round.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "runtime/population/client_stats.hpp"
#include "runtime/population/sampler.hpp"

namespace fedactor {

class oort_sampler final : public sampler {
 public:
  oort_sampler(client_registry& reg, uint64_t seed, const oort_config& cfg);

  std::vector<client_id> sample(uint32_t k, int32_t round, const exclude_fn& excluded) override;
  void observe(client_id id, const client_outcome& outcome) override;
  size_t bytes() const override;

  bool saves_state() const override { return true; }
  std::vector<char> save_state() const override;
  void load_state(const char* data, size_t size) override;

  // The statistical utility recorded for an outcome: samples x loss (0 when not finite or
  // negative).
  static double statistical_utility(const client_outcome& o);

  // The round in progress (the last sample() call's), as described above.
  double exploration() const { return now_.epsilon; }
  double round_threshold() const { return now_.threshold; }
  double preferred_duration() const { return now_.prefer; }  // +inf: no preference
  // Client id's score in the round in progress (reported clients only).
  double score(client_id id) const;
  // Clients of the last call drawn for exploitation (ascending).
  const std::vector<client_id>& last_exploited() const { return last_exploited_; }
  const client_stats& stats() const { return stats_; }

 private:
  struct round_state {
    int32_t round = std::numeric_limits<int32_t>::min();  // none yet
    uint64_t ticks = 0;                                   // rounds started
    double epsilon = 0;
    double threshold = 0;
    double prefer = std::numeric_limits<double>::infinity();
    double min_reward = 0;
    double range = 1;
    double clip = std::numeric_limits<double>::infinity();
  };
  // The state of a round starting at `round` after `cur` (pacer, decay, T, normalisation).
  round_state next_round(const round_state& cur, int32_t round, std::vector<double>& history) const;
  double score_in(const round_state& st, client_id id) const;

  client_registry& reg_;
  uint64_t seed_;
  oort_config cfg_;
  client_stats stats_;
  uint64_t calls_ = 0;
  round_state now_;
  std::vector<double> history_;       // per round: mean utility of its exploited reporters
  std::vector<client_id> exploited_;  // this round's exploited picks (all calls)
  std::vector<client_id> last_exploited_;
};

}  // namespace fedactor
