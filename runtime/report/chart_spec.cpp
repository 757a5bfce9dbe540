#include "runtime/report/chart_spec.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace fedactor {

namespace {

using nlohmann::json;

// Okabe-Ito: told apart with the common colour-vision deficiencies.
const char* const palette[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7",
                               "#e69f00", "#56b4e9", "#000000", "#f0e442"};

// The x value a run's point is drawn at, or nullopt to leave the point out.
using x_of = std::function<std::optional<double>(const run_data&, const run_point&)>;
// Its y value, or nullopt to leave it out.
using y_of = std::function<std::optional<double>(const run_point&)>;

std::optional<double> by_step(const run_data&, const run_point& p) {
  return p.step;
}

// Simulated time only means something under `clock: simulated`: a run whose clock never moved
// has none to draw against.
bool has_sim_time(const run_data& r) {
  return r.points.back().sim_time_s > 0;
}

std::optional<double> by_sim_time(const run_data& r, const run_point& p) {
  if (!has_sim_time(r)) return std::nullopt;
  return p.sim_time_s;
}

json axis(const std::string& title, const std::string& type = "linear") {
  json a{{"type", type}, {"title", {{"display", true}, {"text", title}}}};
  if (type == "linear" && title == "simulated time (s)") a["beginAtZero"] = true;
  return a;
}

// Charts of counts and rates: read against zero (an all-zero series shows 0 to 1, not -1 to 1).
const std::set<std::string> counted{"clients-per-s",    "failures-by-cause", "failures-round",
                                    "live-clients",     "staleness",         "stale-discarded",
                                    "updates-per-step", "steps-time",        "rerouted",
                                    "edge-load",        "edges-alive"};

json dataset(const std::string& label, size_t run, json data) {
  return json{{"label", label},
              {"data", std::move(data)},
              {"borderColor", run_color(run)},
              {"backgroundColor", run_color(run)},
              {"borderWidth", 2},
              {"pointRadius", 2},
              {"fill", false}};
}

json options(json x, json y) {
  return json{{"animation", false},
              {"responsive", true},
              {"maintainAspectRatio", false},
              {"interaction", {{"mode", "nearest"}, {"intersect", false}}},
              {"plugins", {{"legend", {{"position", "bottom"}}}}},
              {"scales", {{"x", std::move(x)}, {"y", std::move(y)}}}};
}

// A line chart of y against x, one dataset per run that has at least one point; nullopt when
// none has.
std::optional<chart_spec> line_chart(const std::vector<run_data>& runs,
                                     const std::vector<std::string>& names, chart_spec c,
                                     const std::string& x_title, const x_of& x,
                                     const std::string& y_title, const y_of& y,
                                     bool async_only = false) {
  json datasets = json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    if (async_only && !runs[i].async) continue;
    json data = json::array();
    for (const auto& p : runs[i].points) {
      auto xv = x(runs[i], p);
      auto yv = y(p);
      if (!xv || !yv) continue;
      data.push_back({{"x", *xv}, {"y", *yv}});
    }
    if (data.empty()) continue;
    c.points += data.size();
    datasets.push_back(dataset(names[i], i, std::move(data)));
  }
  if (c.points == 0) return std::nullopt;
  c.config = json{{"type", "line"},
                  {"data", {{"datasets", std::move(datasets)}}},
                  {"options", options(axis(x_title), axis(y_title))}};
  return c;
}

// Names the runs a chart leaves out, for its note: "" when it leaves out none.
std::string left_out(const std::vector<run_data>& runs, const std::vector<std::string>& names,
                     const std::function<bool(const run_data&)>& drawn, const std::string& why) {
  std::string out;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (drawn(runs[i])) continue;
    out += (out.empty() ? "" : ", ") + names[i];
  }
  return out.empty() ? "" : " Not drawn: " + out + " (" + why + ").";
}

chart_spec spec(const char* id, const char* section, const char* title, std::string note) {
  chart_spec c;
  c.id = id;
  c.section = section;
  c.title = title;
  c.note = std::move(note);
  return c;
}

void add(std::vector<chart_spec>& out, std::optional<chart_spec> c) {
  if (c) out.push_back(std::move(*c));
}

const std::string step_title = "round (sync) / server step (async)";
const std::string time_title = "simulated time (s)";

}  // namespace

const std::vector<std::string>& report_sections() {
  static const std::vector<std::string> sections{"Training", "Throughput and failures", "Events",
                                                 "Async", "Edges"};
  return sections;
}

std::string run_color(size_t i) {
  return palette[i % (sizeof(palette) / sizeof(palette[0]))];
}

std::vector<chart_spec> report_charts(const std::vector<run_data>& runs,
                                      const std::vector<std::string>& names) {
  std::vector<chart_spec> out;
  auto any_sim = [](const run_data& r) { return has_sim_time(r); };
  auto evaluated = [](const run_data& r) {
    return std::any_of(r.points.begin(), r.points.end(),
                       [](const run_point& p) { return p.test_accuracy.has_value(); });
  };
  const std::string no_sim = left_out(runs, names, any_sim, "no simulated clock");
  const std::string no_eval = left_out(runs, names, evaluated, "never evaluated on a test split");
  auto loss = [](const run_point& p) -> std::optional<double> {
    if (p.clients == 0) return std::nullopt;  // nothing folded: no training loss
    return p.mean_loss;
  };
  auto accuracy = [](const run_point& p) { return p.test_accuracy; };
  auto test_loss = [](const run_point& p) { return p.test_loss; };

  // Training
  add(out, line_chart(runs, names,
                      spec("loss-round", "Training", "Training loss by round",
                           "Sample-weighted mean of the clients' training loss (mean_loss)."),
                      step_title, by_step, "mean training loss", loss));
  add(out, line_chart(runs, names,
                      spec("loss-time", "Training", "Training loss over simulated time",
                           "mean_loss at the end of each round / step." + no_sim),
                      time_title, by_sim_time, "mean training loss", loss));
  add(out, line_chart(runs, names,
                      spec("accuracy-round", "Training", "Test accuracy by round",
                           "The global model on the whole test split." + no_eval),
                      step_title, by_step, "test accuracy", accuracy));
  add(out, line_chart(runs, names,
                      spec("accuracy-time", "Training", "Test accuracy over simulated time",
                           "The global model on the whole test split." + no_eval + no_sim),
                      time_title, by_sim_time, "test accuracy", accuracy));
  add(out, line_chart(runs, names,
                      spec("test-loss-round", "Training", "Test loss by round",
                           "Mean cross-entropy of the global model on the test split." + no_eval),
                      step_title, by_step, "test loss", test_loss));

  // Throughput and failures
  add(out, line_chart(runs, names,
                      spec("clients-per-s", "Throughput and failures", "Clients per second",
                           "Clients folded in / wall-clock seconds of the round or step."),
                      step_title, by_step, "clients / s",
                      [](const run_point& p) { return p.clients_per_s; }));
  {
    // Failure totals per cause: one bar group per cause any run saw.
    std::map<std::string, std::vector<uint64_t>> totals;  // cause -> per run
    for (size_t i = 0; i < runs.size(); ++i)
      for (const auto& p : runs[i].points)
        for (const auto& [cause, n] : p.failures_by) {
          auto& v = totals[cause];
          v.resize(runs.size());
          v[i] += n;
        }
    std::vector<std::string> causes;
    for (const auto& [cause, v] : totals)
      if (std::any_of(v.begin(), v.end(), [](uint64_t n) { return n > 0; }))
        causes.push_back(cause);
    if (!causes.empty()) {
      auto c = spec("failures-by-cause", "Throughput and failures", "Failures by cause",
                    "Client tasks without a usable update over the whole run, per cause "
                    "(stale: async discards by design).");
      json datasets = json::array();
      for (size_t i = 0; i < runs.size(); ++i) {
        json data = json::array();
        for (const auto& cause : causes) data.push_back(totals[cause][i]);
        c.points += data.size();
        datasets.push_back(dataset(names[i], i, std::move(data)));
      }
      c.config = json{{"type", "bar"},
                      {"data", {{"labels", causes}, {"datasets", std::move(datasets)}}},
                      {"options", options(axis("cause", "category"), axis("tasks"))}};
      out.push_back(std::move(c));
    }
  }
  {
    bool any = false;
    for (const auto& r : runs)
      for (const auto& p : r.points) any = any || p.failures > 0;
    if (any)
      add(out, line_chart(runs, names,
                          spec("failures-round", "Throughput and failures", "Failures by round",
                               "failures of each round / step (all causes but stale)."),
                          step_title, by_step, "failed tasks",
                          [](const run_point& p) { return double(p.failures); }));
  }
  add(out, line_chart(runs, names,
                      spec("live-clients", "Throughput and failures", "Live client actors",
                           "Client actors alive over all edges after each round / step."),
                      step_title, by_step, "live client actors",
                      [](const run_point& p) { return double(p.live_clients); }));

  // Events: one row per kind, a point where (when) it fired.
  {
    std::set<std::string> kinds;
    for (const auto& r : runs)
      for (const auto& e : r.events) kinds.insert(e.kind);
    if (!kinds.empty()) {
      auto c = spec("events-time", "Events", "Scripted events over simulated time",
                    "Each event where it took effect; the table below lists them.");
      json datasets = json::array();
      for (size_t i = 0; i < runs.size(); ++i) {
        json data = json::array();
        for (const auto& e : runs[i].events) data.push_back({{"x", e.sim_time_s}, {"y", e.kind}});
        if (data.empty()) continue;
        c.points += data.size();
        json d = dataset(names[i], i, std::move(data));
        d["pointRadius"] = 6;
        d["pointStyle"] = "rectRot";
        datasets.push_back(std::move(d));
      }
      json y = axis("event", "category");
      y["labels"] = std::vector<std::string>(kinds.begin(), kinds.end());
      y["offset"] = true;
      c.config = json{{"type", "scatter"},
                      {"data", {{"datasets", std::move(datasets)}}},
                      {"options", options(axis(time_title), std::move(y))}};
      out.push_back(std::move(c));
    }
  }

  // Async: staleness, discards, server steps.
  auto is_async = [](const run_data& r) { return r.async; };
  if (std::any_of(runs.begin(), runs.end(), is_async)) {
    size_t width = 0;
    for (const auto& r : runs)
      for (const auto& p : r.points) width = std::max(width, p.staleness_histogram.size());
    if (width > 0) {
      auto c = spec("staleness", "Async", "Staleness of folded updates",
                    "Updates folded into the model per staleness (model versions behind), "
                    "summed over the run's server steps.");
      std::vector<std::string> labels;
      for (size_t s = 0; s < width; ++s) labels.push_back(std::to_string(s));
      json datasets = json::array();
      for (size_t i = 0; i < runs.size(); ++i) {
        if (!runs[i].async) continue;
        std::vector<uint64_t> sum(width, 0);
        for (const auto& p : runs[i].points)
          for (size_t s = 0; s < p.staleness_histogram.size(); ++s)
            sum[s] += p.staleness_histogram[s];
        c.points += sum.size();
        datasets.push_back(dataset(names[i], i, sum));
      }
      c.config = json{{"type", "bar"},
                      {"data", {{"labels", labels}, {"datasets", std::move(datasets)}}},
                      {"options", options(axis("staleness", "category"), axis("updates"))}};
      out.push_back(std::move(c));
    }
    add(out, line_chart(
                 runs, names,
                 spec("stale-discarded", "Async", "Updates discarded as too stale",
                      "Cumulative stale_discarded after each server step."),
                 "server step", by_step, "updates discarded",
                 [](const run_point& p) { return double(p.stale_discarded); }, true));
    add(out, line_chart(
                 runs, names,
                 spec("updates-per-step", "Async", "Updates per server step",
                      "Updates folded into each buffer step."),
                 "server step", by_step, "updates",
                 [](const run_point& p) { return double(p.clients); }, true));
    add(out, line_chart(
                 runs, names,
                 spec("steps-time", "Async", "Server steps over simulated time",
                      "When each buffer step was taken."),
                 time_title, by_sim_time, "server step",
                 [](const run_point& p) { return double(p.step); }, true));
    add(out, line_chart(
                 runs, names,
                 spec("mean-decay", "Async", "Mean staleness weight",
                      "Mean decay weight of the updates folded in each step."),
                 "server step", by_step, "mean decay",
                 [](const run_point& p) { return p.mean_decay; }, true));
  }

  // Edges: losses, returns, rerouted tasks.
  {
    bool any = false;
    for (const auto& r : runs)
      for (const auto& p : r.points) any = any || p.edges_lost || p.edges_rejoined || p.rerouted;
    if (any) {
      add(out, line_chart(runs, names,
                          spec("rerouted", "Edges", "Tasks rerouted around lost edges",
                               "Client tasks sent through another edge because theirs was lost."),
                          step_title, by_step, "tasks",
                          [](const run_point& p) { return double(p.rerouted); }));
      add(out, line_chart(runs, names,
                          spec("edges-lost", "Edges", "Edges lost and back",
                               "Edges lost minus edges that rejoined in each round / step."),
                          step_title, by_step, "edges lost - rejoined", [](const run_point& p) {
                            return double(p.edges_lost) - double(p.edges_rejoined);
                          }));
    }
  }
  // Edges: per-edge load and edges alive, from records that have them (edge_load).
  {
    auto c = spec("edge-load", "Edges", "Per-edge load",
                  "Client tasks dispatched to each edge in each round / since the last step "
                  "(edge_load tasks; a task resent after a loss counts at both edges).");
    c.note += left_out(
        runs, names,
        [](const run_data& r) {
          return std::any_of(r.points.begin(), r.points.end(),
                             [](const run_point& p) { return !p.edge_load.empty(); });
        },
        "no edge_load in its records");
    json datasets = json::array();
    for (size_t i = 0; i < runs.size(); ++i) {
      size_t edges = 0;
      for (const auto& p : runs[i].points) edges = std::max(edges, p.edge_load.size());
      for (size_t e = 0; e < edges; ++e) {
        json data = json::array();
        for (const auto& p : runs[i].points)
          if (e < p.edge_load.size()) data.push_back({{"x", p.step}, {"y", p.edge_load[e].tasks}});
        c.points += data.size();
        // Coloured by edge; the runs told apart by their name and dash pattern.
        json d = dataset((runs.size() > 1 ? names[i] + " " : "") + "edge " + std::to_string(e), e,
                         std::move(data));
        if (i % 2 == 1) d["borderDash"] = {6, 3};
        datasets.push_back(std::move(d));
      }
    }
    if (c.points > 0) {
      c.config = json{{"type", "line"},
                      {"data", {{"datasets", std::move(datasets)}}},
                      {"options", options(axis(step_title), axis("tasks dispatched"))}};
      out.push_back(std::move(c));
    }
  }
  add(out, line_chart(runs, names,
                      spec("edges-alive", "Edges", "Edges alive",
                           "Edges registered and not lost at the end of each round / step "
                           "(edges_alive)."),
                      step_title, by_step, "edges alive", [](const run_point& p) {
                        return p.edges_alive ? std::optional<double>(*p.edges_alive) : std::nullopt;
                      }));
  for (auto& c : out)
    if (counted.count(c.id)) c.config["options"]["scales"]["y"]["beginAtZero"] = true;
  return out;
}

}  // namespace fedactor
