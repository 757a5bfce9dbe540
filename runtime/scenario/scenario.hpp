#pragma once

// The scenario: every knob of a run as nested plain structs, one per component.
// Defaults are the tutorial's ScalabilityConfig. Loading, validation and --set
// overrides live in runtime/scenario/load.hpp; docs/scenarios.md documents each key.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "runtime/compression/update_codec.hpp"
#include "runtime/strategy/robust_rule.hpp"
#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {

enum class data_kind { tutorial_random, teacher, fashion_mnist, leaf_synthetic };
enum class partition_kind { iid, dirichlet, labels_per_client, quantity_skew };
enum class model_kind { mlp, cnn, torchscript };
enum class routing_kind { range, hash, region };
enum class sampling_kind { random, weighted, least_recent, oort };
enum class protocol_mode { sync, async };
enum class clock_kind { simulated, real };
enum class decay_kind { exponential, polynomial, hinge, constant };
enum class delta_rule { base, current };
enum class edge_mode { forward, preaggregate };
enum class power_kind { uniform, lognormal, constant };
enum class edge_loss_policy { reroute, drop };
enum class client_algorithm { fedavg, fedprox, scaffold };
enum class norm_handling { federated, local };
enum class privacy_mode { off, dp_fedavg };
enum class clipping_kind { fixed, adaptive };
enum class event_kind {
  edge_down,
  edge_up,
  region_down,
  region_up,
  clients_leave,
  clients_join,
  bandwidth,
  compute,
  server_crash
};
enum class event_trigger { at, round, step };
enum class attack_kind { none, scale, sign_flip, label_flip, nan, backdoor };
enum class availability_model { always, diurnal, trace };

// When clients are online (runtime/population/online_model.hpp, docs/selection.md).
struct availability_config {
  availability_model model = availability_model::always;
  double base = 0.5;           // diurnal: mean online probability
  double amplitude = 0.3;      // diurnal: swing around it over the period
  double period_s = 86400;     // diurnal: length of the cycle, simulated seconds
  double slot_s = 3600;        // diurnal: a client's online state is drawn once per slot
  std::vector<double> peak_s;  // diurnal: per region, time of the peak; [] = 0 for all
  std::string trace;           // trace: the online-interval file
};

struct population_config {
  uint64_t clients = 1000;  // registered clients, ids 0..clients-1
  uint32_t regions = 1;     // regions clients are spread over (registry metadata)
  availability_config availability;
};

struct data_config {
  data_kind kind = data_kind::tutorial_random;
  uint32_t features = 32;        // input dimension
  uint32_t classes = 10;         // number of labels
  uint32_t min_samples = 50;     // per-client dataset size, uniform in [min, max)
  uint32_t max_samples = 200;    // (the tutorial's randint(50, 200))
  uint32_t teacher_hidden = 32;  // teacher kind: hidden width of the labelling network
  double label_noise = 0.0;      // teacher kind: probability a label is replaced at random
  std::string path = "/usr/share/datasets/fashion-mnist";  // fashion_mnist: the IDX .gz files
  partition_kind partition = partition_kind::iid;          // fashion_mnist: split over clients
  double alpha = 0.5;              // dirichlet / quantity_skew concentration; leaf_synthetic alpha
  uint32_t labels_per_client = 2;  // labels_per_client partition: k labels per client
  double beta = 0.5;               // leaf_synthetic: beta (spread of the input means)
};

struct model_config {
  model_kind kind = model_kind::mlp;
  std::vector<uint32_t> hidden = {64};  // hidden layer widths: 32-64-10 by default
  std::string path;                     // torchscript: the exported module file
};

// Evaluation of the global model on the data's test split (and optionally on clients).
struct eval_config {
  uint32_t every = 1;    // rounds between evaluations; 0 = never
  uint32_t clients = 0;  // also evaluate on this many sampled clients' local data; 0 = off
};

struct training_config {
  uint32_t epochs = 1;
  uint32_t batch_size = 32;
  double lr = 0.01;
  double momentum = 0.9;
  double timeout_s = 120.0;  // per client task; a client past it counts as failed
};

struct topology_config {
  uint32_t edges = 10;
  routing_kind routing = routing_kind::range;
  // routing region (runtime/population/region_router.hpp):
  std::vector<uint32_t> edge_regions;    // region of each edge; [] = spread (edge e: e*R/E)
  uint32_t edge_capacity = 0;            // tasks in flight per edge before spilling; 0 = no cap
  std::vector<double> region_latency_s;  // R x R one-way seconds, row-major; [] = default
};

// Oort (Lai et al., OSDI 2021), defaults as FedScale's (docs/selection.md).
struct oort_config {
  double exploration = 0.9;         // initial share of each round given to never-seen clients
  double exploration_decay = 0.98;  // multiplies it every round
  double exploration_min = 0.3;     // its floor
  double penalty = 2.0;             // alpha: slow clients' utility x (T / t_i)^alpha
  double round_threshold = 30.0;    // T: this percentile (%) of the reported durations
  uint32_t pacer_step = 20;         // rounds per pacer window
  double pacer_delta = 5.0;         // the pacer raises round_threshold by this (percentage points)
  double cut_off = 0.05;            // pool: utility >= (1 - cut_off) x the k-th utility
  double clip_bound = 0.9;          // utilities are clipped at this quantile before normalising
};

// Adaptive sample size (docs/selection.md): after each round (async: server step) the size
// grows by `grow` when the relative variance of the aggregate exceeds target_rel_var, shrinks
// by `shrink` when below target_rel_var / 4, within [min, max].
struct adaptive_size_config {
  bool enabled = false;
  uint32_t min = 1;
  uint32_t max = 1000;
  double target_rel_var = 0.1;
  double grow = 1.5;
  double shrink = 0.8;
};

// Pace steering (sync; runtime/population/pace_steering.hpp, docs/selection.md): over-select
// by min(max_factor, 1 / (1 - f)), f an EWMA (weight ewma) of the rounds' failure rates.
struct pace_config {
  bool enabled = false;
  double ewma = 0.3;
  double max_factor = 2.0;
};

struct selection_config {
  sampling_kind strategy = sampling_kind::random;
  uint32_t clients_per_round = 100;
  double over_select = 0.0;  // sync: sample ceil(k * (1 + over_select)), keep the first k to finish
  oort_config oort;
  adaptive_size_config adaptive_size;
  pace_config pace;
};

struct pool_config {
  uint32_t max_live_clients = 200;  // client actors alive at once, over all edges
  uint32_t trainers = 0;            // trainer threads; 0 = one per core
  uint32_t client_state_mb = 256;   // memory for client algorithm state (SCAFFOLD, FedBN); the
                                    // rest spills to the client state store's file
};

struct protocol_config {
  protocol_mode mode = protocol_mode::sync;
  uint32_t rounds = 10;
  double round_deadline = 0.0;  // sync: simulated seconds a round may last; 0 = no deadline
};

// Staleness decay: weight multiplier for an update s versions old.
struct decay_config {
  decay_kind kind = decay_kind::exponential;
  double base = 0.9;      // exponential: base^s
  double exponent = 0.5;  // polynomial: (1 + s)^-exponent
  double a = 10.0;        // hinge: 1 if s <= b, else 1 / (a (s - b) + 1)
  double b = 4.0;
};

// Asynchronous FedBuff (protocol.mode: async).
struct async_config {
  uint32_t concurrency = 100;        // clients training at once
  uint32_t buffer_size = 50;         // updates folded before the server steps
  uint32_t staleness_threshold = 5;  // updates older than this many versions are discarded
  decay_config decay;
  delta_rule delta = delta_rule::base;  // base = FedBuff; current = the tutorial's rule
  uint32_t aggregations = 20;           // stop after this many server steps
  edge_mode edge = edge_mode::forward;  // key async.edge_mode
  uint32_t preaggregate = 5;            // preaggregate: updates an edge folds before forwarding
};

// Device heterogeneity: the simulated duration of a client task.
struct compute_power_config {
  power_kind kind = power_kind::uniform;  // uniform in (0, 1] as in the tutorial
  double sigma = 1.0;                     // lognormal: median 1, log-space sigma
  double value = 1.0;                     // constant
};

struct devices_config {
  compute_power_config compute_power;
  double per_sample_s = 0.002;   // simulated seconds per sample and epoch at compute power 1
  double bandwidth_mbps = 20.0;  // median link speed (model down + update up)
  double bandwidth_sigma = 0.5;  // lognormal spread of link speeds
  double latency_s = 0.05;       // per message
};

// What a distributed run does when it loses a node (docs/deployment.md).
struct faults_config {
  // A lost edge's clients go through the surviving edges, or count as failed.
  edge_loss_policy on_edge_loss = edge_loss_policy::reroute;
};

// Checkpoints of the server (docs/checkpoints.md), written when the host gives a checkpoint
// directory (fedactor run: always, in the output directory).
struct checkpoint_config {
  uint32_t every = 10;  // rounds (sync) or server steps (async) between checkpoints; 0 = only
                        // at the end of the run
};

// The algorithm (docs/strategies.md): the server optimizer every sync round and FedBuff step
// goes through, the client algorithm of local training, and what happens to normalisation
// layers. The server optimizer's numbers are NaN (bias_correction empty) when not given:
// they then take the chosen kind's defaults (effective_optimizer()).
struct strategy_config {
  std::string server_optimizer = "sgd";  // sgd | fedavgm | fedadam | fedyogi | fedadagrad | ...
  double server_lr = std::numeric_limits<double>::quiet_NaN();
  double momentum = std::numeric_limits<double>::quiet_NaN();
  double beta1 = std::numeric_limits<double>::quiet_NaN();
  double beta2 = std::numeric_limits<double>::quiet_NaN();
  double tau = std::numeric_limits<double>::quiet_NaN();
  std::optional<bool> bias_correction;
  client_algorithm client = client_algorithm::fedavg;
  double prox_mu = 0.01;  // fedprox: μ of the proximal term μ/2·‖w − w_global‖²
  norm_handling normalization = norm_handling::federated;  // local = FedBN
};

// Update validation and robust aggregation (docs/robustness.md). Sync: the bound and the rule
// act where an edge folds its clients' updates (runtime/protocol/edge_round.hpp); async
// (forwarding edges only): where the server's FedBuff buffer takes them
// (runtime/math/fedbuff.hpp).
struct norm_bound_config {
  norm_bound_mode mode = norm_bound_mode::off;  // off | clip | reject
  double bound = 1.0;            // L2 bound on each client's Δ (the first round's, if adaptive)
  double target_quantile = 0.0;  // 0 = fixed bound; in (0, 1): adaptive, tracking this quantile
  double lr = 0.2;  // adaptive: η of C ← C·exp(−η(b̄ − γ)) (Andrew et al. 2021)
};

struct robust_config {
  norm_bound_config norm_bound;
  robust_rule_kind rule = robust_rule_kind::mean;
  double trim = 0.1;    // trimmed_mean: fraction β dropped at each end, in [0, 0.5)
  uint32_t krum_f = 0;  // krum: Byzantine updates tolerated per edge
  uint32_t krum_m = 1;  // krum: updates averaged (1 = Krum, more = multi-Krum)
};

// Simulated attackers (docs/robustness.md): a fixed set of malicious clients, each client in it
// with probability `fraction` from (seed, client id), whose results are altered (label_flip:
// whose training labels are).
struct attack_config {
  attack_kind kind = attack_kind::none;
  double fraction = 0.0;  // share of the population that is malicious, in [0, 1]
  double scale = 10.0;    // scale: Δ × scale; sign_flip: Δ × −scale; backdoor: |direction|
  uint64_t seed = 0;      // which clients are malicious (with fraction)
};

// Client-level differential privacy (docs/privacy.md): DP-FedAvg (McMahan et al. 2018) with
// the fixed-denominator estimator, each client's update clipped to L2 norm `clip` at its edge
// and weighted 1, Gaussian noise of std z_Δ·clip added to the sum once per round at the server,
// the sum divided by selection.clients_per_round; adaptive clipping (Andrew et al. 2021) moves
// the clip bound toward the target quantile of the update norms; an RDP accountant reports
// (ε, δ). Sync rounds only.
struct privacy_config {
  privacy_mode mode = privacy_mode::off;
  double clip = 1.0;              // C: the L2 bound of a client update (adaptive: the first)
  double noise_multiplier = 1.0;  // z: noise std / C of the whole round's release
  clipping_kind clipping = clipping_kind::fixed;
  double target_quantile = 0.5;  // adaptive: γ, the fraction of updates meant to be unclipped
  double clip_lr = 0.2;          // adaptive: η_C, C <- C·exp(−η_C·(b̃ − γ))
  double quantile_noise = 5.0;   // adaptive: σ_b, noise std of the count of unclipped updates
  double delta = 0;              // δ of the reported (ε, δ); required with mode dp_fedavg
};

// A set of clients an event acts on: a fraction of the population (chosen from the seed, the
// same clients for the same fraction: runtime/population/client_set.hpp) or the ids [from, to).
struct client_selector {
  double fraction = 0;  // in (0, 1]; 0 = the id range
  uint64_t from = 0;    // ids [from, to) when fraction is 0
  uint64_t to = 0;
};

// One scripted event of the timeline (key `events`, docs/scenarios.md "Events"): it fires at a
// simulated time (`at`), at the start of a sync round (`round`) or of an async server step
// (`step`), and acts on an edge, a region, or a set of clients.
struct scenario_event {
  event_kind kind = event_kind::edge_down;
  event_trigger trigger = event_trigger::round;
  double at = 0;            // trigger at: simulated seconds
  uint32_t count = 0;       // trigger round / step: its number (1-based)
  uint32_t edge = 0;        // edge_down / edge_up
  uint32_t region = 0;      // region_down / region_up
  client_selector clients;  // clients_leave / clients_join / bandwidth / compute
  double factor = 1;        // bandwidth / compute: multiplier on transfer / compute time
  // Where it was written ("run.yaml:14", "--set"), for validation messages; not compared.
  std::string where;
};

// The server optimizer settings strategy.* gives: the kind's defaults, overridden by every
// number given. Throws std::invalid_argument for an unknown kind.
server_optimizer_config effective_optimizer(const strategy_config& s);

struct scenario {
  std::string name = "default";
  uint64_t seed = 0;
  population_config population;
  data_config data;
  model_config model;
  eval_config eval;
  training_config training;
  topology_config topology;
  selection_config selection;
  pool_config pool;
  protocol_config protocol;
  clock_kind clock = clock_kind::simulated;
  async_config async;
  devices_config devices;
  faults_config faults;
  strategy_config strategy;
  checkpoint_config checkpoint;
  robust_config robust;
  attack_config attack;
  privacy_config privacy;
  compression_settings compression;    // how clients send their updates (docs/communication.md)
  std::vector<scenario_event> events;  // scripted timeline, in file order
};

// Names as they appear in YAML (and in error messages); "?" for a value outside the enum.
const char* to_string(data_kind x);
const char* to_string(partition_kind x);
const char* to_string(model_kind x);
const char* to_string(routing_kind x);
const char* to_string(sampling_kind x);
const char* to_string(protocol_mode x);
const char* to_string(clock_kind x);
const char* to_string(decay_kind x);
const char* to_string(delta_rule x);
const char* to_string(edge_mode x);
const char* to_string(power_kind x);
const char* to_string(edge_loss_policy x);
const char* to_string(client_algorithm x);
const char* to_string(norm_handling x);
const char* to_string(privacy_mode x);
const char* to_string(clipping_kind x);
const char* to_string(event_kind x);
const char* to_string(event_trigger x);
const char* to_string(attack_kind x);
const char* to_string(availability_model x);

// Field-wise equality (exact, doubles included): a scenario written by to_yaml and loaded
// back compares equal to the original.
bool operator==(const availability_config& a, const availability_config& b);
bool operator==(const population_config& a, const population_config& b);
bool operator==(const compression_settings& a, const compression_settings& b);
bool operator==(const data_config& a, const data_config& b);
bool operator==(const model_config& a, const model_config& b);
bool operator==(const eval_config& a, const eval_config& b);
bool operator==(const training_config& a, const training_config& b);
bool operator==(const topology_config& a, const topology_config& b);
// The most clients a sync round may ask for: clients_per_round, or adaptive_size.max.
uint32_t most_clients_per_round(const selection_config& s);

bool operator==(const oort_config& a, const oort_config& b);
bool operator==(const adaptive_size_config& a, const adaptive_size_config& b);
bool operator==(const pace_config& a, const pace_config& b);
bool operator==(const selection_config& a, const selection_config& b);
bool operator==(const pool_config& a, const pool_config& b);
bool operator==(const protocol_config& a, const protocol_config& b);
bool operator==(const decay_config& a, const decay_config& b);
bool operator==(const async_config& a, const async_config& b);
bool operator==(const compute_power_config& a, const compute_power_config& b);
bool operator==(const devices_config& a, const devices_config& b);
bool operator==(const faults_config& a, const faults_config& b);
bool operator==(const checkpoint_config& a, const checkpoint_config& b);
bool operator==(const norm_bound_config& a, const norm_bound_config& b);
bool operator==(const robust_config& a, const robust_config& b);
bool operator==(const attack_config& a, const attack_config& b);
bool operator==(const privacy_config& a, const privacy_config& b);
// Compares the effective settings: an unset server_lr equals the kind's default given.
bool operator==(const strategy_config& a, const strategy_config& b);
bool operator==(const client_selector& a, const client_selector& b);
// Every field but `where`.
bool operator==(const scenario_event& a, const scenario_event& b);
bool operator==(const scenario& a, const scenario& b);
inline bool operator!=(const scenario& a, const scenario& b) {
  return !(a == b);
}

}  // namespace fedactor
