// The scenario keys of name, seed, population, data, model, eval, training and topology (the
// schema's table: key_makers.hpp).

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/math/dirichlet.hpp"
#include "runtime/math/staleness.hpp"
#include "runtime/scenario/key_makers.hpp"

namespace fedactor::schema::detail {

std::vector<key_entry> run_keys() {
  // clang-format off
  return {
    string_key("name", [](auto& s) -> auto& { return s.name; },
      "label of the run, copied into metrics.jsonl and summary.json"),
    unsigned_key("seed", [](auto& s) -> auto& { return s.seed; }, 0, u64_max,
      "root of every random stream (sampling, data, initial weights): same seed, same run"),

    with_check(unsigned_key("population.clients",
      [](auto& s) -> auto& { return s.population.clients; },
      1, u32_max, "registered clients, ids 0..clients-1 (1e6 style accepted)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.data.kind == data_kind::fashion_mnist &&
            s.population.clients > fashion_mnist_train_samples) {
          return "must be <= 60000 for data.kind fashion_mnist (one training sample or more "
                 "per client), got " + std::to_string(s.population.clients);
        }
        return std::nullopt;
      }),
    unsigned_key("population.regions", [](auto& s) -> auto& { return s.population.regions; },
      1, 65535, "regions the clients are spread over (registry metadata)"),
    with_check(enum_key("population.availability.model",
      [](auto& s) -> auto& { return s.population.availability.model; },
      std::vector{availability_model::always, availability_model::diurnal,
                  availability_model::trace},
      "when clients are online: always, diurnal = per region an online probability over the "
      "simulated day, trace = online intervals from population.availability.trace "
      "(docs/selection.md); samplers pick online clients only, a client going offline "
      "mid-task fails it"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto m = s.population.availability.model;
        if (m == availability_model::always) return std::nullopt;
        if (s.clock != clock_kind::simulated)
          return std::string("needs clock simulated (online times are simulated times), got ") +
                 to_string(s.clock);
        return std::nullopt;
      }),
    number_key("population.availability.base",
      [](auto& s) -> auto& { return s.population.availability.base; },
      bounds{0, false, 1, false},
      "diurnal: mean online probability; p_r(t) = clamp(base + amplitude x cos(2 pi (t - "
      "peak_s[r]) / period_s), 0, 1)"),
    number_key("population.availability.amplitude",
      [](auto& s) -> auto& { return s.population.availability.amplitude; },
      bounds{0, false, 1, false}, "diurnal: swing of the online probability around base"),
    number_key("population.availability.period_s",
      [](auto& s) -> auto& { return s.population.availability.period_s; }, positive,
      "diurnal: length of the cycle in simulated seconds (86400 = a day)"),
    number_key("population.availability.slot_s",
      [](auto& s) -> auto& { return s.population.availability.slot_s; }, positive,
      "diurnal: a client's online state is drawn once per slot of this many simulated seconds, "
      "at p_r(slot start)"),
    with_check(number_list_key("population.availability.peak_s",
      [](auto& s) -> auto& { return s.population.availability.peak_s; },
      bounds{0, false, inf, false},
      "diurnal: per region, the simulated time of its peak (time zones); [] = 0 for every "
      "region"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto n = s.population.availability.peak_s.size();
        if (n != 0 && n != s.population.regions)
          return "needs one entry per region (population.regions = " +
                 std::to_string(s.population.regions) + "), got " + std::to_string(n);
        return std::nullopt;
      }),
    with_check(optional_string_key("population.availability.trace",
      [](auto& s) -> auto& { return s.population.availability.trace; },
      "trace: the online-interval file, lines `client_id start_s end_s` (docs/selection.md)"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto& a = s.population.availability;
        if (a.model != availability_model::trace) {
          if (!a.trace.empty()) return "only read by population.availability.model trace";
          return std::nullopt;
        }
        if (a.trace.empty()) return "required for population.availability.model trace";
        std::error_code ec;
        if (!std::filesystem::is_regular_file(a.trace, ec)) return "no such file: " + a.trace;
        return std::nullopt;
      }),

    enum_key("data.kind", [](auto& s) -> auto& { return s.data.kind; },
      std::vector{data_kind::tutorial_random, data_kind::teacher, data_kind::fashion_mnist,
                  data_kind::leaf_synthetic},
      "tutorial_random = random features and labels as in the tutorial; teacher = labels "
      "from a fixed random network; fashion_mnist = the Fashion-MNIST files, split by "
      "data.partition; leaf_synthetic = LEAF/FedProx synthetic(alpha, beta)"),
    unsigned_key("data.features", [](auto& s) -> auto& { return s.data.features; },
      1, u32_max, "input dimension of every sample"),
    unsigned_key("data.classes", [](auto& s) -> auto& { return s.data.classes; },
      2, u32_max, "number of labels"),
    unsigned_key("data.min_samples", [](auto& s) -> auto& { return s.data.min_samples; },
      1, u32_max, "smallest client dataset; sizes are uniform in [min_samples, max_samples)"),
    unsigned_key("data.max_samples", [](auto& s) -> auto& { return s.data.max_samples; },
      2, u32_max, "exclusive upper bound of client dataset sizes; must be > data.min_samples"),
    unsigned_key("data.teacher_hidden", [](auto& s) -> auto& { return s.data.teacher_hidden; },
      1, u32_max, "teacher kind: hidden width of the labelling network"),
    number_key("data.label_noise", [](auto& s) -> auto& { return s.data.label_noise; },
      unit_closed, "teacher kind: probability that a label is replaced by a random one"),
    string_key("data.path", [](auto& s) -> auto& { return s.data.path; },
      "fashion_mnist kind: directory of the IDX .gz files (Debian package "
      "dataset-fashion-mnist)"),
    enum_key("data.partition", [](auto& s) -> auto& { return s.data.partition; },
      std::vector{partition_kind::iid, partition_kind::dirichlet,
                  partition_kind::labels_per_client, partition_kind::quantity_skew},
      "fashion_mnist kind: how training samples are split over clients"),
    with_check(number_key("data.alpha", [](auto& s) -> auto& { return s.data.alpha; },
      bounds{0, false, inf, false},
      "dirichlet / quantity_skew partition: Dirichlet concentration (small = skewed); "
      "leaf_synthetic: alpha (spread of the client models)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.data.kind == data_kind::fashion_mnist && s.data.alpha < min_dirichlet_alpha &&
            (s.data.partition == partition_kind::dirichlet ||
             s.data.partition == partition_kind::quantity_skew)) {
          return std::string("must be >= 1e-6 for data.partition ") +
                 to_string(s.data.partition) + ", got " + format_number(s.data.alpha);
        }
        return std::nullopt;
      }),
    with_check(unsigned_key("data.labels_per_client",
      [](auto& s) -> auto& { return s.data.labels_per_client; }, 1, u32_max,
      "labels_per_client partition: labels each client holds (k)"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.data.kind != data_kind::fashion_mnist ||
            s.data.partition != partition_kind::labels_per_client) {
          return std::nullopt;
        }
        const uint32_t classes = data_classes(s);
        const uint64_t k = s.data.labels_per_client;
        if (k > classes) {
          return "must be in [1, " + std::to_string(classes) + "] (the data's classes), got " +
                 std::to_string(k);
        }
        if (s.population.clients * k < classes) {
          return "population.clients x labels_per_client must be >= " +
                 std::to_string(classes) + " so that every label has a client, got " +
                 std::to_string(s.population.clients * k);
        }
        return std::nullopt;
      }),
    number_key("data.beta", [](auto& s) -> auto& { return s.data.beta; },
      bounds{0, false, inf, false},
      "leaf_synthetic: beta (spread of the clients' input means)"),

    with_check(enum_key("model.kind", [](auto& s) -> auto& { return s.model.kind; },
      std::vector{model_kind::mlp, model_kind::cnn, model_kind::torchscript},
      "mlp = fully connected layers with ReLU in between; cnn = the NIID-Bench simple CNN "
      "(image data); torchscript = the module in model.path"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.model.kind == model_kind::cnn && s.data.kind != data_kind::fashion_mnist) {
          return std::string("cnn needs image data (data.kind fashion_mnist), got data.kind ") +
                 to_string(s.data.kind);
        }
        return std::nullopt;
      }),
    unsigned_list_key("model.hidden", [](auto& s) -> auto& { return s.model.hidden; },
      1, u32_max, "hidden layer widths, input to output; [] = logistic regression"),
    with_check(optional_string_key("model.path", [](auto& s) -> auto& { return s.model.path; },
      "torchscript kind: the TorchScript file (torch.jit.save) whose parameters federate"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.model.kind != model_kind::torchscript) return std::nullopt;
        if (s.model.path.empty()) return "required for model.kind torchscript";
        std::error_code ec;
        if (!std::filesystem::is_regular_file(s.model.path, ec)) {
          return "no such file: " + s.model.path;
        }
        return std::nullopt;
      }),

    unsigned_key("eval.every", [](auto& s) -> auto& { return s.eval.every; }, 0, u32_max,
      "evaluate the global model on the data's test split every N rounds; 0 = never"),
    with_check(unsigned_key("eval.clients", [](auto& s) -> auto& { return s.eval.clients; },
      0, u32_max, "also evaluate it on this many sampled clients' local data; 0 = off"),
      [](const scenario& s) -> std::optional<std::string> {
        if (s.eval.clients > s.population.clients) {
          return "must be <= population.clients (" + std::to_string(s.population.clients) +
                 "), got " + std::to_string(s.eval.clients);
        }
        return std::nullopt;
      }),

    unsigned_key("training.epochs", [](auto& s) -> auto& { return s.training.epochs; },
      1, u32_max, "local passes over the client's data per task"),
    unsigned_key("training.batch_size", [](auto& s) -> auto& { return s.training.batch_size; },
      1, u32_max, "local SGD mini-batch size"),
    number_key("training.lr", [](auto& s) -> auto& { return s.training.lr; },
      positive, "local SGD learning rate"),
    number_key("training.momentum", [](auto& s) -> auto& { return s.training.momentum; },
      unit_half_open, "local SGD momentum"),
    number_key("training.timeout_s", [](auto& s) -> auto& { return s.training.timeout_s; },
      positive, "seconds a client task may take before the client counts as failed"),

    unsigned_key("topology.edges", [](auto& s) -> auto& { return s.topology.edges; },
      1, u32_max, "edge aggregators between the server and the clients"),
    enum_key("topology.routing", [](auto& s) -> auto& { return s.topology.routing; },
      std::vector{routing_kind::range, routing_kind::hash, routing_kind::region},
      "which edge serves a client: range = contiguous id blocks, hash = hashed id, region = "
      "the least-loaded edge of the client's region, spilling to the nearest region when full"),
    with_check(unsigned_list_key("topology.edge_regions",
      [](auto& s) -> auto& { return s.topology.edge_regions; }, 0, 65535,
      "the region of each edge (topology.edges entries), for routing region and, under any "
      "routing, the inter-region latency; [] = no region under range and hash, spread under "
      "region (edge e in region floor(e x population.regions / topology.edges))"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto& r = s.topology.edge_regions;
        if (r.empty()) return std::nullopt;
        if (r.size() != s.topology.edges)
          return "needs one region per edge (topology.edges = " +
                 std::to_string(s.topology.edges) + "), got " + std::to_string(r.size());
        for (std::size_t i = 0; i < r.size(); ++i)
          if (r[i] >= s.population.regions)
            return "element [" + std::to_string(i) + "] must be < population.regions (" +
                   std::to_string(s.population.regions) + "), got " + std::to_string(r[i]);
        return std::nullopt;
      }),
    unsigned_key("topology.edge_capacity",
      [](auto& s) -> auto& { return s.topology.edge_capacity; }, 0, u32_max,
      "routing region: tasks in flight an edge takes before its region's clients spill to the "
      "nearest region; 0 = no cap"),
    with_check(number_list_key("topology.region_latency_s",
      [](auto& s) -> auto& { return s.topology.region_latency_s; }, bounds{0, false, inf, false},
      "edges with regions: one-way seconds between a client's region (row) and its edge's region "
      "(column), population.regions squared entries row by row, added twice to each task's "
      "simulated time; [] = 0.01 within a region, 0.1 x |a - b| between regions a and b"),
      [](const scenario& s) -> std::optional<std::string> {
        const auto n = s.topology.region_latency_s.size();
        const uint64_t r = s.population.regions;
        if (n != 0 && n != r * r)
          return "needs population.regions squared entries (" + std::to_string(r * r) +
                 "), got " + std::to_string(n);
        return std::nullopt;
      }),
  };
  // clang-format on
}

}  // namespace fedactor::schema::detail
