#include "lm/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

bool never_drawn(int32_t id) { return id == Vocab::kPad || id == Vocab::kBos || id == Vocab::kUnk; }

int32_t argmax(const float* logits, int64_t V) {
  int32_t best = -1;
  for (int32_t v = 0; v < V; ++v)
    if (!never_drawn(v) && (best < 0 || logits[v] > logits[best])) best = v;
  return best;
}

// The candidates a draw is made from, most probable first (equal logits: lower id first).
std::vector<int32_t> candidates(const float* logits, int64_t V, const GenerateOptions& o) {
  std::vector<int32_t> ids;
  for (int32_t v = 0; v < V; ++v)
    if (!never_drawn(v)) ids.push_back(v);
  auto better = [&](int32_t a, int32_t b) { return logits[a] > logits[b] || (logits[a] == logits[b] && a < b); };
  if (o.sampling == "topk" && static_cast<int64_t>(ids.size()) > o.top_k) {
    std::partial_sort(ids.begin(), ids.begin() + o.top_k, ids.end(), better);
    ids.resize(o.top_k);
  } else if (o.sampling == "topp") {
    std::sort(ids.begin(), ids.end(), better);
  }
  return ids;
}

// Unnormalised probabilities exp((logit - max) / temperature) of `ids`.
std::vector<double> weights(const float* logits, const std::vector<int32_t>& ids, float temperature) {
  float top = -INFINITY;
  for (int32_t v : ids) top = std::max(top, logits[v]);
  std::vector<double> w(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) w[i] = std::exp((static_cast<double>(logits[ids[i]]) - top) / temperature);
  return w;
}

// Keeps the smallest prefix of `ids` (most probable first) whose probability reaches p.
void keep_nucleus(std::vector<int32_t>& ids, std::vector<double>& w, float p) {
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  double sum = 0;
  size_t n = 0;
  while (n < w.size() && (n == 0 || sum < p * total)) sum += w[n++];
  ids.resize(n);
  w.resize(n);
}

}  // namespace

void GenerateOptions::validate() const {
  if (sampling != "greedy" && sampling != "full" && sampling != "topk" && sampling != "topp")
    throw OptionError(cat("sampling must be greedy, full, topk K or topp P, got '", sampling, "'"));
  if (sampling == "topk" && top_k < 1) throw OptionError(cat("sampling topk K must have K >= 1, got ", top_k));
  if (sampling == "topp" && !(top_p > 0 && top_p <= 1))
    throw OptionError(cat("sampling topp P must have P in (0, 1], got ", top_p));
  if (!(temperature >= 0) || !std::isfinite(temperature))
    throw OptionError(cat("temperature must be a finite number >= 0, got ", temperature));
  if (samples < 1) throw OptionError(cat("samples must be >= 1, got ", samples));
  if (max_length < 1) throw OptionError(cat("max-length must be >= 1, got ", max_length));
}

void parse_sampling(const std::vector<std::string>& words, GenerateOptions& o) {
  const std::string got = words.empty() ? "" : words[0];
  const bool takes_value = got == "topk" || got == "topp";
  if (words.size() != (takes_value ? 2u : 1u) || (!takes_value && got != "greedy" && got != "full")) {
    std::string all;
    for (const std::string& w : words) all += (all.empty() ? "" : " ") + w;
    throw OptionError(cat("sampling must be greedy, full, topk K or topp P, got '", all, "'"));
  }
  o.sampling = got;
  if (!takes_value) return;
  try {
    size_t used = 0;
    if (got == "topk") o.top_k = std::stoi(words[1], &used);
    if (got == "topp") o.top_p = std::stof(words[1], &used);
    if (used != words[1].size()) throw std::invalid_argument(words[1]);
  } catch (const std::logic_error&) {
    throw OptionError(cat("sampling ", got, " must be followed by a number, got '", words[1], "'"));
  }
}

int32_t pick_token(const float* logits, int64_t V, const GenerateOptions& o, Rng& rng) {
  if (o.sampling == "greedy" || o.temperature == 0) return argmax(logits, V);
  std::vector<int32_t> ids = candidates(logits, V, o);
  std::vector<double> w = weights(logits, ids, o.temperature);
  if (o.sampling == "topp") keep_nucleus(ids, w, o.top_p);
  const double total = std::accumulate(w.begin(), w.end(), 0.0);
  const double u = static_cast<double>(rng.next_u64() >> 11) * 0x1.0p-53 * total;  // [0, total)
  double sum = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    sum += w[i];
    if (u < sum) return ids[i];
  }
  return ids.back();  // u within rounding of the total
}

std::vector<std::vector<int32_t>> generate(LanguageModel& model, const std::vector<int32_t>& prompt,
                                           uint64_t prompt_index, const GenerateOptions& o) {
  o.validate();
  NoGradScope no_grad;
  const int64_t V = model.vocab_size(), K = o.samples;
  // The prompt is read once, then its state is copied to the K samples.
  std::unique_ptr<LmState> state = model.start(1);
  Var logits = model.step(*state, {model.begin_token()});
  for (int32_t id : prompt) logits = model.step(*state, {id});
  state->select(std::vector<int32_t>(K, 0));
  std::vector<Rng> rngs;
  for (int64_t j = 0; j < K; ++j) rngs.emplace_back(mix64(o.seed * 0x9E3779B97F4A7C15ull + mix64(prompt_index)) + j);
  std::vector<std::vector<int32_t>> out(K);
  std::vector<bool> done(K, false);
  for (int step = 0; step < o.max_length; ++step) {
    std::vector<int32_t> next(K, Vocab::kEos);
    bool alive = false;
    for (int64_t j = 0; j < K; ++j) {
      if (done[j]) continue;
      const float* row = logits->value.data() + (step == 0 ? 0 : j) * V;  // the prompt's row serves all at first
      next[j] = pick_token(row, V, o, rngs[j]);
      if (next[j] == Vocab::kEos) {
        done[j] = true;
        continue;
      }
      out[j].push_back(next[j]);
      alive = true;
    }
    if (!alive || step + 1 == o.max_length) break;
    logits = model.step(*state, next);
  }
  return out;
}

}  // namespace nmt
