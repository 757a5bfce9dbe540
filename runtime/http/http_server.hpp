#pragma once

// A small read-only HTTP/1.1 server (Boost.Beast) on a thread of its own: every request is
// answered by a handler on that thread, so whatever the handler reads must be safe to read
// from there (live_snapshot). Connections idle for 10 s are closed. Stops (and joins its
// thread) in stop() or the destructor.

#include <functional>
#include <memory>
#include <string>

#include "runtime/http/http_endpoint.hpp"
#include "runtime/http/live_routes.hpp"

namespace fedactor {

// method ("GET", "POST", ...), target ("/metrics?x") -> the reply
using http_handler =
    std::function<http_reply(const std::string& method, const std::string& target)>;

class http_server;

struct http_listen_result {
  std::unique_ptr<http_server> server;
  std::string error;  // one line when `server` is null: the address and why it cannot be bound
};

class http_server {
 public:
  // Binds `at` and starts serving. Port 0 binds an ephemeral port (bound() tells which).
  static http_listen_result listen(const http_endpoint& at, http_handler handler);

  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // The address actually bound (its port is the ephemeral one for port 0).
  const http_endpoint& bound() const { return bound_; }

  // Stops accepting and serving, closes the connections, joins the thread. Idempotent.
  void stop();

 private:
  struct impl;
  explicit http_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
  http_endpoint bound_;
};

}  // namespace fedactor
