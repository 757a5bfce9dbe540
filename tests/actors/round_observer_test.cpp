// Tests of actors/round_observer.*: evaluation schedule, round order, evaluation errors and
// flush, against a stand-in evaluator that answers when the test tells it to.

#include "actors/round_observer.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "runtime/host/system_config.hpp"
#include "tests/support/actor_helpers.hpp"

using namespace fedactor;
using fedactor::testing::reaper;

namespace {

constexpr auto wait = std::chrono::seconds(60);

using asked_atom = caf::atom_constant<caf::atom("asked")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;
using answered_atom = caf::atom_constant<caf::atom("answered")>;

// The stand-in evaluator: the evaluator's interface plus (answer, round, ok), which
// answers the held evaluation of `round` with figures(round) or, when !ok, with an error.
// It tells `notify` (asked, round, first model value) for every eval_ins and (answered,
// round) once it has answered. In automatic mode it answers every eval_ins at once.
using stand_in_evaluator_actor =
    evaluator_actor::extend<caf::reacts_to<answer_atom, uint32_t, bool>>;

struct stand_in_state {
  std::map<uint32_t, caf::typed_response_promise<eval_res>> held;
  static inline const char* name = "test.evaluator";
};

eval_res figures(uint32_t round) {
  eval_res r;
  r.round = round;
  r.loss = round / 4.0;
  r.accuracy = round / 100.0;
  r.samples = 2000;
  r.client_accuracy = round / 200.0;
  r.clients = 8;
  return r;
}

const std::string stand_in_failure = "training_failed: evaluation: stand-in failure";

stand_in_evaluator_actor::behavior_type stand_in_evaluator(
    stand_in_evaluator_actor::stateful_pointer<stand_in_state> self, caf::actor notify,
    bool automatic) {
  return {
      [=](eval_ins& ins) -> caf::result<eval_res> {
        const float first = ins.model.empty() ? -1.0f : ins.model.values()[0];
        caf::anon_send(notify, asked_atom::value, ins.round, first);
        if (automatic) return figures(ins.round);
        auto rp = self->make_response_promise<eval_res>();
        self->state.held.emplace(ins.round, rp);
        return rp;
      },
      [=](answer_atom, uint32_t round, bool ok) {
        auto it = self->state.held.find(round);
        if (it == self->state.held.end()) return;  // the test then misses (answered, round)
        if (ok)
          it->second.deliver(figures(round));
        else
          it->second.deliver(make_error(errc::training_failed, "evaluation: stand-in failure"));
        self->state.held.erase(it);
        caf::anon_send(notify, answered_atom::value, round);
      },
  };
}

round_record record(uint32_t round) {
  round_record r;
  r.round = round;
  r.clients = 10 * round;
  r.mean_loss = round + 0.5;
  return r;
}

param_blob model_of(uint32_t round) {
  return param_blob{std::vector<float>{static_cast<float>(round), 0.5f}};
}

// What the test actor saw, in arrival order.
struct observed {
  std::vector<round_record> records;
  std::vector<std::pair<uint32_t, float>> asked;  // (round, first model value)
  std::vector<std::string> events;                // "rec N" and "flushed"
};

// Receives until `records` records have been handed on (and, if `flush`, the flush answer).
void collect(caf::scoped_actor& self, observed& o, size_t records, bool flush) {
  bool flushed = false;
  while (o.records.size() < records || (flush && !flushed)) {
    self->receive(
        [&](round_record& r) {
          o.events.push_back("rec " + std::to_string(r.round));
          o.records.push_back(std::move(r));
        },
        [&](asked_atom, uint32_t round, float first) { o.asked.emplace_back(round, first); },
        [&](bool ok) {
          CHECK(ok);
          CHECK_FALSE(flushed);
          flushed = true;
          o.events.push_back("flushed");
        },
        caf::after(wait) >> [&] { FAIL("timed out; seen " << o.events.size() << " events"); });
  }
}

// Waits for the stand-in's (asked, round, value) for `n` evaluations, in arrival order.
std::vector<std::pair<uint32_t, float>> asked(caf::scoped_actor& self, size_t n) {
  std::vector<std::pair<uint32_t, float>> out;
  while (out.size() < n)
    self->receive([&](asked_atom, uint32_t round, float first) { out.emplace_back(round, first); },
                  caf::after(wait) >> [] { FAIL("an evaluation was never asked for"); });
  return out;
}

void answered(caf::scoped_actor& self, uint32_t round) {
  self->receive([&](answered_atom, uint32_t r) { CHECK(r == round); },
                caf::after(wait) >> [] { FAIL("the stand-in never answered"); });
}

observer_config config_to(caf::scoped_actor& self) {
  observer_config cfg;
  auto me = caf::actor_cast<caf::actor>(self);
  cfg.on_round = [me](const round_record& r) { caf::anon_send(me, r); };
  return cfg;
}

void check_figures(const round_record& r) {
  INFO("round " << r.round);
  CHECK(r.evaluated);
  CHECK(r.test_loss == r.round / 4.0);
  CHECK(r.test_accuracy == r.round / 100.0);
  CHECK(r.test_samples == 2000);
  CHECK(r.client_accuracy == r.round / 200.0);
  CHECK(r.eval_clients == 8);
  CHECK(r.eval_error.empty());
}

void check_not_evaluated(const round_record& r) {
  INFO("round " << r.round);
  CHECK_FALSE(r.evaluated);
  CHECK(r.test_loss == 0);
  CHECK(r.test_accuracy == 0);
  CHECK(r.test_samples == 0);
  CHECK(r.client_accuracy == 0);
  CHECK(r.eval_clients == 0);
  CHECK(r.eval_error.empty());
}

// The fields the observer does not touch came through unchanged.
void check_passed_through(const round_record& r, uint32_t round) {
  CHECK(r.round == round);
  CHECK(r.clients == 10 * round);
  CHECK(r.mean_loss == round + 0.5);
}

}  // namespace

TEST_CASE(
    "the round observer hands records on in round order when evaluations finish out of "
    "order",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), false));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 1;
  oc.last_round = 3;
  auto obs = keep(sys.spawn(round_observer, oc));
  for (uint32_t r = 1; r <= 3; ++r) self->send(obs, record(r), model_of(r));
  // Each round's own model is sent for evaluation, in round order.
  CHECK(asked(self, 3) == std::vector<std::pair<uint32_t, float>>{{1, 1.0f}, {2, 2.0f}, {3, 3.0f}});
  // Rounds 3 and 2 finish first. The stand-in has delivered both before it confirms, so the
  // flush sent afterwards reaches the observer behind both evaluations.
  self->send(ev, answer_atom::value, 3u, true);
  answered(self, 3);
  self->send(ev, answer_atom::value, 2u, true);
  answered(self, 2);
  self->send(obs, flush_atom::value);
  self->send(ev, answer_atom::value, 1u, true);
  observed o;
  collect(self, o, 3, true);
  CHECK(o.events == std::vector<std::string>{"rec 1", "rec 2", "rec 3", "flushed"});
  for (uint32_t r = 1; r <= 3; ++r) {
    check_passed_through(o.records[r - 1], r);
    check_figures(o.records[r - 1]);
  }
}

TEST_CASE("the round observer evaluates rounds divisible by every and always the last round",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), true));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 3;
  oc.last_round = 7;
  auto obs = keep(sys.spawn(round_observer, oc));
  for (uint32_t r = 1; r <= 7; ++r) self->send(obs, record(r), model_of(r));
  observed o;
  // An evaluation is asked for before its record is handed on: once round 7 is in, every
  // (asked, ...) the stand-in sent is too.
  collect(self, o, 7, false);
  CHECK(o.asked == std::vector<std::pair<uint32_t, float>>{{3, 3.0f}, {6, 6.0f}, {7, 7.0f}});
  REQUIRE(o.records.size() == 7);
  for (uint32_t r = 1; r <= 7; ++r) {
    const auto& rec = o.records[r - 1];
    check_passed_through(rec, r);
    if (r == 3 || r == 6 || r == 7)
      check_figures(rec);
    else
      check_not_evaluated(rec);
  }
  // Nothing pending: flush answers at once.
  bool flushed = false;
  self->request(obs, wait, flush_atom::value)
      .receive([&](bool ok) { flushed = ok; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(flushed);
}

TEST_CASE("without an evaluator the round observer passes records straight through", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto oc = config_to(self);
  oc.every = 1;  // due every round, but there is nobody to ask
  oc.last_round = 3;
  auto obs = keep(sys.spawn(round_observer, oc));
  for (uint32_t r = 1; r <= 3; ++r) self->send(obs, record(r), model_of(r));
  self->send(obs, flush_atom::value);
  observed o;
  collect(self, o, 3, true);
  CHECK(o.events == std::vector<std::string>{"rec 1", "rec 2", "rec 3", "flushed"});
  for (uint32_t r = 1; r <= 3; ++r) {
    check_passed_through(o.records[r - 1], r);
    check_not_evaluated(o.records[r - 1]);
  }
}

TEST_CASE("with every 0 the round observer never asks its evaluator, not even for the last round",
          "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), true));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 0;
  oc.last_round = 2;
  auto obs = keep(sys.spawn(round_observer, oc));
  for (uint32_t r = 1; r <= 2; ++r) self->send(obs, record(r), model_of(r));
  observed o;
  collect(self, o, 2, false);
  // Had round 2 been evaluated, the stand-in's (asked, 2, ...) would have come before it.
  CHECK(o.asked.empty());
  CHECK(o.events == std::vector<std::string>{"rec 1", "rec 2"});
  for (const auto& r : o.records) check_not_evaluated(r);
}

TEST_CASE(
    "an evaluation error lands on its record as eval_error and the record is not "
    "evaluated",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), false));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 1;
  oc.last_round = 3;
  auto obs = keep(sys.spawn(round_observer, oc));
  for (uint32_t r = 1; r <= 3; ++r) self->send(obs, record(r), model_of(r));
  CHECK(asked(self, 3).size() == 3);
  self->send(ev, answer_atom::value, 2u, false);
  self->send(ev, answer_atom::value, 1u, true);
  self->send(ev, answer_atom::value, 3u, true);
  observed o;
  collect(self, o, 3, false);
  CHECK(o.events == std::vector<std::string>{"rec 1", "rec 2", "rec 3"});
  check_figures(o.records[0]);
  const auto& failed = o.records[1];
  check_passed_through(failed, 2);
  CHECK_FALSE(failed.evaluated);
  CHECK(failed.eval_error == stand_in_failure);
  CHECK(failed.test_loss == 0);
  CHECK(failed.test_samples == 0);
  check_figures(o.records[2]);
}

TEST_CASE("an evaluation past its timeout lands on its record as a timeout error", "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  // Never told to answer: only the observer's request timeout ends the evaluation.
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), false));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 1;
  oc.last_round = 1;
  oc.timeout_s = 0.05;
  auto obs = keep(sys.spawn(round_observer, oc));
  self->send(obs, record(1), model_of(1));
  self->send(obs, flush_atom::value);
  observed o;
  collect(self, o, 1, true);
  CHECK(o.events == std::vector<std::string>{"rec 1", "flushed"});
  CHECK_FALSE(o.records[0].evaluated);
  CHECK(o.records[0].eval_error == "request_timeout");
}

TEST_CASE(
    "flush answers at once when nothing is pending and otherwise once the last record "
    "received was handed on",
    "[actors]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), false));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 2;
  oc.last_round = 10;
  auto obs = keep(sys.spawn(round_observer, oc));
  bool flushed = false;
  self->request(obs, wait, flush_atom::value)
      .receive([&](bool ok) { flushed = ok; }, [](caf::error& err) { FAIL(describe(err)); });
  CHECK(flushed);
  // Round 1 passes, round 2 waits for its evaluation, round 3 waits behind round 2.
  for (uint32_t r = 1; r <= 3; ++r) self->send(obs, record(r), model_of(r));
  self->send(obs, flush_atom::value);
  self->send(obs, flush_atom::value);  // a second flush while the first waits
  CHECK(asked(self, 1) == std::vector<std::pair<uint32_t, float>>{{2, 2.0f}});
  // The flushes are in the observer's mailbox before the evaluation's answer can be.
  self->send(ev, answer_atom::value, 2u, true);
  observed o;
  collect(self, o, 3, true);
  CHECK(o.events == std::vector<std::string>{"rec 1", "rec 2", "rec 3", "flushed"});
  // Both flushes are answered.
  bool second = false;
  self->receive([&](bool ok) { second = ok; },
                caf::after(wait) >> [] { FAIL("the second flush was never answered"); });
  CHECK(second);
  check_not_evaluated(o.records[0]);
  check_figures(o.records[1]);
  check_not_evaluated(o.records[2]);
}

TEST_CASE("the round observer hands a checkpoint on after the records before it", "[actors]") {
  // Round 2 is evaluated: the checkpoint sent after round 2 waits for that evaluation, and
  // round 3's record (not evaluated) waits behind the checkpoint.
  system_config cfg;
  caf::actor_system sys{cfg};
  reaper keep;
  caf::scoped_actor self{sys};
  auto ev = keep(sys.spawn(stand_in_evaluator, caf::actor_cast<caf::actor>(self), false));
  auto oc = config_to(self);
  oc.evaluator = caf::actor_cast<evaluator_actor>(ev);
  oc.every = 2;
  oc.last_round = 4;
  auto me = caf::actor_cast<caf::actor>(self);
  oc.on_checkpoint = [me](const loop_checkpoint& c) {
    caf::anon_send(me, answered_atom::value, c.round + 100);
  };
  auto obs = keep(sys.spawn(round_observer, oc));
  auto ck = std::make_shared<loop_checkpoint>();
  ck->round = 2;
  self->send(obs, record(1), model_of(1));
  self->send(obs, record(2), model_of(2));
  self->send(obs, checkpoint_note{ck});
  self->send(obs, record(3), model_of(3));
  CHECK(asked(self, 1) == std::vector<std::pair<uint32_t, float>>{{2, 2.0f}});
  std::vector<std::string> events;
  auto next = [&] {
    self->receive([&](round_record& r) { events.push_back("rec " + std::to_string(r.round)); },
                  [&](answered_atom, uint32_t r) {
                    events.push_back(r > 100 ? "checkpoint " + std::to_string(r - 100)
                                             : "answered " + std::to_string(r));
                  },
                  caf::after(wait) >> [&] { FAIL("timed out after " << events.size()); });
  };
  next();
  CHECK(events == std::vector<std::string>{"rec 1"});
  self->send(ev, answer_atom::value, 2u, true);
  for (int i = 0; i < 4; ++i) next();
  // The stand-in's own "answered 2" may come anywhere; the observer's order is fixed.
  events.erase(std::remove(events.begin(), events.end(), "answered 2"), events.end());
  CHECK(events == std::vector<std::string>{"rec 1", "rec 2", "checkpoint 2", "rec 3"});
}
