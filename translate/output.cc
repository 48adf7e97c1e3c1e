#include "translate/output.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace nmt {

AlignmentFormat parse_alignment_format(const std::string& name) {
  if (name.empty()) return AlignmentFormat::None;
  if (name == "soft") return AlignmentFormat::Soft;
  if (name == "hard") return AlignmentFormat::Hard;
  throw OptionError(cat("alignment must be soft or hard, got '", name, "'"));
}

std::string format_alignment(const std::vector<std::vector<float>>& alignment, AlignmentFormat format) {
  std::ostringstream os;
  if (format == AlignmentFormat::Soft) {
    for (size_t t = 0; t < alignment.size(); ++t) {
      if (t) os << ' ';
      for (size_t s = 0; s < alignment[t].size(); ++s) os << (s ? "," : "") << alignment[t][s];
    }
  } else if (format == AlignmentFormat::Hard) {
    std::vector<std::pair<size_t, size_t>> pairs;
    for (size_t t = 0; t < alignment.size(); ++t) {
      const auto& row = alignment[t];
      if (row.empty()) continue;
      pairs.emplace_back(std::max_element(row.begin(), row.end()) - row.begin(), t);
    }
    std::sort(pairs.begin(), pairs.end());
    for (size_t i = 0; i < pairs.size(); ++i) os << (i ? " " : "") << pairs[i].first << '-' << pairs[i].second;
  }
  return os.str();
}

namespace {
std::string text_of(const std::vector<int32_t>& tokens, const Vocab& vocab, TextFormat text) {
  if (text == TextFormat::Decoded) return vocab.decode(tokens);
  std::string out;
  for (const std::string& p : vocab.pieces(tokens)) out += (out.empty() ? "" : " ") + p;
  return out;
}
}  // namespace

std::string format_best(const std::vector<Hypothesis>& hyps, const Vocab& trg_vocab, AlignmentFormat format,
                        TextFormat text) {
  std::string line = hyps.empty() ? std::string() : text_of(hyps[0].tokens, trg_vocab, text);
  if (format != AlignmentFormat::None)
    line += " ||| " + (hyps.empty() ? std::string() : format_alignment(hyps[0].alignment, format));
  return line;
}

std::string format_nbest(int64_t id, const std::vector<Hypothesis>& hyps, const Vocab& trg_vocab,
                         AlignmentFormat format, TextFormat text) {
  std::ostringstream os;
  auto line = [&](const std::string& text, const std::string& alignment, float score, float normalized) {
    os << id << " ||| " << text;
    if (format != AlignmentFormat::None) os << " ||| " << alignment;
    os << " ||| F0= " << score << " ||| " << normalized << "\n";
  };
  if (hyps.empty()) line("", "", 0.0f, 0.0f);
  for (const Hypothesis& h : hyps)
    line(text_of(h.tokens, trg_vocab, text), format_alignment(h.alignment, format), h.score, h.normalized_score);
  return os.str();
}

}  // namespace nmt
