// Runs a scenario in-process and evaluates the final global model with the evaluator
// actor: loss and accuracy on the data's test split, and (with eval.clients) the mean
// accuracy on sampled clients' local data. Prints one line per round and a final line.
//
//   ./build/evaluate_scenario examples/scenarios/fmnist_iid.yaml --set protocol.rounds=2

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/evaluator.hpp"
#include "messages/errors.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/data_source.hpp"
#include "runtime/scenario/load.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s SCENARIO.yaml [--set path=value]...\n", argv[0]);
    return 2;
  }
  fedactor::scenario s;
  if (auto err = fedactor::load_scenario_file(argv[1], s)) {
    std::fprintf(stderr, "error: %s\n", err->message.c_str());
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--set") != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "error: expected --set path=value, got '%s'\n", argv[i]);
      return 2;
    }
    if (auto err = fedactor::apply_override(argv[++i], s)) {
      std::fprintf(stderr, "error: %s\n", err->message.c_str());
      return 2;
    }
  }
  if (auto err = fedactor::validate(s)) {
    std::fprintf(stderr, "error: %s\n", err->message.c_str());
    return 2;
  }
  try {
    const auto t0 = std::chrono::steady_clock::now();
    fedactor::system_config cfg;
    caf::actor_system sys{cfg};
    fedactor::federation fl{sys, s};
    fl.on_round([](const fedactor::round_record& r) {
      std::printf("round %u: %u clients, %u failures, mean train loss %.4f, %.1f s\n", r.round,
                  r.clients, r.failures, r.mean_loss, r.wall_s);
      std::fflush(stdout);
    });
    auto result = fl.run();
    const double train_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    auto ev = fedactor::spawn_evaluator(
        sys, fedactor::make_evaluator_config(s, fl.spec(), fedactor::make_data_source(s)));
    caf::scoped_actor self{sys};
    int rc = 0;
    self->request(ev, std::chrono::minutes(30),
                  fedactor::eval_ins{result.summary.rounds, fedactor::param_blob{fl.model()}})
        .receive(
            [&](const fedactor::eval_res& r) {
              std::printf(
                  "final: %s, %u rounds, test accuracy %.4f, test loss %.4f (%u samples), "
                  "client accuracy %.4f (%u clients), run %.1f s, total %.1f s\n",
                  s.name.c_str(), r.round, r.accuracy, r.loss, r.samples, r.client_accuracy,
                  r.clients, train_s,
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            },
            [&](const caf::error& err) {
              std::fprintf(stderr, "evaluation failed: %s\n", fedactor::describe(err).c_str());
              rc = 1;
            });
    self->send_exit(ev, caf::exit_reason::user_shutdown);
    return rc;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
