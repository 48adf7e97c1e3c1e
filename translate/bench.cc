#include "translate/bench.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <vector>

#include "core/allocator.h"
#include "core/context.h"
#include "core/error.h"
#include "core/format.h"
#include "core/system.h"
#include "core/worker_pool.h"
#include "io/json.h"
#include "model/model.h"
#include "ops/bf16.h"
#include "ops/linear_int8.h"
#include "tokenization/corpus.h"
#include "translate/shortlist.h"
#include "translate/translator.h"

namespace nmt {
namespace {

BenchSearch timed(Model& model, const std::vector<std::vector<int32_t>>& sources, const TranslateOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<Translation> out = translate_ids(model, sources, opt);
  BenchSearch r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const Translation& t : out)
    if (!t.hypotheses.empty()) r.target_tokens += static_cast<int64_t>(t.hypotheses[0].tokens.size()) + 1;
  return r;
}

// The input's piece ids, each cut at 256 pieces as nmt translate's default; counts the
// non-empty lines and their pieces into the report.
std::vector<std::vector<int32_t>> encode_input(const Vocab& vocab, const std::string& input, BenchTranslateReport& r) {
  std::vector<std::vector<int32_t>> sources;
  for (const std::string& l : read_lines(input)) {
    sources.push_back(vocab.encode(l));
    if (sources.back().size() > 256) sources.back().resize(256);
    r.source_pieces += static_cast<int64_t>(sources.back().size());
    r.sentences += sources.back().empty() ? 0 : 1;
  }
  if (r.sentences == 0) throw InputError(cat(input, ": no non-empty lines to translate"));
  return sources;
}

JsonObject search_json(const BenchSearch& s, int64_t sentences) {
  JsonObject j;
  j.set("seconds", s.seconds).set("sentences_per_s", sentences / s.seconds);
  j.set("target_tokens", s.target_tokens).set("target_tokens_per_s", s.target_tokens / s.seconds);
  return j;
}

// The options of one timed search (beam 1: greedy).
TranslateOptions search_options(const BenchTranslateOptions& b, int beam, const Shortlist* shortlist,
                                WorkerPool* workers) {
  TranslateOptions opt;
  opt.mini_batch = b.mini_batch;
  opt.search.beam_size = beam;
  opt.int8 = b.int8;
  opt.search.shortlist = shortlist;
  opt.workers = workers;
  return opt;
}

}  // namespace

BenchTranslateReport bench_translate(const BenchTranslateOptions& o) {
  search_options(o, 5, nullptr, nullptr).validate();  // before the model is loaded: a bad value costs nothing
  const std::unique_ptr<WorkerPool> workers = make_workers(o.workers);
  LoadedModel loaded = load_model(o.model);
  const Shortlist shortlist =
      o.shortlist.empty() ? Shortlist()
                          : Shortlist::load_for(o.shortlist, loaded.src_vocab->size(), loaded.trg_vocab->size());
  BenchTranslateReport r;
  const std::vector<std::vector<int32_t>> sources = encode_input(*loaded.src_vocab, o.input, r);
  r.cpu = cpu_model();
  r.logical_cpus = logical_cpus();
  r.onednn_isa = onednn_isa_name();
  r.threads = Context::get().threads();
  r.workers = workers ? workers->size() : 1;
  r.threads_per_worker = workers ? workers->threads_each() : r.threads;
  r.model = o.model;
  r.model_type = loaded.model->config().type;
  r.input = o.input;
  r.shortlist = o.shortlist;
  r.mini_batch = o.mini_batch;
  r.int8 = o.int8;
  r.int8_weight_bits = o.int8 ? (int8_weight_levels() == 127 ? 8 : 7) : 0;
  for (int beam : {1, 5}) {
    const TranslateOptions opt = search_options(o, beam, o.shortlist.empty() ? nullptr : &shortlist, workers.get());
    // Warm-up: builds the primitives of the most common shapes, a batch per worker.
    const size_t n_warm = static_cast<size_t>(o.mini_batch) * r.workers;
    const std::vector<std::vector<int32_t>> warm(sources.begin(), sources.begin() + std::min(sources.size(), n_warm));
    translate_ids(*loaded.model, warm, opt);
    (beam == 1 ? r.greedy : r.beam5) = timed(*loaded.model, sources, opt);
  }
  r.peak_rss_mib = peak_rss_mib();
  r.tensors_mib = pool_peak_bytes_in_use() / 1048576.0;
  pool_trace_report();
  return r;
}

std::string bench_translate_text(const BenchTranslateReport& r) {
  const std::string workers =
      r.workers == 1 ? "one worker" : cat(r.workers, " workers of ", r.threads_per_worker, " thread(s)");
  std::string out = printf_string("machine: %s, %d logical CPUs, oneDNN at %s; threads: %d, %s\n", r.cpu.c_str(),
                                  r.logical_cpus, r.onednn_isa.c_str(), r.threads, workers.c_str());
  const std::string gemm = r.int8 ? cat("int8 (weights of ", r.int8_weight_bits, " bits)") : "float32";
  out += printf_string("model: %s (%s), input: %s, %lld sentences, %lld source pieces, mini-batch %d, gemm-type %s%s\n",
                       r.model.c_str(), r.model_type.c_str(), r.input.c_str(), static_cast<long long>(r.sentences),
                       static_cast<long long>(r.source_pieces), r.mini_batch, gemm.c_str(),
                       r.shortlist.empty() ? "" : cat(", shortlist ", r.shortlist).c_str());
  for (const auto& [name, s] : {std::pair{"greedy:", r.greedy}, std::pair{"beam 5:", r.beam5}})
    out += printf_string("%-7s %8.2f s  %9.1f sentences/s  %10.1f target tokens/s\n", name, s.seconds,
                         r.sentences / s.seconds, s.target_tokens / s.seconds);
  out += printf_string("peak resident memory: %.1f MiB (tensors %.1f MiB)\n", r.peak_rss_mib, r.tensors_mib);
  return out;
}

std::string bench_translate_json(const BenchTranslateReport& r) {
  JsonObject j;
  j.set("bench", "translate").set("cpu", r.cpu).set("logical_cpus", r.logical_cpus).set("onednn_isa", r.onednn_isa);
  j.set("threads", r.threads).set("workers", r.workers).set("threads_per_worker", r.threads_per_worker);
  j.set("model", r.model).set("model_type", r.model_type).set("input", r.input);
  j.set("sentences", r.sentences).set("source_pieces", r.source_pieces).set("mini_batch", r.mini_batch);
  j.set("gemm_type", r.int8 ? "int8" : "float32");
  if (r.int8)
    j.set("int8_weight_bits", r.int8_weight_bits);
  else
    j.set_null("int8_weight_bits");
  if (r.shortlist.empty())
    j.set_null("shortlist");
  else
    j.set("shortlist", r.shortlist);
  j.set("greedy", search_json(r.greedy, r.sentences)).set("beam5", search_json(r.beam5, r.sentences));
  j.set("peak_rss_mib", r.peak_rss_mib).set("tensors_mib", r.tensors_mib);
  return j.str() + "\n";
}

}  // namespace nmt
