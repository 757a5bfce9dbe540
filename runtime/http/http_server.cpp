#include "runtime/http/http_server.hpp"

#include <chrono>
#include <exception>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace fedactor {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto idle_timeout = std::chrono::seconds(10);

// One connection: reads requests, answers each with the handler, until the peer closes, a
// request asks to close, or it idles.
class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, const http_handler& handler)
      : stream_(std::move(socket)), handler_(handler) {}

  void read() {
    request_ = {};
    stream_.expires_after(idle_timeout);
    http::async_read(stream_, buffer_, request_,
                     beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code ec, size_t) {
    if (ec) return close();
    http_reply reply;
    try {
      reply = handler_(std::string(request_.method_string()), std::string(request_.target()));
    } catch (const std::exception& e) {
      reply = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n"};
    }
    response_ = {};
    response_.version(request_.version());
    response_.result(reply.status);
    response_.set(http::field::server, "fedactor");
    response_.set(http::field::content_type, reply.content_type);
    response_.set(http::field::cache_control, "no-store");
    if (reply.status == 405) response_.set(http::field::allow, "GET");
    response_.body() = std::move(reply.body);
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec) return close();
    if (!response_.keep_alive()) return close();
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  const http_handler& handler_;
};

}  // namespace

struct http_server::impl {
  explicit impl(http_handler h) : handler(std::move(h)) {}

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket s) {
      if (!acceptor.is_open()) return;
      if (!ec) std::make_shared<session>(std::move(s), handler)->read();
      accept();
    });
  }

  http_handler handler;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
};

http_listen_result http_server::listen(const http_endpoint& at, http_handler handler) {
  auto p = std::make_unique<impl>(std::move(handler));
  const std::string where = "http: cannot listen on " + to_string(at) + ": ";
  beast::error_code ec;
  const auto address = net::ip::make_address(at.host, ec);
  if (ec) return {nullptr, where + ec.message()};
  const tcp::endpoint endpoint{address, at.port};
  p->acceptor.open(endpoint.protocol(), ec);
  if (!ec) p->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(endpoint, ec);
  if (!ec) p->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return {nullptr, where + ec.message()};
  http_endpoint bound = at;
  bound.port = p->acceptor.local_endpoint(ec).port();
  if (ec) return {nullptr, where + ec.message()};
  p->accept();
  impl* raw = p.get();
  p->thread = std::thread([raw] { raw->io.run(); });
  std::unique_ptr<http_server> server{new http_server(std::move(p))};
  server->bound_ = bound;
  return {std::move(server), {}};
}

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() {
  stop();
}

void http_server::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  net::post(impl_->io, [p = impl_.get()] {
    beast::error_code ignored;
    p->acceptor.close(ignored);
    p->io.stop();
  });
  impl_->thread.join();
}

}  // namespace fedactor
