// Tests of runtime/scenario/scenario.*: the names of the enum values and the field-wise
// comparison of the config structs (checked against the loader's key table, so that a key
// added to the scenario is compared too).

#include "runtime/scenario/scenario.hpp"

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/scenario/load.hpp"

using namespace fedactor;

namespace {

// Every field set to a value other than its default, built in C++ (no validation: a cnn on
// leaf_synthetic data would not pass validate()).
scenario every_field_changed() {
  scenario s;
  s.name = "changed";
  s.seed = 42;
  s.population.clients = 123456;
  s.population.regions = 4;
  s.population.availability.model = availability_model::diurnal;
  s.population.availability.base = 0.25;
  s.population.availability.amplitude = 0.125;
  s.population.availability.period_s = 3600;
  s.population.availability.slot_s = 60;
  s.population.availability.peak_s = {0, 900, 1800, 2700};
  s.population.availability.trace = "/data/trace.txt";
  s.data.kind = data_kind::leaf_synthetic;
  s.data.features = 16;
  s.data.classes = 5;
  s.data.min_samples = 20;
  s.data.max_samples = 400;
  s.data.teacher_hidden = 8;
  s.data.label_noise = 0.125;
  s.data.path = "/data/fmnist";
  s.data.partition = partition_kind::quantity_skew;
  s.data.alpha = 0.3;
  s.data.labels_per_client = 3;
  s.data.beta = 1.5;
  s.model.kind = model_kind::cnn;
  s.model.hidden = {128, 64};
  s.model.path = "/models/net.pt";
  s.eval.every = 5;
  s.eval.clients = 20;
  s.training.epochs = 3;
  s.training.batch_size = 64;
  s.training.lr = 0.05;
  s.training.momentum = 0.5;
  s.training.timeout_s = 30;
  s.topology.edges = 20;
  s.topology.routing = routing_kind::hash;
  s.topology.edge_regions = {0, 1};
  s.topology.edge_capacity = 8;
  s.topology.region_latency_s = {0.5};
  s.selection.strategy = sampling_kind::least_recent;
  s.selection.clients_per_round = 1000;
  s.selection.over_select = 0.3;
  s.selection.oort.exploration = 0.8;
  s.selection.oort.exploration_decay = 0.95;
  s.selection.oort.exploration_min = 0.2;
  s.selection.oort.penalty = 1.5;
  s.selection.oort.round_threshold = 40;
  s.selection.oort.pacer_step = 10;
  s.selection.oort.pacer_delta = 10;
  s.selection.oort.cut_off = 0.1;
  s.selection.oort.clip_bound = 0.95;
  s.selection.adaptive_size.enabled = true;
  s.selection.adaptive_size.min = 500;
  s.selection.adaptive_size.max = 2000;
  s.selection.adaptive_size.target_rel_var = 0.2;
  s.selection.adaptive_size.grow = 2;
  s.selection.adaptive_size.shrink = 0.5;
  s.selection.pace.enabled = true;
  s.selection.pace.ewma = 0.5;
  s.selection.pace.max_factor = 1.3;
  s.pool.max_live_clients = 500;
  s.pool.trainers = 2;
  s.pool.client_state_mb = 64;
  s.protocol.mode = protocol_mode::async;
  s.protocol.rounds = 50;
  s.protocol.round_deadline = 30;
  s.clock = clock_kind::real;
  s.async.concurrency = 200;
  s.async.buffer_size = 20;
  s.async.staleness_threshold = 8;
  s.async.decay.kind = decay_kind::hinge;
  s.async.decay.base = 0.8;
  s.async.decay.exponent = 1.5;
  s.async.decay.a = 5;
  s.async.decay.b = 2;
  s.async.delta = delta_rule::current;
  s.async.aggregations = 40;
  s.async.edge = edge_mode::preaggregate;
  s.async.preaggregate = 4;
  s.devices.compute_power.kind = power_kind::lognormal;
  s.devices.compute_power.sigma = 0.7;
  s.devices.compute_power.value = 2;
  s.devices.per_sample_s = 0.001;
  s.devices.bandwidth_mbps = 50;
  s.devices.bandwidth_sigma = 0.25;
  s.devices.latency_s = 0.1;
  s.faults.on_edge_loss = edge_loss_policy::drop;
  s.strategy.server_optimizer = "fedadam";
  s.strategy.server_lr = 0.05;
  s.strategy.momentum = 0.5;
  s.strategy.beta1 = 0.8;
  s.strategy.beta2 = 0.95;
  s.strategy.tau = 0.01;
  s.strategy.bias_correction = false;
  s.strategy.client = client_algorithm::scaffold;
  s.strategy.prox_mu = 0.1;
  s.strategy.normalization = norm_handling::local;
  s.checkpoint.every = 3;
  s.robust.norm_bound.mode = norm_bound_mode::clip;
  s.robust.norm_bound.bound = 2.5;
  s.robust.norm_bound.target_quantile = 0.5;
  s.robust.norm_bound.lr = 0.1;
  s.robust.rule = robust_rule_kind::krum;
  s.robust.trim = 0.2;
  s.robust.krum_f = 2;
  s.robust.krum_m = 3;
  s.attack.kind = attack_kind::backdoor;
  s.attack.fraction = 0.3;
  s.attack.scale = 4;
  s.attack.seed = 9;
  s.privacy.mode = privacy_mode::dp_fedavg;
  s.privacy.clip = 0.25;
  s.privacy.noise_multiplier = 1.3;
  s.privacy.clipping = clipping_kind::adaptive;
  s.privacy.target_quantile = 0.7;
  s.privacy.clip_lr = 0.3;
  s.privacy.quantile_noise = 2.5;
  s.privacy.delta = 1e-7;
  s.compression.kind = compression_kind::topk;
  s.compression.block = 64;
  s.compression.density = 0.05;
  // One event of every kind and trigger, each field off its default.
  auto event = [](event_kind kind, event_trigger trigger) {
    scenario_event e;
    e.kind = kind;
    e.trigger = trigger;
    e.count = 3;
    e.at = 120.5;
    return e;
  };
  auto edge = event(event_kind::edge_down, event_trigger::at);
  edge.edge = 2;
  auto back = event(event_kind::edge_up, event_trigger::round);
  back.edge = 2;
  auto region = event(event_kind::region_down, event_trigger::step);
  region.region = 3;
  auto region_back = event(event_kind::region_up, event_trigger::at);
  region_back.region = 3;
  auto leave = event(event_kind::clients_leave, event_trigger::round);
  leave.clients.fraction = 0.25;
  auto join = event(event_kind::clients_join, event_trigger::round);
  join.clients.from = 10;
  join.clients.to = 20;
  auto bandwidth = event(event_kind::bandwidth, event_trigger::step);
  bandwidth.clients.fraction = 1.0 / 3.0;
  bandwidth.factor = 4;
  auto compute = event(event_kind::compute, event_trigger::at);
  compute.clients.from = 0;
  compute.clients.to = 123456;
  compute.factor = 0.5;
  for (auto& e : {edge, back, region, region_back, leave, join, bandwidth, compute}) {
    scenario_event x = e;
    if (x.trigger == event_trigger::at)
      x.count = 0;
    else
      x.at = 0;
    s.events.push_back(x);
  }
  return s;
}

// The parts of two scenarios that compare unequal, each through its own operator==:
// top-level fields and sections by name, nested sections as "async.decay" and
// "devices.compute_power".
std::vector<std::string> differing_parts(const scenario& a, const scenario& b) {
  std::vector<std::string> out;
  auto note = [&out](bool equal, const char* part) {
    if (!equal) out.push_back(part);
  };
  note(a.name == b.name, "name");
  note(a.seed == b.seed, "seed");
  note(a.population == b.population, "population");
  note(a.population.availability == b.population.availability, "population.availability");
  note(a.data == b.data, "data");
  note(a.model == b.model, "model");
  note(a.eval == b.eval, "eval");
  note(a.training == b.training, "training");
  note(a.topology == b.topology, "topology");
  note(a.selection == b.selection, "selection");
  note(a.selection.oort == b.selection.oort, "selection.oort");
  note(a.selection.adaptive_size == b.selection.adaptive_size, "selection.adaptive_size");
  note(a.selection.pace == b.selection.pace, "selection.pace");
  note(a.pool == b.pool, "pool");
  note(a.protocol == b.protocol, "protocol");
  note(a.clock == b.clock, "clock");
  note(a.async == b.async, "async");
  note(a.async.decay == b.async.decay, "async.decay");
  note(a.devices == b.devices, "devices");
  note(a.devices.compute_power == b.devices.compute_power, "devices.compute_power");
  note(a.faults == b.faults, "faults");
  note(a.strategy == b.strategy, "strategy");
  note(a.checkpoint == b.checkpoint, "checkpoint");
  note(a.robust == b.robust, "robust");
  note(a.robust.norm_bound == b.robust.norm_bound, "robust.norm_bound");
  note(a.attack == b.attack, "attack");
  note(a.privacy == b.privacy, "privacy");
  note(a.compression == b.compression, "compression");
  note(a.events == b.events, "events");
  return out;
}

// The parts a key belongs to: "async.decay.base" -> {"async", "async.decay"}, "data.alpha" ->
// {"data"}, "seed" -> {"seed"}.
std::vector<std::string> parts_of(const std::string& path) {
  std::vector<std::string> out;
  for (size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', dot + 1))
    out.push_back(path.substr(0, dot));
  if (out.empty()) out.push_back(path);
  return out;
}

// Each value of an enum key, by its to_string name, through --set: the loader reads the name
// back into the same value, and key_value writes it as that name.
template <class E, class Field>
void check_names_load(const std::string& path, std::initializer_list<E> values, Field field) {
  for (E v : values) {
    const std::string name = to_string(v);
    INFO(path << "=" << name);
    scenario s;
    REQUIRE_FALSE(apply_override(path + "=" + name, s));
    CHECK(field(s) == v);
    CHECK(key_value(s, path) == name);
  }
}

}  // namespace

TEST_CASE("scenario enum values have their YAML names", "[scenario]") {
  using std::string;
  CHECK(string(to_string(data_kind::tutorial_random)) == "tutorial_random");
  CHECK(string(to_string(data_kind::teacher)) == "teacher");
  CHECK(string(to_string(data_kind::fashion_mnist)) == "fashion_mnist");
  CHECK(string(to_string(data_kind::leaf_synthetic)) == "leaf_synthetic");
  CHECK(string(to_string(partition_kind::iid)) == "iid");
  CHECK(string(to_string(partition_kind::dirichlet)) == "dirichlet");
  CHECK(string(to_string(partition_kind::labels_per_client)) == "labels_per_client");
  CHECK(string(to_string(partition_kind::quantity_skew)) == "quantity_skew");
  CHECK(string(to_string(model_kind::mlp)) == "mlp");
  CHECK(string(to_string(model_kind::cnn)) == "cnn");
  CHECK(string(to_string(model_kind::torchscript)) == "torchscript");
  CHECK(string(to_string(routing_kind::range)) == "range");
  CHECK(string(to_string(routing_kind::hash)) == "hash");
  CHECK(string(to_string(routing_kind::region)) == "region");
  CHECK(string(to_string(sampling_kind::random)) == "random");
  CHECK(string(to_string(sampling_kind::weighted)) == "weighted");
  CHECK(string(to_string(sampling_kind::least_recent)) == "least_recent");
  CHECK(string(to_string(protocol_mode::sync)) == "sync");
  CHECK(string(to_string(protocol_mode::async)) == "async");
  CHECK(string(to_string(clock_kind::simulated)) == "simulated");
  CHECK(string(to_string(clock_kind::real)) == "real");
  CHECK(string(to_string(decay_kind::exponential)) == "exponential");
  CHECK(string(to_string(decay_kind::polynomial)) == "polynomial");
  CHECK(string(to_string(decay_kind::hinge)) == "hinge");
  CHECK(string(to_string(decay_kind::constant)) == "constant");
  CHECK(string(to_string(delta_rule::base)) == "base");
  CHECK(string(to_string(delta_rule::current)) == "current");
  CHECK(string(to_string(edge_mode::forward)) == "forward");
  CHECK(string(to_string(edge_mode::preaggregate)) == "preaggregate");
  CHECK(string(to_string(power_kind::uniform)) == "uniform");
  CHECK(string(to_string(power_kind::lognormal)) == "lognormal");
  CHECK(string(to_string(power_kind::constant)) == "constant");
  CHECK(string(to_string(edge_loss_policy::reroute)) == "reroute");
  CHECK(string(to_string(edge_loss_policy::drop)) == "drop");
  CHECK(string(to_string(client_algorithm::fedavg)) == "fedavg");
  CHECK(string(to_string(client_algorithm::fedprox)) == "fedprox");
  CHECK(string(to_string(client_algorithm::scaffold)) == "scaffold");
  CHECK(string(to_string(norm_handling::federated)) == "federated");
  CHECK(string(to_string(norm_handling::local)) == "local");
  CHECK(string(to_string(availability_model::always)) == "always");
  CHECK(string(to_string(availability_model::diurnal)) == "diurnal");
  CHECK(string(to_string(availability_model::trace)) == "trace");
}

TEST_CASE("scenario enum values outside the enum are named ?", "[scenario]") {
  using std::string;
  CHECK(string(to_string(static_cast<data_kind>(4))) == "?");
  CHECK(string(to_string(static_cast<partition_kind>(4))) == "?");
  CHECK(string(to_string(static_cast<model_kind>(3))) == "?");
  CHECK(string(to_string(static_cast<routing_kind>(3))) == "?");
  CHECK(string(to_string(static_cast<sampling_kind>(4))) == "?");
  CHECK(string(to_string(static_cast<protocol_mode>(2))) == "?");
  CHECK(string(to_string(static_cast<clock_kind>(2))) == "?");
  CHECK(string(to_string(static_cast<decay_kind>(4))) == "?");
  CHECK(string(to_string(static_cast<delta_rule>(2))) == "?");
  CHECK(string(to_string(static_cast<edge_mode>(2))) == "?");
  CHECK(string(to_string(static_cast<power_kind>(3))) == "?");
  CHECK(string(to_string(static_cast<edge_loss_policy>(2))) == "?");
  CHECK(string(to_string(static_cast<client_algorithm>(3))) == "?");
  CHECK(string(to_string(static_cast<norm_handling>(2))) == "?");
  CHECK(string(to_string(static_cast<privacy_mode>(2))) == "?");
  CHECK(string(to_string(static_cast<clipping_kind>(2))) == "?");
  CHECK(string(to_string(static_cast<availability_model>(3))) == "?");
}

TEST_CASE("scenario enum names are the values the loader reads", "[scenario]") {
  check_names_load("data.kind",
                   {data_kind::tutorial_random, data_kind::teacher, data_kind::fashion_mnist,
                    data_kind::leaf_synthetic},
                   [](const scenario& s) { return s.data.kind; });
  check_names_load("data.partition",
                   {partition_kind::iid, partition_kind::dirichlet,
                    partition_kind::labels_per_client, partition_kind::quantity_skew},
                   [](const scenario& s) { return s.data.partition; });
  check_names_load("model.kind", {model_kind::mlp, model_kind::cnn, model_kind::torchscript},
                   [](const scenario& s) { return s.model.kind; });
  check_names_load("topology.routing",
                   {routing_kind::range, routing_kind::hash, routing_kind::region},
                   [](const scenario& s) { return s.topology.routing; });
  check_names_load("selection.strategy",
                   {sampling_kind::random, sampling_kind::weighted, sampling_kind::least_recent,
                    sampling_kind::oort},
                   [](const scenario& s) { return s.selection.strategy; });
  check_names_load("protocol.mode", {protocol_mode::sync, protocol_mode::async},
                   [](const scenario& s) { return s.protocol.mode; });
  check_names_load("clock", {clock_kind::simulated, clock_kind::real},
                   [](const scenario& s) { return s.clock; });
  check_names_load(
      "async.decay.kind",
      {decay_kind::exponential, decay_kind::polynomial, decay_kind::hinge, decay_kind::constant},
      [](const scenario& s) { return s.async.decay.kind; });
  check_names_load("async.delta", {delta_rule::base, delta_rule::current},
                   [](const scenario& s) { return s.async.delta; });
  check_names_load("async.edge_mode", {edge_mode::forward, edge_mode::preaggregate},
                   [](const scenario& s) { return s.async.edge; });
  check_names_load("devices.compute_power.kind",
                   {power_kind::uniform, power_kind::lognormal, power_kind::constant},
                   [](const scenario& s) { return s.devices.compute_power.kind; });
  check_names_load("faults.on_edge_loss", {edge_loss_policy::reroute, edge_loss_policy::drop},
                   [](const scenario& s) { return s.faults.on_edge_loss; });
  check_names_load(
      "strategy.client",
      {client_algorithm::fedavg, client_algorithm::fedprox, client_algorithm::scaffold},
      [](const scenario& s) { return s.strategy.client; });
  check_names_load("strategy.normalization", {norm_handling::federated, norm_handling::local},
                   [](const scenario& s) { return s.strategy.normalization; });
  check_names_load("privacy.mode", {privacy_mode::off, privacy_mode::dp_fedavg},
                   [](const scenario& s) { return s.privacy.mode; });
  check_names_load("privacy.clipping", {clipping_kind::fixed, clipping_kind::adaptive},
                   [](const scenario& s) { return s.privacy.clipping; });
  check_names_load(
      "population.availability.model",
      {availability_model::always, availability_model::diurnal, availability_model::trace},
      [](const scenario& s) { return s.population.availability.model; });
}

TEST_CASE("scenario copies compare equal, part by part", "[scenario]") {
  const scenario defaults;
  const scenario changed = every_field_changed();
  const scenario copy = changed;
  CHECK(copy == changed);
  CHECK_FALSE(copy != changed);
  CHECK(differing_parts(copy, changed).empty());
  CHECK(scenario{} == defaults);
  CHECK(changed != defaults);
  // clang-format off
  CHECK(differing_parts(defaults, changed) ==
        std::vector<std::string>{"name",      "seed",        "population",
                                 "population.availability",  "data",
                                 "model",     "eval",        "training",   "topology",
                                 "selection", "selection.oort", "selection.adaptive_size",
                                 "selection.pace",
                                 "pool",      "protocol",   "clock",
                                 "async",     "async.decay", "devices",    "devices.compute_power",
                                 "faults",    "strategy",    "checkpoint", "robust",
                                 "robust.norm_bound",        "attack",     "privacy",
                                 "compression", "events"});
  // clang-format on
}

TEST_CASE("scenario comparison sees every key", "[scenario]") {
  // Setting any one key to its value in every_field_changed() makes the scenario differ from
  // the default, in the struct holding the key and nowhere else. Driven by the key table, so a
  // new key that operator== misses (or that every_field_changed() leaves at its default) fails.
  const scenario defaults;
  const scenario full = every_field_changed();
  std::size_t differing = 0;
  for (const auto& k : scenario_keys()) {
    const std::string value = *key_value(full, k.path);
    INFO(k.path << "=" << value);
    CHECK(value != k.default_value);
    if (value == k.default_value) continue;
    scenario s;
    REQUIRE_FALSE(apply_override(k.path + "=" + value, s));
    CHECK(*key_value(s, k.path) == value);
    CHECK(s != defaults);
    CHECK_FALSE(s == defaults);
    CHECK(differing_parts(defaults, s) == parts_of(k.path));
    ++differing;
  }
  CHECK(differing == scenario_keys().size());
  CHECK_FALSE(key_value(full, "training.nope"));
}

TEST_CASE("scenario comparison of numbers is exact", "[scenario]") {
  scenario a;
  scenario b;
  a.training.lr = 0.1 + 0.2;
  b.training.lr = 0.3;
  CHECK(a != b);
  CHECK_FALSE(a.training == b.training);
  b.training.lr = 0.1 + 0.2;
  CHECK(a == b);
  b.devices.latency_s = std::nextafter(a.devices.latency_s, 1.0);
  CHECK(a != b);
  CHECK_FALSE(a.devices == b.devices);
  // Lists compare element by element, order included.
  a.model.hidden = {128, 64};
  b = a;
  b.model.hidden = {64, 128};
  CHECK_FALSE(a.model == b.model);
  b.model.hidden = {128, 64, 0};
  CHECK_FALSE(a.model == b.model);
}

TEST_CASE("a scenario with every field changed survives to_yaml and the loader", "[scenario]") {
  const scenario original = every_field_changed();
  scenario back;
  const auto err = load_scenario_text(to_yaml(original), "effective.yaml", back);
  INFO(to_yaml(original));
  REQUIRE_FALSE(err);
  CHECK(differing_parts(original, back).empty());
  CHECK(back == original);
}
