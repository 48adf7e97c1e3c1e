#include "translate/shortlist.h"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "io/atomic_file.h"
#include "tokenization/corpus.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

bool special(int32_t id) { return id == Vocab::kPad || id == Vocab::kBos || id == Vocab::kUnk || id == Vocab::kEos; }

void check_ids(const std::vector<int32_t>& ids, int vocab, const char* side, size_t pair) {
  for (int32_t id : ids)
    if (id < 0 || id >= vocab)
      throw Error(cat("Shortlist: ", side, " id ", id, " of pair ", pair, " not in [0, ", vocab, ")"));
}

// The `n` ids of highest weight, ties to the lower id; specials left out.
template <typename Map>
std::vector<int32_t> top_ids(const Map& weights, int n) {
  std::vector<std::pair<double, int32_t>> all;
  for (const auto& [id, w] : weights)
    if (!special(id)) all.emplace_back(w, id);
  const size_t keep = std::min(all.size(), static_cast<size_t>(std::max(n, 0)));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<int32_t> out;
  for (size_t i = 0; i < keep; ++i) out.push_back(all[i].second);
  return out;
}

}  // namespace

void ShortlistOptions::validate() const {
  if (first < 0) throw OptionError(cat("first must be >= 0, got ", first));
  if (best < 0) throw OptionError(cat("best must be >= 0, got ", best));
  if (iterations < 1) throw OptionError(cat("iterations must be >= 1, got ", iterations));
}

Shortlist Shortlist::build(const std::vector<std::vector<int32_t>>& sources,
                           const std::vector<std::vector<int32_t>>& targets, int source_vocab, int target_vocab,
                           const ShortlistOptions& options) {
  if (sources.size() != targets.size())
    throw Error(cat("Shortlist: ", sources.size(), " source sentences but ", targets.size(), " targets"));
  options.validate();
  if (source_vocab < 1 || target_vocab < 1)
    throw Error(cat("Shortlist: vocabulary sizes ", source_vocab, " and ", target_vocab, " must be >= 1"));
  Shortlist s;
  s.source_vocab_ = source_vocab;
  s.target_vocab_ = target_vocab;
  std::unordered_map<int32_t, double> frequency;
  for (size_t i = 0; i < targets.size(); ++i) {
    check_ids(sources[i], source_vocab, "source", i);
    check_ids(targets[i], target_vocab, "target", i);
    for (int32_t t : targets[i]) frequency[t] += 1;
  }
  s.first_ = top_ids(frequency, options.first);

  // IBM Model 1: p(t | s) for the source pieces s of a pair and NULL (index source_vocab);
  // <pad>, <s> and </s> (a </s> ending each source, say) are left out, so their lists stay
  // empty, and so are pairs with no piece left on a side. Start uniform over the pairs that
  // co-occur; each EM iteration shares every target piece among the source pieces of its
  // sentence in proportion to p(t | s).
  const int32_t null_id = source_vocab;
  std::vector<std::vector<int32_t>> words(sources.size());  // per pair: its source pieces, then NULL
  for (size_t i = 0; i < sources.size(); ++i) {
    for (int32_t src : sources[i])
      if (src != Vocab::kPad && src != Vocab::kBos && src != Vocab::kEos) words[i].push_back(src);
    if (words[i].empty() || targets[i].empty())
      words[i].clear();
    else
      words[i].push_back(null_id);
  }
  std::vector<std::unordered_map<int32_t, float>> prob(source_vocab + 1);
  for (size_t i = 0; i < sources.size(); ++i)
    for (int32_t src : words[i])
      for (int32_t t : targets[i]) prob[src][t] = 1.f;
  std::vector<float*> p;  // p(t | s) of one target piece for each s of its pair
  for (int it = 0; it < options.iterations; ++it) {
    std::vector<std::unordered_map<int32_t, float>> count(source_vocab + 1);
    std::vector<double> total(source_vocab + 1, 0.0);
    for (size_t i = 0; i < sources.size(); ++i) {
      if (words[i].empty()) continue;
      for (int32_t t : targets[i]) {
        p.clear();
        double denominator = 0;
        for (int32_t src : words[i]) {
          p.push_back(&prob[src].at(t));  // made at the start, kept by every iteration
          denominator += *p.back();
        }
        for (size_t j = 0; j < p.size(); ++j) {  // (uniform shares if every p underflowed to 0)
          const float share = static_cast<float>(denominator > 0 ? *p[j] / denominator : 1.0 / p.size());
          count[words[i][j]][t] += share;
          total[words[i][j]] += share;
        }
      }
    }
    for (int32_t src = 0; src <= null_id; ++src)
      for (auto& [t, c] : count[src]) c = total[src] > 0 ? static_cast<float>(c / total[src]) : 0.f;
    prob = std::move(count);
  }
  s.best_.resize(source_vocab);
  for (int32_t src = 0; src < source_vocab; ++src) s.best_[src] = top_ids(prob[src], options.best);
  return s;
}

const std::vector<int32_t>& Shortlist::best(int32_t source_id) const {
  if (source_id < 0 || source_id >= source_vocab_)
    throw Error(cat("Shortlist: source id ", source_id, " not in [0, ", source_vocab_, ")"));
  return best_[source_id];
}

std::vector<int32_t> Shortlist::vocabulary(const SourceBatch& src, bool allow_unk) const {
  std::vector<char> keep(target_vocab_, 0);
  for (int32_t t : first_) keep[t] = 1;
  for (int64_t n = 0; n < src.batch; ++n)
    for (int64_t i = 0; i < src.lengths[n]; ++i)
      for (int32_t t : best(src.ids[n * src.length + i])) keep[t] = 1;
  keep[Vocab::kEos] = 1;
  if (allow_unk) keep[Vocab::kUnk] = 1;
  std::vector<int32_t> out;
  for (int32_t t = 0; t < target_vocab_; ++t)
    if (keep[t]) out.push_back(t);
  return out;
}

void Shortlist::save(const std::string& path) const {
  std::ostringstream out;
  out << "nmt-shortlist 1 " << source_vocab_ << ' ' << target_vocab_ << "\nfirst";
  for (int32_t t : first_) out << ' ' << t;
  out << '\n';
  for (int32_t src = 0; src < source_vocab_; ++src) {
    if (best_[src].empty()) continue;
    out << src << ':';
    for (int32_t t : best_[src]) out << ' ' << t;
    out << '\n';
  }
  write_file_atomically(path, out.str(), "shortlist");
}

Shortlist Shortlist::load(const std::string& path) {
  LineReader in(path);
  auto bad = [&](const std::string& what) {
    return InputError(cat(in.display_name(), ":", in.line_number(), ": ", what));
  };
  // The ids of `text`, each in [0, vocab).
  auto ids = [&](const std::string& text, int vocab) {
    std::istringstream s(text);
    std::vector<int32_t> out;
    std::string word;
    while (s >> word) {
      size_t used = 0;
      long v = -1;
      try {
        v = std::stol(word, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != word.size() || v < 0 || v >= vocab) throw bad(cat("'", word, "' is not an id in [0, ", vocab, ")"));
      out.push_back(static_cast<int32_t>(v));
    }
    return out;
  };
  std::string line;
  if (!in.next(line)) throw InputError(cat(in.display_name(), ": empty file, not an nmt shortlist"));
  Shortlist s;
  {
    std::istringstream h(line);
    std::string magic;
    int version = 0;
    if (!(h >> magic >> version >> s.source_vocab_ >> s.target_vocab_) || magic != "nmt-shortlist")
      throw bad("not an nmt shortlist (expected 'nmt-shortlist 1 SOURCE_VOCAB TARGET_VOCAB')");
    if (version != 1) throw bad(cat("shortlist format version ", version, ", this nmt reads version 1"));
    if (s.source_vocab_ < 1 || s.target_vocab_ <= Vocab::kEos)
      throw bad(cat("vocabulary sizes ", s.source_vocab_, " and ", s.target_vocab_, " are too small"));
  }
  if (!in.next(line) || line.rfind("first", 0) != 0) throw bad("expected the line 'first ID...'");
  s.first_ = ids(line.substr(5), s.target_vocab_);
  s.best_.resize(s.source_vocab_);
  while (in.next(line)) {
    if (line.empty()) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) throw bad("expected 'SOURCE_ID: ID...'");
    const std::vector<int32_t> src = ids(line.substr(0, colon), s.source_vocab_);
    if (src.size() != 1) throw bad(cat("expected one source id before ':', got '", line.substr(0, colon), "'"));
    s.best_[src[0]] = ids(line.substr(colon + 1), s.target_vocab_);
  }
  return s;
}

Shortlist Shortlist::load_for(const std::string& path, int source_vocab, int target_vocab) {
  Shortlist s = load(path);
  if (s.source_vocab_ != source_vocab || s.target_vocab_ != target_vocab)
    throw InputError(cat(path, ": a shortlist for vocabularies of ", s.source_vocab_, " and ", s.target_vocab_,
                         " pieces, but the model's have ", source_vocab, " and ", target_vocab));
  return s;
}

}  // namespace nmt
