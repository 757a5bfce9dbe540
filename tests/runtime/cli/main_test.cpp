// The fedactor executable's dispatch (runtime/cli/main.cpp), through the built binary.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

namespace {

struct cli_result {
  int code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the binary with `args` (shell-quoted), stdout and stderr apart.
cli_result fedactor_cli(const std::string& args) {
  const std::string err_file = "/tmp/fedactor_main_test_" + std::to_string(::getpid()) + ".err";
  const std::string cmd = "timeout 60 '" FEDACTOR_BINARY "' " + args + " 2>'" + err_file + "'";
  cli_result r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* e = std::fopen(err_file.c_str(), "r")) {
    while ((n = fread(buf, 1, sizeof(buf), e)) > 0) r.err.append(buf, n);
    std::fclose(e);
  }
  std::remove(err_file.c_str());
  return r;
}

}  // namespace

TEST_CASE("fedactor without a command prints the usage on stderr and exits 2", "[cli]") {
  auto r = fedactor_cli("");
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("usage: fedactor COMMAND ...\n", 0) == 0);
}

TEST_CASE("fedactor --help prints the usage with every command on stdout and exits 0", "[cli]") {
  for (const char* flag : {"--help", "-h", "help"}) {
    auto r = fedactor_cli(flag);
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
  }
}

TEST_CASE("fedactor names an unknown command in one line, then the usage, and exits 2", "[cli]") {
  auto r = fedactor_cli("trian examples/scenarios/quickstart.yaml");
  CHECK(r.code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("fedactor: unknown command 'trian'\nusage: fedactor COMMAND ...\n", 0) == 0);
}
