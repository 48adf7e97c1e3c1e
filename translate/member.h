// A member of an ensemble (translate/ensemble.h): whatever gives the log-probabilities of the
// next target token for a batch of hypotheses and can reorder its state for beam search. Search
// (translate/search.h) and scoring (translate/score.h) see models only through this interface,
// and add the members' log-probabilities, weighted, at every step.
//
// ModelMember is the translation model (model/model.h) as a member: it encodes its own source
// ids (its own source vocabulary) and runs its decoder. A member that reads no source (a
// target-side language model, for shallow fusion) answers reads_source() with false and gets a
// batch whose sources are </s> alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "encoder/encoder.h"
#include "model/model.h"

namespace nmt {

// A member's decoding state: one row per hypothesis.
class MemberState {
 public:
  virtual ~MemberState() = default;
  // Keeps rows `rows` of the state in that order (rows may repeat): beam search duplicates,
  // reorders and drops hypotheses with it.
  virtual void select(const std::vector<int32_t>& rows) = 0;
  // Attention weights of the last step over this member's source, [rows, S]; empty when it
  // has none.
  virtual Tensor last_attention() const { return Tensor(); }
};

class Member {
 public:
  virtual ~Member() = default;
  // Whether it reads the source sentence (false: a target-side language model).
  virtual bool reads_source() const = 0;
  // The size of the target vocabulary its log-probabilities are over.
  virtual int64_t target_vocab_size() const = 0;
  // Whether its states have attention weights (alignments).
  virtual bool has_attention() const = 0;
  // What it is, for messages ("dec-type attention").
  virtual std::string kind() const = 0;
  // Starts decoding: one state row per sentence of `src` (this member's source ids, </s>
  // included). With `columns` (target ids, ascending; a shortlist) step() gives the
  // log-probabilities of those ids only, normalised over them; empty: the whole vocabulary.
  // Called, like step(), under a NoGradScope.
  virtual std::unique_ptr<MemberState> start(const SourceBatch& src, const std::vector<int32_t>& columns) = 0;
  // Natural-log probabilities of the next token after each row's `previous` token:
  // [rows, V] (or [rows, |columns|]).
  virtual Tensor step(MemberState& state, const std::vector<int32_t>& previous) = 0;
  // Teacher forcing: log p(trg.output[n * T + t]) for every position, [N * T] batch-major
  // (padding positions hold a value to be ignored). Called under a NoGradScope.
  virtual std::vector<float> forced_log_probs(const SourceBatch& src, const TargetBatch& trg) = 0;
};

// A translation model as an ensemble member. The model must outlive it; it holds no state of
// its own, so several threads may decode with one ModelMember at once (as with one Model).
class ModelMember : public Member {
 public:
  explicit ModelMember(Model& model) : model_(model) {}
  bool reads_source() const override { return true; }
  int64_t target_vocab_size() const override { return model_.config().trg_vocab_size; }
  bool has_attention() const override { return model_.decoder().has_attention(); }
  std::string kind() const override;
  std::unique_ptr<MemberState> start(const SourceBatch& src, const std::vector<int32_t>& columns) override;
  Tensor step(MemberState& state, const std::vector<int32_t>& previous) override;
  std::vector<float> forced_log_probs(const SourceBatch& src, const TargetBatch& trg) override;

 private:
  Model& model_;
};

}  // namespace nmt
