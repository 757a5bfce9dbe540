// `fedactor bench` (see bench_command.hpp). The parent process runs the machine probes,
// then one child process per population (`fedactor bench --row POPULATION ...`, which
// prints one JSON object), and prints the table or, with --json, one JSON document.

#include "runtime/cli/bench_command.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <nlohmann/json.hpp>

#include "runtime/cli/bench_nodes.hpp"
#include "runtime/cli/bench_probes.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/node_net.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/batched_training.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/metrics/metrics_writer.hpp"
#include "runtime/scenario/load.hpp"
#include "runtime/strategy/server_optimizer.hpp"

namespace fedactor {

namespace {

constexpr const char* usage =
    "usage: fedactor bench [--populations LIST] [--clients-per-round N] [--rounds N]\n"
    "                      [--threads N] [--mode sync|async] [--set key=value]...\n"
    "                      [--probe-mib N] [--json]\n"
    "       fedactor bench --nodes E [--hosts-per-edge K] [--node-threads N] [--populations N]\n"
    "                      [--node-polling sleep|spin] [--clients-per-round N] [--rounds N]\n"
    "                      [--mode sync|async] [--set k=v]... [--json]\n"
    "  the throughput and scale table of workload W1 (docs/benchmarks.md): one child process\n"
    "  per population, the machine's memory bandwidth and aggregation probes beside it;\n"
    "  with --nodes: W1 across a node server, E edge nodes and K client hosts per edge on\n"
    "  127.0.0.1 beside the same run in one process (population default 1000)\n";

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// CPU seconds (user + system) this process has used so far, all threads.
double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return tv.tv_sec + 1e-6 * tv.tv_usec; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

struct bench_options {
  std::vector<uint64_t> populations{1000, 10000, 100000, 1000000, 10000000};
  uint32_t clients_per_round = 1000;
  uint32_t rounds = 5;
  uint32_t threads = 0;  // 0 = runtime defaults
  protocol_mode mode = protocol_mode::sync;
  std::vector<std::string> overrides;
  uint32_t probe_mib = 256;
  bool json = false;
  std::optional<uint64_t> row;  // internal: run one population, print its JSON row
  uint32_t nodes = 0;           // --nodes: edge nodes of the cross-process mode; 0 = off
  uint32_t hosts_per_edge = 0;
  uint32_t node_threads = 0;  // --threads of every node; 0 = the nodes' default
  std::string node_polling;   // --idle-polling of every node; empty = the nodes' default
  bool populations_given = false;
};

// "1e3,10000,2.5e4" -> populations; nullopt (with a message) on a bad entry.
std::optional<std::vector<uint64_t>> parse_populations(const std::string& text,
                                                       std::string& error) {
  std::vector<uint64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    double v = 0;
    size_t used = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || !(v >= 1) || v > 4294967295.0 || v != std::floor(v)) {
      error = "--populations: '" + item + "' is not a whole number in [1, 4294967295]";
      return std::nullopt;
    }
    out.push_back(static_cast<uint64_t>(v));
  }
  if (out.empty()) {
    error = "--populations: empty list";
    return std::nullopt;
  }
  return out;
}

}  // namespace

cli_spec bench_cli_spec() {
  cli_spec spec{"fedactor bench", usage, po::options_description{"options"},
                po::options_description{}, po::positional_options_description{}};
  spec.options.add_options()("populations", po::value<std::string>()->value_name("LIST"),
                             "registered clients per run, comma separated, e.g. 1e3,1e4,1e5 "
                             "(default 1e3,1e4,1e5,1e6,1e7)")(
      "clients-per-round", po::value<std::string>()->value_name("N"),
      "clients sampled per round, 1 to 100000000 (default 1000; capped at the population)")(
      "rounds", po::value<std::string>()->value_name("N"),
      "rounds per population, 1 to 100000 (default 5); seconds/round is their median")(
      "threads", po::value<std::string>()->value_name("N"),
      "scheduler threads and trainers, 1 to 1024 (default: the runtime's defaults)")(
      "mode", po::value<std::string>()->value_name("sync|async"),
      "sync (default) or async (FedBuff: clients-per-round in flight, a server step per "
      "clients-per-round updates; a round = a step)")(
      "set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
      "override a scenario key of the workload (repeatable, as in fedactor run)")(
      "probe-mib", po::value<std::string>()->value_name("N"),
      "memory of the bandwidth and aggregation probes, 1 to 65536 (default 256)")(
      "json", "one JSON document on stdout instead of the table")(
      "nodes", po::value<std::string>()->value_name("E"),
      "cross-process mode: E edge nodes (1 to 64) with a node server on 127.0.0.1")(
      "hosts-per-edge", po::value<std::string>()->value_name("K"),
      "with --nodes: client-host nodes per edge, 0 to 64 (default 0: the edges train)")(
      "node-threads", po::value<std::string>()->value_name("N"),
      "with --nodes: --threads of every node, 1 to 1024 (default: the nodes' default)")(
      "node-polling", po::value<std::string>()->value_name("sleep|spin"),
      "with --nodes: --idle-polling of every node (default: the nodes' default, sleep)");
  // Internal: a child process runs one population and prints its JSON row.
  spec.hidden.add_options()("row", po::value<std::string>()->value_name("POPULATION"), "");
  return spec;
}

namespace {

// Returns 0 when parsed, else the exit code (2 bad arguments, -1 help printed).
int parse(const std::vector<std::string>& args, bench_options& o, std::ostream& out,
          std::ostream& err) {
  po::variables_map vm;
  if (auto code = parse_cli(args, bench_cli_spec(), vm, out, err)) return *code == 0 ? -1 : *code;
  std::string error;
  auto fail = [&]() {
    err << "fedactor bench: " << error << '\n';
    return 2;
  };
  if (vm.count("populations")) {
    auto p = parse_populations(vm["populations"].as<std::string>(), error);
    if (!p) return fail();
    o.populations = *p;
    o.populations_given = true;
  }
  if (!count_option(vm, "clients-per-round", 1, 100000000, o.clients_per_round, error) ||
      !count_option(vm, "rounds", 1, 100000, o.rounds, error) ||
      !count_option(vm, "probe-mib", 1, 65536, o.probe_mib, error) ||
      !count_option(vm, "threads", 1, 1024, o.threads, error) ||
      !count_option(vm, "nodes", 1, 64, o.nodes, error) ||
      !count_option(vm, "hosts-per-edge", 0, 64, o.hosts_per_edge, error) ||
      !count_option(vm, "node-threads", 1, 1024, o.node_threads, error))
    return fail();
  for (const char* name : {"hosts-per-edge", "node-threads", "node-polling"}) {
    if (o.nodes == 0 && vm.count(name)) {
      error = std::string{"--"} + name + " needs --nodes";
      return fail();
    }
  }
  if (vm.count("node-polling")) {
    o.node_polling = vm["node-polling"].as<std::string>();
    if (!parse_idle_polling(o.node_polling)) {
      error = "--node-polling: expected sleep or spin, got '" + o.node_polling + "'";
      return fail();
    }
  }
  if (o.nodes > 0) {
    if (o.populations_given && o.populations.size() != 1) {
      error = "--nodes takes one population";
      return fail();
    }
    if (!o.populations_given) o.populations = {1000};
  }
  if (vm.count("mode")) {
    const auto& v = vm["mode"].as<std::string>();
    if (v == "sync") {
      o.mode = protocol_mode::sync;
    } else if (v == "async") {
      o.mode = protocol_mode::async;
    } else {
      error = "--mode: expected sync or async, got '" + v + "'";
      return fail();
    }
  }
  o.overrides = list_option(vm, "set");
  o.json = vm.count("json") > 0;
  if (vm.count("row")) {
    auto p = parse_populations(vm["row"].as<std::string>(), error);
    if (!p || p->size() != 1) {
      if (error.empty()) error = "--row takes one population";
      return fail();
    }
    o.row = p->front();
  }
  return 0;
}

// Workload W1 for one population: the scenario of examples/scenarios/tutorial_sync.yaml
// (the defaults of the scenario structs are the tutorial's), scaled, then the overrides.
std::optional<scenario> w1_scenario(const bench_options& o, uint64_t population,
                                    std::string& error) {
  scenario sc;
  sc.name = "bench_w1";
  sc.seed = 0;
  sc.population.clients = population;
  sc.data.kind = data_kind::tutorial_random;
  sc.model.kind = model_kind::mlp;
  sc.model.hidden = {64};
  sc.training = training_config{};
  sc.topology.edges = 10;
  sc.topology.routing = routing_kind::range;
  sc.selection.strategy = sampling_kind::random;
  sc.selection.clients_per_round =
      static_cast<uint32_t>(std::min<uint64_t>(o.clients_per_round, population));
  sc.pool.max_live_clients = 200;
  sc.protocol.mode = o.mode;
  sc.protocol.rounds = o.rounds;
  if (o.mode == protocol_mode::async) {
    // FedBuff with a round's worth of clients in flight and one server step per round's
    // worth of updates: a "round" of the table is one step.
    sc.async.concurrency = sc.selection.clients_per_round;
    sc.async.buffer_size = sc.selection.clients_per_round;
    sc.async.aggregations = o.rounds;
  }
  if (o.threads > 0) sc.pool.trainers = o.threads;
  for (const auto& ov : o.overrides) {
    if (auto err = apply_override(ov, sc)) {
      error = err->message;
      return std::nullopt;
    }
  }
  if (auto err = validate(sc)) {
    error = err->message;
    return std::nullopt;
  }
  return sc;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// ---- child: one population --------------------------------------------------------------

int run_row(const bench_options& o, uint64_t population) {
  std::string error;
  auto sc = w1_scenario(o, population, error);
  if (!sc) {
    std::cerr << "error: " << error << '\n';
    return 2;
  }
  try {
    limit_math_threads();
    system_config cfg;
    if (o.threads > 0) cfg.set("scheduler.max-threads", static_cast<size_t>(o.threads));
    caf::actor_system sys{cfg};
    federation fl{sys, *sc};
    std::vector<double> walls, cpu_at_end;
    std::vector<uint64_t> clients_in;
    uint64_t clients = 0, failures = 0;
    double first_done = 0;
    const auto t0 = clock_type::now();
    const double cpu_before_rounds = process_cpu_seconds();
    fl.on_round([&](const round_record& r) {
      if (walls.empty()) first_done = seconds_since(t0);
      walls.push_back(r.wall_s);
      cpu_at_end.push_back(process_cpu_seconds());
      clients_in.push_back(r.clients);
      clients += r.clients;
      failures += r.failures;
      std::fprintf(stderr, "bench: population %llu  round %u/%u  %.3fs  %.0f clients/s\n",
                   static_cast<unsigned long long>(population), r.round, o.rounds, r.wall_s,
                   r.clients_per_s);
    });
    auto result = fl.run();
    const double wall = seconds_since(t0);
    nlohmann::json row;
    row["population"] = population;
    row["clients_per_round"] = sc->selection.clients_per_round;
    row["rounds"] = walls.size();
    row["round_seconds"] = walls;
    const double med = median(walls);
    row["seconds_per_round_median"] = med;
    row["clients_per_s"] = med > 0 ? sc->selection.clients_per_round / med : 0.0;
    double total = 0;
    for (double w : walls) total += w;
    row["clients_per_s_mean"] = total > 0 ? static_cast<double>(clients) / total : 0.0;
    row["clients_trained"] = clients;
    // CPU time per client over the rounds after the first (all rounds when there is one):
    // what the machine's cores spend per client, whatever else runs on them.
    if (!walls.empty()) {
      const bool skip_first = walls.size() > 1;
      const double cpu = cpu_at_end.back() - (skip_first ? cpu_at_end.front() : cpu_before_rounds);
      uint64_t counted = 0;
      for (size_t i = skip_first ? 1 : 0; i < clients_in.size(); ++i) counted += clients_in[i];
      row["cpu_us_per_client"] = counted > 0 ? 1e6 * cpu / static_cast<double>(counted) : 0.0;
    }
    row["failures"] = failures;
    row["peak_rss_bytes"] = peak_rss_bytes();
    row["registry_bytes"] = fl.registry_bytes();
    row["registry_bytes_per_client"] =
        static_cast<double>(fl.registry_bytes()) / static_cast<double>(population);
    // Until the first round started: data source, registry, sampler, actors.
    row["population_build_s"] = walls.empty() ? wall : std::max(0.0, first_done - walls.front());
    row["wall_s"] = wall;
    row["num_params"] = result.model.size();
    row["model_sha256"] = result.summary.model_sha256;
    std::cout << row.dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

// ---- parent: probes ---------------------------------------------------------------------

uint32_t probe_threads(const bench_options& o) {
  return o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "fedactor";
  return std::string(buf, static_cast<size_t>(n));
}

// Runs one population in a child process; the row, or an error text.
nlohmann::json run_child(const bench_options& o, uint64_t population) {
  std::string cmd = shell_quote(self_path()) + " bench --row " + std::to_string(population) +
                    " --clients-per-round " + std::to_string(o.clients_per_round) + " --rounds " +
                    std::to_string(o.rounds) + " --mode " +
                    (o.mode == protocol_mode::async ? "async" : "sync");
  if (o.threads > 0) cmd += " --threads " + std::to_string(o.threads);
  for (const auto& ov : o.overrides) cmd += " --set " + shell_quote(ov);
  std::fflush(stdout);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return {{"population", population}, {"error", "cannot start a child process"}};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto start = out.rfind("\n{");
  start = start == std::string::npos ? out.find('{') : start + 1;
  if (code == 0 && start != std::string::npos) {
    try {
      return nlohmann::json::parse(out.substr(start));
    } catch (const std::exception&) {
    }
  }
  return {{"population", population},
          {"error", "the run failed (exit code " + std::to_string(code) + "), see stderr"}};
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto c = line.find(':');
      if (c != std::string::npos) return line.substr(c + 2);
    }
  }
  return "unknown";
}

std::string human_count(double v) {
  char buf[32];
  if (v >= 1e6 && std::fmod(v, 1e6) == 0)
    std::snprintf(buf, sizeof(buf), "%.0fM", v / 1e6);
  else if (v >= 1e3 && std::fmod(v, 1e3) == 0)
    std::snprintf(buf, sizeof(buf), "%.0fk", v / 1e3);
  else
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}

void print_table(const nlohmann::json& doc) {
  const auto& m = doc["machine"];
  std::printf("fedactor bench: workload W1 (%s), %s protocol, %u rounds per population\n",
              doc["workload"]["description"].get<std::string>().c_str(),
              doc["workload"]["mode"].get<std::string>().c_str(),
              doc["workload"]["rounds"].get<unsigned>());
  std::printf("machine: %s, %u hardware threads, kernels %s, probe threads %u\n",
              m["cpu"].get<std::string>().c_str(), m["hardware_threads"].get<unsigned>(),
              m["kernel_isa"].get<std::string>().c_str(), m["probe_threads"].get<unsigned>());
  std::printf(
      "memory read bandwidth %.1f GB/s; accumulator fold %.1f GB/s (%.0f%% of it)\n"
      "FedBuff ingest: %.0f updates/s forwarded one by one (server thread); %.0f updates/s "
      "pre-aggregated in groups of 5 (%u edge thread(s) + server thread)\n\n",
      m["memory_bandwidth_gbps"].get<double>(), m["fold_gbps"].get<double>(),
      100 * m["fold_fraction_of_bandwidth"].get<double>(),
      m["fedbuff_ingest_updates_per_s"].get<double>(),
      m["fedbuff_grouped_ingest_updates_per_s"].get<double>(),
      m["fedbuff_grouped_edge_threads"].get<unsigned>());
  if (m.contains("region_routing_per_s"))
    std::printf(
        "region routing: %.0f clients/s routed (10^6 clients, 3 regions, 12 edges, "
        "capacity 64)\n\n",
        m["region_routing_per_s"].get<double>());
  if (doc["workload"]["mode"] == "async")
    std::printf(
        "async: a round is one server step of clients/round updates (FedBuff, "
        "concurrency = buffer = clients/round)\n\n");
  std::printf("%10s %9s %9s %10s %9s %10s %9s %11s %14s\n", "population", "clients/", "s/round",
              "clients/s", "peak RSS", "registry", "build", "aggregated", "of memory");
  std::printf("%10s %9s %9s %10s %9s %10s %9s %11s %14s\n", "", "round", "(median)", "", "(MiB)",
              "B/client", "(s)", "(GB/s)", "bandwidth");
  for (const auto& r : doc["rows"]) {
    const double pop = r["population"].get<double>();
    if (r.contains("error")) {
      std::printf("%10s  %s\n", human_count(pop).c_str(), r["error"].get<std::string>().c_str());
      continue;
    }
    std::printf("%10s %9u %9.3f %10.0f %9.0f %10.1f %9.2f %11.3f %13.2f%%\n",
                human_count(pop).c_str(), r["clients_per_round"].get<unsigned>(),
                r["seconds_per_round_median"].get<double>(), r["clients_per_s"].get<double>(),
                r["peak_rss_bytes"].get<double>() / 1048576.0,
                r["registry_bytes_per_client"].get<double>(), r["population_build_s"].get<double>(),
                r["aggregated_gbps"].get<double>(),
                100 * r["aggregated_fraction_of_bandwidth"].get<double>());
  }
}

}  // namespace

int bench_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  bench_options o;
  if (int code = parse(args, o, out, err); code != 0) return code < 0 ? 0 : code;
  // Check the workload before starting anything (the children would fail one by one).
  for (auto pop : o.row ? std::vector<uint64_t>{*o.row} : o.populations) {
    std::string error;
    if (!w1_scenario(o, pop, error)) {
      err << "error: " << error << '\n';
      return 2;
    }
  }
  if (o.row) return run_row(o, *o.row);
  if (o.nodes > 0) {
    std::string error;
    node_bench_options nb;
    nb.sc = *w1_scenario(o, o.populations.front(), error);
    nb.sc.topology.edges = o.nodes;
    if (auto bad = validate(nb.sc)) {
      err << "error: " << bad->message << '\n';
      return 2;
    }
    nb.hosts_per_edge = o.hosts_per_edge;
    nb.binary = self_path();
    if (o.node_threads > 0) nb.node_threads = o.node_threads;
    nb.node_polling = o.node_polling;
    nb.json = o.json;
    return run_node_bench(nb, out, err);
  }

  const uint32_t threads = probe_threads(o);
  const size_t dim = model_spec{}.num_params();
  std::fprintf(stderr, "bench: probing memory bandwidth and aggregation on %u threads\n", threads);
  const double bandwidth = stream_read_bandwidth(threads, o.probe_mib);
  double fold = 0, ingest = 0, grouped = 0;
  {
    // Half the probe memory in updates: beyond the caches too, as fresh updates are.
    const size_t count = std::max<size_t>(threads, (size_t{o.probe_mib} << 19) / (dim * 4));
    auto pool = update_pool(dim, count);
    fold = fold_bandwidth(threads, pool);
    ingest = fedbuff_ingest_rate(pool, std::max<size_t>(20000, 16 * count));
    grouped = fedbuff_grouped_ingest_rate(pool, std::max<size_t>(20000, 16 * count),
                                          std::max(1u, threads - 1), 5);
  }
  nlohmann::json doc;
  doc["workload"] = {
      {"description",
       "MLP 32-64-10, tutorial_random data 50-199 samples/client, batch 32, 1 epoch, SGD "
       "lr 0.01 momentum 0.9, 10 edges, range routing, random sampling"},
      {"mode", o.mode == protocol_mode::async ? "async" : "sync"},
      {"clients_per_round", o.clients_per_round},
      {"rounds", o.rounds},
      {"threads", o.threads},
      {"overrides", o.overrides}};
  doc["machine"] = {{"cpu", cpu_model()},
                    {"probe_mib", o.probe_mib},
                    {"hardware_threads", std::thread::hardware_concurrency()},
                    {"kernel_isa", to_string(best_kernel_isa())},
                    {"probe_threads", threads},
                    {"memory_bandwidth_gbps", bandwidth / 1e9},
                    {"fold_gbps", fold / 1e9},
                    {"fold_fraction_of_bandwidth", fold / bandwidth},
                    {"fedbuff_ingest_updates_per_s", ingest},
                    {"fedbuff_grouped_ingest_updates_per_s", grouped},
                    {"fedbuff_grouped_edge_threads", std::max(1u, threads - 1)},
                    {"region_routing_per_s", region_routing_rate(1000000)}};
  doc["rows"] = nlohmann::json::array();
  bool failed = false;
  for (size_t i = 0; i < o.populations.size(); ++i) {
    const uint64_t pop = o.populations[i];
    std::fprintf(stderr, "bench: population %llu (%zu/%zu)\n", static_cast<unsigned long long>(pop),
                 i + 1, o.populations.size());
    auto row = run_child(o, pop);
    if (row.contains("error")) {
      failed = true;
    } else {
      const double bytes_per_s =
          row["clients_per_s"].get<double>() * row["num_params"].get<double>() * sizeof(float);
      row["aggregated_gbps"] = bytes_per_s / 1e9;
      row["memory_bandwidth_gbps"] = bandwidth / 1e9;
      row["aggregated_fraction_of_bandwidth"] = bytes_per_s / bandwidth;
    }
    doc["rows"].push_back(std::move(row));
  }
  if (o.json)
    std::cout << doc.dump(2) << '\n';
  else
    print_table(doc);
  return failed ? 1 : 0;
}

int bench_command(const std::vector<std::string>& args) {
  return bench_command(args, std::cout, std::cerr);
}

}  // namespace fedactor
