#pragma once

// Test helper: one HTTP/1.1 request to 127.0.0.1:PORT with a Boost.Beast client, bounded by a
// timeout. status 0 and `error` set when the request could not be made.

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace fedactor::testing {

struct http_result {
  unsigned status = 0;
  std::string content_type;
  std::string allow;
  std::string body;
  std::string error;
};

inline http_result http_request(uint16_t port, const std::string& target,
                                const std::string& method = "GET",
                                std::chrono::seconds timeout = std::chrono::seconds(10)) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  namespace net = boost::asio;
  http_result out;
  net::io_context io;
  beast::tcp_stream stream{io};
  stream.expires_after(timeout);
  beast::error_code ec;
  stream.connect(net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) {
    out.error = "connect: " + ec.message();
    return out;
  }
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  // The request runs asynchronously so the stream's timeout bounds it.
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::async_write(stream, req, [&](beast::error_code w, size_t) {
    if (w) {
      ec = w;
      return;
    }
    http::async_read(stream, buffer, res, [&](beast::error_code r, size_t) { ec = r; });
  });
  io.run();
  if (ec) {
    out.error = "request: " + ec.message();
    return out;
  }
  out.status = res.result_int();
  out.content_type = std::string(res[http::field::content_type]);
  out.allow = std::string(res[http::field::allow]);
  out.body = res.body();
  return out;
}

}  // namespace fedactor::testing
