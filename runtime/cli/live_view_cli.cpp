#include "runtime/cli/live_view_cli.hpp"

#include <vector>

namespace fedactor {

void add_live_view_options(po::options_description& opts) {
  opts.add_options()("http", po::value<std::string>()->value_name("[HOST:]PORT"),
                     "serve the live view (report page, /metrics, /health) there while the run "
                     "goes; loopback only unless --http-public (docs/observability.md)")(
      "http-public", "allow a non-loopback --http address (the live view has no authentication)")(
      "http-linger", po::value<std::string>()->value_name("SECONDS"),
      "keep serving the final page that long after the run (0 to 86400)");
}

bool live_view_options_of(const po::variables_map& vm, live_view_options& o, std::string& error) {
  // Each option through take_live_view_option: one place checks their values.
  std::vector<std::vector<std::string>> given;
  if (vm.count("http")) given.push_back({"--http", vm["http"].as<std::string>()});
  if (vm.count("http-public")) given.push_back({"--http-public"});
  if (vm.count("http-linger"))
    given.push_back({"--http-linger", vm["http-linger"].as<std::string>()});
  for (const auto& args : given) {
    size_t i = 0;
    take_live_view_option(args, i, o, error);
    if (!error.empty()) return false;
  }
  return true;
}

}  // namespace fedactor
