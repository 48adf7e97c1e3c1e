#include "training/validator.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/graph.h"
#include "eval/bleu.h"
#include "tokenization/corpus.h"
#include "translate/translator.h"

namespace nmt {

Validator::Validator(const std::string& src_path, const std::string& trg_path, const Vocab& src_vocab,
                     const Vocab& trg_vocab, int mini_batch, int64_t max_bleu_sentences)
    : src_vocab_(src_vocab), trg_vocab_(trg_vocab), mini_batch_(mini_batch) {
  src_lines_ = read_lines(src_path);
  ref_lines_ = read_lines(trg_path);
  if (src_lines_.size() != ref_lines_.size())
    throw InputError(cat(src_path, " has ", src_lines_.size(), " lines but ", trg_path, " has ", ref_lines_.size(),
                         ": validation sets need the same number of lines"));
  if (max_bleu_sentences > 0 && static_cast<int64_t>(src_lines_.size()) > max_bleu_sentences) {
    src_lines_.resize(max_bleu_sentences);
    ref_lines_.resize(max_bleu_sentences);
  }
  for (size_t i = 0; i < src_lines_.size(); ++i) {
    std::vector<int32_t> s = src_vocab.encode(src_lines_[i]);
    if (s.empty()) continue;
    s.push_back(Vocab::kEos);
    src_ids_.push_back(std::move(s));
    trg_ids_.push_back(trg_vocab.encode(ref_lines_[i]));
  }
  if (src_ids_.empty()) throw InputError(cat(src_path, ": validation set has no non-empty sentences"));
}

bool Validator::higher_is_better(const std::string& metric) { return metric == "bleu"; }

std::map<std::string, double> Validator::run(Model& model, const std::vector<std::string>& metrics,
                                             std::vector<std::string>* translations) {
  NoGradScope no_grad;
  std::map<std::string, double> out;
  auto wants = [&](const char* m) { return std::find(metrics.begin(), metrics.end(), m) != metrics.end(); };
  if (wants("ce") || wants("perplexity")) {
    std::vector<int32_t> order(src_ids_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return src_ids_[a].size() < src_ids_[b].size(); });
    double ce = 0;
    int64_t tokens = 0;
    Rng unused(0);
    for (size_t b = 0; b < order.size(); b += mini_batch_) {
      std::vector<std::vector<int32_t>> s, t;
      for (size_t i = b; i < std::min(order.size(), b + mini_batch_); ++i) {
        s.push_back(src_ids_[order[i]]);
        t.push_back(trg_ids_[order[i]]);
      }
      TargetBatch trg = TargetBatch::from(t);
      Var losses = model.token_losses(SourceBatch::from(s), trg, 0.0f, false, unused);
      for (int64_t i = 0; i < losses->value.numel(); ++i) ce += losses->value[i];
      tokens += trg.tokens;
    }
    out["ce"] = ce / static_cast<double>(tokens);
    out["perplexity"] = std::exp(out["ce"]);
  }
  if (wants("bleu") || translations) {
    TranslateOptions opt;
    opt.mini_batch = mini_batch_;
    std::vector<std::string> hyps = translate_lines(model, src_vocab_, trg_vocab_, src_lines_, opt);
    if (wants("bleu")) out["bleu"] = corpus_bleu(hyps, ref_lines_, BleuOptions{}).score;
    if (translations) *translations = std::move(hyps);
  }
  return out;
}

}  // namespace nmt
