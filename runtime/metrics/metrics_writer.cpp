#include "runtime/metrics/metrics_writer.hpp"

#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

#include "runtime/checkpoint/checkpoint_error.hpp"

namespace fedactor {

namespace {

// {"task": n, "model": n, "result": n, "aggregate": n, "control": n, "other": n}
nlohmann::json by_message_json(const std::array<uint64_t, message_kind_count>& by) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t k = 0; k < message_kind_count; ++k) j[name_of(static_cast<message_kind>(k))] = by[k];
  return j;
}

// {"timeout": 0, "edge_lost": 2, "invalid_update": 0, "stale": 0, "client_error": 1}
nlohmann::json failures_json(const failure_counts& f) {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < failure_code_count; ++i)
    j[to_string(static_cast<failure_code>(i))] = f.by_code[i];
  return j;
}

// ε is +inf without noise: JSON has no infinity, so null.
nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// [{"edge": 0, "tasks": 5, "updates": 4, "failed": 1, "busy_s": 12.5}, ...] (+ "in_flight")
nlohmann::json edge_load_json(const std::vector<edge_load_counts>& load, bool in_flight) {
  nlohmann::json a = nlohmann::json::array();
  for (size_t e = 0; e < load.size(); ++e) {
    const auto& l = load[e];
    nlohmann::json x{{"edge", e},
                     {"tasks", l.tasks},
                     {"updates", l.updates},
                     {"failed", l.failed},
                     {"busy_s", l.busy_s}};
    if (in_flight) x["in_flight"] = l.in_flight;
    a.push_back(std::move(x));
  }
  return a;
}

}  // namespace

void add_edge_load(std::vector<edge_load_counts>& totals,
                   const std::vector<edge_load_counts>& load) {
  if (totals.size() < load.size()) totals.resize(load.size());
  for (size_t e = 0; e < load.size(); ++e) {
    totals[e].tasks += load[e].tasks;
    totals[e].updates += load[e].updates;
    totals[e].failed += load[e].failed;
    totals[e].busy_s += load[e].busy_s;
  }
}

std::string to_json(const round_record& r) {
  nlohmann::json j{{r.async ? "aggregation" : "round", r.round},
                   {"model_version", r.model_version},
                   {"selected", r.selected},
                   {"clients", r.clients},
                   {"failures", r.failures},
                   {"failures_by", failures_json(r.failures_by)},
                   {"mean_loss", r.mean_loss},
                   {"wall_s", r.wall_s},
                   {"clients_per_s", r.clients_per_s},
                   {"live_clients", r.live_clients},
                   {"peak_live_clients", r.peak_live_clients},
                   {"evictions", r.evictions},
                   {"sim_round_s", r.sim_round_s},
                   {"sim_time_s", r.sim_time_s},
                   {"edges_lost", r.edges_lost},
                   {"edges_rejoined", r.edges_rejoined},
                   {"rerouted", r.rerouted},
                   {"update_bytes_up", r.update_bytes_up},
                   {"model_bytes_down", r.model_bytes_down}};
  if (r.net_bytes_counted) {
    j["net_bytes_down"] = r.net_bytes_down;
    j["net_bytes_up"] = r.net_bytes_up;
    j["net_bytes_down_by_message"] = by_message_json(r.net_bytes_down_by_message);
    j["net_bytes_up_by_message"] = by_message_json(r.net_bytes_up_by_message);
  }
  if (!r.edge_load.empty()) {
    j["edges_alive"] = r.edges_alive;
    j["edge_load"] = edge_load_json(r.edge_load, r.async);
  }
  if (r.evaluated && r.test_samples > 0) {
    j["test_loss"] = r.test_loss;
    j["test_accuracy"] = r.test_accuracy;
    j["test_samples"] = r.test_samples;
  }
  if (r.evaluated && r.eval_clients > 0) {
    j["client_accuracy"] = r.client_accuracy;
    j["eval_clients"] = r.eval_clients;
  }
  if (!r.eval_error.empty()) j["eval_error"] = r.eval_error;
  if (r.async) {
    j["updates"] = r.clients;
    j["stale_discarded"] = r.stale_discarded;
    j["staleness_histogram"] = r.staleness_histogram;
    j["mean_decay"] = r.mean_decay;
  } else {
    j["dropped"] = r.dropped;
  }
  if (r.online_fraction >= 0) {
    j["online_fraction"] = r.online_fraction;
    j["wanted"] = r.wanted;
    j["went_offline"] = r.went_offline;
    j["over_select_factor"] = r.over_select_factor;
  }
  if (r.sample_size > 0) {
    j["sample_size"] = r.sample_size;
    j["rel_var"] = finite_or_null(r.rel_var);
    j["next_sample_size"] = r.next_sample_size;
  }
  if (r.norm_bound > 0) {
    j["norm_bound"] = r.norm_bound;
    j["norm_clipped"] = r.norm_clipped;
    j["norm_rejected"] = r.norm_rejected;
  }
  if (r.private_round) {
    j["dp_clip"] = r.dp_clip;
    j["dp_noise_std"] = r.dp_noise_std;
    j["dp_unclipped"] = r.dp_unclipped;
    j["dp_next_clip"] = r.dp_next_clip;
    j["epsilon"] = finite_or_null(r.epsilon);
    j["delta"] = r.delta;
  }
  if (!r.failure_reasons.empty()) j["failure_reasons"] = r.failure_reasons;
  if (!r.events.empty()) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : r.events) {
      nlohmann::json x{{"kind", e.kind},
                       {"target", e.target},
                       {"trigger", e.trigger},
                       {"sim_time_s", e.sim_time_s}};
      if (e.changed >= 0) x["changed"] = e.changed;
      events.push_back(std::move(x));
    }
    j["events"] = std::move(events);
  }
  return j.dump();
}

std::string to_json(const run_summary& s) {
  nlohmann::json j{{"scenario", s.scenario},
                   {"protocol", s.protocol},
                   {"sim_time_s", s.sim_time_s},
                   {"rounds", s.rounds},
                   {"clients_trained", s.clients_trained},
                   {"failures", s.failures},
                   {"failures_by", failures_json(s.failures_by)},
                   {"wall_s", s.wall_s},
                   {"mean_clients_per_s", s.mean_clients_per_s},
                   {"final_loss", s.final_loss},
                   {"model_sha256", s.model_sha256},
                   {"model_l2", s.model_l2},
                   {"num_params", s.num_params},
                   {"peak_rss_bytes", s.peak_rss_bytes},
                   {"registered_clients", s.registered_clients},
                   {"interrupted", s.interrupted}};
  if (s.interrupted) j["stopped_by"] = s.stopped_by;
  j["update_bytes_up"] = s.update_bytes_up;
  j["model_bytes_down"] = s.model_bytes_down;
  j["mean_update_bytes"] =
      s.updates_up > 0 ? static_cast<double>(s.update_bytes_up) / s.updates_up : 0.0;
  if (s.net_bytes_counted) {
    j["net_bytes_down"] = s.net_bytes_down;
    j["net_bytes_up"] = s.net_bytes_up;
    j["net_bytes_down_by_message"] = by_message_json(s.net_bytes_down_by_message);
    j["net_bytes_up_by_message"] = by_message_json(s.net_bytes_up_by_message);
  }
  if (s.evaluated && (s.test_samples > 0 || s.eval_clients > 0))
    j["evaluated_round"] = s.evaluated_round;
  if (s.evaluated && s.test_samples > 0) {
    j["test_loss"] = s.test_loss;
    j["test_accuracy"] = s.test_accuracy;
    j["test_samples"] = s.test_samples;
  }
  if (s.evaluated && s.eval_clients > 0) {
    j["client_accuracy"] = s.client_accuracy;
    j["eval_clients"] = s.eval_clients;
  }
  if (s.private_run) {
    j["epsilon"] = finite_or_null(s.epsilon);
    j["delta"] = s.delta;
    j["dp_final_clip"] = s.final_clip;
  }
  if (s.protocol == "async") {
    j["total_updates"] = s.total_updates;
    j["stale_updates"] = s.stale_updates;
    j["rejected_updates"] = s.rejected_updates;
    j["aggregations"] = s.aggregations;
  }
  if (s.norm_bound_on) {
    j["norm_clipped"] = s.norm_clipped;
    j["norm_rejected"] = s.norm_rejected;
  }
  if (!s.edge_totals.empty()) j["edge_totals"] = edge_load_json(s.edge_totals, false);
  if (s.refusals) {
    auto counts = [](const std::vector<std::pair<std::string, uint64_t>>& by_reason) {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [reason, n] : by_reason) o[reason] = n;
      return o;
    };
    j["wire_rejects"] = counts(s.wire_rejects);
    j["refused_answers"] = counts(s.refused_answers);
    j["refused_results"] = counts(s.refused_results);
    if (!s.refused_peers.empty()) j["refused_peers"] = counts(s.refused_peers);
  }
  return j.dump(2);
}

metrics_writer::metrics_writer(const std::string& dir) : dir_(dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create output directory " + dir + ": " + ec.message());
  jsonl_.open(dir + "/metrics.jsonl", std::ios::out | std::ios::trunc);
  if (!jsonl_) throw std::runtime_error("cannot write " + dir + "/metrics.jsonl");
}

metrics_writer::metrics_writer(const std::string& dir, uint32_t keep_records) : dir_(dir) {
  const std::string path = dir + "/metrics.jsonl";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw checkpoint_error(path + ": missing (the run to resume has no metrics)");
  uint64_t offset = 0;
  uint32_t lines = 0;
  std::string line;
  while (lines < keep_records && std::getline(in, line)) {
    if (in.eof()) break;  // a last line without its newline is torn
    offset += line.size() + 1;
    ++lines;
    add_kept_edge_load(line);
  }
  in.close();
  if (lines < keep_records)
    throw checkpoint_error(path + ": " + std::to_string(lines) +
                           " complete records, the checkpoint is after " +
                           std::to_string(keep_records));
  std::error_code ec;
  std::filesystem::resize_file(path, offset, ec);
  if (ec) throw std::runtime_error("cannot write " + path + ": " + ec.message());
  jsonl_.open(path, std::ios::out | std::ios::app);
  if (!jsonl_) throw std::runtime_error("cannot write " + path);
}

void metrics_writer::add_kept_edge_load(const std::string& line) {
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("edge_load") || !j["edge_load"].is_array()) return;
  // Our own earlier lines; one that does not read as edge loads adds nothing.
  std::vector<edge_load_counts> load;
  try {
    for (const auto& x : j["edge_load"]) {
      edge_load_counts l;
      l.tasks = x.at("tasks").get<uint32_t>();
      l.updates = x.at("updates").get<uint32_t>();
      l.failed = x.at("failed").get<uint32_t>();
      l.busy_s = x.at("busy_s").get<double>();
      load.push_back(l);
    }
  } catch (const nlohmann::json::exception&) {
    return;
  }
  add_edge_load(edge_totals_, load);
}

void metrics_writer::write(const round_record& r) {
  add_edge_load(edge_totals_, r.edge_load);
  jsonl_ << to_json(r) << '\n';
  jsonl_.flush();
  if (!jsonl_) throw std::runtime_error("cannot write " + dir_ + "/metrics.jsonl");
}

void metrics_writer::write_summary(const run_summary& s) {
  if (edge_totals_.empty() || !s.edge_totals.empty()) {
    write_text("summary.json", to_json(s) + "\n");
    return;
  }
  auto with_totals = s;
  with_totals.edge_totals = edge_totals_;
  write_text("summary.json", to_json(with_totals) + "\n");
}

void metrics_writer::write_text(const std::string& file_name, const std::string& content) {
  const std::string path = dir_ + "/" + file_name;
  std::ofstream out(path, std::ios::out | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

uint64_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace fedactor
