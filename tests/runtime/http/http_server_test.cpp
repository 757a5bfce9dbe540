#include "runtime/http/http_server.hpp"

#include <atomic>

#include <catch2/catch.hpp>

#include "tests/runtime/http/http_client.hpp"

using fedactor::http_endpoint;
using fedactor::http_reply;
using fedactor::http_server;
using fedactor::testing::http_request;

namespace {

http_endpoint loopback(uint16_t port) {
  http_endpoint e;
  e.host = "127.0.0.1";
  e.port = port;
  return e;
}

}  // namespace

TEST_CASE("http_server binds an ephemeral port and answers with its handler", "[http]") {
  std::atomic<int> calls{0};
  auto listening =
      http_server::listen(loopback(0), [&](const std::string& m, const std::string& t) {
        ++calls;
        if (m != "GET") return http_reply{405, "text/plain", "no\n"};
        return http_reply{t.rfind("/a", 0) == 0 ? 200u : 404u, "text/plain", m + " " + t + "\n"};
      });
  REQUIRE(listening.error.empty());
  REQUIRE(listening.server);
  const uint16_t port = listening.server->bound().port;
  CHECK(port != 0);
  CHECK(listening.server->bound().host == "127.0.0.1");

  auto r = http_request(port, "/a?x=1");
  INFO(r.error);
  CHECK(r.status == 200);
  CHECK(r.body == "GET /a?x=1\n");
  CHECK(r.content_type == "text/plain");
  r = http_request(port, "/b");
  CHECK(r.status == 404);
  r = http_request(port, "/a", "POST");
  CHECK(r.status == 405);
  CHECK(r.allow == "GET");
  CHECK(calls == 3);

  listening.server->stop();
  listening.server->stop();  // idempotent
  r = http_request(port, "/a");
  CHECK(r.status == 0);
  CHECK(r.error.rfind("connect: ", 0) == 0);
}

TEST_CASE("http_server refuses a port in use with one line naming the address", "[http]") {
  auto first = http_server::listen(loopback(0), [](const std::string&, const std::string&) {
    return http_reply{200, "text/plain", ""};
  });
  REQUIRE(first.server);
  const auto taken = first.server->bound();
  auto second = http_server::listen(taken, [](const std::string&, const std::string&) {
    return http_reply{200, "text/plain", ""};
  });
  CHECK_FALSE(second.server);
  CHECK(second.error == "http: cannot listen on " + to_string(taken) + ": Address already in use");
}
