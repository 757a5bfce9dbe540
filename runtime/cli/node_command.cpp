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
#include "runtime/cli/live_view_cli.hpp"
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
    "       fedactor node edge    --server HOST:PORT|--parent HOST:PORT --listen HOST:PORT --id N\n"
    "                             [--region R] [--capacity N] [--trainers N] [--wait-hosts N]\n"
    "                             [--state-file F] [--host-aggregation on|off]\n"
    "       fedactor node clients --edge HOST:PORT --ids A-B [--max-live N] [--trainers N]\n"
    "                             [--state-file F]\n"
    "every role: [--tls-cert FILE --tls-key FILE --tls-ca FILE [--tls-accept-roleless]]\n"
    "            [--heartbeat 500ms] [--connection-timeout 5s] [--join-timeout 60s] [--threads N]\n"
    "            [--idle-polling sleep|spin]\n"
    "(fedactor node ROLE --help: the options of one role; docs/deployment.md)";

constexpr const char* server_usage =
    "usage: fedactor node server --listen HOST:PORT SCENARIO.yaml [--set key=value]... "
    "[--out DIR] [--overwrite] [--quiet]\n"
    "                            [--http [HOST:]PORT [--http-public] [--http-linger SECONDS]]\n"
    "       fedactor node server --listen HOST:PORT --resume DIR [--quiet]\n"
    "  the server of a distributed run: waits for the scenario's edges, runs it and writes the\n"
    "  run's outputs as fedactor run does (docs/deployment.md)\n";

constexpr const char* edge_usage =
    "usage: fedactor node edge --server HOST:PORT|--parent HOST:PORT --listen HOST:PORT --id N\n"
    "                          [--region R] [--capacity N] [--trainers N] [--wait-hosts N]\n"
    "                          [--state-file F] [--host-aggregation on|off]\n"
    "  an edge of a distributed run: joins the server as edge N (or, with --parent, a parent\n"
    "  edge as its child N) and serves its client hosts and child edges (docs/deployment.md)\n";

constexpr const char* clients_usage =
    "usage: fedactor node clients --edge HOST:PORT --ids A-B [--max-live N] [--trainers N]\n"
    "                             [--state-file F]\n"
    "  a client host of a distributed run: trains clients A to B for its edge\n"
    "  (docs/deployment.md)\n";

void add_net_options(po::options_description& opts) {
  opts.add_options()("tls-cert", po::value<std::string>()->value_name("FILE"),
                     "this node's certificate (PEM; with --tls-key and --tls-ca)")(
      "tls-key", po::value<std::string>()->value_name("FILE"), "its private key (PEM)")(
      "tls-ca", po::value<std::string>()->value_name("FILE"),
      "the CA that certifies every node of the run (PEM)")(
      "tls-accept-roleless", "accept peer certificates without a fedactor role")(
      "heartbeat", po::value<std::string>()->value_name("DURATION"),
      "heartbeat interval, e.g. 500ms (default)")(
      "connection-timeout", po::value<std::string>()->value_name("DURATION"),
      "a silent peer is lost after this, e.g. 5s (default)")(
      "join-timeout", po::value<std::string>()->value_name("DURATION"),
      "how long to wait for the peers to join, e.g. 60s")(
      "threads", po::value<std::string>()->value_name("N"), "scheduler threads, 1 to 1024")(
      "idle-polling", po::value<std::string>()->value_name("sleep|spin"),
      "how idle scheduler threads wait: sleep (default) or spin (CAF's polling)");
}

// Edge and client-host nodes: they train clients.
void add_training_options(po::options_description& opts) {
  opts.add_options()("state-file", po::value<std::string>()->value_name("FILE"),
                     "the SQLite file of the client state of the clients trained here");
  opts.add_options()("trainers", po::value<std::string>()->value_name("N"),
                     "training threads, 1 to 1024");
}

int bad(std::ostream& err, const std::string& role, const std::string& what) {
  err << "fedactor node " << role << ": " << what << '\n';
  return 2;
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
  std::optional<host_port> parent;
  std::optional<uint32_t> id;
  std::string region;
  uint32_t capacity = 0;
  uint32_t trainers = 0;
  std::string state_file;  // edge, clients
  uint32_t wait_hosts = 0;
  bool host_aggregation = true;
  // clients
  std::optional<host_port> edge;
  std::optional<std::pair<uint32_t, uint32_t>> ids;
  uint32_t max_live = 0;
};

// The values of `vm` for `role` into `p`; false with the one-line `error` naming the option
// and its value.
bool read_values(const std::string& role, const po::variables_map& vm, parsed& p,
                 std::string& error) {
  auto address = [&](const char* name, std::optional<host_port>& out) {
    if (!vm.count(name)) return true;
    std::string why;
    out = parse_host_port(vm[name].as<std::string>(), why);
    if (!out) error = std::string{"--"} + name + ": " + why;
    return out.has_value();
  };
  auto duration = [&](const char* name, auto&& set) {
    if (!vm.count(name)) return true;
    const auto& v = vm[name].as<std::string>();
    auto d = parse_duration(v);
    if (!d) {
      error = std::string{"--"} + name + ": expected a duration such as 500ms, 5s or 2m, got '" +
              v + "'";
      return false;
    }
    set(*d);
    return true;
  };
  auto file_path = [&](const char* name, std::string& out, const char* what) {
    if (!vm.count(name)) return true;
    out = vm[name].as<std::string>();
    if (out.empty()) error = std::string{"--"} + name + ": expected " + what + ", got ''";
    return !out.empty();
  };
  p.net.tls_cert = string_option(vm, "tls-cert");
  p.net.tls_key = string_option(vm, "tls-key");
  p.net.tls_ca = string_option(vm, "tls-ca");
  p.net.tls_accept_roleless = vm.count("tls-accept-roleless") > 0;
  if (!duration("heartbeat", [&](caf::timespan d) { p.net.heartbeat = d; }) ||
      !duration("connection-timeout", [&](caf::timespan d) { p.net.connection_timeout = d; }) ||
      !duration("join-timeout", [&](caf::timespan d) { p.join_timeout = d; }) ||
      !count_option(vm, "threads", 1, 1024, p.net.threads, error) || !address("listen", p.listen))
    return false;
  if (p.net.threads == 0) p.net.threads = default_node_threads;
  if (vm.count("idle-polling")) {
    const auto& v = vm["idle-polling"].as<std::string>();
    const auto polling = parse_idle_polling(v);
    if (!polling) {
      error = "--idle-polling: expected sleep or spin, got '" + v + "'";
      return false;
    }
    p.net.polling = *polling;
  }
  if (role == "server") {
    const auto files = list_option(vm, "file");
    if (files.size() > 1) {
      error = "more than one scenario file ('" + files[0] + "', '" + files[1] + "')";
      return false;
    }
    if (!files.empty()) p.file = files[0];
    p.overrides = list_option(vm, "set");
    p.out_dir = string_option(vm, "out");
    p.quiet = vm.count("quiet") > 0;
    p.overwrite = vm.count("overwrite") > 0;
    return file_path("resume", p.resume_dir, "a run directory") &&
           live_view_options_of(vm, p.http, error);
  }
  if (const auto extra = list_option(vm, "extra"); !extra.empty()) {
    error = "unexpected argument '" + extra[0] + "'";
    return false;
  }
  if (!count_option(vm, "trainers", 1, 1024, p.trainers, error) ||
      !file_path("state-file", p.state_file, "a file path"))
    return false;
  if (role == "edge") {
    uint32_t id = 0;
    if (!address("server", p.server) || !address("parent", p.parent) ||
        !count_option(vm, "id", 0, 0xfffffffeu, id, error) ||
        !count_option(vm, "capacity", 1, 0xffffffffu, p.capacity, error) ||
        !count_option(vm, "wait-hosts", 0, 0xffffffffu, p.wait_hosts, error))
      return false;
    if (vm.count("id")) p.id = id;
    p.region = string_option(vm, "region");
    if (vm.count("host-aggregation")) {
      const auto& v = vm["host-aggregation"].as<std::string>();
      if (v != "on" && v != "off") {
        error = "--host-aggregation: expected on or off, got '" + v + "'";
        return false;
      }
      p.host_aggregation = v == "on";
    }
    return true;
  }
  if (vm.count("ids")) {
    const auto& v = vm["ids"].as<std::string>();
    uint32_t first = 0, last = 0;
    if (!parse_id_range(v, first, last)) {
      error = "--ids: expected A-B with A <= B, got '" + v + "'";
      return false;
    }
    p.ids = std::make_pair(first, last);
  }
  return address("edge", p.edge) && count_option(vm, "max-live", 1, 0xffffffffu, p.max_live, error);
}

// Parses `args` for `role`; nullopt after --help or the problem (exit code in `code`).
std::optional<parsed> parse(const std::string& role, const std::vector<std::string>& args,
                            std::ostream& out, std::ostream& err, int& code) {
  const cli_spec spec = node_cli_spec(role);
  po::variables_map vm;
  if (auto c = parse_cli(args, spec, vm, out, err)) {
    code = *c;
    return std::nullopt;
  }
  code = 2;
  parsed p;
  std::string error;
  if (!read_values(role, vm, p, error)) {
    bad(err, role, error);
    return std::nullopt;
  }
  if (auto e = check(p.net, *parse_node_role(role))) {
    bad(err, role, *e);
    return std::nullopt;
  }
  return p;
}

}  // namespace

cli_spec node_cli_spec(const std::string& role) {
  const char* role_usage = role == "server" ? server_usage
                           : role == "edge" ? edge_usage
                                            : clients_usage;
  cli_spec spec{"fedactor node " + role, role_usage, po::options_description{"options"},
                po::options_description{}, po::positional_options_description{}};
  auto& o = spec.options;
  if (role == "server") {
    o.add_options()("listen", po::value<std::string>()->value_name("HOST:PORT"),
                    "where the edges join (required; port 0: any free port)")(
        "set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
        "override one scenario key (repeatable, applied in order)")(
        "out", po::value<std::string>()->value_name("DIR"),
        "the run's output directory (default runs/NAME-TIMESTAMP)")(
        "overwrite", "replace the run an --out DIR already holds")(
        "quiet", "no progress line per round")("resume",
                                               po::value<std::string>()->value_name("DIR"),
                                               "continue the run in DIR from its last checkpoint");
    add_live_view_options(o);
    spec.hidden.add_options()(
        "file", po::value<std::vector<std::string>>()->value_name("SCENARIO.yaml"), "");
    spec.positional.add("file", -1);
  } else if (role == "edge") {
    o.add_options()("server", po::value<std::string>()->value_name("HOST:PORT"),
                    "the server to join (this or --parent)")(
        "parent", po::value<std::string>()->value_name("HOST:PORT"),
        "the parent edge to join instead, as its child (an aggregation tree)")(
        "listen", po::value<std::string>()->value_name("HOST:PORT"),
        "where the client hosts join (required; port 0: any free port)")(
        "id", po::value<std::string>()->value_name("N"), "this edge's id (required)")(
        "region", po::value<std::string>()->value_name("R"),
        "this edge's region, checked by the server against the scenario's (default: the "
        "scenario's)")("capacity", po::value<std::string>()->value_name("N"),
                       "clients trained at once (default: the scenario's)")(
        "wait-hosts", po::value<std::string>()->value_name("N"),
        "client hosts and child edges to wait for before the edge joins the server or its "
        "parent")("host-aggregation", po::value<std::string>()->value_name("on|off"),
                  "sync rounds: each client host sends one exact aggregate of its clients per "
                  "round (on, the default, where the round's settings allow it: "
                  "docs/communication.md) or one update per client (off)");
    add_training_options(o);
  } else {
    o.add_options()("edge", po::value<std::string>()->value_name("HOST:PORT"),
                    "the edge to join (required)")(
        "ids", po::value<std::string>()->value_name("A-B"),
        "the client ids trained here, A to B (required)")(
        "max-live", po::value<std::string>()->value_name("N"), "clients kept in memory at once");
    add_training_options(o);
  }
  add_net_options(o);
  if (role != "server") {
    spec.hidden.add_options()("extra", po::value<std::vector<std::string>>()->value_name(""), "");
    spec.positional.add("extra", -1);
  }
  return spec;
}

namespace {

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

int server_role(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int code = 2;
  auto p = parse("server", args, out, err, code);
  if (!p) return code;
  if (!p->listen) return bad(err, "server", "--listen HOST:PORT is required");
  const auto live_at = check_live_view(p->http);
  if (!live_at.error.empty()) return bad(err, "server", live_at.error);
  if (live_at.endpoint && !p->resume_dir.empty())
    return bad(err, "server", "--http is not available with --resume");
  scenario sc;
  std::string out_dir;
  std::shared_ptr<const run_checkpoint> resume;
  if (!p->resume_dir.empty()) {
    if (!p->file.empty() || !p->overrides.empty() || !p->out_dir.empty() || p->overwrite)
      return bad(err, "server",
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
    if (p->file.empty())
      return bad(err, "server", "no scenario file given (see fedactor node server --help)");
    out_dir = p->out_dir;
    if (auto e = prepare_new_run(p->file, p->overrides, p->overwrite, sc, out_dir)) {
      std::cerr << "error: " << *e << '\n';
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
    if (res.bytes_counted) opts.log("bytes " + describe(res.bytes, "edges"));
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
    if (ended_stalled(res.result.summary)) return 1;
    return res.result.summary.interrupted && signals.first() ? exit_code_for(signals.first()) : 0;
  } catch (const checkpoint_error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

int edge_role(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int code = 2;
  auto p = parse("edge", args, out, err, code);
  if (!p) return code;
  if (p->server && p->parent)
    return bad(err, "edge", "--server and --parent exclude each other: an edge joins one");
  if (!p->server && !p->parent)
    return bad(err, "edge", "--server HOST:PORT (or --parent HOST:PORT) is required");
  if (!p->listen) return bad(err, "edge", "--listen HOST:PORT is required");
  if (!p->id) return bad(err, "edge", "--id N is required");
  auto stop = std::make_shared<stop_switch>();
  signal_watch signals{leave_on_signal(stop)};
  limit_math_threads();
  edge_node_options opts;
  opts.stop = stop;
  opts.server = p->server ? *p->server : *p->parent;
  opts.below_parent = p->parent.has_value();
  opts.listen = *p->listen;
  opts.id = *p->id;
  opts.region = p->region;
  opts.capacity = p->capacity;
  opts.trainers = p->trainers;
  opts.wait_hosts = p->wait_hosts;
  opts.host_aggregation = p->host_aggregation;
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

int clients_role(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  int code = 2;
  auto p = parse("clients", args, out, err, code);
  if (!p) return code;
  if (!p->edge) return bad(err, "clients", "--edge HOST:PORT is required");
  if (!p->ids) return bad(err, "clients", "--ids A-B is required");
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

int node_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty()) {
    err << "fedactor node: no role given (server, edge or clients)\n" << usage << '\n';
    return 2;
  }
  const std::string& role = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (role == "server") return server_role(rest, out, err);
  if (role == "edge") return edge_role(rest, out, err);
  if (role == "clients") return clients_role(rest, out, err);
  if (role == "-h" || role == "--help") {
    out << usage << '\n';
    return 0;
  }
  err << "fedactor node: unknown role '" << role << "' (server, edge or clients)\n"
      << usage << '\n';
  return 2;
}

int node_command(const std::vector<std::string>& args) {
  return node_command(args, std::cout, std::cerr);
}

}  // namespace fedactor
