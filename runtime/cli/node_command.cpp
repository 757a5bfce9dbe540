// `fedactor node ROLE …`: argument parsing for the server, edge and client-host nodes.

#include "runtime/cli/node_command.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>

#include "messages/wire_rejects.hpp"
#include "runtime/checkpoint/checkpoint_error.hpp"
#include "runtime/checkpoint/run_checkpoint.hpp"
#include "runtime/cli/live_view.hpp"
#include "runtime/cli/resume_command.hpp"
#include "runtime/cli/run_output.hpp"
#include "runtime/cli/signal_watch.hpp"
#include "runtime/host/node_clients.hpp"
#include "runtime/host/node_edge.hpp"
#include "runtime/host/node_server.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/protocol/result_refusals.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

constexpr const char* usage =
    "usage: fedactor node server  --listen HOST:PORT SCENARIO.yaml [--set key=value]... "
    "[--out DIR] [--overwrite] [--quiet]\n"
    "                             [--http [HOST:]PORT [--http-public] [--http-linger SECONDS]]\n"
    "       fedactor node server  --listen HOST:PORT --resume DIR [--quiet]\n"
    "       fedactor node edge    --server HOST:PORT --listen HOST:PORT --id N [--region R]\n"
    "                             [--capacity N] [--trainers N] [--wait-hosts N] [--state-file F]\n"
    "       fedactor node clients --edge HOST:PORT --ids A-B [--max-live N] [--trainers N]\n"
    "                             [--state-file F]\n"
    "every role: [--tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-accept-roleless]]\n"
    "            [--heartbeat 500ms] [--connection-timeout 5s] [--join-timeout 60s] [--threads N]\n"
    "(docs/deployment.md)";

int bad(const std::string& role, const std::string& what) {
  std::cerr << "fedactor node " << role << ": " << what << '\n' << usage << '\n';
  return 2;
}

bool parse_count(const std::string& text, uint32_t lo, uint32_t hi, uint32_t& out) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const auto v = std::stoull(text);
  if (v < lo || v > hi) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

struct parsed {
  // every role
  node_net_options net;
  std::optional<caf::timespan> join_timeout;
  // server
  std::optional<host_port> listen;
  std::string file;
  std::vector<std::string> overrides;
  std::string out_dir;
  std::string resume_dir;
  bool quiet = false;
  bool overwrite = false;
  live_view_options http;  // --http, --http-public, --http-linger
  // edge
  std::optional<host_port> server;
  std::optional<uint32_t> id;
  std::string region;
  uint32_t capacity = 0;
  uint32_t trainers = 0;
  std::string state_file;  // edge, clients
  uint32_t wait_hosts = 0;
  // clients
  std::optional<host_port> edge;
  std::optional<std::pair<uint32_t, uint32_t>> ids;
  uint32_t max_live = 0;
};

// Parses `args` for `role`; nullopt after printing the problem (exit code in `code`).
std::optional<parsed> parse(const std::string& role, const std::vector<std::string>& args,
                            int& code) {
  parsed p;
  code = 2;
  auto allowed = [&](std::initializer_list<const char*> roles) {
    for (auto r : roles)
      if (role == r) return true;
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage << '\n';
      code = 0;
      return std::nullopt;
    }
    if (a == "--quiet" && role == "server") {
      p.quiet = true;
      continue;
    }
    if (a == "--overwrite" && role == "server") {
      p.overwrite = true;
      continue;
    }
    if (std::string error; role == "server" && take_live_view_option(args, i, p.http, error)) {
      if (error.empty()) continue;
      bad(role, error);
      return std::nullopt;
    }
    if (a == "--tls-accept-roleless") {
      p.net.tls_accept_roleless = true;
      continue;
    }
    if (a.empty() || a[0] != '-') {
      if (role != "server") {
        bad(role, "unexpected argument '" + a + "'");
        return std::nullopt;
      }
      if (!p.file.empty()) {
        bad(role, "more than one scenario file ('" + p.file + "', '" + a + "')");
        return std::nullopt;
      }
      p.file = a;
      continue;
    }
    if (i + 1 >= args.size()) {
      bad(role, a + " needs a value");
      return std::nullopt;
    }
    const std::string& v = args[++i];
    std::string err;
    auto address = [&](std::optional<host_port>& out) {
      out = parse_host_port(v, err);
      if (!out) bad(role, a + ": " + err);
      return out.has_value();
    };
    auto count = [&](uint32_t lo, uint32_t hi, uint32_t& out) {
      if (parse_count(v, lo, hi, out)) return true;
      bad(role, a + ": expected a whole number in [" + std::to_string(lo) + ", " +
                    std::to_string(hi) + "], got '" + v + "'");
      return false;
    };
    auto duration = [&](caf::timespan& out) {
      auto d = parse_duration(v);
      if (!d) {
        bad(role, a + ": expected a duration such as 500ms, 5s or 2m, got '" + v + "'");
        return false;
      }
      out = *d;
      return true;
    };
    bool ok = true;
    if (a == "--tls-cert") {
      p.net.tls_cert = v;
    } else if (a == "--tls-key") {
      p.net.tls_key = v;
    } else if (a == "--tls-ca") {
      p.net.tls_ca = v;
    } else if (a == "--heartbeat") {
      ok = duration(p.net.heartbeat);
    } else if (a == "--connection-timeout") {
      ok = duration(p.net.connection_timeout);
    } else if (a == "--join-timeout") {
      caf::timespan d{};
      ok = duration(d);
      p.join_timeout = d;
    } else if (a == "--threads") {
      ok = count(1, 1024, p.net.threads);
    } else if (a == "--listen" && allowed({"server", "edge"})) {
      ok = address(p.listen);
    } else if (a == "--set" && role == "server") {
      p.overrides.push_back(v);
    } else if (a == "--out" && role == "server") {
      p.out_dir = v;
    } else if (a == "--resume" && role == "server") {
      if (v.empty()) {
        bad(role, "--resume: expected a run directory, got ''");
        return std::nullopt;
      }
      p.resume_dir = v;
    } else if (a == "--server" && role == "edge") {
      ok = address(p.server);
    } else if (a == "--id" && role == "edge") {
      uint32_t n = 0;
      ok = count(0, 0xfffffffeu, n);
      p.id = n;
    } else if (a == "--region" && role == "edge") {
      p.region = v;
    } else if (a == "--capacity" && role == "edge") {
      ok = count(1, 0xffffffffu, p.capacity);
    } else if (a == "--wait-hosts" && role == "edge") {
      ok = count(0, 0xffffffffu, p.wait_hosts);
    } else if (a == "--trainers" && allowed({"edge", "clients"})) {
      ok = count(1, 1024, p.trainers);
    } else if (a == "--state-file" && allowed({"edge", "clients"})) {
      if (v.empty()) {
        bad(role, "--state-file: expected a file path, got ''");
        return std::nullopt;
      }
      p.state_file = v;
    } else if (a == "--edge" && role == "clients") {
      ok = address(p.edge);
    } else if (a == "--ids" && role == "clients") {
      uint32_t first = 0, last = 0;
      if (!parse_id_range(v, first, last)) {
        bad(role, "--ids: expected A-B with A <= B, got '" + v + "'");
        return std::nullopt;
      }
      p.ids = std::make_pair(first, last);
    } else if (a == "--max-live" && role == "clients") {
      ok = count(1, 0xffffffffu, p.max_live);
    } else {
      bad(role, "unknown option '" + a + "'");
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
  }
  if (auto err = check(p.net, *parse_node_role(role))) {
    bad(role, *err);
    return std::nullopt;
  }
  return p;
}

// An edge or client-host node on its first SIGINT / SIGTERM: leaves when it serves (its
// peer sees it lost at once), else (connecting, registering) exits at once.
std::function<void(int)> leave_on_signal(std::shared_ptr<stop_switch> stop) {
  return [stop](int sig) {
    if (stop->request(signal_name(sig))) {
      std::fprintf(stderr, "fedactor: %s: leaving (again exits at once)\n",
                   signal_name(sig).c_str());
      std::fflush(stderr);
      return;
    }
    std::fprintf(stderr, "fedactor: %s: not serving yet: exiting\n", signal_name(sig).c_str());
    std::fflush(stderr);
    std::_Exit(exit_code_for(sig));
  };
}

// A node that left on a signal exits 128 + the signal; otherwise with its own code.
int exit_code(int code, const signal_watch& signals) {
  return code == 0 && signals.first() ? exit_code_for(signals.first()) : code;
}

int server_role(const std::vector<std::string>& args) {
  int code = 2;
  auto p = parse("server", args, code);
  if (!p) return code;
  if (!p->listen) return bad("server", "--listen HOST:PORT is required");
  const auto live_at = check_live_view(p->http);
  if (!live_at.error.empty()) return bad("server", live_at.error);
  if (live_at.endpoint && !p->resume_dir.empty())
    return bad("server", "--http is not available with --resume");
  scenario sc;
  std::string out_dir;
  std::shared_ptr<const run_checkpoint> resume;
  if (!p->resume_dir.empty()) {
    if (!p->file.empty() || !p->overrides.empty() || !p->out_dir.empty() || p->overwrite)
      return bad("server",
                 "--resume continues DIR with DIR/scenario.yaml; it takes no scenario file, "
                 "--set, --out or --overwrite");
    std::string error;
    if (!load_resume_scenario(p->resume_dir, sc, error)) {
      std::cerr << "error: " << error << '\n';
      return 2;
    }
    try {
      auto c = read_run_checkpoint(checkpoint_dir_of(p->resume_dir));
      if (c.scenario_yaml != to_yaml(sc))
        throw checkpoint_error(checkpoint_state_file(checkpoint_dir_of(p->resume_dir)).string() +
                               ": written by a run of another scenario");
      resume = std::make_shared<const run_checkpoint>(std::move(c));
    } catch (const checkpoint_error& e) {
      std::cerr << "error: " << e.what() << '\n';
      return 2;
    }
    out_dir = p->resume_dir;
  } else {
    if (p->file.empty()) return bad("server", "no scenario file given");
    out_dir = p->out_dir;
    if (auto err = prepare_new_run(p->file, p->overrides, p->overwrite, sc, out_dir)) {
      std::cerr << "error: " << *err << '\n';
      return 2;
    }
  }
  try {
    auto stop = std::make_shared<stop_switch>();
    signal_watch signals{[&](int sig) {
      std::fprintf(stderr, "%s\n", stopping_line(sig, sc).c_str());
      std::fflush(stderr);
      stop->request(signal_name(sig));
    }};
    std::unique_ptr<live_view> live;
    if (live_at.endpoint) {
      std::string error;
      live =
          live_view::start(*live_at.endpoint, out_dir, sc.name, p->http.linger_s, std::cerr, error);
      if (!live) {
        std::cerr << "error: " << error << '\n';
        return 1;
      }
    }
    std::optional<run_output> output;
    if (resume)
      output.emplace(sc, out_dir, p->quiet, resume->round);
    else
      output.emplace(sc, out_dir, p->quiet);
    limit_math_threads();
    server_node_options opts;
    opts.checkpoint_dir = checkpoint_dir_of(out_dir);
    opts.resume = resume;
    opts.stop = stop;
    opts.sc = sc;
    opts.listen = *p->listen;
    opts.net = p->net;
    if (p->join_timeout) opts.join_timeout = *p->join_timeout;
    opts.on_listening = [&](uint16_t port) {
      std::printf("listening on %s\n", to_string(host_port{p->listen->host, port}).c_str());
      std::fflush(stdout);
    };
    opts.on_round = [&](const round_record& r) {
      output->on_round(r);
      if (live) live->on_record(r);
    };
    opts.log = node_logger{"server"}.fn();
    auto res = run_server_node(opts);
    opts.log(wire_rejects_line());
    if (res.guarded)
      res.result.summary.refused_peers = {{"malformed_frame", res.frames_refused},
                                          {"truncated_frame", res.frames_truncated}};
    if (res.ran) {
      output->finish(res.spec, res.result);
    } else if (resume) {
      // Stopped before the edges joined: nothing ran; the run stays as its checkpoint left it.
      std::printf("stopped before the edges joined: %s unchanged, resume it again\n",
                  out_dir.c_str());
    } else {
      output->finish(res.spec, res.result);
    }
    if (live) {  // a signal ends --http-linger (one that stopped the run skips it)
      auto lingering = stop->arm([&live](const std::string&) { live->end_linger(); });
      live->finish(res.result.summary);
    }
    return res.result.summary.interrupted && signals.first() ? exit_code_for(signals.first()) : 0;
  } catch (const checkpoint_error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

int edge_role(const std::vector<std::string>& args) {
  int code = 2;
  auto p = parse("edge", args, code);
  if (!p) return code;
  if (!p->server) return bad("edge", "--server HOST:PORT is required");
  if (!p->listen) return bad("edge", "--listen HOST:PORT is required");
  if (!p->id) return bad("edge", "--id N is required");
  auto stop = std::make_shared<stop_switch>();
  signal_watch signals{leave_on_signal(stop)};
  limit_math_threads();
  edge_node_options opts;
  opts.stop = stop;
  opts.server = *p->server;
  opts.listen = *p->listen;
  opts.id = *p->id;
  opts.region = p->region;
  opts.capacity = p->capacity;
  opts.trainers = p->trainers;
  opts.wait_hosts = p->wait_hosts;
  opts.state_file = p->state_file;
  if (p->join_timeout) opts.join_timeout = *p->join_timeout;
  opts.net = p->net;
  opts.on_listening = [&](uint16_t port) {
    std::printf("listening on %s\n", to_string(host_port{p->listen->host, port}).c_str());
    std::fflush(stdout);
  };
  opts.log = node_logger{"edge " + std::to_string(*p->id)}.fn();
  try {
    const int rc = run_edge_node(opts);
    opts.log(wire_rejects_line());
    opts.log(result_refusals_line(counted_result_refusals()));
    return exit_code(rc, signals);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

int clients_role(const std::vector<std::string>& args) {
  int code = 2;
  auto p = parse("clients", args, code);
  if (!p) return code;
  if (!p->edge) return bad("clients", "--edge HOST:PORT is required");
  if (!p->ids) return bad("clients", "--ids A-B is required");
  auto stop = std::make_shared<stop_switch>();
  signal_watch signals{leave_on_signal(stop)};
  limit_math_threads();
  clients_node_options opts;
  opts.stop = stop;
  opts.edge = *p->edge;
  opts.first = p->ids->first;
  opts.last = p->ids->second;
  opts.max_live = p->max_live;
  opts.trainers = p->trainers;
  opts.state_file = p->state_file;
  if (p->join_timeout) opts.join_timeout = *p->join_timeout;
  opts.net = p->net;
  opts.log =
      node_logger{"clients " + std::to_string(opts.first) + "-" + std::to_string(opts.last)}.fn();
  try {
    const int rc = run_clients_node(opts);
    opts.log(wire_rejects_line());
    return exit_code(rc, signals);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace

int node_command(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::cerr << "fedactor node: no role given (server, edge or clients)\n" << usage << '\n';
    return 2;
  }
  const std::string& role = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (role == "server") return server_role(rest);
  if (role == "edge") return edge_role(rest);
  if (role == "clients") return clients_role(rest);
  if (role == "-h" || role == "--help") {
    std::cout << usage << '\n';
    return 0;
  }
  std::cerr << "fedactor node: unknown role '" << role << "' (server, edge or clients)\n"
            << usage << '\n';
  return 2;
}

}  // namespace fedactor
