#include "runtime/strategy/client_algorithm.hpp"

#include <cmath>
#include <stdexcept>

#include "runtime/learning/flat_range.hpp"
#include "runtime/strategy/scaffold.hpp"

namespace fedactor {

namespace {

constexpr const char* prox_mu_key = "prox_mu";
constexpr const char* local_norm_key = "local_norm";
constexpr const char* scaffold_slot = "scaffold.c";
constexpr const char* fedbn_slot = "fedbn";

std::vector<float> params_of(const std::vector<float>& flat, const model_spec& spec) {
  return std::vector<float>(flat.begin(), flat.begin() + static_cast<long>(spec.num_params()));
}

}  // namespace

std::string algorithm_name(const scenario& sc) {
  return to_string(sc.strategy.client);
}

std::map<std::string, double> algorithm_params(const scenario& sc) {
  std::map<std::string, double> p;
  if (sc.strategy.client == client_algorithm::fedprox) p[prox_mu_key] = sc.strategy.prox_mu;
  if (sc.strategy.normalization == norm_handling::local) p[local_norm_key] = 1;
  return p;
}

std::optional<client_algorithm_settings> read_client_algorithm(
    const std::string& name, const std::map<std::string, double>& params, std::string& error) {
  client_algorithm_settings out;
  if (name == "fedavg" || name.empty())
    out.kind = client_algorithm::fedavg;
  else if (name == "fedprox")
    out.kind = client_algorithm::fedprox;
  else if (name == "scaffold")
    out.kind = client_algorithm::scaffold;
  else {
    error = "unknown client algorithm '" + name + "'";
    return std::nullopt;
  }
  for (const auto& [key, value] : params) {
    if (key == prox_mu_key && out.kind == client_algorithm::fedprox) {
      if (!std::isfinite(value) || value < 0) {
        error = "prox_mu must be a finite number >= 0";
        return std::nullopt;
      }
      out.prox_mu = value;
    } else if (key == local_norm_key) {
      if (value != 0 && value != 1) {
        error = "local_norm must be 0 or 1";
        return std::nullopt;
      }
      out.local_norm = value == 1;
    } else {
      error = "parameter '" + key + "' is not one of " + name + "'s";
      return std::nullopt;
    }
  }
  return out;
}

client_task_plan plan_client_task(const client_algorithm_settings& alg, uint32_t client,
                                  const std::vector<float>& global,
                                  const std::vector<float>& server_control, const model_spec& spec,
                                  client_state_store* store) {
  client_task_plan plan;
  plan.prox_mu = alg.kind == client_algorithm::fedprox ? alg.prox_mu : 0.0;
  const bool stateful = alg.kind == client_algorithm::scaffold || alg.local_norm;
  if (!stateful) return plan;
  if (store == nullptr)
    throw std::invalid_argument("the client algorithm needs a client state store");
  if (global.size() != spec.flat_size())
    throw std::invalid_argument("the global model has " + std::to_string(global.size()) +
                                " values, the model spec " + std::to_string(spec.flat_size()));
  if (alg.local_norm && !spec.norm_ranges.empty()) {
    const auto slot =
        store->declare_slot(fedbn_slot, static_cast<uint32_t>(covered(spec.norm_ranges)));
    if (auto mine = store->get(client, slot)) plan.start = overlay(spec.norm_ranges, *mine, global);
  }
  if (alg.kind == client_algorithm::scaffold) {
    const size_t n = spec.num_params();
    if (server_control.size() != n)
      throw std::invalid_argument("scaffold: the task carries a server control variate of " +
                                  std::to_string(server_control.size()) + " values, expected " +
                                  std::to_string(n));
    const auto slot = store->declare_slot(scaffold_slot, static_cast<uint32_t>(n));
    auto c_i = store->get(client, slot);
    plan.control = c_i ? std::move(*c_i) : std::vector<float>(n, 0.0f);
    plan.correction = control_correction(server_control, plan.control);
    plan.server = server_control;
  }
  return plan;
}

std::vector<float> finish_client_task(const client_algorithm_settings& alg, uint32_t client,
                                      const client_task_plan& plan,
                                      const std::vector<float>& global,
                                      const local_train_result& result, double local_lr,
                                      const model_spec& spec, client_state_store* store) {
  std::vector<float> aux;
  if (store == nullptr) return aux;
  if (alg.local_norm && !spec.norm_ranges.empty()) {
    const auto slot =
        store->declare_slot(fedbn_slot, static_cast<uint32_t>(covered(spec.norm_ranges)));
    store->put(client, slot, extract(spec.norm_ranges, result.params));
  }
  if (alg.kind == client_algorithm::scaffold) {
    const auto& x = plan.start.empty() ? global : plan.start;
    const auto slot = store->declare_slot(scaffold_slot, static_cast<uint32_t>(spec.num_params()));
    auto c_new = control_update(plan.control, plan.server, params_of(x, spec),
                                params_of(result.params, spec), result.steps, local_lr);
    aux = control_delta(c_new, plan.control);
    store->put(client, slot, std::move(c_new));
  }
  return aux;
}

std::optional<std::vector<float>> personal_model(uint32_t client, const std::vector<float>& global,
                                                 const model_spec& spec,
                                                 client_state_store& store) {
  if (spec.norm_ranges.empty() || global.size() != spec.flat_size()) return std::nullopt;
  const auto slot =
      store.declare_slot(fedbn_slot, static_cast<uint32_t>(covered(spec.norm_ranges)));
  auto mine = store.get(client, slot);
  if (!mine) return std::nullopt;
  return overlay(spec.norm_ranges, *mine, global);
}

}  // namespace fedactor
