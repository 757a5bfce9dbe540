// The command table and the dispatch of `fedactor` (runtime/cli/commands.cpp), in-process:
// every command and node role answers --help with its options and an unknown option with one
// line, exit 2.

#include "runtime/cli/commands.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/cli/version.hpp"
#include "tests/support/fedactor_cli.hpp"

using namespace fedactor;
using fedactor::testing::cli_result;

namespace {

cli_result dispatch(const std::vector<std::string>& args) {
  return fedactor::testing::in_process(
      [](const auto& a, auto& out, auto& err) { return fedactor_main(a, out, err); }, args);
}

// "run" or "node edge".
std::string key_of(const cli_command& c) {
  return c.group.empty() ? c.name : c.group + " " + c.name;
}

// The command's words then `more`.
std::vector<std::string> words(const cli_command& c, std::vector<std::string> more) {
  std::vector<std::string> w;
  if (!c.group.empty()) w.push_back(c.group);
  w.push_back(c.name);
  w.insert(w.end(), more.begin(), more.end());
  return w;
}

size_t lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("the command table holds every command and node role once, in the list's order",
          "[cli]") {
  std::vector<std::string> keys;
  for (const auto& c : cli_commands()) keys.push_back(key_of(c));
  CHECK(keys == std::vector<std::string>{"run", "node server", "node edge", "node clients", "bench",
                                         "report", "scenario check", "scenario keys",
                                         "completion bash", "version", "help"});
  for (const auto& c : cli_commands()) {
    INFO(key_of(c));
    const auto spec = c.spec(c.name);
    CHECK(spec.command == "fedactor " + key_of(c));
    CHECK(spec.usage.rfind("usage: fedactor " + key_of(c), 0) == 0);
    // Named in the command list.
    const std::string listed = "\n  " + (c.group.empty() ? c.name : c.group);
    CHECK(std::string{fedactor_usage}.find(listed) != std::string::npos);
  }
}

TEST_CASE("every command and node role: --help prints its usage and every option, exit 0",
          "[cli]") {
  for (const auto& c : cli_commands()) {
    const cli_spec spec = c.spec(c.name);  // options() refers into it
    for (const char* flag : {"--help", "-h"}) {
      INFO(key_of(c) + " " + flag);
      auto r = dispatch(words(c, {flag}));
      CHECK(r.code == 0);
      CHECK(r.err.empty());
      CHECK(r.out.rfind("usage: fedactor " + key_of(c), 0) == 0);
      for (const auto& o : spec.options.options()) {
        INFO(o->long_name());
        CHECK(r.out.find("\n  --" + o->long_name() + " ") != std::string::npos);
      }
      CHECK(r.out.find("\n  -h [ --help ] ") != std::string::npos);
    }
  }
}

TEST_CASE("every command and node role: an unknown option is one line naming it, exit 2", "[cli]") {
  for (const auto& c : cli_commands()) {
    for (const char* bogus : {"--bogus", "--bogus=1"}) {
      INFO(key_of(c) + " " + bogus);
      auto r = dispatch(words(c, {bogus}));
      CHECK(r.code == 2);
      CHECK(r.out.empty());
      CHECK(r.err == "fedactor " + key_of(c) + ": unknown option '--bogus' (see fedactor " +
                         key_of(c) + " --help)\n");
    }
  }
}

TEST_CASE("fedactor help and --help list the commands, help COMMAND is COMMAND --help", "[cli]") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"help"}, {"--help"}, {"-h"}, {"help", "help"}}) {
    INFO(args.back());
    auto r = dispatch(args);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == fedactor_usage);
  }
  for (const auto& c : cli_commands()) {
    if (c.name == "help") continue;
    INFO(key_of(c));
    std::vector<std::string> help{"help"};
    for (auto& w : words(c, {})) help.push_back(w);
    auto h = dispatch(help);
    auto direct = dispatch(words(c, {"--help"}));
    CHECK(h.code == 0);
    CHECK(h.out == direct.out);
  }
  auto group = dispatch({"help", "node"});
  CHECK(group.code == 0);
  CHECK(group.out.rfind("usage: fedactor node server ", 0) == 0);
  auto unknown = dispatch({"help", "trian"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.rfind("fedactor: unknown command 'trian'\nusage: fedactor COMMAND ...\n", 0) ==
        0);
}

TEST_CASE("fedactor without a command, or with an unknown one, lists the commands, exit 2",
          "[cli]") {
  auto none = dispatch({});
  CHECK(none.code == 2);
  CHECK(none.out.empty());
  CHECK(none.err == fedactor_usage);
  auto unknown = dispatch({"trian", "x.yaml"});
  CHECK(unknown.code == 2);
  CHECK(unknown.out.empty());
  CHECK(unknown.err == std::string{"fedactor: unknown command 'trian'\n"} + fedactor_usage);
  auto option = dispatch({"--frob"});
  CHECK(option.code == 2);
  CHECK(option.err == std::string{"fedactor: unknown option '--frob'\n"} + fedactor_usage);
}

TEST_CASE("fedactor version and --version print the version, extra arguments are refused",
          "[cli]") {
  for (const char* form : {"version", "--version"}) {
    INFO(form);
    auto r = dispatch({form});
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == std::string{"fedactor "} + fedactor_version() + "\n");
  }
  auto extra = dispatch({"version", "now"});
  CHECK(extra.code == 2);
  CHECK(extra.err == "fedactor version: too many arguments (see fedactor version --help)\n");
  CHECK(lines(extra.err) == 1);
}

TEST_CASE("node and scenario without a role or with an unknown one refuse it, exit 2", "[cli]") {
  auto no_role = dispatch({"node"});
  CHECK(no_role.code == 2);
  CHECK(no_role.err.rfind("fedactor node: no role given (server, edge or clients)\nusage:", 0) ==
        0);
  auto bad_role = dispatch({"node", "hub"});
  CHECK(bad_role.code == 2);
  CHECK(bad_role.err.rfind("fedactor node: unknown role 'hub' (server, edge or clients)\n", 0) ==
        0);
  auto node_help = dispatch({"node", "--help"});
  CHECK(node_help.code == 0);
  CHECK(node_help.out.find("fedactor node ROLE --help") != std::string::npos);
  auto no_sub = dispatch({"scenario"});
  CHECK(no_sub.code == 2);
  CHECK(no_sub.err.rfind("usage: fedactor scenario check", 0) == 0);
}
