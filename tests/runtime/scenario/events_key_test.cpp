// Tests of runtime/scenario/events_key.cpp: the `events` key read from YAML (one-line errors
// with file:line), checked against the other keys by validate(), and written back.

#include <string>

#include <catch2/catch.hpp>

#include "runtime/scenario/load.hpp"

using namespace fedactor;

namespace {

std::string load_error(const std::string& yaml) {
  scenario s;
  auto err = load_scenario_text(yaml, "t.yaml", s);
  REQUIRE(err);
  return err->message;
}

// The validate() message for a file that loads.
std::string invalid(const std::string& yaml) {
  scenario s;
  auto err = load_scenario_text(yaml, "t.yaml", s);
  INFO((err ? err->message : std::string()));
  REQUIRE_FALSE(err);
  auto bad = validate(s);
  REQUIRE(bad);
  return bad->message;
}

const std::string kinds =
    "edge_down, edge_up, region_down, region_up, clients_leave, clients_join, bandwidth, "
    "compute, server_crash";

}  // namespace

TEST_CASE("events are read with their trigger, kind and target", "[scenario][events]") {
  scenario s;
  REQUIRE_FALSE(
      load_scenario_text("population:\n  regions: 4\n"
                         "events:\n"
                         "  - {round: 3, kind: edge_down, edge: 1}\n"
                         "  - at: 120.5\n"
                         "    kind: clients_leave\n"
                         "    fraction: 0.2\n"
                         "  - {round: 2, kind: region_down, region: 3}\n"
                         "  - {at: 7, kind: bandwidth, ids: [0, 100], factor: 4}\n",
                         "t.yaml", s));
  REQUIRE(s.events.size() == 4);
  CHECK(s.events[0].trigger == event_trigger::round);
  CHECK(s.events[0].count == 3);
  CHECK(s.events[0].kind == event_kind::edge_down);
  CHECK(s.events[0].edge == 1);
  CHECK(s.events[0].where == "t.yaml:4");
  CHECK(s.events[1].trigger == event_trigger::at);
  CHECK(s.events[1].at == 120.5);
  CHECK(s.events[1].kind == event_kind::clients_leave);
  CHECK(s.events[1].clients.fraction == 0.2);
  CHECK(s.events[1].where == "t.yaml:5");
  CHECK(s.events[2].region == 3);
  CHECK(s.events[3].clients.from == 0);
  CHECK(s.events[3].clients.to == 100);
  CHECK(s.events[3].factor == 4.0);
  CHECK_FALSE(validate(s));
  // Written back in flow form, file order, and read back equal.
  CHECK(*key_value(s, "events") ==
        "[{round: 3, kind: edge_down, edge: 1}, {at: 120.5, kind: clients_leave, fraction: 0.2}, "
        "{round: 2, kind: region_down, region: 3}, {at: 7.0, kind: bandwidth, ids: [0, 100], "
        "factor: 4.0}]");
  scenario back;
  REQUIRE_FALSE(load_scenario_text(to_yaml(s), "effective.yaml", back));
  CHECK(back == s);
  CHECK(back.events[0].where.rfind("effective.yaml:", 0) == 0);
}

TEST_CASE("events default to none and an empty list is none", "[scenario][events]") {
  CHECK(scenario{}.events.empty());
  CHECK(*key_value(scenario{}, "events") == "[]");
  scenario s;
  REQUIRE_FALSE(
      load_scenario_text("events:\n  - {round: 1, kind: edge_up, edge: 0}\n", "t.yaml", s));
  REQUIRE(s.events.size() == 1);
  REQUIRE_FALSE(load_scenario_text("events: []\n", "t.yaml", s));
  CHECK(s.events.empty());
}

TEST_CASE("events refuse a bad kind, trigger or field with file and line", "[scenario][events]") {
  CHECK(load_error("seed: 1\nevents:\n  - {round: 3, kind: edge_dwn, edge: 1}\n") ==
        "t.yaml:3: events[0].kind: must be one of: " + kinds +
            ", got 'edge_dwn' (did you mean edge_down?)");
  CHECK(load_error("events:\n  - {round: 2, edge: 1}\n") ==
        "t.yaml:2: events[0]: needs a kind (one of: " + kinds + ")");
  CHECK(load_error("events:\n  - {kind: edge_down, edge: 1}\n") ==
        "t.yaml:2: events[0]: needs a trigger: at (simulated seconds), round (sync) or step "
        "(async)");
  CHECK(load_error("events:\n  - {at: 5, round: 3, kind: edge_down, edge: 1}\n") ==
        "t.yaml:2: events[0].round: give one trigger, got both at and round");
  CHECK(load_error("events:\n  - {round: 3, kind: edge_down, edg: 1}\n") ==
        "t.yaml:2: events[0].edg: unknown field (did you mean edge?)");
  CHECK(load_error("events:\n  - {round: 3, kind: edge_down, region: 1}\n") ==
        "t.yaml:2: events[0].region: not a field of edge_down events (they take: edge)");
  CHECK(load_error("events:\n  - {round: 3, kind: edge_down}\n") ==
        "t.yaml:2: events[0]: needs edge (edge_down events take: edge)");
  CHECK(load_error("events:\n  - {round: 0, kind: edge_down, edge: 1}\n") ==
        "t.yaml:2: events[0].round: must be in [1, 4294967295], got 0");
  CHECK(load_error("events:\n  - {at: -1, kind: edge_down, edge: 1}\n") ==
        "t.yaml:2: events[0].at: must be >= 0, got -1");
  CHECK(load_error("events: 3\n") ==
        "t.yaml:1: events: expected a list of events such as [{round: 3, kind: edge_down, "
        "edge: 1}], got '3'");
  CHECK(load_error("events:\n  - {round: 1, kind: edge_up, edge: 0}\n  - 3\n") ==
        "t.yaml:3: events[1]: expected a mapping such as {round: 3, kind: edge_down, edge: 1}, "
        "got '3'");
}

TEST_CASE("events refuse a bad client set or factor with file and line", "[scenario][events]") {
  CHECK(load_error("events:\n  - {round: 2, kind: clients_leave, fraction: 0}\n") ==
        "t.yaml:2: events[0].fraction: must be in (0, 1], got 0");
  CHECK(load_error("events:\n  - {round: 2, kind: clients_leave, fraction: 1.5}\n") ==
        "t.yaml:2: events[0].fraction: must be in (0, 1], got 1.5");
  CHECK(load_error("events:\n  - {round: 2, kind: clients_join, ids: [5, 5]}\n") ==
        "t.yaml:2: events[0].ids: empty id range [5, 5)");
  CHECK(load_error("events:\n  - {round: 2, kind: clients_join, ids: [5]}\n") ==
        "t.yaml:2: events[0].ids: expected [from, to) as a list of two ids such as [0, 100], "
        "got a list");
  CHECK(load_error("events:\n  - {round: 2, kind: clients_join, ids: [0, 5], fraction: 0.1}\n") ==
        "t.yaml:2: events[0].ids: give fraction or ids, not both");
  CHECK(load_error("events:\n  - {round: 2, kind: clients_join}\n") ==
        "t.yaml:2: events[0]: needs fraction (of the population) or ids ([from, to))");
  CHECK(load_error("events:\n  - {round: 2, kind: bandwidth, fraction: 0.5}\n") ==
        "t.yaml:2: events[0]: needs factor (bandwidth events take: fraction, ids, factor)");
  CHECK(load_error("events:\n  - {round: 2, kind: compute, fraction: 0.5, factor: 0}\n") ==
        "t.yaml:2: events[0].factor: must be > 0, got 0");
  CHECK(load_error("events:\n  - {round: 2, kind: clients_leave, fraction: 0.5, factor: 2}\n") ==
        "t.yaml:2: events[0].factor: not a field of clients_leave events (they take: fraction, "
        "ids)");
}

TEST_CASE("events are checked against the run with their file and line", "[scenario][events]") {
  CHECK(invalid("events:\n  - {round: 1, kind: edge_up, edge: 0}\n"
                "  - {round: 11, kind: edge_down, edge: 1}\n") ==
        "t.yaml:3: events[1].round: must be <= protocol.rounds (10), got 11 (the run ends "
        "before)");
  CHECK(invalid("events:\n  - {step: 2, kind: edge_down, edge: 1}\n") ==
        "t.yaml:2: events[0].step: sync runs count rounds: use round");
  CHECK(invalid("protocol:\n  mode: async\nevents:\n  - {round: 2, kind: edge_down, edge: 1}\n") ==
        "t.yaml:4: events[0].round: async runs count server steps: use step");
  CHECK(invalid("protocol:\n  mode: async\nevents:\n  - {step: 21, kind: edge_down, edge: 1}\n") ==
        "t.yaml:4: events[0].step: must be <= async.aggregations (20), got 21 (the run ends "
        "before)");
  CHECK(invalid("events:\n  - {round: 2, kind: edge_down, edge: 10}\n") ==
        "t.yaml:2: events[0].edge: must be < topology.edges (10), got 10");
  CHECK(invalid("events:\n  - {round: 2, kind: region_down, region: 1}\n") ==
        "t.yaml:2: events[0].region: must be < population.regions (1), got 1");
  CHECK(invalid("events:\n  - {round: 2, kind: clients_leave, ids: [990, 1001]}\n") ==
        "t.yaml:2: events[0].ids: [990, 1001) is outside the population (ids 0..999)");
  CHECK(invalid("clock: real\nevents:\n  - {at: 5, kind: edge_down, edge: 1}\n") ==
        "t.yaml:3: events[0].at: needs clock simulated (a real-clock run has no simulated time; "
        "use round)");
  CHECK(invalid("clock: real\nevents:\n  - {round: 5, kind: compute, fraction: 1, factor: 2}\n") ==
        "t.yaml:3: events[0].kind: compute needs clock simulated (it scales simulated task "
        "durations)");
  CHECK(invalid("protocol:\n  mode: async\nasync:\n  edge_mode: preaggregate\nevents:\n"
                "  - {step: 2, kind: clients_leave, fraction: 0.5}\n") ==
        "t.yaml:6: events[0].kind: clients_leave is not supported with async.edge_mode "
        "preaggregate (a leaving client's update may already be folded into its edge's group)");
  // The other keys may come after the events, in the file or from --set.
  scenario s;
  REQUIRE_FALSE(
      load_scenario_text("events:\n  - {round: 12, kind: edge_down, edge: 1}\n"
                         "protocol:\n  rounds: 12\n",
                         "t.yaml", s));
  CHECK_FALSE(validate(s));
  REQUIRE_FALSE(apply_override("protocol.rounds=11", s));
  CHECK(validate(s)->message ==
        "t.yaml:2: events[0].round: must be <= protocol.rounds (11), got 12 (the run ends "
        "before)");
}

TEST_CASE("events given by --set replace the list and are named --set", "[scenario][events]") {
  scenario s;
  REQUIRE_FALSE(
      load_scenario_text("events:\n  - {round: 1, kind: edge_up, edge: 0}\n", "t.yaml", s));
  REQUIRE_FALSE(apply_override("events=[{round: 12, kind: edge_down, edge: 1}]", s));
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0].where == "--set");
  CHECK(validate(s)->message ==
        "--set: events[0].round: must be <= protocol.rounds (10), got 12 (the run ends before)");
  scenario bad;
  auto err = apply_override("events=[{round: 2, kind: nope, edge: 1}]", bad);
  REQUIRE(err);
  CHECK(err->message == "--set: events[0].kind: must be one of: " + kinds + ", got 'nope'");
  REQUIRE_FALSE(apply_override("events=[]", s));
  CHECK(s.events.empty());
}

TEST_CASE("events built in C++ are checked by validate as the reader would", "[scenario][events]") {
  scenario s;
  scenario_event e;
  e.kind = event_kind::clients_leave;
  e.trigger = event_trigger::round;
  e.count = 2;
  e.clients.fraction = 1.5;
  s.events = {e};
  CHECK(validate(s)->message == "scenario: events[0].fraction: must be in (0, 1], got 1.5");
  s.events[0].clients.fraction = 0;
  s.events[0].clients.from = 4;
  s.events[0].clients.to = 4;
  CHECK(validate(s)->message == "scenario: events[0].ids: empty id range [4, 4)");
  s.events[0].clients.to = 5;
  CHECK_FALSE(validate(s));
  s.events[0].count = 0;
  CHECK(validate(s)->message == "scenario: events[0].round: must be in [1, 4294967295], got 0");
}

TEST_CASE(
    "a server_crash event takes no target, comes after round or step 1, and needs a run "
    "checkpointed mid-run",
    "[scenario][events]") {
  scenario s;
  REQUIRE_FALSE(load_scenario_text(
      "events:\n  - {round: 3, kind: server_crash}\n  - {at: 40, kind: server_crash}\n", "t.yaml",
      s));
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0].kind == event_kind::server_crash);
  CHECK(s.events[0].count == 3);
  CHECK(s.events[1].at == 40);
  CHECK_FALSE(validate(s));
  // Written back as read.
  scenario again;
  REQUIRE_FALSE(load_scenario_text(to_yaml(s), "again.yaml", again));
  CHECK(again.events == s.events);
  CHECK(load_error("events:\n  - {round: 3, kind: server_crash, edge: 1}\n") ==
        "t.yaml:2: events[0].edge: not a field of server_crash events (they take no target)");
  CHECK(invalid("events:\n  - {round: 1, kind: server_crash}\n") ==
        "t.yaml:2: events[0].round: a server_crash needs 2 or more (the server crashes after the "
        "round before it and resumes from its checkpoint), got 1");
  CHECK(invalid("protocol:\n  mode: async\nevents:\n  - {step: 1, kind: server_crash}\n") ==
        "t.yaml:4: events[0].step: a server_crash needs 2 or more (the server crashes after the "
        "step before it and resumes from its checkpoint), got 1");
  CHECK(invalid("protocol:\n  mode: async\nasync:\n  edge_mode: preaggregate\nevents:\n"
                "  - {step: 2, kind: server_crash}\n") ==
        "t.yaml:6: events[0].kind: server_crash needs a run checkpointed mid-run, and "
        "async.edge_mode preaggregate runs are checkpointed at the end only (groups span server "
        "steps)");
}
