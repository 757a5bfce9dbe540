// The scenario keys of strategy (the server optimizer and the client objective), checkpoint,
// robust, attack, privacy, compression and events (the schema's table: key_makers.hpp).

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/math/dirichlet.hpp"
#include "runtime/math/staleness.hpp"
#include "runtime/scenario/key_makers.hpp"

namespace fedactor::schema::detail {
namespace {

// A server optimizer setting (strategy.*): a number, or "default" (NaN: the kind's default).
// Its range depends on the kind (runtime/strategy/server_optimizer.hpp validate_keys). A value
// the chosen kind does not read is refused unless it is that kind's default (which the
// effective scenario writes for every key), so a deliberate setting is never silently ignored.
bool kind_reads(const scenario& s, optimizer_key k) {
  auto info = find_server_optimizer(s.strategy.server_optimizer);
  return info && std::find(info->keys.begin(), info->keys.end(), k) != info->keys.end();
}

double optimizer_field(const server_optimizer_config& c, optimizer_key k) {
  switch (k) {
    case optimizer_key::server_lr:
      return c.server_lr;
    case optimizer_key::momentum:
      return c.momentum;
    case optimizer_key::beta1:
      return c.beta1;
    case optimizer_key::beta2:
      return c.beta2;
    case optimizer_key::tau:
      return c.tau;
    case optimizer_key::bias_correction:
      return c.bias_correction ? 1 : 0;
  }
  return 0;
}

std::optional<std::string> check_optimizer_key(const scenario& s, optimizer_key k) {
  auto info = find_server_optimizer(s.strategy.server_optimizer);
  if (!info) return std::nullopt;  // strategy.server_optimizer reports it
  const auto eff = effective_optimizer(s.strategy);
  if (!kind_reads(s, k)) {
    if (optimizer_field(eff, k) == optimizer_field(info->defaults, k)) return std::nullopt;
    std::string reads;
    for (auto r : info->keys) reads += (reads.empty() ? "" : ", ") + std::string(key_name(r));
    return "is not used by strategy.server_optimizer " + info->kind + " (it reads " +
           (reads.empty() ? std::string("nothing") : reads) + "); remove it";
  }
  if (auto err = validate_keys(eff, {k})) return err->what;
  return std::nullopt;
}

// The value the effective scenario writes: the one given, else the kind's default.
double effective_value(const scenario& s, optimizer_key k, double stored) {
  if (!std::isnan(stored) || !find_server_optimizer(s.strategy.server_optimizer)) return stored;
  return optimizer_field(effective_optimizer(s.strategy), k);
}

template <class Get>
key_entry optimizer_number_key(optimizer_key k, Get get, std::string doc) {
  key_entry e;
  e.info = {key_name(k), "number or default", "depends on strategy.server_optimizer", "",
            std::move(doc)};
  e.read = [get](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (n.IsScalar() && n.Scalar() == "default") {
      get(s) = std::numeric_limits<double>::quiet_NaN();
      return std::nullopt;
    }
    double v = 0;
    if (auto err = read_number(n, bounds{-inf, false, inf, false}, v)) return err;
    get(s) = v;
    return std::nullopt;
  };
  e.check = [k](const scenario& s) -> std::optional<std::string> {
    return check_optimizer_key(s, k);
  };
  e.emit = [get, k](const scenario& s) -> std::string {
    const double v = effective_value(s, k, get(s));
    return std::isnan(v) ? std::string("default") : format_number(v);
  };
  return e;
}

key_entry bias_correction_key(std::string doc) {
  const optimizer_key k = optimizer_key::bias_correction;
  key_entry e;
  e.info = {key_name(k), "boolean or default", "true, false, default", "", std::move(doc)};
  e.read = [](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (n.IsScalar()) {
      const auto& t = n.Scalar();
      if (t == "default") {
        s.strategy.bias_correction.reset();
        return std::nullopt;
      }
      if (t == "true" || t == "false") {
        s.strategy.bias_correction = t == "true";
        return std::nullopt;
      }
    }
    return read_error{"must be one of: true, false, default, got " + describe(n)};
  };
  e.check = [k](const scenario& s) -> std::optional<std::string> {
    return check_optimizer_key(s, k);
  };
  e.emit = [](const scenario& s) -> std::string {
    if (s.strategy.bias_correction) return *s.strategy.bias_correction ? "true" : "false";
    if (!find_server_optimizer(s.strategy.server_optimizer)) return "default";
    return effective_optimizer(s.strategy).bias_correction ? "true" : "false";
  };
  return e;
}

key_entry server_optimizer_key(std::string doc) {
  key_entry e;
  std::string kinds;
  for (const auto& k : server_optimizer_kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  e.info = {server_optimizer_kind_key, "enum", kinds, "", std::move(doc)};
  e.read = [](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    if (!n.IsScalar() || n.Scalar().empty())
      return read_error{"expected the name of a server optimizer, got " + describe(n)};
    s.strategy.server_optimizer = n.Scalar();  // checked by validate (kinds may be added later)
    return std::nullopt;
  };
  e.check = [](const scenario& s) -> std::optional<std::string> {
    auto info = find_server_optimizer(s.strategy.server_optimizer);
    if (!info) {
      std::string kinds;
      auto names = server_optimizer_kinds();
      for (const auto& k : names) kinds += (kinds.empty() ? "" : ", ") + k;
      std::string what = "must be one of: " + kinds + ", got '" + s.strategy.server_optimizer + "'";
      if (auto c = closest(s.strategy.server_optimizer, names); !c.empty())
        what += " (did you mean " + c + "?)";
      return what;
    }
    if (info->check) {
      if (auto err = info->check(effective_optimizer(s.strategy))) return err->message();
    }
    return std::nullopt;
  };
  e.emit = [](const scenario& s) -> std::string { return s.strategy.server_optimizer; };
  return e;
}

}  // namespace

std::vector<key_entry> strategy_keys() {
  // clang-format off
  return {
    server_optimizer_key(
      "what the server does with each round's (or FedBuff step's) weighted mean update: sgd = "
      "global += server_lr x mean delta (server_lr 1 = FedAvg), fedavgm = with server "
      "momentum, fedadam / fedyogi / fedadagrad = adaptive (Reddi et al. 2021); see "
      "docs/strategies.md"),
    optimizer_number_key(optimizer_key::server_lr,
      [](auto& s) -> auto& { return s.strategy.server_lr; },
      "server learning rate (eta); default: the optimizer's (sgd and fedavgm 1, fedadam 0.1, "
      "fedyogi 0.01, fedadagrad 0.1)"),
    optimizer_number_key(optimizer_key::momentum,
      [](auto& s) -> auto& { return s.strategy.momentum; },
      "fedavgm: server momentum factor"),
    optimizer_number_key(optimizer_key::beta1,
      [](auto& s) -> auto& { return s.strategy.beta1; },
      "fedadam / fedyogi / fedadagrad: first-moment decay"),
    optimizer_number_key(optimizer_key::beta2,
      [](auto& s) -> auto& { return s.strategy.beta2; },
      "fedadam / fedyogi: second-moment decay"),
    optimizer_number_key(optimizer_key::tau,
      [](auto& s) -> auto& { return s.strategy.tau; },
      "fedadam / fedyogi / fedadagrad: adaptivity, eta * m / (sqrt(v) + tau)"),
    bias_correction_key("fedadam: bias-corrected step size (Adam's; Flower's FedAdam)"),
    enum_key("strategy.client", [](auto& s) -> auto& { return s.strategy.client; },
      std::vector{client_algorithm::fedavg, client_algorithm::fedprox, client_algorithm::scaffold},
      "local training: fedavg = plain local SGD; fedprox = with the proximal term "
      "prox_mu/2 |w - w_global|^2 (Li et al. 2020); scaffold = with control variates "
      "(Karimireddy et al. 2020, option II)"),
    number_key("strategy.prox_mu", [](auto& s) -> auto& { return s.strategy.prox_mu; },
      bounds{0, false, inf, false}, "fedprox: mu of the proximal term (0 = FedAvg)"),
    enum_key("strategy.normalization", [](auto& s) -> auto& { return s.strategy.normalization; },
      std::vector{norm_handling::federated, norm_handling::local},
      "normalisation layers (BatchNorm & co., their running statistics included): federated "
      "= averaged like every parameter; local = FedBN (Li et al. 2021), kept by each client"),

    unsigned_key("checkpoint.every", [](auto& s) -> auto& { return s.checkpoint.every; },
      0, u32_max, "rounds (sync) or server steps (async) between server checkpoints, written "
      "when the run has a checkpoint directory (fedactor run: DIR/checkpoint); 0 = only at the "
      "end of the run"),
    with_check(enum_key("robust.norm_bound.mode",
      [](auto& s) -> auto& { return s.robust.norm_bound.mode; },
      std::vector{norm_bound_mode::off, norm_bound_mode::clip, norm_bound_mode::reject},
      "L2 norm bound on each client's update delta (sync: at its edge; async: at the server's "
      "buffer, before the staleness weight): off; clip = scaled down to the bound; reject = "
      "refused (invalid_update) above it (docs/robustness.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.robust.norm_bound.mode != norm_bound_mode::off &&
            s.protocol.mode == protocol_mode::async && s.async.edge == edge_mode::preaggregate)
          return "is not supported with async.edge_mode preaggregate (a group's aggregate hides "
                 "its members' updates from the bound); use async.edge_mode forward";
        return std::nullopt;
      }),
    number_key("robust.norm_bound.bound",
      [](auto& s) -> auto& { return s.robust.norm_bound.bound; }, positive,
      "the L2 bound C (with target_quantile > 0: its first round's or server step's value)"),
    number_key("robust.norm_bound.target_quantile",
      [](auto& s) -> auto& { return s.robust.norm_bound.target_quantile; }, unit_half_open,
      "0 = fixed bound; in (0, 1): adaptive, C <- C exp(-lr (b - q)) after each round (async: "
      "server step), b the fraction of its updates with norm <= C (Andrew et al. 2021)"),
    number_key("robust.norm_bound.lr", [](auto& s) -> auto& { return s.robust.norm_bound.lr; },
      positive, "adaptive bound: the geometric learning rate (eta)"),
    with_check(enum_key("robust.rule", [](auto& s) -> auto& { return s.robust.rule; },
      std::vector{robust_rule_kind::mean, robust_rule_kind::median,
                  robust_rule_kind::trimmed_mean, robust_rule_kind::krum},
      "how an edge combines its accepted updates: mean = weighted streaming mean (FedAvg); "
      "median / trimmed_mean = coordinate-wise; krum = (multi-)Krum. The non-mean rules hold "
      "the edge's k updates (memory k x model); the server averages the edges' results. Async: "
      "the server holds the buffer's async.buffer_size deltas and steps with the rule's result"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.robust.rule == robust_rule_kind::mean) return std::nullopt;
        if (s.protocol.mode == protocol_mode::async && s.async.edge == edge_mode::preaggregate)
          return "is not supported with async.edge_mode preaggregate (a group's aggregate hides "
                 "its members' updates from the rule); use async.edge_mode forward";
        if (s.strategy.client == client_algorithm::scaffold)
          return "is not supported with strategy.client scaffold (its control variates are "
                 "averaged over the updates the rule does not pick); use mean";
        return std::nullopt;
      }),
    number_key("robust.trim", [](auto& s) -> auto& { return s.robust.trim; },
      bounds{0, false, 0.5, true},
      "trimmed_mean: fraction beta of an edge's updates dropped at each end per coordinate "
      "(floor(beta k))"),
    unsigned_key("robust.krum_f", [](auto& s) -> auto& { return s.robust.krum_f; }, 0, u32_max,
      "krum: Byzantine updates tolerated per edge (scores sum the k - f - 2 nearest, at least 1)"),
    unsigned_key("robust.krum_m", [](auto& s) -> auto& { return s.robust.krum_m; }, 1, u32_max,
      "krum: lowest-scored updates averaged (1 = Krum, more = multi-Krum)"),

    enum_key("attack.kind", [](auto& s) -> auto& { return s.attack.kind; },
      std::vector{attack_kind::none, attack_kind::scale, attack_kind::sign_flip,
                  attack_kind::label_flip, attack_kind::nan, attack_kind::backdoor},
      "simulated attackers: none; scale = delta x scale; sign_flip = delta x -scale; "
      "label_flip = trains on labels c-1-y; nan = sends NaN; backdoor = delta + a fixed "
      "direction of norm scale (docs/robustness.md)"),
    with_check(number_key("attack.fraction", [](auto& s) -> auto& { return s.attack.fraction; },
      unit_closed, "share of the population that is malicious (a fixed set from attack.seed)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.attack.fraction > 0 && s.attack.kind == attack_kind::none)
          return "is set but attack.kind is none; set attack.kind or fraction 0";
        return std::nullopt;
      }),
    number_key("attack.scale", [](auto& s) -> auto& { return s.attack.scale; }, positive,
      "scale: the factor; sign_flip: the factor of the negated delta; backdoor: the norm of "
      "the added direction"),
    unsigned_key("attack.seed", [](auto& s) -> auto& { return s.attack.seed; }, 0, u64_max,
      "which clients are malicious: client c is when hash(seed, c) < fraction"),

    with_check(enum_key("privacy.mode", [](auto& s) -> auto& { return s.privacy.mode; },
      std::vector{privacy_mode::off, privacy_mode::dp_fedavg},
      "client-level differential privacy: off, or dp_fedavg = each update clipped to "
      "privacy.clip at its edge, Gaussian noise added to the round's sum at the server, an RDP "
      "accountant reporting (epsilon, delta) (docs/privacy.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.privacy.mode == privacy_mode::off) return std::nullopt;
        if (s.protocol.mode != protocol_mode::sync)
          return "dp_fedavg needs protocol.mode sync (FedBuff has no sampled rounds: its "
                 "accounting differs, docs/privacy.md), got protocol.mode async";
        if (s.strategy.client == client_algorithm::scaffold)
          return "dp_fedavg does not support strategy.client scaffold (its control variates "
                 "would leave the clients unclipped and unnoised)";
        if (s.strategy.normalization == norm_handling::local)
          return "dp_fedavg does not support strategy.normalization local (FedBN's local layers "
                 "are outside the mechanism)";
        if (s.selection.strategy != sampling_kind::random)
          return std::string("dp_fedavg needs selection.strategy random (the accountant assumes "
                             "uniform sampling), got ") + to_string(s.selection.strategy);
        if (s.selection.over_select > 0)
          return "dp_fedavg needs selection.over_select 0 (keeping the fastest clients makes "
                 "sampling non-uniform), got " + format_number(s.selection.over_select);
        if (s.robust.norm_bound.mode != norm_bound_mode::off ||
            s.robust.rule != robust_rule_kind::mean)
          return "dp_fedavg does not combine with robust.norm_bound or a robust.rule (it clips "
                 "every update itself, and its noise is calibrated to the clipped sum); set "
                 "robust.norm_bound.mode off and robust.rule mean";
        return std::nullopt;
      }),
    number_key("privacy.clip", [](auto& s) -> auto& { return s.privacy.clip; },
      bounds{0, true, 1e30, false},
      "dp_fedavg: C, the L2 norm each client update is clipped to (adaptive clipping: the "
      "first round's)"),
    number_key("privacy.noise_multiplier",
      [](auto& s) -> auto& { return s.privacy.noise_multiplier; }, bounds{0, false, 1e6, false},
      "dp_fedavg: z, noise std / C of each round's release (0 = clipping only, no privacy: "
      "epsilon is infinite)"),
    enum_key("privacy.clipping", [](auto& s) -> auto& { return s.privacy.clipping; },
      std::vector{clipping_kind::fixed, clipping_kind::adaptive},
      "dp_fedavg: fixed = C stays privacy.clip; adaptive = C follows the target quantile of "
      "the update norms (Andrew et al. 2021)"),
    number_key("privacy.target_quantile",
      [](auto& s) -> auto& { return s.privacy.target_quantile; }, unit_closed,
      "adaptive clipping: gamma, the fraction of updates meant to fit under C"),
    number_key("privacy.clip_lr", [](auto& s) -> auto& { return s.privacy.clip_lr; }, positive,
      "adaptive clipping: eta_C, C <- C x exp(-eta_C x (noisy unclipped fraction - gamma))"),
    with_check(number_key("privacy.quantile_noise",
      [](auto& s) -> auto& { return s.privacy.quantile_noise; }, bounds{0, false, 1e6, false},
      "adaptive clipping: sigma_b, noise std of the count of unclipped updates; must be > "
      "noise_multiplier / 2 (the update noise is raised to keep the round's total at z)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.privacy.mode == privacy_mode::off || s.privacy.clipping != clipping_kind::adaptive ||
            s.privacy.noise_multiplier == 0 ||
            2 * s.privacy.quantile_noise > s.privacy.noise_multiplier)
          return std::nullopt;
        return "must be > privacy.noise_multiplier / 2 (" +
               short_number(s.privacy.noise_multiplier / 2) + ") with adaptive clipping, got " +
               short_number(s.privacy.quantile_noise);
      }),
    with_check(number_key("privacy.delta", [](auto& s) -> auto& { return s.privacy.delta; },
      bounds{0, false, 1, true},
      "dp_fedavg: delta of the reported (epsilon, delta); required, below 1 / "
      "population.clients (e.g. population.clients^-1.1)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.privacy.mode == privacy_mode::off) return std::nullopt;
        const double n = static_cast<double>(s.population.clients);
        if (s.privacy.delta > 0 && s.privacy.delta < 1 / n) return std::nullopt;
        return "must be in (0, 1/population.clients) with privacy.mode dp_fedavg (e.g. " +
               short_number(std::pow(n, -1.1)) + " = population.clients^-1.1), got " +
               short_number(s.privacy.delta);
      }),
    enum_key("compression.kind", [](auto& s) -> auto& { return s.compression.kind; },
      std::vector{compression_kind::none, compression_kind::fp16, compression_kind::int8,
                  compression_kind::topk},
      "how each client sends its update delta (docs/communication.md): none = its model as "
      "float32; fp16 = half precision; int8 = one byte per value with a float scale per "
      "compression.block values, stochastic rounding; topk = the compression.density largest "
      "values with their indices, the rest kept as the client's residual (error feedback) and "
      "added to its next update"),
    unsigned_key("compression.block", [](auto& s) -> auto& { return s.compression.block; },
      1, u32_max, "int8: values per block (one float scale each)"),
    number_key("compression.density", [](auto& s) -> auto& { return s.compression.density; },
      bounds{0, true, 1, false},
      "topk: fraction of the update's values sent, k = ceil(density x values), at least 1"),

    events_key("scripted timeline: each event fires at a simulated time (at), a sync round "
      "(round) or an async server step (step) and takes an edge down or up, a region down or "
      "up, clients out or back, or scales their transfer or compute time (docs/scenarios.md "
      "Events)"),
  };
  // clang-format on
}

}  // namespace fedactor::schema::detail
