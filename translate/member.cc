#include "translate/member.h"

#include "core/error.h"
#include "core/graph.h"
#include "ops/cross_entropy.h"
#include "ops/softmax.h"

namespace nmt {
namespace {

// The model's decoder state, with the encoder output it reads.
class ModelMemberState : public MemberState {
 public:
  ModelMemberState(EncoderOutput enc, std::unique_ptr<DecoderState> state)
      : enc_(std::move(enc)), state_(std::move(state)) {}
  void select(const std::vector<int32_t>& rows) override { state_->select(rows); }
  Tensor last_attention() const override { return state_->last_attention(); }
  DecoderState& decoder_state() { return *state_; }

 private:
  EncoderOutput enc_;
  std::unique_ptr<DecoderState> state_;
};

}  // namespace

std::string ModelMember::kind() const { return cat("dec-type ", model_.config().dec_type); }

std::unique_ptr<MemberState> ModelMember::start(const SourceBatch& src, const std::vector<int32_t>& columns) {
  Rng unused(0);
  EncoderOutput enc = model_.encoder().encode(src, false, unused);
  std::unique_ptr<DecoderState> state = model_.decoder().start(enc);
  if (!columns.empty()) state->output_slice = model_.decoder().output_slice(columns);
  return std::make_unique<ModelMemberState>(std::move(enc), std::move(state));
}

Tensor ModelMember::step(MemberState& state, const std::vector<int32_t>& previous) {
  auto* s = dynamic_cast<ModelMemberState*>(&state);
  if (!s) throw Error("ModelMember::step: the state was started by another member");
  Tensor lp = model_.decoder().step(s->decoder_state(), previous)->value;
  softmax_forward(lp, lp, true);  // in place: the logits are this step's alone
  return lp;
}

std::vector<float> ModelMember::forced_log_probs(const SourceBatch& src, const TargetBatch& trg) {
  Rng unused(0);
  EncoderOutput enc = model_.encoder().encode(src, false, unused);
  Var logits = model_.decoder().forward(enc, trg, false, unused);
  return target_log_probs(logits->value, trg.output);
}

}  // namespace nmt
