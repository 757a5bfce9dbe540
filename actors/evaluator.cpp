// The evaluator actor: global-model evaluation on the test split and sampled clients.

#include "actors/evaluator.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <unordered_set>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errors.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/math/rng.hpp"
#include "runtime/strategy/client_algorithm.hpp"

namespace fedactor {

namespace {

constexpr uint64_t tag_eval_clients = 0x6576616c63;  // "evalc"

struct evaluator_state {
  evaluator_config cfg;
  std::unique_ptr<local_trainer> trainer;
  bool test_loaded = false;
  std::optional<client_dataset> test;
  static inline const char* name = "fedactor.evaluator";
};

eval_res evaluate_once(evaluator_state& st, const eval_ins& ins) {
  if (!st.trainer) st.trainer = std::make_unique<local_trainer>(st.cfg.spec);
  if (!st.test_loaded) {
    st.test = st.cfg.data->test_set();
    st.test_loaded = true;
  }
  eval_res res;
  res.round = ins.round;
  const auto& params = ins.model.values();
  if (st.test && st.test->size() > 0) {
    auto ev = st.trainer->evaluate(params, *st.test);
    res.loss = ev.loss;
    res.accuracy = ev.accuracy;
    res.samples = ev.samples;
  }
  if (st.cfg.clients > 0) {
    double sum = 0;
    uint32_t counted = 0;
    for (auto id :
         eval_clients_for_round(st.cfg.seed, ins.round, st.cfg.population, st.cfg.clients)) {
      auto data = st.cfg.data->make(id);
      if (data.size() == 0) continue;
      std::optional<std::vector<float>> mine;
      if (st.cfg.local_layers)
        mine = personal_model(static_cast<uint32_t>(id), params, st.cfg.spec, *st.cfg.local_layers);
      sum += st.trainer->evaluate(mine ? *mine : params, data).accuracy;
      ++counted;
    }
    res.clients = counted;
    res.client_accuracy = counted > 0 ? sum / counted : 0.0;
  }
  return res;
}

evaluator_actor::behavior_type evaluator(evaluator_actor::stateful_pointer<evaluator_state> self,
                                         evaluator_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
      [=](eval_ins& ins) -> caf::result<eval_res> {
        try {
          return evaluate_once(self->state, ins);
        } catch (const std::exception& e) {
          return make_error(errc::training_failed, std::string("evaluation: ") + e.what());
        } catch (...) {
          return make_error(errc::training_failed, "evaluation: unknown exception");
        }
      },
  };
}

}  // namespace

evaluator_config make_evaluator_config(const scenario& s, model_spec spec,
                                       std::shared_ptr<const data_source> data,
                                       std::shared_ptr<client_state_store> state) {
  evaluator_config cfg;
  cfg.spec = std::move(spec);
  cfg.data = std::move(data);
  cfg.population = s.population.clients;
  cfg.clients = s.eval.clients;
  if (s.strategy.normalization == norm_handling::local) cfg.local_layers = std::move(state);
  cfg.seed = s.seed;
  return cfg;
}

evaluator_actor spawn_evaluator(caf::actor_system& sys, evaluator_config cfg) {
  return sys.spawn<caf::detached>(evaluator, std::move(cfg));
}

std::vector<uint64_t> eval_clients_for_round(uint64_t seed, uint32_t round, uint64_t population,
                                             uint32_t n) {
  const uint64_t k = std::min<uint64_t>(n, population);
  rng r{stream_key(seed, tag_eval_clients, round)};
  std::unordered_set<uint64_t> chosen;
  std::vector<uint64_t> out;
  out.reserve(k);
  // Floyd: for j in [population - k, population): pick t in [0, j]; take t, or j if taken.
  for (uint64_t j = population - k; j < population; ++j) {
    const uint64_t t = r.below(j + 1);
    const uint64_t pick = chosen.count(t) ? j : t;
    chosen.insert(pick);
    out.push_back(pick);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fedactor
