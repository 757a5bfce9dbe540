#include "actors/round_observer.hpp"

#include <chrono>

#include "messages/errors.hpp"

namespace fedactor {

namespace {

using observer_ptr = observer_actor::stateful_pointer<observer_state>;

// Hands on the records at the front of the queue whose evaluation (if any) is done.
void hand_on(observer_ptr self) {
  auto& st = self->state;
  while (!st.queue.empty() && st.queue.front().ready) {
    auto& front = st.queue.front();
    if (front.checkpoint) {
      if (st.cfg.on_checkpoint) st.cfg.on_checkpoint(*front.checkpoint);
    } else if (st.cfg.on_round) {
      st.cfg.on_round(front.rec);
    }
    st.queue.pop_front();
  }
  if (st.queue.empty()) {
    for (auto& rp : st.flushing) rp.deliver(true);
    st.flushing.clear();
  }
}

observer_state::entry* find(observer_ptr self, uint32_t round) {
  for (auto& e : self->state.queue)
    if (!e.checkpoint && e.rec.round == round) return &e;
  return nullptr;
}

}  // namespace

observer_actor::behavior_type round_observer(observer_actor::stateful_pointer<observer_state> self,
                                             observer_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
      [=](round_record& rec, param_blob& model) {
        auto& st = self->state;
        const uint32_t round = rec.round;
        const bool due = st.cfg.evaluator && st.cfg.every > 0 &&
                         (round % st.cfg.every == 0 || round == st.cfg.last_round);
        st.queue.push_back(observer_state::entry{std::move(rec), !due, nullptr});
        if (!due) {
          hand_on(self);
          return;
        }
        auto timeout = std::chrono::duration_cast<caf::timespan>(
            std::chrono::duration<double>(st.cfg.timeout_s));
        self->request(*st.cfg.evaluator, timeout, eval_ins{round, std::move(model)})
            .then(
                [=](eval_res& res) {
                  if (auto e = find(self, round)) {
                    e->rec.evaluated = true;
                    e->rec.test_loss = res.loss;
                    e->rec.test_accuracy = res.accuracy;
                    e->rec.test_samples = res.samples;
                    e->rec.client_accuracy = res.client_accuracy;
                    e->rec.eval_clients = res.clients;
                    e->ready = true;
                  }
                  hand_on(self);
                },
                [=](caf::error& err) {
                  if (auto e = find(self, round)) {
                    e->rec.eval_error = describe(err);
                    e->ready = true;
                  }
                  hand_on(self);
                });
      },
      [=](checkpoint_note& note) {
        if (!note.checkpoint) return;
        self->state.queue.push_back(observer_state::entry{{}, true, std::move(note.checkpoint)});
        hand_on(self);
      },
      [=](flush_atom) -> caf::result<bool> {
        auto& st = self->state;
        if (st.queue.empty()) return true;
        auto rp = self->make_response_promise<bool>();
        st.flushing.push_back(rp);
        return rp;
      },
  };
}

}  // namespace fedactor
