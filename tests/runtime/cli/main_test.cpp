// The fedactor executable (runtime/cli/main.cpp), through the built binary: main() hands
// argv to fedactor_main (commands_test.cpp tests the dispatch in-process) with stdout and
// stderr.

#include <string>

#include <catch2/catch.hpp>

#include "runtime/cli/version.hpp"
#include "tests/support/fedactor_cli.hpp"

using fedactor::testing::fedactor_cli;

TEST_CASE("fedactor without a command prints the usage on stderr and exits 2", "[cli]") {
  auto r = fedactor_cli("", 60);
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("usage: fedactor COMMAND ...\n", 0) == 0);
}

TEST_CASE("fedactor --help prints the usage with every command on stdout and exits 0", "[cli]") {
  for (const char* flag : {"--help", "-h", "help"}) {
    auto r = fedactor_cli(flag, 60);
    INFO(flag);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.rfind("usage: fedactor COMMAND ...\n", 0) == 0);
    CHECK(r.out.find("\n  run SCENARIO.yaml") != std::string::npos);
    CHECK(r.out.find("\n  node server|edge|clients") != std::string::npos);
    CHECK(r.out.find("\n  bench [--populations") != std::string::npos);
    CHECK(r.out.find("\n  report RUN_DIR... [--out FILE.html]") != std::string::npos);
    CHECK(r.out.find("\n  scenario check SCENARIO.yaml") != std::string::npos);
    CHECK(r.out.find("\n  scenario keys [--format") != std::string::npos);
    CHECK(r.out.find("\n  completion bash\n") != std::string::npos);
    CHECK(r.out.find("\n  version, --version\n") != std::string::npos);
  }
}

TEST_CASE("fedactor names an unknown command in one line, then the usage, and exits 2", "[cli]") {
  auto r = fedactor_cli("trian examples/scenarios/quickstart.yaml", 60);
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("fedactor: unknown command 'trian'\nusage: fedactor COMMAND ...\n", 0) == 0);
}

TEST_CASE("fedactor --version and fedactor version print the version on stdout", "[cli]") {
  for (const char* form : {"--version", "version"}) {
    INFO(form);
    auto r = fedactor_cli(form, 60);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK(r.out == std::string{"fedactor "} + fedactor::fedactor_version() + "\n");
  }
}

TEST_CASE("a subcommand's --help and argument errors reach stdout and stderr of the binary",
          "[cli]") {
  auto help = fedactor_cli("node edge --help", 60);
  CHECK(help.code == 0);
  CHECK(help.err.empty());
  CHECK(help.out.rfind("usage: fedactor node edge ", 0) == 0);
  auto bad = fedactor_cli("run examples/scenarios/quickstart.yaml --threads abc", 60);
  CHECK(bad.code == 2);
  CHECK(bad.out.empty());
  CHECK(bad.err == "fedactor run: --threads: expected a whole number in [1, 1024], got 'abc'\n");
}
