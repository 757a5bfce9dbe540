#pragma once

// Where clients' data comes from. A data_source is immutable and thread-safe: every
// client actor (and every node hosting clients) builds its dataset from it on demand, as
// a pure function of the scenario and the client id, and drops it with the client.

#include <cstdint>
#include <memory>

#include "runtime/learning/client_dataset.hpp"
#include "runtime/learning/model_spec.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

class data_source {
 public:
  virtual ~data_source() = default;
  // Dataset size of a client; equals make(id).size().
  virtual uint32_t num_samples(uint64_t client) const = 0;
  // The client's data, deterministic in (scenario, seed, id).
  virtual client_dataset make(uint64_t client) const = 0;
  virtual uint32_t features() const = 0;
  virtual uint32_t classes() const = 0;
};

std::shared_ptr<const data_source> make_data_source(const scenario& s);

// The model a scenario trains, shaped to its data.
model_spec make_model_spec(const scenario& s);

}  // namespace fedactor
