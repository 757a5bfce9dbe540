#include "runtime/http/prometheus_text.hpp"

#include <cmath>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace fedactor {

namespace {

// `# HELP` text: \ and newline escaped.
std::string help_text(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

class exposition {
 public:
  // A metric with one sample without labels.
  void metric(const char* name, const char* type, const char* help, const std::string& value) {
    header(name, type, help);
    text_ += std::string("fedactor_") + name + " " + value + "\n";
  }
  void gauge(const char* name, const char* help, double v) {
    metric(name, "gauge", help, prometheus_value(v));
  }
  void gauge(const char* name, const char* help, uint64_t v) {
    metric(name, "gauge", help, std::to_string(v));
  }
  void counter(const char* name, const char* help, uint64_t v) {
    metric(name, "counter", help, std::to_string(v));
  }
  void header(const char* name, const char* type, const char* help) {
    text_ += std::string("# HELP fedactor_") + name + " " + help_text(help) + "\n";
    text_ += std::string("# TYPE fedactor_") + name + " " + type + "\n";
  }
  // One sample of the metric whose header was written last.
  void sample(const char* name, const std::string& labels, const std::string& value) {
    text_ += std::string("fedactor_") + name + "{" + labels + "} " + value + "\n";
  }
  std::string text() && { return std::move(text_); }

 private:
  std::string text_;
};

std::string label(const char* name, const std::string& value) {
  return std::string(name) + "=\"" + prometheus_label_value(value) + "\"";
}

}  // namespace

std::string prometheus_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return nlohmann::json(v).dump();
}

std::string prometheus_label_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string prometheus_text(const live_state& s) {
  exposition e;
  e.header("run_info", "gauge", "The run: output directory name, scenario, protocol (always 1).");
  e.sample("run_info",
           label("run", s.run) + "," + label("scenario", s.scenario) + "," +
               label("protocol", s.async ? "async" : "sync"),
           "1");
  e.gauge("running", "1 while the run is going, 0 once it ended.",
          static_cast<uint64_t>(s.finished ? 0 : 1));
  e.counter("records_total", "Records (sync rounds / async steps) written by this process.",
            s.records);
  e.gauge("resident_memory_bytes", "Resident set size of the process.", s.rss_bytes);
  e.gauge("peak_resident_memory_bytes", "Peak resident set size of the process (VmHWM).",
          s.peak_rss_bytes);
  if (!s.latest) return std::move(e).text();

  const round_record& r = *s.latest;
  e.gauge("round", "Number of the latest sync round / async server step (round, aggregation).",
          static_cast<uint64_t>(r.round));
  e.gauge("model_version", "Global model version after the latest round / step.", r.model_version);
  e.gauge("round_clients", "Clients whose update was folded into the latest round / step.",
          static_cast<uint64_t>(r.clients));
  e.gauge("round_failures",
          "Client tasks without a usable update in the latest round / step (stale apart).",
          static_cast<uint64_t>(r.failures));
  e.header("round_failures_by_cause", "gauge",
           "Failures of the latest round / step per cause (stale included).");
  for (size_t i = 0; i < failure_code_count; ++i)
    e.sample("round_failures_by_cause", label("cause", to_string(static_cast<failure_code>(i))),
             std::to_string(r.failures_by.by_code[i]));
  e.gauge("mean_loss", "Mean training loss of the clients of the latest round / step.",
          r.mean_loss);
  e.gauge("round_wall_seconds", "Wall-clock seconds the latest round / step took.", r.wall_s);
  e.gauge("clients_per_second", "Clients folded in per wall-clock second in the latest round.",
          r.clients_per_s);
  e.gauge("live_clients", "Client actors alive over all edges after the latest round / step.",
          static_cast<uint64_t>(r.live_clients));
  e.gauge("peak_live_clients", "Sum over edges of each edge's peak live set of client actors.",
          static_cast<uint64_t>(r.peak_live_clients));
  e.counter("evictions_total", "Client actors evicted so far, all edges.", r.evictions);
  e.gauge("sim_round_seconds", "Simulated duration of the latest round / since the last step.",
          r.sim_round_s);
  e.gauge("sim_time_seconds", "Simulated time at the end of the latest round / step.",
          r.sim_time_s);
  e.gauge("round_edges_lost", "Edges lost in the latest round / since the last step.",
          static_cast<uint64_t>(r.edges_lost));
  e.gauge("round_edges_rejoined", "Lost edges that came back in the latest round / step.",
          static_cast<uint64_t>(r.edges_rejoined));
  e.gauge("round_rerouted", "Client tasks sent through another edge in the latest round / step.",
          static_cast<uint64_t>(r.rerouted));
  if (!r.edge_load.empty()) {
    e.gauge("edges_alive", "Edges registered and not lost after the latest round / step.",
            static_cast<uint64_t>(r.edges_alive));
    // One series per edge, its number in the `edge` label.
    auto per_edge = [&](const char* name, const char* type, const char* help, auto value) {
      e.header(name, type, help);
      for (size_t i = 0; i < s.edge_totals.size(); ++i)
        e.sample(name, label("edge", std::to_string(i)), value(s.edge_totals[i], i));
    };
    per_edge("edge_tasks_total", "counter", "Client tasks dispatched to the edge so far.",
             [](const edge_load_counts& t, size_t) { return std::to_string(t.tasks); });
    per_edge("edge_updates_total", "counter", "Updates the edge returned so far (async: folded).",
             [](const edge_load_counts& t, size_t) { return std::to_string(t.updates); });
    per_edge("edge_failed_total", "counter",
             "Tasks of the edge that ended without an update from it so far.",
             [](const edge_load_counts& t, size_t) { return std::to_string(t.failed); });
    per_edge("edge_busy_seconds_total", "counter",
             "Simulated seconds of client work dispatched to the edge so far.",
             [](const edge_load_counts& t, size_t) { return prometheus_value(t.busy_s); });
    if (r.async)
      per_edge("edge_in_flight", "gauge", "Tasks of the edge in flight after the latest step.",
               [&r](const edge_load_counts&, size_t i) {
                 return std::to_string(i < r.edge_load.size() ? r.edge_load[i].in_flight : 0);
               });
  }
  if (r.async) {
    e.counter("stale_discarded_total", "Updates discarded as too stale so far (async).",
              r.stale_discarded);
    e.gauge("mean_decay", "Mean staleness decay weight of the latest step's updates (async).",
            r.mean_decay);
    e.gauge("in_flight", "Tasks dispatched and not yet done after the latest step (async).",
            static_cast<uint64_t>(r.gauges.in_flight));
    e.gauge("held", "Answers or failures held for release in simulated order (async).",
            static_cast<uint64_t>(r.gauges.held));
    e.gauge("model_versions_kept", "Distinct model versions kept for tasks in flight (async).",
            static_cast<uint64_t>(r.gauges.model_versions));
    e.gauge("busy_clients", "Clients with a task in flight after the latest step (async).",
            static_cast<uint64_t>(r.gauges.busy_clients));
  } else {
    e.gauge("round_selected", "Clients sampled for the latest sync round.",
            static_cast<uint64_t>(r.selected));
    e.gauge("round_dropped", "Selected clients past the deadline or over-selected (sync).",
            static_cast<uint64_t>(r.dropped));
  }
  if (s.net_bytes_counted) {
    e.counter("net_bytes_down_total",
              "Bytes the node server sent to the edges' nodes since the first round (framing "
              "included; with TLS the encrypted bytes).",
              s.net_bytes_down);
    e.counter("net_bytes_up_total",
              "Bytes the node server received from the edges' nodes since the first round "
              "(framing included; with TLS the encrypted bytes).",
              s.net_bytes_up);
    auto by_message = [&](const char* name, const char* help,
                          const std::array<uint64_t, message_kind_count>& by) {
      e.header(name, "counter", help);
      for (size_t k = 0; k < message_kind_count; ++k)
        e.sample(name, label("kind", name_of(static_cast<message_kind>(k))), std::to_string(by[k]));
    };
    by_message("net_message_bytes_down_total",
               "Of net_bytes_down_total, the actor messages' bytes by the kind of message they "
               "carried.",
               s.net_bytes_down_by_message);
    by_message("net_message_bytes_up_total",
               "Of net_bytes_up_total, the actor messages' bytes by the kind of message they "
               "carried.",
               s.net_bytes_up_by_message);
  }
  if (r.norm_bound > 0) {
    e.gauge("norm_bound", "L2 bound the edges applied to updates in the latest round.",
            r.norm_bound);
    e.gauge("round_norm_clipped", "Updates clipped to the norm bound in the latest round.",
            static_cast<uint64_t>(r.norm_clipped));
    e.gauge("round_norm_rejected", "Updates rejected by the norm bound in the latest round.",
            static_cast<uint64_t>(r.norm_rejected));
  }
  if (r.private_round) {
    e.gauge("dp_epsilon", "Epsilon spent so far at dp_delta (+Inf: no noise, no guarantee).",
            r.epsilon);
    e.gauge("dp_delta", "Delta of the differential-privacy guarantee.", r.delta);
    e.gauge("dp_clip", "Clip norm C of the latest round's updates.", r.dp_clip);
    e.gauge("dp_noise_std", "Std of the noise added to each coordinate of the update sum.",
            r.dp_noise_std);
  }
  if (s.evaluated) {
    const round_record& t = *s.evaluated;
    e.gauge("evaluated_round", "Round / step of the last evaluation on the test split.",
            static_cast<uint64_t>(t.round));
    e.gauge("test_accuracy", "Accuracy of the global model on the test split (last evaluation).",
            t.test_accuracy);
    e.gauge("test_loss", "Cross-entropy of the global model on the test split (last evaluation).",
            t.test_loss);
  }
  return std::move(e).text();
}

}  // namespace fedactor
