#pragma once

// The scenario: every knob of a run as nested plain structs, one per component.
// Defaults are the tutorial's ScalabilityConfig. Loading, validation and --set
// overrides live in runtime/scenario/load.hpp; docs/scenarios.md documents each key.

#include <cstdint>
#include <string>
#include <vector>

namespace fedactor {

enum class data_kind { tutorial_random, teacher };
enum class model_kind { mlp };
enum class routing_kind { range, hash };
enum class sampling_kind { random, weighted, least_recent };
enum class protocol_mode { sync };

struct population_config {
  uint64_t clients = 1000;  // registered clients, ids 0..clients-1
  uint32_t regions = 1;     // regions clients are spread over (registry metadata)
};

struct data_config {
  data_kind kind = data_kind::tutorial_random;
  uint32_t features = 32;        // input dimension
  uint32_t classes = 10;         // number of labels
  uint32_t min_samples = 50;     // per-client dataset size, uniform in [min, max)
  uint32_t max_samples = 200;    // (the tutorial's randint(50, 200))
  uint32_t teacher_hidden = 32;  // teacher kind: hidden width of the labelling network
  double label_noise = 0.0;      // teacher kind: probability a label is replaced at random
};

struct model_config {
  model_kind kind = model_kind::mlp;
  std::vector<uint32_t> hidden = {64};  // hidden layer widths: 32-64-10 by default
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
};

struct selection_config {
  sampling_kind strategy = sampling_kind::random;
  uint32_t clients_per_round = 100;
};

struct pool_config {
  uint32_t max_live_clients = 200;  // client actors alive at once, over all edges
  uint32_t trainers = 0;            // trainer threads; 0 = one per core
};

struct protocol_config {
  protocol_mode mode = protocol_mode::sync;
  uint32_t rounds = 10;
  double server_lr = 1.0;  // global += server_lr * weighted mean delta (1 = FedAvg)
};

struct scenario {
  std::string name = "default";
  uint64_t seed = 0;
  population_config population;
  data_config data;
  model_config model;
  training_config training;
  topology_config topology;
  selection_config selection;
  pool_config pool;
  protocol_config protocol;
};

// Names as they appear in YAML (and in error messages); "?" for a value outside the enum.
const char* to_string(data_kind x);
const char* to_string(model_kind x);
const char* to_string(routing_kind x);
const char* to_string(sampling_kind x);
const char* to_string(protocol_mode x);

// Field-wise equality (exact, doubles included): a scenario written by to_yaml and loaded
// back compares equal to the original.
bool operator==(const population_config& a, const population_config& b);
bool operator==(const data_config& a, const data_config& b);
bool operator==(const model_config& a, const model_config& b);
bool operator==(const training_config& a, const training_config& b);
bool operator==(const topology_config& a, const topology_config& b);
bool operator==(const selection_config& a, const selection_config& b);
bool operator==(const pool_config& a, const pool_config& b);
bool operator==(const protocol_config& a, const protocol_config& b);
bool operator==(const scenario& a, const scenario& b);
inline bool operator!=(const scenario& a, const scenario& b) {
  return !(a == b);
}

}  // namespace fedactor
