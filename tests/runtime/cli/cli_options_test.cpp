#include "runtime/cli/cli_options.hpp"

#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

struct parsed {
  std::optional<int> code;
  po::variables_map vm;
  std::string out;
  std::string err;
};

// A command "fedactor demo FILE [--set KV]... [--level N]".
parsed parse(const std::vector<std::string>& args) {
  cli_spec spec{"fedactor demo", "usage: fedactor demo FILE\n", po::options_description{"options"},
                po::options_description{}, po::positional_options_description{}};
  spec.options.add_options()("set", po::value<std::vector<std::string>>(), "an override")(
      "level", po::value<int>()->default_value(1), "a number");
  spec.hidden.add_options()("file", po::value<std::string>());
  spec.positional.add("file", 1);
  parsed p;
  std::ostringstream out, err;
  p.code = parse_cli(args, spec, p.vm, out, err);
  p.out = out.str();
  p.err = err.str();
  return p;
}

}  // namespace

TEST_CASE("parse_cli reads --key value, --key=value, repeated options and the positional",
          "[cli][options]") {
  auto p = parse({"--set", "a=1", "f.yaml", "--set=b=2", "--level=3", "--set", "c=3"});
  REQUIRE_FALSE(p.code);
  CHECK(p.out.empty());
  CHECK(p.err.empty());
  CHECK(p.vm["set"].as<std::vector<std::string>>() ==
        std::vector<std::string>{"a=1", "b=2", "c=3"});
  CHECK(p.vm["level"].as<int>() == 3);
  CHECK(p.vm["file"].as<std::string>() == "f.yaml");

  auto q = parse({"--level", "7"});
  REQUIRE_FALSE(q.code);
  CHECK(q.vm["level"].as<int>() == 7);
  CHECK(q.vm.count("file") == 0);
  CHECK(parse({}).vm["level"].as<int>() == 1);
}

TEST_CASE("parse_cli --help prints the usage and the visible options, exit 0", "[cli][options]") {
  for (const char* flag : {"--help", "-h"}) {
    INFO(flag);
    auto h = parse({"f.yaml", "--set", "a=1", flag});
    REQUIRE(h.code == 0);
    CHECK(h.err.empty());
    CHECK(h.out ==
          "usage: fedactor demo FILE\n"
          "options:\n"
          "  --set arg             an override\n"
          "  --level arg (=1)      a number\n"
          "  -h [ --help ]         print this help and exit\n");
  }
}

TEST_CASE("parse_cli refuses unknown, abbreviated, valueless and repeated options in one line",
          "[cli][options]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"--bogus"}, "fedactor demo: unknown option '--bogus' (see fedactor demo --help)\n"},
      {{"f.yaml", "--bogus=1"},
       "fedactor demo: unknown option '--bogus' (see fedactor demo --help)\n"},
      {{"--lev", "2"}, "fedactor demo: unknown option '--lev' (see fedactor demo --help)\n"},
      {{"--level"},
       "fedactor demo: the required argument for option '--level' is missing (see fedactor demo "
       "--help)\n"},
      {{"--level", "x"},
       "fedactor demo: the argument ('x') for option '--level' is invalid (see fedactor demo "
       "--help)\n"},
      {{"--level=1", "--level=2"},
       "fedactor demo: option '--level' cannot be specified more than once (see fedactor demo "
       "--help)\n"},
      {{"a.yaml", "b.yaml"}, "fedactor demo: too many arguments (see fedactor demo --help)\n"},
  };
  for (const auto& [args, message] : cases) {
    INFO(args.at(0));
    auto p = parse(args);
    CHECK(p.code == 2);
    CHECK(p.out.empty());
    CHECK(p.err == message);
  }
}

TEST_CASE("parse_cli takes the word after an option as its value unless it starts with --",
          "[cli][options]") {
  auto negative = parse({"--level", "-3", "f.yaml"});
  REQUIRE_FALSE(negative.code);
  CHECK(negative.vm["level"].as<int>() == -3);
  CHECK(negative.vm["file"].as<std::string>() == "f.yaml");
  auto empty = parse({"--set", "", "f.yaml"});
  REQUIRE_FALSE(empty.code);
  CHECK(empty.vm["set"].as<std::vector<std::string>>() == std::vector<std::string>{""});
  auto missing = parse({"--set", "--level", "2"});
  CHECK(missing.code == 2);
  CHECK(missing.err ==
        "fedactor demo: the required argument for option '--set' is missing (see fedactor demo "
        "--help)\n");
  auto rest = parse({"--", "--level"});  // after "--" every word is positional
  REQUIRE_FALSE(rest.code);
  CHECK(rest.vm["file"].as<std::string>() == "--level");
  CHECK(rest.vm["level"].as<int>() == 1);
}

TEST_CASE("count_option takes a whole number in range and names option and value otherwise",
          "[cli][options]") {
  po::options_description o;
  o.add_options()("n", po::value<std::string>());
  auto vm_of = [&](const std::vector<std::string>& args) {
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(o).run(), vm);
    return vm;
  };
  uint32_t n = 77;
  std::string error;
  CHECK(count_option(vm_of({}), "n", 1, 10, n, error));
  CHECK(n == 77);  // absent: unchanged
  CHECK(count_option(vm_of({"--n=10"}), "n", 1, 10, n, error));
  CHECK(n == 10);
  CHECK(count_option(vm_of({"--n=1"}), "n", 1, 10, n, error));
  CHECK(n == 1);
  CHECK(error.empty());
  error.clear();
  CHECK_FALSE(count_option(vm_of({"--n", ""}), "n", 1, 10, n, error));
  CHECK(error == "--n: expected a whole number in [1, 10], got ''");
  for (const char* bad : {"0", "11", "-1", "+5", "abc", "3.0", " 4", "99999999999"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(count_option(vm_of({std::string{"--n="} + bad}), "n", 1, 10, n, error));
    CHECK(error == std::string{"--n: expected a whole number in [1, 10], got '"} + bad + "'");
    CHECK(n == 1);
  }
}

TEST_CASE("list_option keeps the order given, string_option is empty when absent",
          "[cli][options]") {
  auto p = parse({"--set=b=2", "--set", "a=1", "--set", "b=3"});
  REQUIRE_FALSE(p.code);
  CHECK(list_option(p.vm, "set") == std::vector<std::string>{"b=2", "a=1", "b=3"});
  CHECK(string_option(p.vm, "file").empty());
  CHECK(list_option(parse({}).vm, "set").empty());
  CHECK(string_option(parse({"x.yaml"}).vm, "file") == "x.yaml");
}
