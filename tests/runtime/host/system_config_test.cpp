// system_config: every fedactor message type registered under its wire name, fedactor's
// error category rendered by the system, the io middleman loaded (and nothing else).

#include "runtime/host/system_config.hpp"

#include <string>
#include <typeinfo>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/uniform_type_info_map.hpp>

#include <catch2/catch.hpp>

#include "messages/async.hpp"
#include "messages/edge.hpp"
#include "messages/errors.hpp"
#include "messages/eval.hpp"
#include "messages/node.hpp"
#include "messages/param_blob.hpp"
#include "messages/run.hpp"
#include "messages/train.hpp"

using namespace fedactor;

namespace {

const std::vector<std::string> wire_names = {
    "fedactor::param_blob",  "fedactor::train_settings", "fedactor::train_ins",
    "fedactor::train_res",   "fedactor::edge_ins",       "fedactor::edge_res",
    "fedactor::run_report",  "fedactor::eval_ins",       "fedactor::eval_res",
    "fedactor::async_ins",   "fedactor::async_res",      "fedactor::group_close",
    "fedactor::node_hello",  "fedactor::node_welcome",   "fedactor::edge_join",
    "fedactor::host_join",   "fedactor::node_ack",       "fedactor::node_shutdown",
    "fedactor::edge_rejoin", "std::vector<uint64_t>",    "std::vector<uint32_t>",
    "fedactor::child_join",  "fedactor::edge_cover",     "fedactor::host_task",
    "fedactor::host_batch",
};

}  // namespace

TEST_CASE("system_config registers every message type under its wire name", "[host]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  for (const auto& name : wire_names) {
    INFO(name);
    CHECK(sys.types().make_value(name) != nullptr);
  }
  CHECK(sys.types().make_value("fedactor::no_such_message") == nullptr);
  // The C++ types map to those names.
  CHECK(sys.types().portable_name(0, &typeid(node_hello)) == "fedactor::node_hello");
  CHECK(sys.types().portable_name(0, &typeid(train_ins)) == "fedactor::train_ins");
  CHECK(sys.types().portable_name(0, &typeid(param_blob)) == "fedactor::param_blob");
  CHECK(sys.types().portable_name(0, &typeid(edge_rejoin)) == "fedactor::edge_rejoin");
}

TEST_CASE("system_config renders fedactor errors through the registered category", "[host]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  CHECK(sys.render(make_error(errc::host_lost, "client host 0-9 lost")) ==
        "host_lost: client host 0-9 lost");
  CHECK(sys.render(make_error(errc::client_timeout)) == "client_timeout");
}

TEST_CASE("system_config loads the io middleman and no openssl manager", "[host]") {
  system_config cfg;
  caf::actor_system sys{cfg};
  CHECK(sys.has_middleman());
  CHECK_FALSE(sys.has_openssl_manager());
  // Two systems in one process reach each other over loopback.
  system_config other_cfg;
  caf::actor_system other{other_cfg};
  auto echo = sys.spawn([]() -> caf::behavior {
    return {[](const node_hello& h) { return node_welcome{h.role, h.id}; }};
  });
  auto port = sys.middleman().publish(echo, 0, "127.0.0.1");
  REQUIRE(port);
  auto remote = other.middleman().remote_actor("127.0.0.1", *port);
  REQUIRE(remote);
  caf::scoped_actor self{other};
  node_welcome got;
  self->request(*remote, std::chrono::seconds(20), node_hello{"edge", 4, node_protocol_version})
      .receive([&](node_welcome& w) { got = w; },
               [&](caf::error& err) { FAIL("no answer: " << other.render(err)); });
  CHECK(got.scenario_yaml == "edge");
  CHECK(got.edges == 4);
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
}
