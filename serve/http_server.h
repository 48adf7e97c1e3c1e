// A small HTTP/1.1 server on Boost.Beast: one thread runs every connection (reading,
// parsing and writing are asynchronous), and a handler answers each request, at once or
// later from another thread (the batcher's). Keep-alive connections are served request
// after request; an idle one is closed after `idle_timeout`.
//
// Refused by the server itself, before the handler: a body over max_body_bytes (413), a
// request that is not HTTP (400, then the connection is closed).
//
// SIGTERM (or SIGINT) stops accepting, closes idle connections and lets those with a
// request in flight write their answer, then close; run() returns when all are done and
// finish() was called (the answers still to come were given).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace nmt::serve {

struct HttpRequest {
  std::string method, target, body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see HttpServer::port)
  size_t max_body_bytes = 1 << 20;
  std::chrono::seconds idle_timeout{30};
};

// Answers one request by calling `reply` exactly once, from any thread.
using Handler = std::function<void(const HttpRequest& request, std::function<void(HttpResponse)> reply)>;

class HttpServer {
 public:
  // Binds and listens (InputError when the address cannot be had); does not accept yet.
  HttpServer(const ServerOptions& options, Handler handler);
  ~HttpServer();
  int port() const;  // the bound port
  // Serves until SIGTERM or SIGINT, finish() and every connection is done; `on_stop` is
  // called on the server's thread when stopping begins (e.g. to close the batcher).
  void run(std::function<void()> on_stop);
  // From any thread, once the handler will call no more replies: run() may return.
  void finish();

  struct Impl;  // the connections' shared state (serve/http_server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nmt::serve
