#pragma once

// Where clients' data comes from. A data_source is immutable and thread-safe: every
// client actor (and every node hosting clients) builds its dataset from it on demand, as
// a pure function of the scenario and the client id, and drops it with the client.
//
// Kinds (data.kind): tutorial_random and teacher (synthetic_data.hpp), fashion_mnist
// (fashion_mnist_source.hpp: the real files split by data.partition), leaf_synthetic
// (leaf_synthetic.hpp).

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

class data_source {
 public:
  virtual ~data_source() = default;
  // Dataset size of a client; equals make(id).size(). The server's registry is built from
  // it, so it must be cheap (O(1) per client once the source exists).
  virtual uint32_t num_samples(uint64_t client) const = 0;
  // The client's data, deterministic in (scenario, seed, id).
  virtual client_dataset make(uint64_t client) const = 0;
  virtual uint32_t features() const = 0;
  virtual uint32_t classes() const = 0;
  // Per-sample shape of the inputs ({1, 28, 28} for images); default {features()}.
  virtual std::vector<int64_t> input_shape() const { return {features()}; }
  // The held-out test split the global model is evaluated on, if the data has one:
  // fashion_mnist: the 10,000 t10k samples; teacher: 2,000 fresh samples labelled by the
  // teacher (no label noise), from a stream no client uses; tutorial_random (random labels,
  // nothing to evaluate) and leaf_synthetic (per-client distributions): none.
  virtual std::optional<client_dataset> test_set() const { return std::nullopt; }
};

// Builds the scenario's data source. For fashion_mnist this reads the training files and
// computes the partition (once per process: sources with the same data.path, clients,
// partition and seed share them). Throws std::runtime_error with one line on bad input.
std::shared_ptr<const data_source> make_data_source(const scenario& s);

// The model a scenario trains, shaped to its data (torchscript: reads model.path).
model_spec make_model_spec(const scenario& s);

}  // namespace fedactor
