#include "runtime/scenario/scenario.hpp"

#include <algorithm>
#include <cmath>

namespace fedactor {

const char* to_string(data_kind x) {
  switch (x) {
    case data_kind::tutorial_random:
      return "tutorial_random";
    case data_kind::teacher:
      return "teacher";
    case data_kind::fashion_mnist:
      return "fashion_mnist";
    case data_kind::leaf_synthetic:
      return "leaf_synthetic";
  }
  return "?";
}

const char* to_string(partition_kind x) {
  switch (x) {
    case partition_kind::iid:
      return "iid";
    case partition_kind::dirichlet:
      return "dirichlet";
    case partition_kind::labels_per_client:
      return "labels_per_client";
    case partition_kind::quantity_skew:
      return "quantity_skew";
  }
  return "?";
}

const char* to_string(model_kind x) {
  switch (x) {
    case model_kind::mlp:
      return "mlp";
    case model_kind::cnn:
      return "cnn";
    case model_kind::torchscript:
      return "torchscript";
  }
  return "?";
}

const char* to_string(routing_kind x) {
  switch (x) {
    case routing_kind::range:
      return "range";
    case routing_kind::hash:
      return "hash";
    case routing_kind::region:
      return "region";
  }
  return "?";
}

const char* to_string(availability_model x) {
  switch (x) {
    case availability_model::always:
      return "always";
    case availability_model::diurnal:
      return "diurnal";
    case availability_model::trace:
      return "trace";
  }
  return "?";
}

const char* to_string(sampling_kind x) {
  switch (x) {
    case sampling_kind::random:
      return "random";
    case sampling_kind::weighted:
      return "weighted";
    case sampling_kind::least_recent:
      return "least_recent";
    case sampling_kind::oort:
      return "oort";
  }
  return "?";
}

const char* to_string(protocol_mode x) {
  switch (x) {
    case protocol_mode::sync:
      return "sync";
    case protocol_mode::async:
      return "async";
  }
  return "?";
}

const char* to_string(clock_kind x) {
  switch (x) {
    case clock_kind::simulated:
      return "simulated";
    case clock_kind::real:
      return "real";
  }
  return "?";
}

const char* to_string(decay_kind x) {
  switch (x) {
    case decay_kind::exponential:
      return "exponential";
    case decay_kind::polynomial:
      return "polynomial";
    case decay_kind::hinge:
      return "hinge";
    case decay_kind::constant:
      return "constant";
  }
  return "?";
}

const char* to_string(delta_rule x) {
  switch (x) {
    case delta_rule::base:
      return "base";
    case delta_rule::current:
      return "current";
  }
  return "?";
}

const char* to_string(edge_mode x) {
  switch (x) {
    case edge_mode::forward:
      return "forward";
    case edge_mode::preaggregate:
      return "preaggregate";
  }
  return "?";
}

const char* to_string(power_kind x) {
  switch (x) {
    case power_kind::uniform:
      return "uniform";
    case power_kind::lognormal:
      return "lognormal";
    case power_kind::constant:
      return "constant";
  }
  return "?";
}

const char* to_string(edge_loss_policy x) {
  switch (x) {
    case edge_loss_policy::reroute:
      return "reroute";
    case edge_loss_policy::drop:
      return "drop";
  }
  return "?";
}

const char* to_string(client_algorithm x) {
  switch (x) {
    case client_algorithm::fedavg:
      return "fedavg";
    case client_algorithm::fedprox:
      return "fedprox";
    case client_algorithm::scaffold:
      return "scaffold";
  }
  return "?";
}

const char* to_string(norm_handling x) {
  switch (x) {
    case norm_handling::federated:
      return "federated";
    case norm_handling::local:
      return "local";
  }
  return "?";
}

const char* to_string(privacy_mode x) {
  switch (x) {
    case privacy_mode::off:
      return "off";
    case privacy_mode::dp_fedavg:
      return "dp_fedavg";
  }
  return "?";
}

const char* to_string(clipping_kind x) {
  switch (x) {
    case clipping_kind::fixed:
      return "fixed";
    case clipping_kind::adaptive:
      return "adaptive";
  }
  return "?";
}

const char* to_string(event_kind x) {
  switch (x) {
    case event_kind::edge_down:
      return "edge_down";
    case event_kind::edge_up:
      return "edge_up";
    case event_kind::region_down:
      return "region_down";
    case event_kind::region_up:
      return "region_up";
    case event_kind::clients_leave:
      return "clients_leave";
    case event_kind::clients_join:
      return "clients_join";
    case event_kind::bandwidth:
      return "bandwidth";
    case event_kind::compute:
      return "compute";
    case event_kind::server_crash:
      return "server_crash";
  }
  return "?";
}

const char* to_string(event_trigger x) {
  switch (x) {
    case event_trigger::at:
      return "at";
    case event_trigger::round:
      return "round";
    case event_trigger::step:
      return "step";
  }
  return "?";
}

const char* to_string(attack_kind x) {
  switch (x) {
    case attack_kind::none:
      return "none";
    case attack_kind::scale:
      return "scale";
    case attack_kind::sign_flip:
      return "sign_flip";
    case attack_kind::label_flip:
      return "label_flip";
    case attack_kind::nan:
      return "nan";
    case attack_kind::backdoor:
      return "backdoor";
  }
  return "?";
}

server_optimizer_config effective_optimizer(const strategy_config& s) {
  auto cfg = server_optimizer_defaults(s.server_optimizer);  // throws for an unknown kind
  auto given = [](double v, double& out) {
    if (!std::isnan(v)) out = v;
  };
  given(s.server_lr, cfg.server_lr);
  given(s.momentum, cfg.momentum);
  given(s.beta1, cfg.beta1);
  given(s.beta2, cfg.beta2);
  given(s.tau, cfg.tau);
  if (s.bias_correction) cfg.bias_correction = *s.bias_correction;
  return cfg;
}

bool operator==(const strategy_config& a, const strategy_config& b) {
  if (a.server_optimizer != b.server_optimizer || a.client != b.client || a.prox_mu != b.prox_mu ||
      a.normalization != b.normalization)
    return false;
  if (!find_server_optimizer(a.server_optimizer)) {
    // No defaults to resolve against: compare what is stored (NaN equal to NaN).
    auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
    return same(a.server_lr, b.server_lr) && same(a.momentum, b.momentum) &&
           same(a.beta1, b.beta1) && same(a.beta2, b.beta2) && same(a.tau, b.tau) &&
           a.bias_correction == b.bias_correction;
  }
  return effective_optimizer(a) == effective_optimizer(b);
}

bool operator==(const availability_config& a, const availability_config& b) {
  return a.model == b.model && a.base == b.base && a.amplitude == b.amplitude &&
         a.period_s == b.period_s && a.slot_s == b.slot_s && a.peak_s == b.peak_s &&
         a.trace == b.trace;
}

bool operator==(const population_config& a, const population_config& b) {
  return a.clients == b.clients && a.regions == b.regions && a.availability == b.availability;
}

bool operator==(const data_config& a, const data_config& b) {
  return a.kind == b.kind && a.features == b.features && a.classes == b.classes &&
         a.min_samples == b.min_samples && a.max_samples == b.max_samples &&
         a.teacher_hidden == b.teacher_hidden && a.label_noise == b.label_noise &&
         a.path == b.path && a.partition == b.partition && a.alpha == b.alpha &&
         a.labels_per_client == b.labels_per_client && a.beta == b.beta;
}

bool operator==(const model_config& a, const model_config& b) {
  return a.kind == b.kind && a.hidden == b.hidden && a.path == b.path;
}

bool operator==(const eval_config& a, const eval_config& b) {
  return a.every == b.every && a.clients == b.clients;
}

bool operator==(const training_config& a, const training_config& b) {
  return a.epochs == b.epochs && a.batch_size == b.batch_size && a.lr == b.lr &&
         a.momentum == b.momentum && a.timeout_s == b.timeout_s;
}

bool operator==(const topology_config& a, const topology_config& b) {
  return a.edges == b.edges && a.routing == b.routing && a.edge_regions == b.edge_regions &&
         a.edge_capacity == b.edge_capacity && a.region_latency_s == b.region_latency_s;
}

uint32_t most_clients_per_round(const selection_config& s) {
  return s.adaptive_size.enabled ? std::max(s.clients_per_round, s.adaptive_size.max)
                                 : s.clients_per_round;
}

bool operator==(const oort_config& a, const oort_config& b) {
  return a.exploration == b.exploration && a.exploration_decay == b.exploration_decay &&
         a.exploration_min == b.exploration_min && a.penalty == b.penalty &&
         a.round_threshold == b.round_threshold && a.pacer_step == b.pacer_step &&
         a.pacer_delta == b.pacer_delta && a.cut_off == b.cut_off && a.clip_bound == b.clip_bound;
}

bool operator==(const adaptive_size_config& a, const adaptive_size_config& b) {
  return a.enabled == b.enabled && a.min == b.min && a.max == b.max &&
         a.target_rel_var == b.target_rel_var && a.grow == b.grow && a.shrink == b.shrink;
}

bool operator==(const pace_config& a, const pace_config& b) {
  return a.enabled == b.enabled && a.ewma == b.ewma && a.max_factor == b.max_factor;
}

bool operator==(const selection_config& a, const selection_config& b) {
  return a.strategy == b.strategy && a.clients_per_round == b.clients_per_round &&
         a.over_select == b.over_select && a.oort == b.oort && a.adaptive_size == b.adaptive_size &&
         a.pace == b.pace;
}

bool operator==(const pool_config& a, const pool_config& b) {
  return a.max_live_clients == b.max_live_clients && a.trainers == b.trainers &&
         a.client_state_mb == b.client_state_mb;
}

bool operator==(const protocol_config& a, const protocol_config& b) {
  return a.mode == b.mode && a.rounds == b.rounds && a.round_deadline == b.round_deadline;
}

bool operator==(const decay_config& a, const decay_config& b) {
  return a.kind == b.kind && a.base == b.base && a.exponent == b.exponent && a.a == b.a &&
         a.b == b.b;
}

bool operator==(const async_config& a, const async_config& b) {
  return a.concurrency == b.concurrency && a.buffer_size == b.buffer_size &&
         a.staleness_threshold == b.staleness_threshold && a.decay == b.decay &&
         a.delta == b.delta && a.aggregations == b.aggregations && a.edge == b.edge &&
         a.preaggregate == b.preaggregate;
}

bool operator==(const compute_power_config& a, const compute_power_config& b) {
  return a.kind == b.kind && a.sigma == b.sigma && a.value == b.value;
}

bool operator==(const devices_config& a, const devices_config& b) {
  return a.compute_power == b.compute_power && a.per_sample_s == b.per_sample_s &&
         a.bandwidth_mbps == b.bandwidth_mbps && a.bandwidth_sigma == b.bandwidth_sigma &&
         a.latency_s == b.latency_s;
}

bool operator==(const faults_config& a, const faults_config& b) {
  return a.on_edge_loss == b.on_edge_loss;
}

bool operator==(const checkpoint_config& a, const checkpoint_config& b) {
  return a.every == b.every;
}

bool operator==(const norm_bound_config& a, const norm_bound_config& b) {
  return a.mode == b.mode && a.bound == b.bound && a.target_quantile == b.target_quantile &&
         a.lr == b.lr;
}

bool operator==(const robust_config& a, const robust_config& b) {
  return a.norm_bound == b.norm_bound && a.rule == b.rule && a.trim == b.trim &&
         a.krum_f == b.krum_f && a.krum_m == b.krum_m;
}

bool operator==(const attack_config& a, const attack_config& b) {
  return a.kind == b.kind && a.fraction == b.fraction && a.scale == b.scale && a.seed == b.seed;
}

bool operator==(const privacy_config& a, const privacy_config& b) {
  return a.mode == b.mode && a.clip == b.clip && a.noise_multiplier == b.noise_multiplier &&
         a.clipping == b.clipping && a.target_quantile == b.target_quantile &&
         a.clip_lr == b.clip_lr && a.quantile_noise == b.quantile_noise && a.delta == b.delta;
}

bool operator==(const compression_settings& a, const compression_settings& b) {
  return a.kind == b.kind && a.block == b.block && a.density == b.density;
}

bool operator==(const client_selector& a, const client_selector& b) {
  return a.fraction == b.fraction && a.from == b.from && a.to == b.to;
}

bool operator==(const scenario_event& a, const scenario_event& b) {
  return a.kind == b.kind && a.trigger == b.trigger && a.at == b.at && a.count == b.count &&
         a.edge == b.edge && a.region == b.region && a.clients == b.clients && a.factor == b.factor;
}

bool operator==(const scenario& a, const scenario& b) {
  return a.events == b.events && a.name == b.name && a.seed == b.seed &&
         a.population == b.population && a.data == b.data && a.model == b.model &&
         a.eval == b.eval && a.training == b.training && a.topology == b.topology &&
         a.selection == b.selection && a.pool == b.pool && a.protocol == b.protocol &&
         a.clock == b.clock && a.async == b.async && a.devices == b.devices &&
         a.faults == b.faults && a.strategy == b.strategy && a.checkpoint == b.checkpoint &&
         a.robust == b.robust && a.attack == b.attack && a.privacy == b.privacy &&
         a.compression == b.compression;
}

}  // namespace fedactor
