#include "lm/fusion.h"

#include "core/error.h"
#include "ops/cross_entropy.h"
#include "ops/softmax.h"

namespace nmt {
namespace {

class LmMemberState : public MemberState {
 public:
  LmMemberState(std::unique_ptr<LmState> state, std::vector<int32_t> columns)
      : state_(std::move(state)), columns_(std::move(columns)) {}
  void select(const std::vector<int32_t>& rows) override { state_->select(rows); }
  LmState& lm_state() { return *state_; }
  const std::vector<int32_t>& columns() const { return columns_; }

 private:
  std::unique_ptr<LmState> state_;
  std::vector<int32_t> columns_;  // empty: the whole vocabulary
};

// Search and scoring start every target with <s>; the model's sequences start with its own
// begin token.
int32_t lm_input(const LanguageModel& lm, int32_t id) { return id == Vocab::kBos ? lm.begin_token() : id; }

}  // namespace

std::string LmMember::kind() const { return cat("language model (type ", lm_.model->config().type, ")"); }

std::unique_ptr<MemberState> LmMember::start(const SourceBatch& src, const std::vector<int32_t>& columns) {
  return std::make_unique<LmMemberState>(lm_.model->start(src.batch), columns);
}

Tensor LmMember::step(MemberState& state, const std::vector<int32_t>& previous) {
  auto* s = dynamic_cast<LmMemberState*>(&state);
  if (!s) throw Error("LmMember::step: the state was started by another member");
  std::vector<int32_t> inputs(previous.size());
  for (size_t r = 0; r < previous.size(); ++r) inputs[r] = lm_input(*lm_.model, previous[r]);
  Tensor logits = lm_.model->step(s->lm_state(), inputs)->value;  // [rows, V]
  if (!s->columns().empty()) {                                    // a shortlist: those columns, normalised over them
    const int64_t rows = logits.dim(0), V = logits.dim(1), C = static_cast<int64_t>(s->columns().size());
    Tensor kept({rows, C});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < C; ++c) kept[r * C + c] = logits[r * V + s->columns()[c]];
    logits = kept;
  }
  softmax_forward(logits, logits, true);  // in place: the logits are this step's alone
  return logits;
}

std::vector<float> LmMember::forced_log_probs(const SourceBatch&, const TargetBatch& trg) {
  TargetBatch b = trg;
  for (int32_t& id : b.input) id = lm_input(*lm_.model, id);
  return target_log_probs(lm_.model->logits(b, nullptr)->value, b.output);
}

LoadedEnsemble load_fusion_ensemble(const std::vector<std::string>& paths, std::vector<float> weights) {
  return load_ensemble(paths, std::move(weights),
                       [](const ModelFile& file, const std::string& path, std::shared_ptr<Vocab>& trg_vocab) {
                         LoadedLm lm = lm_from_file(file, path);
                         trg_vocab = lm.vocab;
                         return std::make_unique<LmMember>(std::move(lm));
                       });
}

}  // namespace nmt
