// The scenario keys of selection, pool, protocol, clock, async, devices and faults (the schema's
// table: key_makers.hpp).

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/math/dirichlet.hpp"
#include "runtime/math/staleness.hpp"
#include "runtime/scenario/key_makers.hpp"

namespace fedactor::schema::detail {

std::vector<key_entry> selection_keys() {
  // clang-format off
  return {
    enum_key("selection.strategy", [](auto& s) -> auto& { return s.selection.strategy; },
      std::vector{sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent,
                  sampling_kind::oort},
      "how each round's clients are drawn: uniformly, weighted by sample count, the "
      "longest idle first, or oort = by statistical utility and speed (Lai et al. 2021, "
      "selection.oort.*, docs/selection.md)"),
    unsigned_key("selection.clients_per_round",
      [](auto& s) -> auto& { return s.selection.clients_per_round; },
      1, u32_max, "clients trained per round; at most population.clients"),
    number_key("selection.over_select", [](auto& s) -> auto& { return s.selection.over_select; },
      bounds{0, false, inf, false},
      "sync: sample ceil(clients_per_round x (1 + over_select)) clients and keep the first "
      "clients_per_round to finish; 0 = no over-selection"),
    number_key("selection.oort.exploration",
      [](auto& s) -> auto& { return s.selection.oort.exploration; }, bounds{0, false, 1, false},
      "oort: initial exploration factor epsilon, the share of a round given to clients that "
      "never reported"),
    number_key("selection.oort.exploration_decay",
      [](auto& s) -> auto& { return s.selection.oort.exploration_decay; },
      bounds{0, false, 1, false}, "oort: epsilon <- max(epsilon x decay, exploration_min) at "
      "every round"),
    number_key("selection.oort.exploration_min",
      [](auto& s) -> auto& { return s.selection.oort.exploration_min; },
      bounds{0, false, 1, false}, "oort: the floor of epsilon"),
    number_key("selection.oort.penalty", [](auto& s) -> auto& { return s.selection.oort.penalty; },
      bounds{0, false, 100, false}, "oort: alpha, a client slower than the preferred duration T "
      "has its utility multiplied by (T / t_i)^alpha"),
    number_key("selection.oort.round_threshold",
      [](auto& s) -> auto& { return s.selection.oort.round_threshold; },
      bounds{0, false, 100, false}, "oort: T is this percentile of the reported clients' last "
      "durations (100 = no preference); the pacer raises it"),
    unsigned_key("selection.oort.pacer_step",
      [](auto& s) -> auto& { return s.selection.oort.pacer_step; }, 1, u32_max,
      "oort: rounds per pacer window; when the exploited utility of the last window is within "
      "10 % of the one before, round_threshold rises by pacer_delta"),
    number_key("selection.oort.pacer_delta",
      [](auto& s) -> auto& { return s.selection.oort.pacer_delta; },
      bounds{0, false, 100, false}, "oort: percentage points the pacer moves round_threshold by"),
    number_key("selection.oort.cut_off",
      [](auto& s) -> auto& { return s.selection.oort.cut_off; }, bounds{0, false, 1, true},
      "oort: exploited clients are drawn by utility from those within (1 - cut_off) of the "
      "k-th best"),
    number_key("selection.oort.clip_bound",
      [](auto& s) -> auto& { return s.selection.oort.clip_bound; }, bounds{0, false, 1, false},
      "oort: utilities are clipped at this quantile before they are normalised"),
    with_check(bool_key("selection.adaptive_size.enabled",
      [](auto& s) -> auto& { return s.selection.adaptive_size.enabled; },
      "adapt the clients per round (sync: from clients_per_round) or the async concurrency "
      "(from async.concurrency, after every server step) from the relative variance of the "
      "aggregate (docs/selection.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto& a = s.selection.adaptive_size;
        if (!a.enabled) return std::nullopt;
        const bool async = s.protocol.mode == protocol_mode::async;
        if (async && s.async.edge != edge_mode::forward)
          return "needs async.edge_mode forward in async mode (a pre-aggregated group hides its "
                 "members' spread)";
        if (s.privacy.mode != privacy_mode::off)
          return "does not combine with privacy.mode dp_fedavg (the sample size would depend "
                 "on the clients' data)";
        if (s.robust.rule != robust_rule_kind::mean ||
            s.robust.norm_bound.mode != norm_bound_mode::off)
          return "needs robust.rule mean and robust.norm_bound.mode off (the spread is of the "
                 "updates as sent, around their plain weighted mean)";
        if (a.min > a.max)
          return "min (" + std::to_string(a.min) + ") must be <= max (" + std::to_string(a.max) +
                 ")";
        if (a.max > s.population.clients)
          return "max must be <= population.clients (" + std::to_string(s.population.clients) +
                 "), got " + std::to_string(a.max);
        const uint32_t start = async ? s.async.concurrency : s.selection.clients_per_round;
        if (start < a.min || start > a.max)
          return std::string(async ? "async.concurrency" : "selection.clients_per_round") + " (" +
                 std::to_string(start) + ") must be within [min, max] = [" +
                 std::to_string(a.min) + ", " + std::to_string(a.max) + "]";
        return std::nullopt;
      }),
    unsigned_key("selection.adaptive_size.min",
      [](auto& s) -> auto& { return s.selection.adaptive_size.min; }, 1, u32_max,
      "adaptive size: the fewest clients per round (async: the lowest concurrency)"),
    unsigned_key("selection.adaptive_size.max",
      [](auto& s) -> auto& { return s.selection.adaptive_size.max; }, 1, u32_max,
      "adaptive size: the most clients per round (async: the highest concurrency); at most "
      "population.clients"),
    number_key("selection.adaptive_size.target_rel_var",
      [](auto& s) -> auto& { return s.selection.adaptive_size.target_rel_var; },
      bounds{0, true, inf, false}, "adaptive size: target of var / (k ||mean||^2); above it the "
      "size grows, below a quarter of it the size shrinks"),
    number_key("selection.adaptive_size.grow",
      [](auto& s) -> auto& { return s.selection.adaptive_size.grow; },
      bounds{1, true, 100, false}, "adaptive size: k <- ceil(k x grow) when above the target"),
    number_key("selection.adaptive_size.shrink",
      [](auto& s) -> auto& { return s.selection.adaptive_size.shrink; },
      bounds{0, true, 1, true}, "adaptive size: k <- floor(k x shrink) when below target / 4"),
    with_check(bool_key("selection.pace.enabled",
      [](auto& s) -> auto& { return s.selection.pace.enabled; },
      "pace steering: sync asks for ceil(k x min(max_factor, 1 / (1 - f))) clients, f the "
      "EWMA of the rounds' failure rates, and aggregates the first k to finish; async keeps "
      "ceil(concurrency x min(max_factor, 1 / (1 - f))) tasks in flight, f the EWMA of the "
      "steps' non-stale failure rates (docs/selection.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (!s.selection.pace.enabled) return std::nullopt;
        if (s.protocol.mode == protocol_mode::async) return std::nullopt;
        if (s.clock != clock_kind::simulated)
          return "needs clock simulated (the first k to finish are kept in simulated time)";
        if (s.selection.over_select > 0)
          return "does not combine with selection.over_select (pace steering sizes the "
                 "over-selection), got " + format_number(s.selection.over_select);
        if (s.privacy.mode != privacy_mode::off)
          return "does not combine with privacy.mode dp_fedavg (keeping the fastest clients "
                 "makes sampling non-uniform)";
        return std::nullopt;
      }),
    number_key("selection.pace.ewma",
      [](auto& s) -> auto& { return s.selection.pace.ewma; }, bounds{0, true, 1, false},
      "pace steering: weight of the last round in the failure-rate EWMA, "
      "f <- (1 - ewma) x f + ewma x failed / attempted"),
    number_key("selection.pace.max_factor",
      [](auto& s) -> auto& { return s.selection.pace.max_factor; }, bounds{1, false, 100, false},
      "pace steering: the largest over-selection factor (wanted / clients_per_round)"),

    unsigned_key("pool.max_live_clients",
      [](auto& s) -> auto& { return s.pool.max_live_clients; },
      1, u32_max, "client actors alive at once over all edges (least recently used are "
      "evicted); at least topology.edges"),
    unsigned_key("pool.trainers", [](auto& s) -> auto& { return s.pool.trainers; },
      0, 4096, "trainer threads running local SGD; 0 = one per core"),
    unsigned_key("pool.client_state_mb",
      [](auto& s) -> auto& { return s.pool.client_state_mb; }, 1, 1048576,
      "MiB of memory for the clients' algorithm state (strategy.client scaffold, "
      "strategy.normalization local); beyond it state spills to the client state store's file"),

    enum_key("protocol.mode", [](auto& s) -> auto& { return s.protocol.mode; },
      std::vector{protocol_mode::sync, protocol_mode::async},
      "sync = rounds with a barrier: sample, train, aggregate, repeat; async = FedBuff: "
      "async.concurrency clients always training, a server step every async.buffer_size "
      "updates"),
    unsigned_key("protocol.rounds", [](auto& s) -> auto& { return s.protocol.rounds; },
      1, u32_max, "number of rounds to run"),
    number_key("protocol.round_deadline",
      [](auto& s) -> auto& { return s.protocol.round_deadline; }, bounds{0, false, inf, false},
      "sync: simulated seconds a round may last, clients not done by then count as failed; "
      "0 = no deadline"),

    enum_key("clock", [](auto& s) -> auto& { return s.clock; },
      std::vector{clock_kind::simulated, clock_kind::real},
      "simulated = each task lasts a duration drawn from devices.*, results are released in "
      "simulated finish order (same seed, same run); real = wall-clock arrival order"),

    unsigned_key("async.concurrency", [](auto& s) -> auto& { return s.async.concurrency; },
      1, u32_max, "clients training at once; at most population.clients"),
    unsigned_key("async.buffer_size", [](auto& s) -> auto& { return s.async.buffer_size; },
      1, u32_max, "updates folded into the buffer before the server steps"),
    unsigned_key("async.staleness_threshold",
      [](auto& s) -> auto& { return s.async.staleness_threshold; },
      0, max_staleness_threshold,
      "updates more than this many versions old are discarded (and counted)"),
    enum_key("async.decay.kind", [](auto& s) -> auto& { return s.async.decay.kind; },
      std::vector{decay_kind::exponential, decay_kind::polynomial, decay_kind::hinge,
                  decay_kind::constant},
      "staleness weight of an update s versions old: exponential = base^s, polynomial = "
      "(1 + s)^-exponent, hinge = 1 up to b then 1 / (a (s - b) + 1), constant = 1"),
    number_key("async.decay.base", [](auto& s) -> auto& { return s.async.decay.base; },
      bounds{0, true, 1, false}, "exponential decay: base (the tutorial's 0.9)"),
    number_key("async.decay.exponent", [](auto& s) -> auto& { return s.async.decay.exponent; },
      bounds{0, false, inf, false}, "polynomial decay: exponent"),
    number_key("async.decay.a", [](auto& s) -> auto& { return s.async.decay.a; },
      bounds{0, false, inf, false}, "hinge decay: slope after the hinge"),
    number_key("async.decay.b", [](auto& s) -> auto& { return s.async.decay.b; },
      bounds{0, false, inf, false}, "hinge decay: staleness up to which the weight is 1"),
    enum_key("async.delta", [](auto& s) -> auto& { return s.async.delta; },
      std::vector{delta_rule::base, delta_rule::current},
      "client delta: base = against the model the client started from (FedBuff); current = "
      "against the current global model (the tutorial)"),
    unsigned_key("async.aggregations", [](auto& s) -> auto& { return s.async.aggregations; },
      1, u32_max, "server steps to run"),
    enum_key("async.edge_mode", [](auto& s) -> auto& { return s.async.edge; },
      std::vector{edge_mode::forward, edge_mode::preaggregate},
      "forward = edges pass each update on; preaggregate = edges fold async.preaggregate "
      "updates of one base version before forwarding them as a group"),
    unsigned_key("async.preaggregate", [](auto& s) -> auto& { return s.async.preaggregate; },
      1, u32_max, "preaggregate edge mode: updates an edge folds into one group"),

    enum_key("devices.compute_power.kind",
      [](auto& s) -> auto& { return s.devices.compute_power.kind; },
      std::vector{power_kind::uniform, power_kind::lognormal, power_kind::constant},
      "relative device speed: uniform in (0, 1] (the tutorial), lognormal with median 1, "
      "or constant"),
    number_key("devices.compute_power.sigma",
      [](auto& s) -> auto& { return s.devices.compute_power.sigma; }, positive,
      "lognormal compute power: sigma of its logarithm"),
    number_key("devices.compute_power.value",
      [](auto& s) -> auto& { return s.devices.compute_power.value; }, positive,
      "constant compute power: the value"),
    number_key("devices.per_sample_s", [](auto& s) -> auto& { return s.devices.per_sample_s; },
      bounds{0, false, inf, false},
      "simulated seconds per sample and epoch at compute power 1"),
    number_key("devices.bandwidth_mbps",
      [](auto& s) -> auto& { return s.devices.bandwidth_mbps; }, positive,
      "median link speed in Mbit/s (model down and update up)"),
    number_key("devices.bandwidth_sigma",
      [](auto& s) -> auto& { return s.devices.bandwidth_sigma; }, bounds{0, false, inf, false},
      "lognormal spread of the link speeds (sigma of their logarithm); 0 = all equal"),
    number_key("devices.latency_s", [](auto& s) -> auto& { return s.devices.latency_s; },
      bounds{0, false, inf, false}, "simulated seconds of latency per message"),

    enum_key("faults.on_edge_loss", [](auto& s) -> auto& { return s.faults.on_edge_loss; },
      std::vector{edge_loss_policy::reroute, edge_loss_policy::drop},
      "distributed runs: reroute = a lost edge's clients train through the surviving edges; "
      "drop = they count as failed until the edge rejoins"),
  };
  // clang-format on
}

}  // namespace fedactor::schema::detail
