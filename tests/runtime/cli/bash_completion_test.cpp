// `fedactor completion bash` (runtime/cli/bash_completion.cpp): the script names every
// command and option of the specs, bash accepts it, and its function completes words as a
// shell would (bash run on the script with COMP_WORDS set by hand).

#include "runtime/cli/bash_completion.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/cli/commands.hpp"
#include "tests/support/fedactor_cli.hpp"

namespace fs = std::filesystem;
using namespace fedactor;
using fedactor::testing::cli_result;

namespace {

cli_result completion(const std::vector<std::string>& args) {
  return fedactor::testing::in_process(
      [](const auto& a, auto& out, auto& err) { return completion_command(a, out, err); }, args);
}

// A directory of its own with the script in it; removed at the end.
struct script_dir {
  fs::path dir = fs::temp_directory_path() /
                 ("fedactor_completion_" + std::to_string(static_cast<long>(::getpid())));
  fs::path script = dir / "fedactor.bash";
  script_dir() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::ofstream(script) << bash_completion_script();
  }
  ~script_dir() { fs::remove_all(dir); }
};

// Runs `shell` (a bash command line) in bash; its stdout, or "exit N" when bash failed.
std::string bash(const std::string& shell) {
  const std::string cmd = "timeout 30 bash -c '" + shell + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    out += "exit " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return out;
}

// COMPREPLY of _fedactor for the words of a command line (the last one being completed), in
// `cwd`, one word per line.
std::string complete(const script_dir& s, const std::string& cwd,
                     const std::vector<std::string>& words) {
  std::string array;
  for (const auto& w : words) array += " \"" + w + "\"";
  return bash("cd \"" + cwd + "\" && source \"" + s.script.string() + "\" && COMP_WORDS=(" + array +
              ") && COMP_CWORD=" + std::to_string(words.size() - 1) +
              " && _fedactor && printf \"%s\\n\" \"${COMPREPLY[@]}\" | sort");
}

}  // namespace

TEST_CASE("value names choose what a value is completed with", "[cli][completion]") {
  CHECK(completion_of("sync|async") == value_completion::words);
  CHECK(completion_of("table|markdown|json") == value_completion::words);
  CHECK(completion_of("DIR") == value_completion::directory);
  CHECK(completion_of("RUN_DIR") == value_completion::directory);
  CHECK(completion_of("FILE") == value_completion::file);
  CHECK(completion_of("FILE.html") == value_completion::file);
  CHECK(completion_of("SCENARIO.yaml") == value_completion::scenario_file);
  for (const char* none : {"N", "HOST:PORT", "KEY=VALUE", "DURATION", "A-B", "arg", ""}) {
    INFO(none);
    CHECK(completion_of(none) == value_completion::none);
  }
}

TEST_CASE("the completion script names every command, node role and option of the specs",
          "[cli][completion]") {
  const std::string script = bash_completion_script();
  REQUIRE_FALSE(script.empty());
  CHECK(script.find("\ncomplete -F _fedactor fedactor\n") != std::string::npos);
  for (const auto& c : cli_commands()) {
    const std::string key = c.group.empty() ? c.name : c.group + " " + c.name;
    INFO(key);
    CHECK(script.find("\n    \"" + key + "\")\n") != std::string::npos);
    if (!c.group.empty()) CHECK(script.find("\n    " + c.group + ")\n") != std::string::npos);
    // The command's own section lists each of its options.
    const cli_spec spec = c.spec(c.name);  // options() refers into it
    const size_t at = script.find("\n    \"" + key + "\")\n");
    const size_t end = script.find(";;\n    \"", at + 1);
    const std::string section = script.substr(at, end == std::string::npos ? end : end - at);
    for (const auto& o : spec.options.options()) {
      INFO(o->long_name());
      const std::string word = "--" + o->long_name() + " ";
      CHECK((section.find(" " + word) != std::string::npos ||
             section.find("\"" + word) != std::string::npos));
    }
  }
}

TEST_CASE("bash accepts the completion script", "[cli][completion]") {
  script_dir s;
  CHECK(bash("bash -n \"" + s.script.string() + "\" && echo ok") == "ok\n");
  CHECK(bash("source \"" + s.script.string() + "\" && complete -p fedactor") ==
        "complete -F _fedactor fedactor\n");
}

TEST_CASE("the completion function completes commands, roles, options and their values",
          "[cli][completion]") {
  script_dir s;
  const std::string here = s.dir.string();
  fs::create_directories(s.dir / "runs" / "one");
  std::ofstream(s.dir / "quick.yaml") << "name: q\n";
  std::ofstream(s.dir / "notes.txt") << "x\n";
  CHECK(complete(s, here, {"fedactor", "node", "ed"}) == "edge\n");
  CHECK(complete(s, here, {"fedactor", "run", "--ou"}) == "--out\n");
  CHECK(complete(s, here, {"fedactor", "sc"}) == "scenario\n");
  CHECK(complete(s, here, {"fedactor", "--v"}) == "--version\n");
  CHECK(complete(s, here, {"fedactor", "scenario", ""}) == "check\nkeys\n");
  CHECK(complete(s, here, {"fedactor", "node", "edge", "--wait"}) == "--wait-hosts\n");
  CHECK(complete(s, here, {"fedactor", "bench", "--mode", ""}) == "async\nsync\n");
  // --key=value: bash splits the word at '='.
  CHECK(complete(s, here, {"fedactor", "scenario", "keys", "--format", "=", "ma"}) == "markdown\n");
  // Scenario files and directories for the scenario, directories for --out, nothing for N.
  CHECK(complete(s, here, {"fedactor", "run", ""}) == "quick.yaml\nruns\n");
  CHECK(complete(s, here, {"fedactor", "run", "--quiet", "q"}) == "quick.yaml\n");
  CHECK(complete(s, here, {"fedactor", "run", "x.yaml", "--out", "r"}) == "runs\n");
  CHECK(complete(s, here, {"fedactor", "report", "runs/"}) == "runs/one\n");
  CHECK(complete(s, here, {"fedactor", "run", "--threads", ""}) == "\n");
  CHECK(complete(s, here, {"fedactor", "node", "clients", "--state-file", "n"}) == "notes.txt\n");
}

TEST_CASE("fedactor completion: bash prints the script, another shell is refused in one line",
          "[cli][completion]") {
  auto ok = completion({"bash"});
  CHECK(ok.code == 0);
  CHECK(ok.err.empty());
  CHECK(ok.out == bash_completion_script());
  auto zsh = completion({"zsh"});
  CHECK(zsh.code == 2);
  CHECK(zsh.out.empty());
  CHECK(zsh.err ==
        "fedactor completion: unknown shell 'zsh' (bash; see fedactor completion --help)\n");
  auto none = completion({});
  CHECK(none.code == 2);
  CHECK(none.err == "fedactor completion: no shell given (bash; see fedactor completion --help)\n");
  auto help = completion({"--help"});
  CHECK(help.code == 0);
  CHECK(help.out.rfind("usage: fedactor completion bash\n", 0) == 0);
  auto extra = completion({"bash", "--bogus"});
  CHECK(extra.code == 2);
  CHECK(extra.err ==
        "fedactor completion bash: unknown option '--bogus' (see fedactor completion bash "
        "--help)\n");
}
