#include "runtime/scenario/scenario.hpp"

namespace fedactor {

const char* to_string(data_kind x) {
  switch (x) {
    case data_kind::tutorial_random:
      return "tutorial_random";
    case data_kind::teacher:
      return "teacher";
  }
  return "?";
}

const char* to_string(model_kind x) {
  switch (x) {
    case model_kind::mlp:
      return "mlp";
  }
  return "?";
}

const char* to_string(routing_kind x) {
  switch (x) {
    case routing_kind::range:
      return "range";
    case routing_kind::hash:
      return "hash";
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
  }
  return "?";
}

const char* to_string(protocol_mode x) {
  switch (x) {
    case protocol_mode::sync:
      return "sync";
  }
  return "?";
}

bool operator==(const population_config& a, const population_config& b) {
  return a.clients == b.clients && a.regions == b.regions;
}

bool operator==(const data_config& a, const data_config& b) {
  return a.kind == b.kind && a.features == b.features && a.classes == b.classes &&
         a.min_samples == b.min_samples && a.max_samples == b.max_samples &&
         a.teacher_hidden == b.teacher_hidden && a.label_noise == b.label_noise;
}

bool operator==(const model_config& a, const model_config& b) {
  return a.kind == b.kind && a.hidden == b.hidden;
}

bool operator==(const training_config& a, const training_config& b) {
  return a.epochs == b.epochs && a.batch_size == b.batch_size && a.lr == b.lr &&
         a.momentum == b.momentum && a.timeout_s == b.timeout_s;
}

bool operator==(const topology_config& a, const topology_config& b) {
  return a.edges == b.edges && a.routing == b.routing;
}

bool operator==(const selection_config& a, const selection_config& b) {
  return a.strategy == b.strategy && a.clients_per_round == b.clients_per_round;
}

bool operator==(const pool_config& a, const pool_config& b) {
  return a.max_live_clients == b.max_live_clients && a.trainers == b.trainers;
}

bool operator==(const protocol_config& a, const protocol_config& b) {
  return a.mode == b.mode && a.rounds == b.rounds && a.server_lr == b.server_lr;
}

bool operator==(const scenario& a, const scenario& b) {
  return a.name == b.name && a.seed == b.seed && a.population == b.population && a.data == b.data &&
         a.model == b.model && a.training == b.training && a.topology == b.topology &&
         a.selection == b.selection && a.pool == b.pool && a.protocol == b.protocol;
}

}  // namespace fedactor
