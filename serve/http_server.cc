#include "serve/http_server.h"

#include <array>
#include <csignal>
#include <map>
#include <mutex>
#include <optional>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/error.h"

namespace nmt::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
class Session;
}

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  net::signal_set signals{ioc, SIGINT, SIGTERM};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> guard;
  std::function<void()> on_stop;
  bool stopping = false;  // read and written on the server's thread only
  std::mutex sessions_mu;
  std::map<Session*, std::weak_ptr<Session>> sessions;

  void accept();
  void stop();
};

namespace {

// As the API's errors: {"error": MESSAGE} (the messages here hold no quote or backslash).
HttpResponse error_response(int status, const std::string& message) {
  return {status, "application/json", "{\"error\":\"" + message + "\"}"};
}

// One connection: reads a request, hands it to the handler, writes its answer, and reads
// the next one while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}
  ~Session() {
    std::lock_guard<std::mutex> lock(server_.sessions_mu);
    server_.sessions.erase(this);
  }
  void start() {
    {
      std::lock_guard<std::mutex> lock(server_.sessions_mu);
      server_.sessions[this] = weak_from_this();
    }
    read_header();
  }
  // Closes the connection unless a request is being answered (that one closes after its answer).
  void stop_if_idle() {
    beast::error_code ec;
    if (!busy_) stream_.socket().close(ec);
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(server_.options.idle_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_error(ec);
    busy_ = true;
    if (parser_->get()[http::field::expect] == "100-continue") {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, parser_->get().version());
      http::async_write(stream_, *cont, [self = shared_from_this(), cont](beast::error_code ec, size_t) {
        if (ec) return self->close();
        self->read_body();
      });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      busy_ = true;
      return write(
          error_response(413, "the body must be at most " + std::to_string(server_.options.max_body_bytes) + " bytes"),
          false);
    }
    // Not HTTP: say so once and hang up. A closed, reset or timed-out connection: hang up.
    if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      busy_ = true;
      return write(error_response(400, "bad HTTP request: " + ec.message()), false);
    }
    close();
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_error(ec);
    stream_.expires_never();  // the answer may wait for the batcher
    const auto& req = parser_->get();
    HttpRequest r{std::string(req.method_string()), std::string(req.target()), req.body()};
    keep_alive_ = req.keep_alive();
    auto self = shared_from_this();
    try {
      server_.handler(r, [self](HttpResponse response) {
        net::post(self->stream_.get_executor(),
                  [self, response = std::move(response)]() mutable { self->write(std::move(response), true); });
      });
    } catch (const std::exception&) {  // a bug in a handler fails its request, not the server
      write(error_response(500, "internal error"), false);
    }
  }

  void write(HttpResponse response, bool keep_alive) {
    const bool keep = keep_alive && keep_alive_ && !server_.stopping;
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(response.status),
                                                                   parser_->get().version());
    res->set(http::field::server, "nmt");
    res->set(http::field::content_type, response.content_type);
    res->set(http::field::cache_control, "no-store");
    res->keep_alive(keep);
    res->body() = std::move(response.body);
    res->prepare_payload();
    stream_.expires_after(server_.options.idle_timeout);
    http::async_write(stream_, *res, [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
      self->busy_ = false;
      if (ec) return self->close();
      if (!keep) {
        self->stream_.expires_after(std::chrono::seconds(2));
        return self->drain_and_close();
      }
      self->read_header();
    });
  }

  // After refusing a request whose body is still coming: stop sending, then read and drop
  // what the client sends until it closes (or the idle timeout), so that it reads the
  // answer instead of a connection reset; at most 2 s.
  void drain_and_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    auto scratch = std::make_shared<std::array<char, 16384>>();
    stream_.async_read_some(net::buffer(*scratch), [self = shared_from_this(), scratch](beast::error_code ec, size_t) {
      if (ec) return self->close();
      self->drain_and_close();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false, keep_alive_ = true;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->start();
    accept();
  });
}

void HttpServer::Impl::stop() {
  if (stopping) return;
  stopping = true;
  beast::error_code ec;
  acceptor.close(ec);
  signals.cancel(ec);
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::lock_guard<std::mutex> lock(sessions_mu);
    for (auto& [ptr, weak] : sessions)
      if (auto s = weak.lock()) alive.push_back(std::move(s));
  }
  for (auto& s : alive) net::post(ioc, [s] { s->stop_if_idle(); });
  if (on_stop) on_stop();
}

HttpServer::HttpServer(const ServerOptions& options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->handler = std::move(handler);
  beast::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) throw InputError(cat("host must be an IP address, got '", options.host, "'"));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw InputError(cat("cannot listen on ", options.host, ":", options.port, ": ", ec.message()));
}

HttpServer::~HttpServer() = default;

int HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::run(std::function<void()> on_stop) {
  Impl& s = *impl_;
  s.on_stop = std::move(on_stop);
  s.guard.emplace(s.ioc.get_executor());
  s.signals.async_wait([&s](beast::error_code ec, int) {
    if (!ec) s.stop();
  });
  s.accept();
  s.ioc.run();
}

void HttpServer::finish() {
  net::post(impl_->ioc, [&s = *impl_] { s.guard.reset(); });
}

}  // namespace nmt::serve
