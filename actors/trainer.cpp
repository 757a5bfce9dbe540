#include "actors/trainer.hpp"

#include <exception>
#include <thread>

#include <caf/actor_pool.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "messages/errors.hpp"
#include "runtime/learning/local_training.hpp"

namespace fedactor {

namespace {

struct trainer_state {
  std::unique_ptr<local_trainer> trainer;
  static inline const char* name = "fedactor.trainer";
};

trainer_actor::behavior_type trainer(trainer_actor::stateful_pointer<trainer_state> self,
                                     model_spec spec) {
  return {
      [=](train_task& task) -> caf::result<train_res> {
        // LibTorch reports errors by exception: they stop here and become error values.
        try {
          if (!self->state.trainer) self->state.trainer = std::make_unique<local_trainer>(spec);
          if (!task.data) return make_error(errc::training_failed, "client has no data");
          local_train_config cfg;
          cfg.epochs = task.ins.settings.epochs;
          cfg.batch_size = task.ins.settings.batch_size;
          cfg.lr = task.ins.settings.lr;
          cfg.momentum = task.ins.settings.momentum;
          cfg.shuffle_seed = task.ins.task_seed;
          auto out = self->state.trainer->train(task.ins.model.values(), *task.data, cfg);
          train_res res;
          res.round = task.ins.round;
          res.client = task.ins.client;
          res.model_version = task.ins.model_version;
          res.num_samples = out.num_samples;
          res.loss = out.mean_loss;
          res.params = param_blob{std::move(out.params)};
          return res;
        } catch (const std::exception& e) {
          return make_error(errc::training_failed, e.what());
        } catch (...) {
          return make_error(errc::training_failed, "unknown exception");
        }
      },
  };
}

}  // namespace

caf::actor spawn_trainer_pool(caf::actor_system& sys, const model_spec& spec, uint32_t workers) {
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  auto factory = [&sys, spec] {
    return caf::actor_cast<caf::actor>(sys.spawn<caf::detached>(trainer, spec));
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, factory,
                               caf::actor_pool::round_robin());
}

}  // namespace fedactor
