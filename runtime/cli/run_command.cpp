#include "runtime/cli/run_command.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>

#include <caf/actor_system.hpp>

#include "runtime/host/federation.hpp"
#include "runtime/host/system_config.hpp"
#include "runtime/learning/local_training.hpp"
#include "runtime/metrics/metrics_writer.hpp"
#include "runtime/scenario/load.hpp"

namespace fedactor {

namespace {

constexpr const char* usage =
    "usage: fedactor run SCENARIO.yaml [--set key=value]... [--out DIR] [--threads N] [--quiet]";

std::string default_out_dir(const scenario& s) {
  auto now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return "runs/" + s.name + "-" + stamp;
}

std::string format_eta(double seconds) {
  char buf[32];
  if (seconds >= 3600)
    std::snprintf(buf, sizeof(buf), "%dh%02dm", int(seconds / 3600), int(seconds / 60) % 60);
  else if (seconds >= 60)
    std::snprintf(buf, sizeof(buf), "%dm%02ds", int(seconds / 60), int(seconds) % 60);
  else
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  return buf;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  std::string file;
  std::string out_dir;
  std::vector<std::string> overrides;
  int threads = 0;
  bool quiet = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
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
    } else if (a == "--quiet") {
      quiet = true;
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
  if (file.empty()) {
    std::cerr << "fedactor run: no scenario file given\n" << usage << '\n';
    return 2;
  }
  scenario sc;
  if (auto err = load_scenario_file(file, sc)) {
    std::cerr << "error: " << err->message << '\n';
    return 2;
  }
  for (const auto& o : overrides) {
    if (auto err = apply_override(o, sc)) {
      std::cerr << "error: " << err->message << '\n';
      return 2;
    }
  }
  if (auto err = validate(sc)) {
    std::cerr << "error: " << err->message << '\n';
    return 2;
  }
  if (out_dir.empty()) out_dir = default_out_dir(sc);

  try {
    metrics_writer writer{out_dir};
    writer.write_text("scenario.yaml", to_yaml(sc));
    limit_math_threads();
    system_config cfg;
    if (threads > 0) cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
    caf::actor_system sys{cfg};
    federation fl{sys, sc};
    const uint32_t rounds = sc.protocol.rounds;
    double elapsed = 0;
    fl.on_round([&](const round_record& r) {
      writer.write(r);
      elapsed += r.wall_s;
      if (!quiet) {
        const double eta = elapsed / r.round * (rounds - r.round);
        std::fprintf(stderr,
                     "round %u/%u  loss %.4f  clients %u  failures %u  %.0f clients/s  "
                     "%.2fs  left %s\n",
                     r.round, rounds, r.mean_loss, r.clients, r.failures, r.clients_per_s, r.wall_s,
                     format_eta(eta).c_str());
      }
    });
    auto result = fl.run();
    save_model_pt(fl.spec(), result.model, out_dir + "/model.pt");
    writer.write_summary(result.summary);
    const auto& s = result.summary;
    std::printf(
        "%s: %u rounds, %llu clients trained, %llu failures, %.2fs, %.0f clients/s, "
        "final loss %.4f\nmodel sha256 %s, l2 %.6f, peak RSS %.1f MiB\noutput: %s\n",
        s.scenario.c_str(), s.rounds, static_cast<unsigned long long>(s.clients_trained),
        static_cast<unsigned long long>(s.failures), s.wall_s, s.mean_clients_per_s, s.final_loss,
        s.model_sha256.c_str(), s.model_l2, s.peak_rss_bytes / 1048576.0, out_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace fedactor
