#include "runtime/cli/run_command.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <filesystem>
#include <iostream>

#include <caf/actor_system.hpp>

#include "runtime/cli/live_view.hpp"
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
    "       fedactor run --resume DIR [--threads N] [--quiet]";

}  // namespace

int run_command(const std::vector<std::string>& args) {
  std::string file;
  std::string out_dir;
  std::string resume_dir;
  std::vector<std::string> overrides;
  int threads = 0;
  bool quiet = false;
  bool overwrite = false;
  live_view_options http;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (std::string error; take_live_view_option(args, i, http, error)) {
      if (error.empty()) continue;
      std::cerr << "fedactor run: " << error << '\n';
      return 2;
    }
    auto value = [&](const char* flag) -> const std::string* {
      if (i + 1 >= args.size()) {
        std::cerr << "fedactor run: " << flag << " needs a value\n" << usage << '\n';
        return nullptr;
      }
      return &args[++i];
    };
    if (a == "--set") {
      auto v = value("--set");
      if (!v) return 2;
      overrides.push_back(*v);
    } else if (a.rfind("--set=", 0) == 0) {
      overrides.push_back(a.substr(6));
    } else if (a == "--out") {
      auto v = value("--out");
      if (!v) return 2;
      out_dir = *v;
    } else if (a == "--threads") {
      auto v = value("--threads");
      if (!v) return 2;
      try {
        threads = std::stoi(*v);
      } catch (const std::exception&) {
        threads = -1;
      }
      if (threads < 1 || threads > 1024) {
        std::cerr << "fedactor run: --threads: expected a number in [1, 1024], got '" << *v
                  << "'\n";
        return 2;
      }
    } else if (a == "--resume") {
      auto v = value("--resume");
      if (!v) return 2;
      resume_dir = *v;
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a == "--overwrite") {
      overwrite = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << usage << '\n';
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::cerr << "fedactor run: unknown option '" << a << "'\n" << usage << '\n';
      return 2;
    } else if (file.empty()) {
      file = a;
    } else {
      std::cerr << "fedactor run: more than one scenario file ('" << file << "', '" << a << "')\n";
      return 2;
    }
  }
  const auto live_at = check_live_view(http);
  if (!live_at.error.empty()) {
    std::cerr << "fedactor run: " << live_at.error << '\n';
    return 2;
  }
  if (!resume_dir.empty()) {
    if (live_at.endpoint) {
      std::cerr << "fedactor run: --http is not available with --resume\n";
      return 2;
    }
    if (!file.empty() || !overrides.empty() || !out_dir.empty()) {
      std::cerr << "fedactor run: --resume continues DIR with DIR/scenario.yaml; it takes no "
                   "scenario file, --set or --out\n";
      return 2;
    }
    return resume_run(resume_dir, threads, quiet);
  }
  if (file.empty()) {
    std::cerr << "fedactor run: no scenario file given\n" << usage << '\n';
    return 2;
  }
  scenario sc;
  if (auto err = prepare_new_run(file, overrides, overwrite, sc, out_dir)) {
    std::cerr << "error: " << *err << '\n';
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
    return result.summary.interrupted && signals.first() ? exit_code_for(signals.first()) : 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace fedactor
