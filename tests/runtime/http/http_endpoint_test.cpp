#include "runtime/http/http_endpoint.hpp"

#include <catch2/catch.hpp>

using fedactor::parse_http_endpoint;

TEST_CASE("parse_http_endpoint: PORT binds 127.0.0.1, HOST:PORT and IPv6 in brackets as given",
          "[http]") {
  auto p = parse_http_endpoint("8080");
  REQUIRE(p.endpoint);
  CHECK(p.endpoint->host == "127.0.0.1");
  CHECK(p.endpoint->port == 8080);
  CHECK(p.endpoint->loopback);
  CHECK(to_string(*p.endpoint) == "127.0.0.1:8080");

  p = parse_http_endpoint("localhost:0");
  REQUIRE(p.endpoint);
  CHECK(to_string(*p.endpoint) == "127.0.0.1:0");
  CHECK(p.endpoint->loopback);

  p = parse_http_endpoint("127.0.0.2:9");
  REQUIRE(p.endpoint);
  CHECK(p.endpoint->loopback);

  p = parse_http_endpoint("[::1]:65535");
  REQUIRE(p.endpoint);
  CHECK(to_string(*p.endpoint) == "[::1]:65535");
  CHECK(p.endpoint->loopback);

  p = parse_http_endpoint("0.0.0.0:8080");
  REQUIRE(p.endpoint);
  CHECK_FALSE(p.endpoint->loopback);
  p = parse_http_endpoint("192.168.1.5:80");
  REQUIRE(p.endpoint);
  CHECK_FALSE(p.endpoint->loopback);
}

TEST_CASE("parse_http_endpoint refuses a bad port or host with one line", "[http]") {
  const std::string expected = "expected PORT, HOST:PORT or [IPv6]:PORT, got '";
  CHECK(parse_http_endpoint("65536").error == expected + "65536' (PORT: 0 to 65535)");
  CHECK(parse_http_endpoint("").error == expected + "' (PORT: 0 to 65535)");
  CHECK(parse_http_endpoint("80a").error == expected + "80a' (PORT: 0 to 65535)");
  CHECK(parse_http_endpoint("-1").error == expected + "-1' (PORT: 0 to 65535)");
  CHECK(parse_http_endpoint("example.org:80").error ==
        expected + "example.org:80' (HOST: an IP address or localhost)");
  CHECK(parse_http_endpoint(":80").error == expected + ":80' (HOST: an IP address or localhost)");
  CHECK(parse_http_endpoint("::1:80").error == expected + "::1:80'");
  CHECK(parse_http_endpoint("[::1]80").error == expected + "[::1]80'");
  CHECK_FALSE(parse_http_endpoint("[::1]80").endpoint);
}
