#include "runtime/report/run_data.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fedactor {

namespace {

namespace fs = std::filesystem;

// The text of a required key of `j`; throws std::out_of_range naming it when absent.
const nlohmann::json& required(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) throw std::out_of_range(std::string("no \"") + key + "\"");
  return *it;
}

template <typename T>
T number(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end()) return fallback;
  if (!it->is_number()) throw std::invalid_argument(std::string("\"") + key + "\" is not a number");
  return it->get<T>();
}

template <typename T>
T required_number(const nlohmann::json& j, const char* key) {
  const auto& v = required(j, key);
  if (!v.is_number()) throw std::invalid_argument(std::string("\"") + key + "\" is not a number");
  return v.get<T>();
}

// One record; `async` tells whether it is a server step. Throws std::exception with the reason.
run_point parse_record(const nlohmann::json& j, bool& async, std::vector<run_event>& events) {
  if (!j.is_object()) throw std::invalid_argument("not a JSON object");
  run_point p;
  async = j.contains("aggregation");
  if (!async && !j.contains("round")) throw std::out_of_range("no \"round\" or \"aggregation\"");
  p.step = required_number<uint32_t>(j, async ? "aggregation" : "round");
  p.mean_loss = required_number<double>(j, "mean_loss");
  p.sim_time_s = required_number<double>(j, "sim_time_s");
  p.wall_s = number<double>(j, "wall_s", 0);
  p.clients = number<uint32_t>(j, "clients", 0);
  p.clients_per_s = number<double>(j, "clients_per_s", 0);
  p.failures = number<uint32_t>(j, "failures", 0);
  if (auto it = j.find("failures_by"); it != j.end()) {
    if (!it->is_object()) throw std::invalid_argument("\"failures_by\" is not an object");
    for (const auto& [cause, n] : it->items()) {
      if (!n.is_number_unsigned())
        throw std::invalid_argument("\"failures_by\" \"" + cause + "\" is not a count");
      p.failures_by[cause] = n.get<uint64_t>();
    }
  }
  if (j.contains("test_accuracy")) {
    p.test_accuracy = number<double>(j, "test_accuracy", 0);
    p.test_loss = number<double>(j, "test_loss", 0);
  }
  p.live_clients = number<uint32_t>(j, "live_clients", 0);
  p.edges_lost = number<uint32_t>(j, "edges_lost", 0);
  p.edges_rejoined = number<uint32_t>(j, "edges_rejoined", 0);
  p.rerouted = number<uint32_t>(j, "rerouted", 0);
  if (j.contains("edges_alive")) p.edges_alive = number<uint32_t>(j, "edges_alive", 0);
  if (auto it = j.find("edge_load"); it != j.end()) {
    if (!it->is_array()) throw std::invalid_argument("\"edge_load\" is not an array");
    for (const auto& e : *it) {
      if (!e.is_object()) throw std::invalid_argument("an \"edge_load\" entry is not an object");
      const auto edge = required_number<uint32_t>(e, "edge");
      if (edge != p.edge_load.size())
        throw std::invalid_argument("\"edge_load\" entry " + std::to_string(p.edge_load.size()) +
                                    " is for edge " + std::to_string(edge));
      run_edge_load l;
      l.tasks = number<uint32_t>(e, "tasks", 0);
      l.updates = number<uint32_t>(e, "updates", 0);
      l.failed = number<uint32_t>(e, "failed", 0);
      l.busy_s = number<double>(e, "busy_s", 0);
      l.in_flight = number<uint32_t>(e, "in_flight", 0);
      p.edge_load.push_back(l);
    }
  }
  p.stale_discarded = number<uint64_t>(j, "stale_discarded", 0);
  p.mean_decay = number<double>(j, "mean_decay", 0);
  if (auto it = j.find("staleness_histogram"); it != j.end()) {
    if (!it->is_array()) throw std::invalid_argument("\"staleness_histogram\" is not an array");
    for (const auto& n : *it) {
      if (!n.is_number_unsigned())
        throw std::invalid_argument("\"staleness_histogram\" holds a value that is not a count");
      p.staleness_histogram.push_back(n.get<uint64_t>());
    }
  }
  if (auto it = j.find("events"); it != j.end()) {
    if (!it->is_array()) throw std::invalid_argument("\"events\" is not an array");
    for (const auto& e : *it) {
      if (!e.is_object()) throw std::invalid_argument("an event is not an object");
      run_event ev;
      ev.step = p.step;
      ev.kind = required(e, "kind").get<std::string>();
      ev.target = e.value("target", std::string{});
      ev.trigger = e.value("trigger", std::string{});
      ev.sim_time_s = number<double>(e, "sim_time_s", p.sim_time_s);
      ev.changed = number<int64_t>(e, "changed", -1);
      events.push_back(std::move(ev));
    }
  }
  return p;
}

std::string dir_name(const std::string& dir) {
  fs::path p{dir};
  while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "runs/x/" -> "runs/x"
  std::string name = p.filename().string();
  return name.empty() || name == "." ? fs::absolute(p).lexically_normal().filename().string()
                                     : name;
}

}  // namespace

void add_record(run_data& run, const nlohmann::json& record) {
  bool async = false;
  std::vector<run_event> events;
  run_point p = parse_record(record, async, events);
  if (run.points.empty()) {
    run.async = async;
  } else if (async != run.async) {
    throw std::invalid_argument(async ? "an async step among sync rounds"
                                      : "a sync round among async steps");
  }
  run.points.push_back(std::move(p));
  for (auto& e : events) run.events.push_back(std::move(e));
}

run_data load_run(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw report_input_error(dir + ": no such directory");
  if (!fs::is_directory(dir, ec)) throw report_input_error(dir + ": not a directory");
  run_data run;
  run.dir = dir;
  run.name = dir_name(dir);
  const std::string path = (fs::path{dir} / "metrics.jsonl").string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw report_input_error(path + ": missing (not a run directory)");
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    if (line.empty()) throw report_input_error(where + "empty line");
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error&) {
      throw report_input_error(where + "not a JSON record (truncated or corrupt line)");
    }
    try {
      add_record(run, j);
    } catch (const std::exception& e) {
      throw report_input_error(where + e.what());
    }
  }
  if (run.points.empty()) throw report_input_error(path + ": no records");

  const std::string summary_path = (fs::path{dir} / "summary.json").string();
  std::ifstream summary(summary_path, std::ios::binary);
  if (summary) {
    std::stringstream text;
    text << summary.rdbuf();
    try {
      run.summary = nlohmann::json::parse(text.str());
    } catch (const nlohmann::json::parse_error& e) {
      throw report_input_error(summary_path + ": not JSON (byte " + std::to_string(e.byte) + ")");
    }
    if (!run.summary.is_object()) throw report_input_error(summary_path + ": not a JSON object");
    if (auto it = run.summary.find("scenario"); it != run.summary.end() && it->is_string())
      run.scenario = it->get<std::string>();
  }
  return run;
}

}  // namespace fedactor
