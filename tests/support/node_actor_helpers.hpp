#pragma once

// Helpers for tests of the distributed roles' actors (registrar, edge node): their log
// lines as messages to the test actor, and the join / hello requests.

#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"
#include "messages/node.hpp"

namespace fedactor::testing {

using log_atom = caf::atom_constant<caf::atom("log")>;

// A log callback that sends each line to `self` as (log, line).
inline std::function<void(const std::string&)> log_to(caf::scoped_actor& self) {
  auto me = caf::actor_cast<caf::actor>(self);
  return [me](const std::string& line) { caf::anon_send(me, log_atom::value, line); };
}

// The next (log, line) message; fails the test after `timeout`.
inline std::string next_log(caf::scoped_actor& self,
                            caf::timespan timeout = std::chrono::seconds(60)) {
  std::string out;
  self->receive([&](log_atom, std::string& line) { out = std::move(line); },
                caf::after(timeout) >> [] { FAIL("no log line"); });
  return out;
}

// The node_ack answering a join request (edge_join to a registrar, host_join to an edge).
template <class Dest, class Join>
node_ack join(caf::scoped_actor& self, const Dest& dest, Join j,
              caf::timespan timeout = std::chrono::seconds(60)) {
  node_ack out{false, "no answer"};
  self->request(dest, timeout, std::move(j))
      .receive([&](node_ack& a) { out = a; }, [](caf::error& err) { FAIL(describe(err)); });
  return out;
}

// The error a hello that should be refused got (fails the test if it was welcomed).
template <class Dest>
std::string refused_hello(caf::scoped_actor& self, const Dest& dest, node_hello h,
                          caf::timespan timeout = std::chrono::seconds(60)) {
  std::string out;
  self->request(dest, timeout, std::move(h))
      .receive([](node_welcome&) { FAIL("the hello was welcomed"); },
               [&](caf::error& err) { out = describe(err); });
  return out;
}

}  // namespace fedactor::testing
