#include "training/lm_objective.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "core/error.h"
#include "lm/language_model.h"
#include "lm/text.h"
#include "tokenization/corpus.h"
#include "training/batcher.h"
#include "training/corpus.h"

namespace nmt {
namespace {

const std::string kCarryTensor = "lm.carried.";  // + index, in a checkpoint

struct LmBatchRef : TrainBatch {
  std::vector<int32_t> lines;  // sentence mode: into the corpus
  int64_t window = -1;         // stream mode
};

class LmObjective : public TrainingObjective {
 public:
  explicit LmObjective(const TrainOptions& o) : o_(o) {}

  void read_data(TrainLog& log) override;
  void new_model(TrainLog&) override;
  void load_checkpoint(const ModelFile& file, const std::string& path) override;
  ParamStore& params() override { return lm_->params(); }
  std::map<std::string, std::string> config() const override { return lm_->config().to_map(); }
  ModelFile model_file() override { return lm_to_file(*lm_, *vocab_); }
  void put_checkpoint_state(ModelFile& file) const override;

  void start_batches(const BatchPosition& position, TrainLog& log) override;
  BatchPosition position() const override { return windows_ ? position_ : batcher_->position(); }
  size_t batches_in_epoch() override { return windows_ ? windows_->windows() : batcher_->batches_in_epoch(); }
  std::unique_ptr<TrainBatch> next_batch(bool* new_epoch) override;
  Var losses(const TrainBatch& batch, float label_smoothing, Rng& rng) override;
  void skipped_update() override { carry_.reset(); }

  bool validates() const override { return !valid_.lines.empty(); }
  std::map<std::string, double> validate(const std::vector<std::string>& metrics,
                                         std::vector<std::string>* translations) override;

 private:
  void start_sentences(const BatchPosition& position, TrainLog& log);
  void start_stream(const BatchPosition& position, TrainLog& log);
  double valid_loss_sentences(int64_t& tokens);
  double valid_loss_stream(int64_t& tokens);

  const TrainOptions& o_;
  std::shared_ptr<Vocab> vocab_;
  LmText train_, valid_;  // train_.lines are released once batching has started
  std::unique_ptr<LanguageModel> lm_;
  // sentence mode
  ParallelCorpus corpus_;  // the kept lines as targets; no sources
  std::unique_ptr<Batcher> batcher_;
  // stream mode
  LmStream stream_;
  std::unique_ptr<StreamWindows> windows_;
  BatchPosition position_;
  std::unique_ptr<LmState> carry_;     // null: zero at the next window
  std::vector<Tensor> resumed_carry_;  // from the checkpoint, until start_batches
};

// The text is read (and checked) before a missing vocabulary is trained on it.
void LmObjective::read_data(TrainLog& log) {
  const std::string& path = o_.train_sets[0];
  std::vector<std::string> lines = read_lines(path);
  if (lines.empty()) throw InputError(cat(path, ": the file is empty: no lines of text"));
  if (!std::filesystem::exists(o_.vocabs[0])) {
    log.line(cat("training vocabulary ", o_.vocabs[0], " (", o_.vocab_size, " pieces) on ", path));
    VocabTrainOptions vo;
    vo.inputs = {path};
    vo.model_path = o_.vocabs[0];
    vo.vocab_size = o_.vocab_size;
    vo.seed = o_.seed;
    train_vocab(vo);
  }
  vocab_ = std::make_shared<Vocab>(Vocab::load(o_.vocabs[0]));
  train_ = encode_lm_text(path, lines, *vocab_);
  lines = {};
  log.line(cat("training text: ", train_.lines.size(), " lines, ", train_.pieces(), " pieces (</s> included), ",
               train_.words, " words"));
  if (!o_.valid_sets.empty()) valid_ = read_lm_text(o_.valid_sets[0], *vocab_);
}

void LmObjective::new_model(TrainLog&) {
  ModelConfig config = o_.model;
  config.src_vocab_size = 0;
  config.trg_vocab_size = vocab_->size();
  lm_ = make_language_model(config, o_.seed);
}

void LmObjective::load_checkpoint(const ModelFile& file, const std::string& path) {
  LoadedLm loaded = lm_from_file(file, path);
  lm_ = std::move(loaded.model);
  for (int i = 0;; ++i) {
    const Tensor* t = file.find_tensor(kCarryTensor + std::to_string(i));
    if (!t) break;
    resumed_carry_.push_back(*t);
  }
}

void LmObjective::put_checkpoint_state(ModelFile& file) const {
  if (!carry_) return;
  const std::vector<Tensor*> carried = carry_->carried();
  for (size_t i = 0; i < carried.size(); ++i) file.tensors.emplace_back(kCarryTensor + std::to_string(i), *carried[i]);
}

void LmObjective::start_batches(const BatchPosition& position, TrainLog& log) {
  if (lm_->stream_mode())
    start_stream(position, log);
  else
    start_sentences(position, log);
}

void LmObjective::start_sentences(const BatchPosition& position, TrainLog& log) {
  int64_t dropped = 0;
  for (auto& line : train_.lines) {
    if (o_.max_length > 0 && static_cast<int64_t>(line.size()) > o_.max_length) {
      ++dropped;
      continue;
    }
    corpus_.src.emplace_back();
    corpus_.trg.push_back(std::move(line));
  }
  train_.lines = {};  // moved into the corpus
  if (corpus_.size() == 0)
    throw InputError(cat(train_.path, ": no lines left: all ", dropped, " are longer than ", o_.max_length, " pieces"));
  log.line(
      cat("sentence mode: ", corpus_.size(), " lines; dropped ", dropped, " longer than ", o_.max_length, " pieces"));
  batcher_ = std::make_unique<Batcher>(corpus_, o_.mini_batch_words, o_.maxi_batch, o_.seed, BatchSort::kTarget);
  batcher_->set_position(position);
}

void LmObjective::start_stream(const BatchPosition& position, TrainLog& log) {
  const int64_t bptt = lm_->config().bptt;
  stream_ = make_stream(train_.lines);
  train_.lines = {};  // the stream holds the text
  windows_ = std::make_unique<StreamWindows>(stream_, std::max<int64_t>(1, o_.mini_batch_words / bptt), bptt);
  position_ = position;
  log.line(cat("stream mode: ", stream_.size(), " positions read as ", windows_->rows(), " rows side by side in ",
               windows_->windows(), " windows of up to ", bptt, " (bptt); ", windows_->left_out(),
               " positions at the end left out"));
  if (resumed_carry_.empty() || position.index == 0) return;
  carry_ = lm_->start(windows_->rows());
  const std::vector<Tensor*> carried = carry_->carried();
  bool fits = carried.size() == resumed_carry_.size();
  for (size_t i = 0; fits && i < carried.size(); ++i) fits = carried[i]->shape() == resumed_carry_[i].shape();
  if (!fits) {
    log.line("the checkpoint's carried state does not fit these rows (mini-batch-words changed?): starting from zero");
    carry_.reset();
    return;
  }
  for (size_t i = 0; i < carried.size(); ++i) carried[i]->copy_from(resumed_carry_[i]);
}

std::unique_ptr<TrainBatch> LmObjective::next_batch(bool* new_epoch) {
  auto b = std::make_unique<LmBatchRef>();
  if (!windows_) {
    b->lines = batcher_->next(new_epoch);
    for (int32_t i : b->lines) b->target_tokens += static_cast<int64_t>(corpus_.trg[i].size()) + 1;
    b->sentences = static_cast<int64_t>(b->lines.size());
    return b;
  }
  b->window = position_.index;
  b->target_tokens = windows_->rows() * windows_->window_length(b->window);
  b->sentences = windows_->rows();
  const bool ended = ++position_.index == windows_->windows();
  if (ended) {
    ++position_.epoch;
    position_.index = 0;
  }
  if (new_epoch) *new_epoch = ended;
  return b;
}

Var LmObjective::losses(const TrainBatch& batch, float label_smoothing, Rng& rng) {
  const auto& b = static_cast<const LmBatchRef&>(batch);
  if (!windows_) {
    std::vector<std::vector<int32_t>> lines;
    for (int32_t i : b.lines) lines.push_back(corpus_.trg[i]);
    return lm_->token_losses(TargetBatch::from(lines), nullptr, label_smoothing, true, rng);
  }
  if (b.window == 0 || !carry_) carry_ = lm_->start(windows_->rows());  // each epoch starts from zero
  return lm_->token_losses(windows_->window(b.window), carry_.get(), label_smoothing, true, rng);
}

std::map<std::string, double> LmObjective::validate(const std::vector<std::string>& metrics,
                                                    std::vector<std::string>* translations) {
  NoGradScope no_grad;
  int64_t tokens = 0;
  const double loss = lm_->stream_mode() ? valid_loss_stream(tokens) : valid_loss_sentences(tokens);
  std::map<std::string, double> out;
  out["ce"] = loss / static_cast<double>(tokens);
  out["perplexity"] = std::exp(out["ce"]);
  return out;
}

double LmObjective::valid_loss_sentences(int64_t& tokens) {
  std::vector<int32_t> order(valid_.lines.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return valid_.lines[a].size() < valid_.lines[b].size(); });
  double loss = 0;
  Rng unused(0);
  for (size_t a = 0; a < order.size(); a += o_.valid_mini_batch) {
    const std::vector<int32_t> rows(order.begin() + a, order.begin() + std::min(order.size(), a + o_.valid_mini_batch));
    const TargetBatch b = sentence_batch(valid_.lines, rows);
    const Var losses = lm_->token_losses(b, nullptr, 0.0f, false, unused);
    for (int64_t i = 0; i < losses->value.numel(); ++i) loss += losses->value[i];
    tokens += b.tokens;
  }
  return loss;
}

double LmObjective::valid_loss_stream(int64_t& tokens) {
  const LmStream stream = make_stream(valid_.lines);
  const StreamWindows windows(stream, 1, lm_->config().bptt);
  const std::unique_ptr<LmState> state = lm_->start(1);
  double loss = 0;
  Rng unused(0);
  for (int64_t w = 0; w < windows.windows(); ++w) {
    const TargetBatch b = windows.window(w);
    const Var losses = lm_->token_losses(b, state.get(), 0.0f, false, unused);
    for (int64_t i = 0; i < losses->value.numel(); ++i) loss += losses->value[i];
    tokens += b.tokens;
  }
  return loss;
}

}  // namespace

std::unique_ptr<TrainingObjective> make_lm_objective(const TrainOptions& options) {
  return std::make_unique<LmObjective>(options);
}

}  // namespace nmt
