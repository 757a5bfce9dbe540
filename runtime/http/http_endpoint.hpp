#pragma once

// The address of `--http`: PORT (on 127.0.0.1), HOST:PORT or [IPv6]:PORT. HOST is an IP
// address or `localhost`; PORT 0 asks for an ephemeral port.

#include <cstdint>
#include <optional>
#include <string>

namespace fedactor {

struct http_endpoint {
  std::string host = "127.0.0.1";  // an IP address ("localhost" is taken as 127.0.0.1)
  uint16_t port = 0;
  bool loopback = true;  // 127.0.0.0/8 or ::1
};

struct http_endpoint_parse {
  std::optional<http_endpoint> endpoint;
  std::string error;  // one line when `endpoint` is empty
};

http_endpoint_parse parse_http_endpoint(const std::string& text);

// "127.0.0.1:8080", "[::1]:8080"
std::string to_string(const http_endpoint& e);

}  // namespace fedactor
