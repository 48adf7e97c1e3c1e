#include "translate/translator.h"

#include <algorithm>
#include <mutex>
#include <numeric>
#include <optional>

#include "core/error.h"
#include "ops/linear_int8.h"
#include "ops/linear_packed.h"

namespace nmt {

bool parse_gemm_type(const std::string& name) {
  if (name == "float32") return false;
  if (name == "int8") return true;
  throw OptionError(cat("gemm-type must be float32 or int8, got '", name, "'"));
}

void TranslateOptions::validate() const {
  if (mini_batch < 1) throw OptionError(cat("mini-batch must be >= 1, got ", mini_batch));
  if (max_input_length < 0) throw OptionError(cat("max-input-length must be >= 0, got ", max_input_length));
  search.validate();
}

std::vector<Translation> translate_ids(Model& model, const std::vector<std::vector<int32_t>>& sources,
                                       const TranslateOptions& options) {
  options.validate();
  std::vector<Translation> out(sources.size());
  std::vector<int32_t> order;  // the non-empty inputs
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].empty()) continue;
    std::vector<int32_t> s = sources[i];
    if (options.max_input_length > 0 && static_cast<int>(s.size()) > options.max_input_length) {
      s.resize(options.max_input_length);
      out[i].truncated = true;
    }
    s.push_back(Vocab::kEos);
    out[i].source = std::move(s);
    order.push_back(static_cast<int32_t>(i));
  }
  PackedScope packed;  // the weights do not change while translating
  std::optional<Int8Scope> int8;
  if (options.int8) int8.emplace();
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return out[a].source.size() < out[b].source.size(); });
  const size_t batches = (order.size() + options.mini_batch - 1) / options.mini_batch;
  std::mutex progress_mu;
  size_t done = sources.size() - order.size();
  // Batch j (counted from the longest): each writes only its own sentences' results.
  auto translate_batch = [&](size_t j) {
    const size_t begin = (batches - 1 - j) * options.mini_batch;
    const size_t end = std::min(order.size(), begin + options.mini_batch);
    std::vector<std::vector<int32_t>> batch;
    for (size_t i = begin; i < end; ++i) batch.push_back(out[order[i]].source);
    auto results = search(model, SourceBatch::from(batch), options.search);
    for (size_t i = begin; i < end; ++i) out[order[i]].hypotheses = std::move(results[i - begin]);
    std::lock_guard<std::mutex> lock(progress_mu);
    done += end - begin;
    if (options.progress) options.progress(done);
  };
  if (options.workers && batches > 1) {
    options.workers->run(batches, translate_batch);
  } else {
    for (size_t j = 0; j < batches; ++j) translate_batch(j);
  }
  return out;
}

std::vector<std::string> translate_lines(Model& model, const Vocab& src_vocab, const Vocab& trg_vocab,
                                         const std::vector<std::string>& lines, const TranslateOptions& options) {
  std::vector<std::vector<int32_t>> sources;
  sources.reserve(lines.size());
  for (const std::string& l : lines) sources.push_back(src_vocab.encode(l));
  std::vector<Translation> t = translate_ids(model, sources, options);
  std::vector<std::string> out;
  out.reserve(t.size());
  for (const Translation& tr : t)
    out.push_back(tr.hypotheses.empty() ? std::string() : trg_vocab.decode(tr.hypotheses[0].tokens));
  return out;
}

}  // namespace nmt
