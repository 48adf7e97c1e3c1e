#include "serve/api.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "serve/page.h"

namespace nmt::serve {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

HttpResponse json_response(int status, const json& j) {
  // Invalid UTF-8 cannot reach here (the request parser refuses it), but a reply never throws.
  return {status, "application/json", j.dump(-1, ' ', false, json::error_handler_t::replace)};
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

// Scores to 6 significant digits, as nmt translate prints them (attention weights to 4 decimals).
double round6(float x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return std::strtod(buf, nullptr);
}

json pieces_json(const std::vector<std::string>& pieces) { return json(pieces); }

// One answer: the best hypothesis's text and scores; with alignment, its attention matrix
// (one row per target piece and </s>, one column per source piece and </s>) and the pieces
// that label it; with n_best, every hypothesis. An empty input has an empty text, score 0.
json translation_json(const Translation& t, const ServedModel& model, const SearchOptions& search, bool n_best) {
  const Vocab& trg = model.loaded.trg_vocab();
  const Hypothesis* best = t.hypotheses.empty() ? nullptr : &t.hypotheses[0];
  json j{{"text", best ? trg.decode(best->tokens) : ""},
         {"score", best ? round6(best->score) : 0.0},
         {"normalized_score", best ? round6(best->normalized_score) : 0.0}};
  if (t.truncated) j["truncated"] = true;
  if (search.keep_alignment) {
    json rows = json::array();
    if (best)
      for (const auto& row : best->alignment) {
        json r = json::array();
        for (float w : row) r.push_back(std::round(w * 1e4f) / 1e4);
        rows.push_back(std::move(r));
      }
    j["alignment"] = std::move(rows);
    std::vector<std::string> target;
    if (best) {
      target = trg.pieces(best->tokens);
      target.push_back("</s>");
    }
    j["source_pieces"] =
        pieces_json(t.source.empty() ? std::vector<std::string>() : model.loaded.src_vocab().pieces(t.source));
    j["target_pieces"] = pieces_json(target);
  }
  if (n_best) {
    json list = json::array();
    for (const Hypothesis& h : t.hypotheses)
      list.push_back({{"text", trg.decode(h.tokens)},
                      {"score", round6(h.score)},
                      {"normalized_score", round6(h.normalized_score)}});
    j["n_best"] = std::move(list);
  }
  return j;
}

}  // namespace

HttpResponse Api::models_response() const {
  json list = json::array();
  for (const auto& m : models_.all()) {
    const ModelConfig& c = m->loaded.models[0].model->config();
    list.push_back({{"name", m->name},
                    {"type", c.type},
                    {"encoder", c.enc_type},
                    {"decoder", c.dec_type},
                    {"attention", m->has_attention()},
                    {"shortlist", m->shortlist != nullptr}});
  }
  const json defaults{{"beam_size", defaults_.beam_size},
                      {"normalize", round6(defaults_.normalize)},
                      {"alignment", false},
                      {"max_beam_size", limits_.max_beam_size},
                      {"max_sentences", limits_.max_sentences}};
  return json_response(200, json{{"models", std::move(list)}, {"defaults", defaults}});
}

void Api::handle(const HttpRequest& request, std::function<void(HttpResponse)> reply) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  const bool get = request.method == "GET";
  if (path == "/v1/translate") {
    if (request.method != "POST") return reply(error_response(405, "/v1/translate takes POST"));
    return translate(request, std::move(reply));
  }
  if (path != "/" && path != "/index.html" && path != "/health" && path != "/v1/models")
    return reply(error_response(404, cat("no such route: ", path)));
  if (!get) return reply(error_response(405, cat(path, " takes GET")));
  if (path == "/health") return reply(json_response(200, json{{"status", "ok"}, {"queued", batcher_.queued()}}));
  if (path == "/v1/models") return reply(models_response());
  reply(HttpResponse{200, "text/html; charset=utf-8", page_html()});
}

void Api::translate(const HttpRequest& request, std::function<void(HttpResponse)> reply) {
  const auto start = Clock::now();
  TranslateRequest r;
  const ServedModel* model = nullptr;
  try {
    r = parse_translate_request(request.body, defaults_, limits_);
    model = models_.find(r.model);
    if (!model) {
      std::string names;
      for (const auto& m : models_.all()) names += (names.empty() ? "" : ", ") + m->name;
      throw HttpError(r.model.empty() ? 400 : 404,
                      r.model.empty()
                          ? cat("model is missing: ", models_.all().size(), " models are loaded (", names, ")")
                          : cat("model '", r.model, "' is not loaded (loaded: ", names, ")"));
    }
    if (r.search.keep_alignment && !model->has_attention())
      throw HttpError(400, cat("alignment: model '", model->name, "' has no attention (",
                               model->loaded.ensemble->member(0).kind(), ")"));
  } catch (const HttpError& e) {
    return reply(error_response(e.status(), e.what()));
  }
  auto answer = [model, search = r.search, n_best = r.n_best, start, reply](std::vector<Translation> results,
                                                                            const std::string& error) {
    if (!error.empty()) return reply(error_response(500, error));
    HttpResponse response;
    try {
      json list = json::array();
      for (const Translation& t : results) list.push_back(translation_json(t, *model, search, n_best));
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      response = json_response(
          200, json{{"translations", std::move(list)}, {"model", model->name}, {"ms", std::round(ms * 10) / 10}});
    } catch (const std::exception& e) {  // every request is answered, whatever happens
      response = error_response(500, e.what());
    }
    reply(std::move(response));
  };
  Job job;
  job.model = model;
  job.search = r.search;
  for (const std::string& line : r.text) job.sources.push_back(model->loaded.encode_source(line));
  if (job.sources.empty()) return answer({}, "");
  job.done = answer;
  if (!batcher_.submit(job)) reply(error_response(503, "the server is busy or shutting down: try again"));
}

}  // namespace nmt::serve
