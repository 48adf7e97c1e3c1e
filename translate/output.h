// How `nmt translate` writes its results, following Marian's output formats:
//   best translation:  TEXT                      (with --alignment: TEXT ||| ALIGNMENT)
//   n-best lists:      ID ||| TEXT ||| F0= SCORE ||| NORMALIZED
//                      (with --alignment: ID ||| TEXT ||| ALIGNMENT ||| F0= ...)
// ID is the 0-based input line, SCORE the sum of log-probabilities, NORMALIZED the score
// beam search ranked by. Alignments cover the source pieces and the target pieces, </s>
// included on both sides:
//   soft: one row per target position, rows separated by spaces, each row the attention
//         weights over the source positions, separated by commas ("0.9,0.1 0.2,0.8");
//   hard: "s-t" pairs of each target position t and its most attended source position s,
//         sorted by s then t ("0-0 1-2 2-1").
#pragma once

#include <string>
#include <vector>

#include "tokenization/vocab.h"
#include "translate/search.h"

namespace nmt {

enum class AlignmentFormat { None, Soft, Hard };

// The alignment option: "soft", "hard" or "" (none); anything else throws OptionError.
AlignmentFormat parse_alignment_format(const std::string& name);

std::string format_alignment(const std::vector<std::vector<float>>& alignment, AlignmentFormat format);

// How a hypothesis is written: detokenized text, or its SentencePiece pieces separated by
// spaces (Marian's --no-spm-decode), e.g. to label an alignment's rows.
enum class TextFormat { Decoded, Pieces };

// One output line (no newline) for the best hypothesis; `hyps` may be empty (empty input).
std::string format_best(const std::vector<Hypothesis>& hyps, const Vocab& trg_vocab, AlignmentFormat format,
                        TextFormat text = TextFormat::Decoded);

// The n-best lines (each ending in "\n") of input line `id`; one line with an empty
// text and scores 0 when `hyps` is empty.
std::string format_nbest(int64_t id, const std::vector<Hypothesis>& hyps, const Vocab& trg_vocab,
                         AlignmentFormat format, TextFormat text = TextFormat::Decoded);

}  // namespace nmt
