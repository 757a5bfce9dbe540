// The trainer actors and their pool (see trainer.hpp).

#include "actors/trainer.hpp"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_pool.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/errors.hpp"
#include "runtime/compression/update_compression.hpp"
#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/strategy/client_algorithm.hpp"

namespace fedactor {

namespace {

// Trainer state machine:
//
//   idle --train_task--> stashing (task stashed, flush sent to self)
//   stashing --train_task--> stashing (stashed)
//   stashing --flush--> idle (every stashed task trained, chunk by chunk, each answered)
//
// Models the batched kernels do not support skip the stash: each task is trained and
// answered when it arrives.
struct trainer_state {
  struct pending {
    train_task task;
    caf::typed_response_promise<train_res> promise;
  };

  model_spec spec;
  trainer_options opts;
  std::unique_ptr<local_trainer> torch;      // per-client LibTorch, created on first use
  std::unique_ptr<batched_trainer> batched;  // set when the model is an MLP
  std::vector<pending> stash;
  bool flush_pending = false;

  static inline const char* name = "fedactor.trainer";
};

using trainer_ptr = trainer_actor::stateful_pointer<trainer_state>;

local_train_config config_of(const train_ins& ins) {
  local_train_config cfg;
  cfg.epochs = ins.settings.epochs;
  cfg.batch_size = ins.settings.batch_size;
  cfg.lr = ins.settings.lr;
  cfg.momentum = ins.settings.momentum;
  cfg.shuffle_seed = ins.task_seed;
  return cfg;
}

train_res result_of(const train_ins& ins, local_train_result&& out, std::vector<float> aux) {
  train_res res;
  res.round = ins.round;
  res.client = ins.client;
  res.model_version = ins.model_version;
  res.num_samples = out.num_samples;
  res.loss = out.mean_loss;
  res.params = param_blob{std::move(out.params)};
  if (!aux.empty()) res.aux = param_blob{std::move(aux)};
  return res;
}

// Compression on (the task's settings): the encoded update replaces the client's model, the
// top-k residual (error feedback) read from and kept in the client state store. Store errors
// throw (the callers turn them into error values).
caf::expected<train_res> packed(train_res res, const train_task& task) {
  const auto& cs = task.ins.settings.compression;
  if (cs.kind == compression_kind::none) return res;
  if (auto bad = compression_settings_problem(cs)) return make_error(errc::bad_request, *bad);
  const size_t n = res.params.size();
  if (task.ins.model.size() != n)
    return make_error(errc::training_failed, "trained " + std::to_string(n) +
                                                 " values from a model of " +
                                                 std::to_string(task.ins.model.size()));
  const bool feedback = cs.kind == compression_kind::topk;
  if (feedback && !task.state)
    return make_error(errc::bad_request, "topk compression needs the client state store");
  state_slot slot;
  std::optional<std::vector<float>> residual;
  if (feedback) {
    slot = task.state->declare_slot(topk_residual_slot, static_cast<uint32_t>(n));
    residual = task.state->get(task.ins.client, slot);
  }
  auto p = compress_update(cs, task.ins.model.data(), res.params.data(), n,
                           residual ? residual->data() : nullptr,
                           compression_stream(task.ins.task_seed));
  if (feedback) {
    if (p.residual.empty())
      task.state->erase(task.ins.client, slot);
    else
      task.state->put(task.ins.client, slot, std::move(p.residual));
  }
  res.update = std::move(p.bytes);
  res.params = param_blob{};
  return res;
}

// One task with its client algorithm: the plan (where training starts, what each step adds)
// and the training config that points into it.
struct planned {
  client_algorithm_settings alg;
  client_task_plan plan;
  local_train_config cfg;
  const std::vector<float>* start = nullptr;  // the plan's start, or the global model
};

// Reads the task's algorithm and plans it. Errors (an unknown algorithm, a missing state store,
// a server control variate of the wrong size, a store failure) become error values.
caf::expected<planned> plan_task(const model_spec& spec, train_task& task) {
  std::string why;
  auto alg = read_client_algorithm(task.ins.settings.algorithm, task.ins.settings.params, why);
  if (!alg) return make_error(errc::bad_request, why);
  planned p;
  p.alg = *alg;
  static const std::vector<float> none;
  p.plan =
      plan_client_task(p.alg, task.ins.client, task.ins.model.values(),
                       task.ins.aux.empty() ? none : task.ins.aux.values(), spec, task.state.get());
  p.cfg = config_of(task.ins);
  p.cfg.prox_mu = p.plan.prox_mu;
  if (!p.plan.correction.empty()) p.cfg.correction = p.plan.correction.data();
  p.start = p.plan.start.empty() ? &task.ins.model.values() : &p.plan.start;
  return p;
}

// One task through LibTorch. LibTorch reports errors by exception: they stop here and
// become error values.
caf::result<train_res> train_with_torch(trainer_ptr self, train_task& task) {
  try {
    auto& st = self->state;
    if (!st.torch) st.torch = std::make_unique<local_trainer>(st.spec);
    if (!task.data) return make_error(errc::training_failed, "client has no data");
    auto p = plan_task(st.spec, task);
    if (!p) return std::move(p.error());
    auto out = st.torch->train(*p->start, *task.data, p->cfg);
    auto aux = finish_client_task(p->alg, task.ins.client, p->plan, task.ins.model.values(), out,
                                  p->cfg.lr, st.spec, task.state.get());
    return packed(result_of(task.ins, std::move(out), std::move(aux)), task);
  } catch (const std::exception& e) {
    return make_error(errc::training_failed, e.what());
  } catch (...) {
    return make_error(errc::training_failed, "unknown exception");
  }
}

// Trains the stash in chunks, answering each task as soon as its chunk is done.
void flush(trainer_ptr self) {
  auto& st = self->state;
  st.flush_pending = false;
  auto work = std::move(st.stash);
  st.stash.clear();
  const size_t chunk = std::max<uint32_t>(1, st.opts.chunk);
  std::vector<batched_job> jobs;
  std::vector<std::optional<planned>> plans;
  for (size_t begin = 0; begin < work.size(); begin += chunk) {
    const size_t end = std::min(work.size(), begin + chunk);
    jobs.clear();
    plans.clear();
    plans.resize(end - begin);
    std::vector<size_t> job_of(end - begin, SIZE_MAX);
    for (size_t i = begin; i < end; ++i) {
      auto& t = work[i].task;
      caf::expected<planned> p = make_error(errc::training_failed, "not planned");
      try {
        p = plan_task(st.spec, t);
      } catch (const std::exception& e) {
        p = make_error(errc::training_failed, e.what());
      }
      if (!p) {
        work[i].promise.deliver(std::move(p.error()));
        continue;
      }
      plans[i - begin] = std::move(*p);
      auto& pl = *plans[i - begin];
      // The plan's pointers into its own vectors stay valid: plans does not grow any more.
      pl.start = pl.plan.start.empty() ? &t.ins.model.values() : &pl.plan.start;
      if (!pl.plan.correction.empty()) pl.cfg.correction = pl.plan.correction.data();
      job_of[i - begin] = jobs.size();
      jobs.push_back(batched_job{pl.start, t.data.get(), pl.cfg});
    }
    if (jobs.empty()) continue;
    std::vector<batched_outcome> outcomes;
    try {
      outcomes = st.batched->train(jobs);
    } catch (const std::exception& e) {
      for (size_t i = begin; i < end; ++i)
        if (job_of[i - begin] != SIZE_MAX)
          work[i].promise.deliver(make_error(errc::training_failed, e.what()));
      continue;
    }
    for (size_t i = begin; i < end; ++i) {
      if (job_of[i - begin] == SIZE_MAX) continue;
      auto& out = outcomes[job_of[i - begin]];
      auto& p = work[i];
      if (!out.ok()) {
        p.promise.deliver(make_error(errc::training_failed, out.error));
        continue;
      }
      auto& pl = *plans[i - begin];
      try {
        auto aux = finish_client_task(pl.alg, p.task.ins.client, pl.plan, p.task.ins.model.values(),
                                      out.result, pl.cfg.lr, st.spec, p.task.state.get());
        auto res = packed(result_of(p.task.ins, std::move(out.result), std::move(aux)), p.task);
        if (res)
          p.promise.deliver(std::move(*res));
        else
          p.promise.deliver(std::move(res.error()));
      } catch (const std::exception& e) {
        p.promise.deliver(make_error(errc::training_failed, e.what()));
      }
    }
  }
}

trainer_actor::behavior_type trainer(trainer_ptr self, model_spec spec, trainer_options opts) {
  auto& st = self->state;
  st.spec = std::move(spec);
  st.opts = opts;
  if (opts.batched && batched_trainer::supports(st.spec)) {
    limit_math_threads();
    st.batched = std::make_unique<batched_trainer>(st.spec);
  }
  return {
      [=](train_task& task) -> caf::result<train_res> {
        auto& s = self->state;
        if (!s.batched) return train_with_torch(self, task);
        if (!task.data) return make_error(errc::training_failed, "client has no data");
        auto rp = self->make_response_promise<train_res>();
        s.stash.push_back(trainer_state::pending{std::move(task), rp});
        if (!s.flush_pending) {
          s.flush_pending = true;
          self->send(self, trainer_flush_atom::value);
        }
        return rp;
      },
      [=](trainer_flush_atom) { flush(self); },
  };
}

}  // namespace

namespace {

bool detached(caf::actor_system& sys, trainer_placement p, uint32_t trainers) {
  switch (p) {
    case trainer_placement::detached:
      return true;
    case trainer_placement::scheduled:
      return false;
    case trainer_placement::automatic:
      break;
  }
  return sys.scheduler().num_workers() < 2 * size_t{trainers};
}

trainer_actor spawn_one(caf::actor_system& sys, const model_spec& spec, trainer_options opts,
                        bool detach) {
  if (detach) return sys.spawn<caf::detached>(trainer, spec, opts);
  return sys.spawn(trainer, spec, opts);
}

}  // namespace

trainer_actor spawn_trainer(caf::actor_system& sys, const model_spec& spec, trainer_options opts) {
  return spawn_one(sys, spec, opts, detached(sys, opts.placement, 1));
}

caf::actor spawn_trainer_pool(caf::actor_system& sys, const model_spec& spec, uint32_t workers,
                              trainer_options opts) {
  if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
  const bool detach = detached(sys, opts.placement, workers);
  auto factory = [&sys, spec, opts, detach] {
    return caf::actor_cast<caf::actor>(spawn_one(sys, spec, opts, detach));
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, factory,
                               caf::actor_pool::round_robin());
}

}  // namespace fedactor
