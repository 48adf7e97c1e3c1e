// The server's routes:
//   GET  /              the comparison page (serve/page.h)
//   GET  /health        {"status": "ok", "queued": N}
//   GET  /v1/models     the loaded models: name, type, encoder, decoder, attention; and the defaults
//   POST /v1/translate  serve/request.h in; {"translations": [...], "model": NAME, "ms": M} out,
//                       one translation per input sentence, in order (serve/api.cc says what each holds)
// Errors are {"error": MESSAGE} with 400 (bad request, naming the field), 404 (unknown model
// or route), 405 (wrong method), 503 (queue full or shutting down).
#pragma once

#include <functional>

#include "serve/batcher.h"
#include "serve/http_server.h"
#include "serve/models.h"
#include "serve/request.h"

namespace nmt::serve {

class Api {
 public:
  // `defaults`: the server's search options, which a request's fields override.
  Api(const ModelSet& models, Batcher& batcher, const SearchOptions& defaults, const RequestLimits& limits)
      : models_(models), batcher_(batcher), defaults_(defaults), limits_(limits) {}
  void handle(const HttpRequest& request, std::function<void(HttpResponse)> reply);

 private:
  void translate(const HttpRequest& request, std::function<void(HttpResponse)> reply);
  HttpResponse models_response() const;

  const ModelSet& models_;
  Batcher& batcher_;
  const SearchOptions defaults_;
  const RequestLimits limits_;
};

}  // namespace nmt::serve
