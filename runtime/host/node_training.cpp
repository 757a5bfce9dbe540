#include "runtime/host/node_training.hpp"

#include <exception>

#include "actors/trainer.hpp"

namespace fedactor {

std::variant<node_training, int> build_node_training(
    caf::actor_system& sys, const scenario& sc, const node_training_options& opts,
    std::optional<temp_state_dir>& temp, const std::function<void(const std::string&)>& log) {
  node_training out;
  try {
    out.data = make_data_source(sc);
    out.spec = make_model_spec(sc);
  } catch (const std::exception& e) {
    log(std::string{"error: "} + e.what());
    return 1;
  }
  if (auto err = check_model_for(sc, out.spec)) {
    log("error: " + *err);
    return 2;
  }
  if (auto w = out.spec.unfederated_state(); !w.empty()) log("warning: " + w);
  try {
    if (needs_client_state(sc)) {
      auto file = opts.state_file;
      if (file.empty()) file = temp.emplace().file();
      out.state = std::make_shared<client_state_store>(
          file, static_cast<size_t>(sc.pool.client_state_mb) << 20);
    }
  } catch (const std::exception& e) {
    log(std::string{"error: "} + e.what());
    return 1;
  }
  out.trainers =
      spawn_trainer_pool(sys, out.spec, opts.trainers ? opts.trainers : sc.pool.trainers);
  return out;
}

}  // namespace fedactor
