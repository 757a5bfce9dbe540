#pragma once

// Helpers for tests that drive actors from a scoped_actor.

#include <chrono>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

namespace fedactor::testing {

// Kills every actor it was handed when the test ends, failed or not, so that the actor
// system's destructor (which waits for all actors) never hangs.
struct reaper {
  std::vector<caf::actor> actors;
  template <class Handle>
  Handle operator()(Handle h) {
    actors.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }
  ~reaper() {
    for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::kill);
  }
};

// Sends `msg` to `dest` as a request from a helper actor and hands the answer (or error)
// to `me` as a plain message: the caller can act while the request is outstanding.
template <class Result, class Dest, class Msg>
void request_for(caf::actor_system& sys, caf::actor me, Dest dest, Msg msg,
                 caf::timespan timeout = std::chrono::seconds(60)) {
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(dest, timeout, msg)
        .then([=](Result& r) { caf::anon_send(me, std::move(r)); },
              [=](caf::error& err) { caf::anon_send(me, err); });
  });
}

}  // namespace fedactor::testing
