// nmt serve: translation as an HTTP service (serve/): loads one or more models, batches the
// requests of concurrent clients together and serves the comparison page at /.
#include <iostream>
#include <memory>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "cli/translate_options.h"
#include "core/context.h"
#include "core/error.h"
#include "serve/api.h"
#include "serve/batcher.h"
#include "serve/http_server.h"
#include "serve/models.h"

namespace nmt::cli {
namespace {

CommandSpec serve_spec() {
  CommandSpec spec;
  spec.name = "serve";
  spec.usage = "nmt serve -m MODEL [MODEL...] [--host 127.0.0.1] [--port 8080] [options]";
  spec.summary =
      "Translates over HTTP: POST /v1/translate {\"text\": [...], \"model\": NAME, \"beam_size\": K, \"n_best\": N,\n"
      "\"alignment\": true} answers one translation per sentence, as nmt translate would; GET /v1/models, GET "
      "/health;\n"
      "GET / is a page that compares the loaded models on your sentence. Each MODEL is PATH (named by its file\n"
      "stem) or NAME=PATH. Requests of concurrent clients are translated together (--batch-wait-ms). The\n"
      "search options are the defaults of a request's fields. SIGTERM finishes the requests in flight and exits.";
  po::options_description server("Server options");
  // One option a line, as a table:
  // clang-format off
  server.add_options()
      ("model,m", po::value<std::vector<std::string>>()->multitoken()->required(), "model files, each PATH or NAME=PATH")
      ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on (0.0.0.0: every interface)")
      ("port,p", po::value<int>()->default_value(8080), "port to listen on (0: any free port, printed on stderr)")
      ("batch-wait-ms", po::value<int>()->default_value(5), "wait at most this long for other requests to fill a batch")
      ("queue-size", po::value<int>()->default_value(1000), "requests waiting to be translated; more are answered 503")
      ("max-body-bytes", po::value<int>()->default_value(1 << 20), "larger request bodies are answered 413")
      ("max-sentences", po::value<int>()->default_value(1000), "sentences in one request, at most")
      ("max-beam-size", po::value<int>()->default_value(64), "largest beam_size a request may ask for");
  // clang-format on
  spec.groups.push_back(server);
  spec.groups.push_back(translation_options_group());
  spec.groups.push_back(search_options_group());
  return spec;
}

int positive(const po::variables_map& vm, const std::string& key, int min) {
  const int v = get<int>(vm, key);
  if (v < min)
    throw UsageError(cat("serve: --", key, " must be at least ", min, ", got ", v, " (see nmt serve --help)"));
  return v;
}

}  // namespace

int serve_command(const Args& args) {
  const auto parsed = parse(serve_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  TranslateOptions opt = translation_options(vm);
  opt.validate();  // before the models are loaded: a bad value costs nothing
  serve::ServerOptions so;
  so.host = get<std::string>(vm, "host");
  so.port = positive(vm, "port", 0);
  if (so.port > 65535) throw UsageError(cat("serve: --port must be at most 65535, got ", so.port));
  so.max_body_bytes = positive(vm, "max-body-bytes", 1);
  serve::RequestLimits limits;
  limits.max_sentences = positive(vm, "max-sentences", 1);
  limits.max_beam_size = std::max(positive(vm, "max-beam-size", 1), opt.search.beam_size);
  const std::unique_ptr<WorkerPool> workers = set_up_threads(vm, "serve");
  opt.workers = workers.get();
  serve::BatcherOptions bo;
  bo.queue_capacity = positive(vm, "queue-size", 1);
  bo.batch_wait = std::chrono::milliseconds(positive(vm, "batch-wait-ms", 0));
  // A batch fills every worker with a mini-batch.
  bo.max_batch = static_cast<size_t>(opt.mini_batch) * static_cast<size_t>(workers ? workers->size() : 1);
  bo.threads = Context::get().threads();
  bo.translate = opt;

  const serve::ModelSet models(get<std::vector<std::string>>(vm, "model"),
                               has(vm, "shortlist") ? get<std::string>(vm, "shortlist") : "");
  std::unique_ptr<serve::Api> api;
  serve::HttpServer server(so, [&api](const serve::HttpRequest& r, std::function<void(serve::HttpResponse)> reply) {
    api->handle(r, std::move(reply));
  });
  serve::Batcher batcher(bo, [&server] { server.finish(); });
  api = std::make_unique<serve::Api>(models, batcher, opt.search, limits);
  std::string names;
  for (const auto& m : models.all()) names += (names.empty() ? "" : ", ") + m->name;
  std::cerr << "nmt serve: models " << names << "; listening on http://" << so.host << ":" << server.port() << "/"
            << std::endl;
  server.run([&batcher] {
    std::cerr << "nmt serve: stopping: finishing the requests in flight" << std::endl;
    batcher.close();
  });
  std::cerr << "nmt serve: stopped" << std::endl;
  return 0;
}

}  // namespace nmt::cli
