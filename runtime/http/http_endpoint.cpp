#include "runtime/http/http_endpoint.hpp"

#include <boost/asio/ip/address.hpp>

namespace fedactor {

namespace {

std::optional<uint16_t> parse_port(const std::string& s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  for (char c : s)
    if (c < '0' || c > '9') return std::nullopt;
  const unsigned long v = std::stoul(s);
  if (v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

}  // namespace

http_endpoint_parse parse_http_endpoint(const std::string& text) {
  const std::string expected = "expected PORT, HOST:PORT or [IPv6]:PORT, got '" + text + "'";
  std::string host = "127.0.0.1";
  std::string port = text;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return {std::nullopt, expected};
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return {std::nullopt, expected};
  }
  auto p = parse_port(port);
  if (!p) return {std::nullopt, expected + " (PORT: 0 to 65535)"};
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec || host.empty()) return {std::nullopt, expected + " (HOST: an IP address or localhost)"};
  http_endpoint e;
  e.host = address.to_string();
  e.port = *p;
  e.loopback = address.is_loopback();
  return {e, {}};
}

std::string to_string(const http_endpoint& e) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(e.port);
}

}  // namespace fedactor
