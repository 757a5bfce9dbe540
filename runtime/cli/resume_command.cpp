#include "runtime/cli/resume_command.hpp"

#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>

#include <caf/actor_system.hpp>

#include "runtime/checkpoint/checkpoint_error.hpp"
#include "runtime/cli/run_output.hpp"
#include "runtime/cli/signal_watch.hpp"
#include "runtime/host/federation.hpp"
#include "runtime/host/stop_switch.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

std::string checkpoint_dir_of(const std::string& out_dir) {
  return (std::filesystem::path{out_dir} / "checkpoint").string();
}

bool load_resume_scenario(const std::string& dir, scenario& sc, std::string& error) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    error = "--resume " + dir + ": not a run directory";
    return false;
  }
  const std::string yaml = (std::filesystem::path{dir} / "scenario.yaml").string();
  if (auto err = load_scenario_file(yaml, sc)) {
    error = err->message;
    return false;
  }
  if (auto err = validate(sc)) {
    error = yaml + ": " + err->message;
    return false;
  }
  return true;
}

int resume_run(const std::string& dir, int threads, bool quiet) {
  scenario sc;
  std::string error;
  if (!load_resume_scenario(dir, sc, error)) {
    std::cerr << "error: " << error << '\n';
    return 2;
  }
  // Before anything starts threads, as for a fresh run: a resumed run stops cleanly too.
  stop_switch stop;
  signal_watch signals{[&](int sig) {
    std::fprintf(stderr, "%s\n", stopping_line(sig, sc).c_str());
    std::fflush(stderr);
    stop.request(signal_name(sig));
  }};
  std::optional<caf::actor_system> sys;
  try {
    limit_math_threads();
    system_config cfg;
    if (threads > 0) cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
    sys.emplace(cfg);
    federation fl{*sys, sc};
    const auto ckpt = checkpoint_dir_of(dir);
    const uint32_t done = fl.resume_from(ckpt);
    run_output output{sc, dir, quiet, done};
    fl.set_checkpoint(ckpt);
    for (const auto& w : fl.warnings()) std::cerr << "warning: " << w << '\n';
    fl.set_client_state_file(std::filesystem::path{dir} / "client_state.db");
    fl.on_round([&](const round_record& r) { output.on_round(r); });
    if (!quiet)
      std::fprintf(stderr, "resuming %s after %s %u\n", dir.c_str(),
                   sc.protocol.mode == protocol_mode::async ? "aggregation" : "round", done);
    auto armed = stop.arm([&fl](const std::string& reason) { fl.stop(reason); });
    auto result = fl.run();
    armed.release();
    output.finish(fl.spec(), result);
    return result.summary.interrupted && signals.first() ? exit_code_for(signals.first()) : 0;
  } catch (const checkpoint_error& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace fedactor
