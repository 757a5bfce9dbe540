// The live-view options on a program_options command line (runtime/cli/live_view_cli.cpp).

#include "runtime/cli/live_view_cli.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace fedactor;

namespace {

po::variables_map parsed(const std::vector<std::string>& args) {
  po::options_description o;
  add_live_view_options(o);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(o).run(), vm);
  return vm;
}

}  // namespace

TEST_CASE("live view options from program_options: --http, --http-public, --http-linger",
          "[cli][http]") {
  live_view_options o;
  std::string error;
  REQUIRE(live_view_options_of(parsed({}), o, error));
  CHECK(o.http.empty());
  CHECK_FALSE(o.http_public);
  CHECK(o.linger_s == 0);
  REQUIRE(live_view_options_of(
      parsed({"--http=0.0.0.0:8080", "--http-public", "--http-linger=2.5"}), o, error));
  CHECK(error.empty());
  CHECK(o.http == "0.0.0.0:8080");
  CHECK(o.http_public);
  CHECK(o.linger_s == 2.5);
}

TEST_CASE("live view options from program_options name a bad value in one line", "[cli][http]") {
  live_view_options o;
  std::string error;
  CHECK_FALSE(live_view_options_of(parsed({"--http=8080", "--http-linger=soon"}), o, error));
  CHECK(error == "--http-linger: expected seconds in [0, 86400], got 'soon'");
  error.clear();
  CHECK_FALSE(live_view_options_of(parsed({"--http-linger=86401"}), o, error));
  CHECK(error == "--http-linger: expected seconds in [0, 86400], got '86401'");
  error.clear();
  CHECK_FALSE(live_view_options_of(parsed({"--http", ""}), o, error));
  CHECK(error == "--http: expected PORT, HOST:PORT or [IPv6]:PORT, got ''");
}
