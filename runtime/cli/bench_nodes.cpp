#include "runtime/cli/bench_nodes.hpp"

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "runtime/cli/child_process.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

using clock_type = std::chrono::steady_clock;

struct run_figures {
  nlohmann::json summary;
  std::vector<double> round_s;
};

run_figures read_run(const std::filesystem::path& dir) {
  run_figures f;
  std::ifstream s{dir / "summary.json"};
  if (!s) throw std::runtime_error("no " + (dir / "summary.json").string());
  f.summary = nlohmann::json::parse(s);
  std::ifstream m{dir / "metrics.jsonl"};
  std::string line;
  while (std::getline(m, line))
    if (!line.empty()) f.round_s.push_back(nlohmann::json::parse(line).at("wall_s").get<double>());
  return f;
}

uint16_t listening_port(child_process& p, clock_type::time_point deadline,
                        const std::string& what) {
  static const std::regex re{R"(listening on .*:(\d+)$)"};
  while (auto line = p.read_line(deadline)) {
    std::smatch m;
    if (std::regex_search(*line, m, re)) return static_cast<uint16_t>(std::stoul(m[1]));
  }
  throw std::runtime_error(what + " did not say where it listens");
}

std::string loopback(uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

}  // namespace

uint64_t logged_link_bytes(const std::string& line) {
  static const std::regex re{
      R"(bytes with the [a-z ]+: (\d+) bytes sent \([^)]*\), (\d+) received)"};
  std::smatch m;
  if (!std::regex_search(line, m, re)) return 0;
  return std::stoull(m[1]) + std::stoull(m[2]);
}

int run_node_bench(const node_bench_options& o, std::ostream& out, std::ostream& err) {
  char tmpl[] = "/tmp/fedactor_bench_nodes_XXXXXX";
  if (!::mkdtemp(tmpl)) {
    err << "error: cannot create a temporary directory\n";
    return 1;
  }
  const std::filesystem::path tmp{tmpl};
  const auto scenario_file = (tmp / "w1.yaml").string();
  const auto log_file = (tmp / "nodes.log").string();
  {
    std::ofstream f{scenario_file};
    f << to_yaml(o.sc);
  }
  const uint32_t edges = o.sc.topology.edges;
  const uint64_t n = o.sc.population.clients;
  std::vector<std::string> node_flags;
  if (o.node_threads > 0) node_flags = {"--threads", std::to_string(o.node_threads)};
  if (!o.node_polling.empty()) {
    node_flags.push_back("--idle-polling");
    node_flags.push_back(o.node_polling);
  }
  bool keep = false;
  try {
    // One process.
    {
      child_process ref{
          o.binary, {"run", scenario_file, "--quiet", "--out", (tmp / "ref").string()}, log_file};
      auto code = ref.wait_until(clock_type::now() + o.timeout);
      if (code != 0)
        throw std::runtime_error(code ? "fedactor run failed (exit " + std::to_string(*code) + ")"
                                      : "fedactor run took longer than the timeout");
    }
    // Across processes: every child is killed when this block is left.
    std::vector<std::unique_ptr<child_process>> nodes;
    const auto deadline = clock_type::now() + o.timeout;
    auto start = [&](std::vector<std::string> args) -> child_process& {
      nodes.push_back(std::make_unique<child_process>(o.binary, args, log_file));
      return *nodes.back();
    };
    std::vector<std::string> server_args{
        "node",        "server",  "--listen", "127.0.0.1:0",
        scenario_file, "--quiet", "--out",    (tmp / "dist").string()};
    server_args.insert(server_args.end(), node_flags.begin(), node_flags.end());
    auto& server = start(server_args);
    const uint16_t server_port = listening_port(server, deadline, "the server");
    std::vector<uint16_t> edge_ports;
    for (uint32_t e = 0; e < edges; ++e) {
      std::vector<std::string> args{"node",     "edge",        "--server", loopback(server_port),
                                    "--listen", "127.0.0.1:0", "--id",     std::to_string(e)};
      if (o.hosts_per_edge > 0) {
        args.push_back("--wait-hosts");
        args.push_back(std::to_string(o.hosts_per_edge));
      }
      args.insert(args.end(), node_flags.begin(), node_flags.end());
      edge_ports.push_back(listening_port(start(args), deadline, "edge " + std::to_string(e)));
    }
    for (uint32_t e = 0; e < edges && o.hosts_per_edge > 0; ++e) {
      // Edge e's clients under range routing: [floor(e n / E), floor((e + 1) n / E)).
      const uint64_t lo = e * n / edges, hi = (e + 1) * n / edges;
      for (uint32_t h = 0; h < o.hosts_per_edge; ++h) {
        const uint64_t a = lo + (hi - lo) * h / o.hosts_per_edge;
        const uint64_t b = lo + (hi - lo) * (h + 1) / o.hosts_per_edge;
        if (a == b) continue;
        std::vector<std::string> args{"node",   "clients",
                                      "--edge", loopback(edge_ports[e]),
                                      "--ids",  std::to_string(a) + "-" + std::to_string(b - 1)};
        args.insert(args.end(), node_flags.begin(), node_flags.end());
        start(args);
      }
    }
    auto code = server.wait_until(deadline);
    if (code != 0)
      throw std::runtime_error(code ? "the node server failed (exit " + std::to_string(*code) + ")"
                                    : "the nodes took longer than the timeout");
    // The edges and hosts end once the server has told them; their last log lines count.
    const auto grace = clock_type::now() + std::chrono::seconds(20);
    for (auto& p : nodes) p->wait_until(grace);
    const size_t processes = nodes.size();
    nodes.clear();

    const auto ref = read_run(tmp / "ref");
    const auto dist = read_run(tmp / "dist");
    // Each node's last byte line (an edge logs one whenever its server link ends).
    std::map<std::string, uint64_t> by_node;
    std::ifstream log{log_file};
    std::string line;
    while (std::getline(log, line)) {
      const auto b = logged_link_bytes(line);
      const auto open = line.find('['), close = line.find(']');
      if (b > 0 && open != std::string::npos && close != std::string::npos && open < close)
        by_node[line.substr(open + 1, close - open - 1)] = b;
    }
    uint64_t bytes = 0;
    const auto links_logged = static_cast<uint32_t>(by_node.size());
    for (const auto& [node, b] : by_node) bytes += b;
    const double one = ref.summary.at("mean_clients_per_s").get<double>();
    const double many = dist.summary.at("mean_clients_per_s").get<double>();
    const auto trained = dist.summary.at("clients_trained").get<uint64_t>();
    const auto ref_digest = ref.summary.at("model_sha256").get<std::string>();
    const auto dist_digest = dist.summary.at("model_sha256").get<std::string>();
    const bool same = ref_digest == dist_digest;
    nlohmann::json doc{
        {"edges", edges},
        {"hosts_per_edge", o.hosts_per_edge},
        {"processes", processes},
        {"protocol", dist.summary.at("protocol")},
        {"clients_per_round", o.sc.selection.clients_per_round},
        {"rounds", dist.round_s.size()},
        {"one_process_updates_per_s", one},
        {"nodes_updates_per_s", many},
        {"ratio", one > 0 ? many / one : 0.0},
        {"one_process_model_sha256", ref_digest},
        {"nodes_model_sha256", dist_digest},
        {"same_model", same},
        {"one_process_round_s", ref.round_s},
        {"nodes_round_s", dist.round_s},
        {"one_process_peak_rss_bytes", ref.summary.at("peak_rss_bytes")},
        {"server_peak_rss_bytes", dist.summary.at("peak_rss_bytes")},
        {"bytes_between_processes", bytes},
        {"links_counted", links_logged},
        {"bytes_per_update", trained > 0 ? static_cast<double>(bytes) / trained : 0.0}};
    if (o.json) {
      out << doc.dump(2) << '\n';
    } else {
      char buf[512];
      std::snprintf(buf, sizeof buf,
                    "W1 across processes: %u edge%s + %u client host%s on 127.0.0.1 (%zu "
                    "processes), %s, %u clients/round, %zu rounds\n",
                    edges, edges == 1 ? "" : "s", edges * o.hosts_per_edge,
                    edges * o.hosts_per_edge == 1 ? "" : "s", processes,
                    dist.summary.at("protocol").get<std::string>().c_str(),
                    o.sc.selection.clients_per_round, dist.round_s.size());
      out << buf;
      std::snprintf(buf, sizeof buf, "  one process:  %9.0f updates/s  model_sha256 %s\n", one,
                    ref_digest.c_str());
      out << buf;
      std::snprintf(buf, sizeof buf,
                    "  %2zu processes: %9.0f updates/s  model_sha256 %s (%s), %.1f%% of one "
                    "process\n",
                    processes, many, dist_digest.c_str(), same ? "equal" : "DIFFERENT",
                    one > 0 ? 100 * many / one : 0.0);
      out << buf;
      std::snprintf(buf, sizeof buf,
                    "  between processes: %.2f MB over %u links, %.2f KB per update (the nodes' "
                    "counters, framing included)\n",
                    bytes / 1e6, links_logged, trained > 0 ? bytes / 1e3 / trained : 0.0);
      out << buf;
      std::snprintf(buf, sizeof buf, "  peak RSS: one process %.0f MiB, node server %.0f MiB\n",
                    ref.summary.at("peak_rss_bytes").get<double>() / 1048576.0,
                    dist.summary.at("peak_rss_bytes").get<double>() / 1048576.0);
      out << buf;
      auto rounds = [](const std::vector<double>& v) {
        std::string s;
        for (double x : v) {
          char b[32];
          std::snprintf(b, sizeof b, " %.3f", x);
          s += b;
        }
        return s;
      };
      out << "  s/round, one process:" << rounds(ref.round_s) << '\n';
      out << "  s/round, processes:  " << rounds(dist.round_s) << '\n';
    }
    if (!same) {
      err << "error: the runs ended with different models; logs kept in " << tmp.string() << '\n';
      keep = true;
      return 1;
    }
  } catch (const std::exception& e) {
    err << "error: " << e.what() << "; logs kept in " << tmp.string() << '\n';
    keep = true;
    return 1;
  }
  if (!keep) {
    std::error_code ec;
    std::filesystem::remove_all(tmp, ec);
  }
  return 0;
}

}  // namespace fedactor
