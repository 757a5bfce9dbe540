#pragma once

// Where a process keeps its clients' algorithm state (runtime/state/client_state_store.hpp):
// whether the scenario needs any, whether the model suits it, and a temporary directory for the
// store file when the host names none (removed with everything in it when it goes).

#include <filesystem>
#include <optional>
#include <string>

#include "runtime/learning/model_spec.hpp"
#include "runtime/scenario/scenario.hpp"

namespace fedactor {

// True when strategy.client, strategy.normalization or compression.kind topk (its residuals)
// keeps per-client state.
bool needs_client_state(const scenario& sc);

// A one-line error when the scenario's strategy does not fit the model (normalization local
// with a model that has no normalisation layers); nullopt when it fits.
std::optional<std::string> check_model_for(const scenario& sc, const model_spec& spec);

// A fresh directory under the system's temp directory, removed (recursively) on destruction.
class temp_state_dir {
 public:
  // Throws std::runtime_error naming the directory when it cannot be created.
  temp_state_dir();
  ~temp_state_dir();
  temp_state_dir(const temp_state_dir&) = delete;
  temp_state_dir& operator=(const temp_state_dir&) = delete;

  // The store file inside it.
  std::filesystem::path file() const { return dir_ / "client_state.db"; }

 private:
  std::filesystem::path dir_;
};

}  // namespace fedactor
