// The `events` key: a list of scripted events (docs/scenarios.md "Events"), read, checked and
// written back. Each event is a mapping: a trigger (at | round | step), a kind and the kind's
// target fields.

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <string>

#include "runtime/checkpoint/loop_state.hpp"
#include "runtime/scenario/schema.hpp"

namespace fedactor::schema {
namespace {

constexpr uint64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr double inf = std::numeric_limits<double>::infinity();

const std::array<event_kind, 9> all_kinds{
    event_kind::edge_down, event_kind::edge_up,       event_kind::region_down,
    event_kind::region_up, event_kind::clients_leave, event_kind::clients_join,
    event_kind::bandwidth, event_kind::compute,       event_kind::server_crash};

const std::vector<std::string> all_fields{"at",     "round",    "step", "kind",  "edge",
                                          "region", "fraction", "ids",  "factor"};

bool edge_kind(event_kind k) {
  return k == event_kind::edge_down || k == event_kind::edge_up;
}
bool region_kind(event_kind k) {
  return k == event_kind::region_down || k == event_kind::region_up;
}
bool factor_kind(event_kind k) {
  return k == event_kind::bandwidth || k == event_kind::compute;
}
bool clients_kind(event_kind k) {
  return k == event_kind::clients_leave || k == event_kind::clients_join || factor_kind(k);
}

// The target fields an event of kind k takes.
std::vector<std::string> fields_of(event_kind k) {
  if (edge_kind(k)) return {"edge"};
  if (region_kind(k)) return {"region"};
  if (factor_kind(k)) return {"fraction", "ids", "factor"};
  if (k == event_kind::server_crash) return {};
  return {"fraction", "ids"};
}

std::string kinds_text() {
  std::string out;
  for (auto k : all_kinds) out += (out.empty() ? "" : ", ") + std::string(to_string(k));
  return out;
}

std::string list_text(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

int line_of(const YAML::Node& n, int fallback) {
  return n.Mark().is_null() ? fallback : n.Mark().line;
}

// One event from its mapping; errors carry the suffix "[i].field" and the field's line.
std::optional<read_error> read_event(const YAML::Node& n, std::size_t i, scenario_event& out) {
  const std::string at_i = "[" + std::to_string(i) + "]";
  const int line = line_of(n, -1);
  if (!n.IsMap()) {
    return read_error{
        "expected a mapping such as {round: 3, kind: edge_down, edge: 1}, got " + describe(n), at_i,
        line};
  }
  std::map<std::string, YAML::Node> fields;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node key = it->first;
    const int key_line = line_of(key, line);
    if (!key.IsScalar())
      return read_error{"fields must be plain names, got " + describe(key), at_i, key_line};
    const std::string name = key.Scalar();
    if (std::find(all_fields.begin(), all_fields.end(), name) == all_fields.end()) {
      std::string what = "unknown field";
      if (auto c = closest(name, all_fields); !c.empty())
        what += " (did you mean " + c + "?)";
      else
        what += " (known: " + list_text(all_fields) + ")";
      return read_error{what, at_i + "." + name, key_line};
    }
    if (!fields.emplace(name, it->second).second)
      return read_error{"given twice", at_i + "." + name, key_line};
  }
  auto field_error = [&](const std::string& name, std::string what) {
    return read_error{std::move(what), at_i + "." + name, line_of(fields.at(name), line)};
  };
  scenario_event ev;
  ev.where = std::to_string(line + 1);
  // kind
  auto kind = fields.find("kind");
  if (kind == fields.end())
    return read_error{"needs a kind (one of: " + kinds_text() + ")", at_i, line};
  {
    bool found = false;
    std::vector<std::string> names;
    for (auto k : all_kinds) {
      names.emplace_back(to_string(k));
      if (kind->second.IsScalar() && kind->second.Scalar() == names.back()) {
        ev.kind = k;
        found = true;
      }
    }
    if (!found) {
      std::string what = "must be one of: " + kinds_text() + ", got " + describe(kind->second);
      if (kind->second.IsScalar()) {
        if (auto c = closest(kind->second.Scalar(), names); !c.empty())
          what += " (did you mean " + c + "?)";
      }
      return field_error("kind", what);
    }
  }
  // trigger: exactly one of at, round, step
  std::vector<std::string> triggers;
  for (const char* t : {"at", "round", "step"})
    if (fields.count(t)) triggers.emplace_back(t);
  if (triggers.empty())
    return read_error{"needs a trigger: at (simulated seconds), round (sync) or step (async)", at_i,
                      line};
  if (triggers.size() > 1)
    return field_error(triggers[1],
                       "give one trigger, got both " + triggers[0] + " and " + triggers[1]);
  if (triggers[0] == "at") {
    ev.trigger = event_trigger::at;
    if (auto err = read_number(fields.at("at"), bounds{0, false, inf, false}, ev.at))
      return field_error("at", err->what);
  } else {
    ev.trigger = triggers[0] == "round" ? event_trigger::round : event_trigger::step;
    uint64_t v = 0;
    if (auto err = read_unsigned(fields.at(triggers[0]), 1, u32_max, v))
      return field_error(triggers[0], err->what);
    ev.count = static_cast<uint32_t>(v);
  }
  // the kind's target fields, and no others
  const auto allowed = fields_of(ev.kind);
  for (const auto& [name, node] : fields) {
    if (name == "kind" || name == "at" || name == "round" || name == "step") continue;
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      return field_error(name, std::string("not a field of ") + to_string(ev.kind) + " events (" +
                                   (allowed.empty() ? std::string{"they take no target"}
                                                    : "they take: " + list_text(allowed)) +
                                   ")");
  }
  auto need = [&](const char* name) -> std::optional<read_error> {
    if (fields.count(name)) return std::nullopt;
    return read_error{std::string("needs ") + name + " (" + to_string(ev.kind) +
                          " events take: " + list_text(allowed) + ")",
                      at_i, line};
  };
  if (edge_kind(ev.kind)) {
    if (auto err = need("edge")) return err;
    uint64_t v = 0;
    if (auto err = read_unsigned(fields.at("edge"), 0, u32_max, v))
      return field_error("edge", err->what);
    ev.edge = static_cast<uint32_t>(v);
  } else if (region_kind(ev.kind)) {
    if (auto err = need("region")) return err;
    uint64_t v = 0;
    if (auto err = read_unsigned(fields.at("region"), 0, 65534, v))
      return field_error("region", err->what);
    ev.region = static_cast<uint32_t>(v);
  } else if (ev.kind == event_kind::server_crash) {
    // No target: the whole server.
  } else {
    const bool has_fraction = fields.count("fraction") != 0;
    const bool has_ids = fields.count("ids") != 0;
    if (has_fraction == has_ids) {
      if (has_fraction) return field_error("ids", "give fraction or ids, not both");
      return read_error{"needs fraction (of the population) or ids ([from, to))", at_i, line};
    }
    if (has_fraction) {
      if (auto err =
              read_number(fields.at("fraction"), bounds{0, true, 1, false}, ev.clients.fraction))
        return field_error("fraction", err->what);
    } else {
      const YAML::Node& ids = fields.at("ids");
      if (!ids.IsSequence() || ids.size() != 2)
        return field_error(
            "ids",
            "expected [from, to) as a list of two ids such as [0, 100], got " + describe(ids));
      uint64_t from = 0, to = 0;
      if (auto err = read_unsigned(ids[0], 0, u32_max, from)) return field_error("ids", err->what);
      if (auto err = read_unsigned(ids[1], 0, u32_max + 1, to))
        return field_error("ids", err->what);
      if (from >= to)
        return field_error(
            "ids", "empty id range [" + std::to_string(from) + ", " + std::to_string(to) + ")");
      ev.clients.from = from;
      ev.clients.to = to;
    }
    if (factor_kind(ev.kind)) {
      if (auto err = need("factor")) return err;
      if (auto err = read_number(fields.at("factor"), bounds{0, true, inf, false}, ev.factor))
        return field_error("factor", err->what);
    }
  }
  out = std::move(ev);
  return std::nullopt;
}

std::string emit_event(const scenario_event& e) {
  std::string out = "{";
  switch (e.trigger) {
    case event_trigger::at:
      out += "at: " + format_number(e.at);
      break;
    case event_trigger::round:
    case event_trigger::step:
      out += std::string(to_string(e.trigger)) + ": " + std::to_string(e.count);
      break;
  }
  out += std::string(", kind: ") + to_string(e.kind);
  if (edge_kind(e.kind)) {
    out += ", edge: " + std::to_string(e.edge);
  } else if (region_kind(e.kind)) {
    out += ", region: " + std::to_string(e.region);
  } else if (e.kind == event_kind::server_crash) {
  } else {
    if (e.clients.fraction > 0)
      out += ", fraction: " + format_number(e.clients.fraction);
    else
      out +=
          ", ids: [" + std::to_string(e.clients.from) + ", " + std::to_string(e.clients.to) + "]";
    if (factor_kind(e.kind)) out += ", factor: " + format_number(e.factor);
  }
  return out + "}";
}

// What is wrong with event e on its own (as built in C++: the reader refuses all of it), as
// "field: what"; nullopt if nothing.
std::optional<std::string> check_alone(const scenario_event& e) {
  if (std::find(all_kinds.begin(), all_kinds.end(), e.kind) == all_kinds.end())
    return "kind: must be one of: " + kinds_text() + ", got value " +
           std::to_string(static_cast<int>(e.kind));
  if (e.trigger == event_trigger::at) {
    if (!bounds{0, false, inf, false}.contains(e.at))
      return "at: must be >= 0, got " + format_number(e.at);
  } else if (e.trigger == event_trigger::round || e.trigger == event_trigger::step) {
    if (e.count == 0)
      return std::string(to_string(e.trigger)) + ": must be in [1, 4294967295], got 0";
  } else {
    return "trigger: must be at, round or step";
  }
  if (region_kind(e.kind) && e.region > 65534)
    return "region: must be in [0, 65534], got " + std::to_string(e.region);
  if (clients_kind(e.kind)) {
    if (e.clients.fraction != 0) {
      if (!bounds{0, true, 1, false}.contains(e.clients.fraction))
        return "fraction: must be in (0, 1], got " + format_number(e.clients.fraction);
    } else if (e.clients.from >= e.clients.to) {
      return "ids: empty id range [" + std::to_string(e.clients.from) + ", " +
             std::to_string(e.clients.to) + ")";
    }
  }
  if (factor_kind(e.kind) && !bounds{0, true, inf, false}.contains(e.factor))
    return "factor: must be > 0, got " + format_number(e.factor);
  return std::nullopt;
}

// What is wrong with event e against the other keys, as "field: what"; nullopt if nothing.
std::optional<std::string> check_against(const scenario& s, const scenario_event& e) {
  const bool sync = s.protocol.mode == protocol_mode::sync;
  switch (e.trigger) {
    case event_trigger::at:
      if (s.clock != clock_kind::simulated)
        return "at: needs clock simulated (a real-clock run has no simulated time; use " +
               std::string(sync ? "round" : "step") + ")";
      break;
    case event_trigger::round:
      if (!sync) return std::string("round: async runs count server steps: use step");
      if (e.count > s.protocol.rounds)
        return "round: must be <= protocol.rounds (" + std::to_string(s.protocol.rounds) +
               "), got " + std::to_string(e.count) + " (the run ends before)";
      break;
    case event_trigger::step:
      if (sync) return std::string("step: sync runs count rounds: use round");
      if (e.count > s.async.aggregations)
        return "step: must be <= async.aggregations (" + std::to_string(s.async.aggregations) +
               "), got " + std::to_string(e.count) + " (the run ends before)";
      break;
  }
  if (edge_kind(e.kind) && e.edge >= s.topology.edges)
    return "edge: must be < topology.edges (" + std::to_string(s.topology.edges) + "), got " +
           std::to_string(e.edge);
  if (region_kind(e.kind) && e.region >= s.population.regions)
    return "region: must be < population.regions (" + std::to_string(s.population.regions) +
           "), got " + std::to_string(e.region);
  if (clients_kind(e.kind) && e.clients.fraction == 0 && e.clients.to > s.population.clients)
    return "ids: [" + std::to_string(e.clients.from) + ", " + std::to_string(e.clients.to) +
           ") is outside the population (ids 0.." + std::to_string(s.population.clients - 1) + ")";
  if (factor_kind(e.kind) && s.clock != clock_kind::simulated)
    return std::string("kind: ") + to_string(e.kind) +
           " needs clock simulated (it scales simulated task durations)";
  if (e.kind == event_kind::server_crash) {
    if (e.trigger != event_trigger::at && e.count < 2)
      return std::string(to_string(e.trigger)) +
             ": a server_crash needs 2 or more (the server crashes after the " +
             (sync ? "round" : "step") + " before it and resumes from its checkpoint), got 1";
    if (auto why = mid_run_checkpoint_limit(s))
      return "kind: server_crash needs a run checkpointed mid-run, and " + *why;
  }
  if ((e.kind == event_kind::region_down || e.kind == event_kind::clients_leave) && !sync &&
      s.async.edge == edge_mode::preaggregate)
    return std::string("kind: ") + to_string(e.kind) +
           " is not supported with async.edge_mode preaggregate (a leaving client's update may "
           "already be folded into its edge's group)";
  return std::nullopt;
}

}  // namespace

key_entry events_key(std::string doc) {
  key_entry e;
  e.info = {"events", "list of events", "see Events below", "", std::move(doc)};
  e.read = [](const YAML::Node& n, scenario& s) -> std::optional<read_error> {
    std::vector<scenario_event> events;
    if (!n.IsNull()) {
      if (!n.IsSequence())
        return read_error{
            "expected a list of events such as [{round: 3, kind: edge_down, edge: 1}], got " +
            describe(n)};
      for (std::size_t i = 0; i < n.size(); ++i) {
        scenario_event ev;
        if (auto err = read_event(n[i], i, ev)) return err;
        events.push_back(std::move(ev));
      }
    }
    s.events = std::move(events);
    return std::nullopt;
  };
  // The events' checks run in validate() through check_events(), with each event's file:line.
  e.check = [](const scenario&) -> std::optional<std::string> { return std::nullopt; };
  e.emit = [](const scenario& s) {
    std::string out = "[";
    for (const auto& ev : s.events) out += (out.size() > 1 ? ", " : "") + emit_event(ev);
    return out + "]";
  };
  return e;
}

std::optional<std::string> check_events(const scenario& s) {
  for (std::size_t i = 0; i < s.events.size(); ++i) {
    const auto& e = s.events[i];
    auto what = check_alone(e);
    if (!what) what = check_against(s, e);
    if (what)
      return (e.where.empty() ? std::string("scenario") : e.where) + ": events[" +
             std::to_string(i) + "]." + *what;
  }
  return std::nullopt;
}

}  // namespace fedactor::schema
