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

namespace {

// The sentences as each member reads them, cut to max_input_length and ended with </s>, into
// `ids`; out[i].source (the primary member's ids) and truncated are set. Returns the indices
// of the non-empty sentences.
std::vector<int32_t> prepare_sources(const Ensemble& ensemble, const std::vector<MemberSources>& sources,
                                     const TranslateOptions& options, std::vector<MemberSources>& ids,
                                     std::vector<Translation>& out) {
  std::vector<int32_t> order;
  ids.resize(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].size() != ensemble.size())
      throw Error(cat("translate_ids: sentence ", i, " has sources for ", sources[i].size(), " of ", ensemble.size(),
                      " members"));
    bool empty = true;
    for (const auto& s : sources[i]) empty = empty && s.empty();
    if (empty) continue;
    for (std::vector<int32_t> s : sources[i]) {
      if (options.max_input_length > 0 && static_cast<int>(s.size()) > options.max_input_length) {
        s.resize(options.max_input_length);
        out[i].truncated = true;
      }
      s.push_back(Vocab::kEos);
      ids[i].push_back(std::move(s));
    }
    out[i].source = ids[i][ensemble.primary()];
    order.push_back(static_cast<int32_t>(i));
  }
  return order;
}

// The longest of a sentence's sources (what batches are sorted by).
size_t longest(const MemberSources& ids) {
  size_t n = 0;
  for (const auto& s : ids) n = std::max(n, s.size());
  return n;
}

}  // namespace

std::vector<Translation> translate_ids(Ensemble& ensemble, const std::vector<MemberSources>& sources,
                                       const TranslateOptions& options) {
  options.validate();
  std::vector<Translation> out(sources.size());
  std::vector<MemberSources> ids;
  std::vector<int32_t> order = prepare_sources(ensemble, sources, options, ids, out);
  PackedScope packed;  // the weights do not change while translating
  std::optional<Int8Scope> int8;
  if (options.int8) int8.emplace();
  std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return longest(ids[a]) < longest(ids[b]); });
  // Fewer sentences than a mini-batch a worker are spread over every worker (64 sentences in
  // one batch would leave the other workers idle); a sentence's translation does not depend
  // on its batch, so this changes no output.
  const size_t workers = options.workers ? static_cast<size_t>(options.workers->size()) : 1;
  const size_t per_batch = std::max<size_t>(
      1, std::min<size_t>(static_cast<size_t>(options.mini_batch), (order.size() + workers - 1) / workers));
  const size_t batches = (order.size() + per_batch - 1) / per_batch;
  std::mutex progress_mu;
  size_t done = sources.size() - order.size();
  // Batch j (counted from the longest): each writes only its own sentences' results.
  auto translate_batch = [&](size_t j) {
    const size_t begin = (batches - 1 - j) * per_batch;
    const size_t end = std::min(order.size(), begin + per_batch);
    std::vector<SourceBatch> src;
    for (size_t m = 0; m < ensemble.size(); ++m) {
      std::vector<std::vector<int32_t>> batch;
      for (size_t i = begin; i < end; ++i) batch.push_back(ids[order[i]][m]);
      src.push_back(SourceBatch::from(batch));
    }
    auto results = search(ensemble, src, options.search);
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

std::vector<Translation> translate_ids(Model& model, const std::vector<std::vector<int32_t>>& sources,
                                       const TranslateOptions& options) {
  Ensemble e = Ensemble::of(model);
  std::vector<MemberSources> per_member;
  per_member.reserve(sources.size());
  for (const auto& s : sources) per_member.push_back({s});
  return translate_ids(e, per_member, options);
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
