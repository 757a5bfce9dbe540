#include "runtime/cli/run_command.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <iostream>

#include <caf/actor_system.hpp>

#include "runtime/cli/live_view.hpp"
#include "runtime/cli/live_view_cli.hpp"
#include "runtime/cli/resume_command.hpp"
#include "runtime/cli/run_output.hpp"
#include "runtime/cli/signal_watch.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/stop_switch.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/metrics/metrics_writer.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

constexpr const char* usage =
    "usage: fedactor run SCENARIO.yaml [--set key=value]... [--out DIR] [--overwrite] "
    "[--threads N] [--quiet]\n"
    "       [--http [HOST:]PORT [--http-public] [--http-linger SECONDS]]\n"
    "       fedactor run --resume DIR [--threads N] [--quiet]\n"
    "  runs the scenario in this process and writes metrics.jsonl, summary.json, model.pt and\n"
    "  scenario.yaml to DIR (docs/outputs.md); --resume continues the run in DIR from its last\n"
    "  checkpoint (docs/checkpoints.md); Ctrl-C stops cleanly (exit 130)\n";

}  // namespace

cli_spec run_cli_spec() {
  cli_spec spec{"fedactor run", usage, po::options_description{"options"},
                po::options_description{}, po::positional_options_description{}};
  spec.options.add_options()("set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
                             "override one scenario key after the file is loaded (repeatable, "
                             "applied in order; docs/scenarios.md, \"Overrides\")")(
      "out", po::value<std::string>()->value_name("DIR"),
      "the run's output directory (default runs/NAME-TIMESTAMP)")(
      "overwrite", "replace the run an --out DIR already holds")(
      "threads", po::value<std::string>()->value_name("N"),
      "scheduler threads, 1 to 1024 (default: the runtime's default)")(
      "quiet", "no progress line per round")(
      "resume", po::value<std::string>()->value_name("DIR"),
      "continue the run in DIR from its last checkpoint (no SCENARIO.yaml, --set or --out)");
  add_live_view_options(spec.options);
  spec.hidden.add_options()("file",
                            po::value<std::vector<std::string>>()->value_name("SCENARIO.yaml"),
                            "the scenario file");
  spec.positional.add("file", -1);
  return spec;
}

int run_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const cli_spec spec = run_cli_spec();
  po::variables_map vm;
  if (auto code = parse_cli(args, spec, vm, out, err)) return *code;
  const auto files = list_option(vm, "file");
  const auto overrides = list_option(vm, "set");
  std::string out_dir = string_option(vm, "out");
  const std::string resume_dir = string_option(vm, "resume");
  const bool quiet = vm.count("quiet") > 0;
  const bool overwrite = vm.count("overwrite") > 0;
  std::string error;
  uint32_t threads = 0;
  live_view_options http;
  if (!count_option(vm, "threads", 1, 1024, threads, error) ||
      !live_view_options_of(vm, http, error)) {
    err << "fedactor run: " << error << '\n';
    return 2;
  }
  if (files.size() > 1) {
    err << "fedactor run: more than one scenario file ('" << files[0] << "', '" << files[1]
        << "')\n";
    return 2;
  }
  const std::string file = files.empty() ? std::string{} : files[0];
  const auto live_at = check_live_view(http);
  if (!live_at.error.empty()) {
    err << "fedactor run: " << live_at.error << '\n';
    return 2;
  }
  if (vm.count("resume")) {
    if (live_at.endpoint) {
      err << "fedactor run: --http is not available with --resume\n";
      return 2;
    }
    if (!file.empty() || !overrides.empty() || vm.count("out")) {
      err << "fedactor run: --resume continues DIR with DIR/scenario.yaml; it takes no "
             "scenario file, --set or --out\n";
      return 2;
    }
    return resume_run(resume_dir, static_cast<int>(threads), quiet);
  }
  if (file.empty()) {
    err << "fedactor run: no scenario file given (see fedactor run --help)\n";
    return 2;
  }
  scenario sc;
  if (auto e = prepare_new_run(file, overrides, overwrite, sc, out_dir)) {
    err << "error: " << *e << '\n';
    return 2;
  }
  try {
    // Before anything starts threads (docs/outputs.md, "Stopping a run").
    stop_switch stop;
    signal_watch signals{[&](int sig) {
      std::fprintf(stderr, "%s\n", stopping_line(sig, sc).c_str());
      std::fflush(stderr);
      stop.request(signal_name(sig));
    }};
    std::unique_ptr<live_view> live;
    if (live_at.endpoint) {
      std::string error;
      live = live_view::start(*live_at.endpoint, out_dir, sc.name, http.linger_s, std::cerr, error);
      if (!live) {
        std::cerr << "error: " << error << '\n';
        return 1;
      }
    }
    run_output output{sc, out_dir, quiet};
    limit_math_threads();
    system_config cfg;
    if (threads > 0) cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
    caf::actor_system sys{cfg};
    federation fl{sys, sc};
    fl.set_checkpoint(checkpoint_dir_of(output.dir()));
    for (const auto& w : fl.warnings()) std::cerr << "warning: " << w << '\n';
    fl.set_client_state_file(std::filesystem::path{output.dir()} / "client_state.db");
    fl.on_round([&](const round_record& r) {
      output.on_round(r);
      if (live) live->on_record(r);
    });
    auto armed = stop.arm([&fl](const std::string& reason) { fl.stop(reason); });
    auto result = fl.run();
    armed.release();
    output.finish(fl.spec(), result);
    if (live) {  // a signal ends --http-linger (one that stopped the run skips it)
      auto lingering = stop.arm([&live](const std::string&) { live->end_linger(); });
      live->finish(result.summary);
    }
    if (ended_stalled(result.summary)) return 1;
    return result.summary.interrupted && signals.first() ? exit_code_for(signals.first()) : 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

int run_command(const std::vector<std::string>& args) {
  return run_command(args, std::cout, std::cerr);
}

}  // namespace fedactor
