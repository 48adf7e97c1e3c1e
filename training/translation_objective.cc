#include "training/translation_objective.h"

#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "model/model.h"
#include "ops/elementwise.h"
#include "tokenization/vocab.h"
#include "training/batcher.h"
#include "training/corpus.h"
#include "training/validator.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;

// Loads the vocabularies, training them from the training sets when the files do not
// exist yet (jointly when both paths are the same), as Marian does.
std::pair<std::shared_ptr<Vocab>, std::shared_ptr<Vocab>> prepare_vocabs(const TrainOptions& o, TrainLog& log) {
  const std::string& src_path = o.vocabs[0];
  const std::string& trg_path = o.vocabs[1];
  if (src_path == trg_path) {
    if (!fs::exists(src_path)) {
      log.line(cat("training joint vocabulary ", src_path, " (", o.vocab_size, " pieces) on ", o.train_sets[0], " and ",
                   o.train_sets[1]));
      VocabTrainOptions vo;
      vo.inputs = o.train_sets;
      vo.model_path = src_path;
      vo.vocab_size = o.vocab_size;
      vo.seed = o.seed;
      train_vocab(vo);
    }
    auto v = std::make_shared<Vocab>(Vocab::load(src_path));
    return {v, v};
  }
  for (int side = 0; side < 2; ++side) {
    if (fs::exists(o.vocabs[side])) continue;
    log.line(cat("training vocabulary ", o.vocabs[side], " (", o.vocab_size, " pieces) on ", o.train_sets[side]));
    VocabTrainOptions vo;
    vo.inputs = {o.train_sets[side]};
    vo.model_path = o.vocabs[side];
    vo.vocab_size = o.vocab_size;
    vo.seed = o.seed;
    train_vocab(vo);
  }
  return {std::make_shared<Vocab>(Vocab::load(src_path)), std::make_shared<Vocab>(Vocab::load(trg_path))};
}

struct SentencePairs : TrainBatch {
  std::vector<int32_t> idx;  // into the corpus
};

class TranslationObjective : public TrainingObjective {
 public:
  TranslationObjective(const TrainOptions& o, const Distributed& world) : o_(o), world_(world) {}

  void read_data(TrainLog& log) override;
  void new_model(TrainLog& log) override;
  void load_checkpoint(const ModelFile& file, const std::string& path) override {
    LoadedModel lm = model_from_file(file, path);
    model_ = std::move(lm.model);
  }
  ParamStore& params() override { return model_->params(); }
  std::map<std::string, std::string> config() const override { return model_->config().to_map(); }
  ModelFile model_file() override { return model_to_file(*model_, *src_vocab_, *trg_vocab_); }

  void start_batches(const BatchPosition& position, TrainLog&) override {
    batcher_ = std::make_unique<Batcher>(*corpus_, o_.mini_batch_words, o_.maxi_batch, o_.seed,
                                         batch_sort_for(o_.maxi_batch_sort, model_->config().enc_type));
    if (sampling())
      batcher_->set_epoch_hook([this](int64_t epoch) {
        *corpus_ =
            sample_parallel_corpus(*text_, *viterbi_, *src_vocab_, *trg_vocab_, alphas_, o_.max_length, o_.seed, epoch);
      });
    batcher_->set_position(position);
  }
  BatchPosition position() const override { return batcher_->position(); }
  size_t batches_in_epoch() override { return batcher_->batches_in_epoch(); }
  std::unique_ptr<TrainBatch> next_batch(bool* new_epoch) override;
  Var losses(const TrainBatch& batch, float label_smoothing, Rng& rng) override;

  bool splits_batches() const override { return true; }
  std::vector<int64_t> sentence_tokens(const TrainBatch& batch) const override;
  std::unique_ptr<TrainBatch> part(const TrainBatch& batch, const std::vector<int32_t>& positions) const override;

  // Every rank knows whether the run validates; rank 0 alone validates (has the validator).
  bool validates() const override { return !o_.valid_sets.empty(); }
  std::map<std::string, double> validate(const std::vector<std::string>& metrics,
                                         std::vector<std::string>* translations) override {
    return validator_->run(*model_, metrics, translations);
  }

 private:
  void share_vocabs(TrainLog& log);  // rank 0's, trained or read, on every rank
  void check_data_agreement() const;
  std::unique_ptr<TrainBatch> batch_of(std::vector<int32_t> idx) const;
  bool sampling() const { return alphas_.size() == 2 && (alphas_[0] > 0 || alphas_[1] > 0); }

  const TrainOptions& o_;
  const Distributed& world_;
  std::shared_ptr<Vocab> src_vocab_, trg_vocab_;
  std::unique_ptr<ParallelCorpus> corpus_;  // the epoch's encoding
  // Subword sampling (sentencepiece-alphas, source and target): the text and its most
  // probable encoding, from which each epoch's corpus is sampled.
  std::vector<float> alphas_;
  std::unique_ptr<ParallelText> text_;
  std::unique_ptr<ParallelCorpus> viterbi_;
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<Model> model_;
  std::unique_ptr<Validator> validator_;
};

// The corpus is read (and checked) before a missing vocabulary is trained on it.
void TranslationObjective::read_data(TrainLog& log) {
  corpus_ = std::make_unique<ParallelCorpus>();
  auto text = std::make_unique<ParallelText>(read_parallel_text(o_.train_sets[0], o_.train_sets[1]));
  share_vocabs(log);
  *corpus_ = encode_parallel_corpus(*text, *src_vocab_, *trg_vocab_, o_.max_length, true);
  check_data_agreement();
  log.line(cat("training corpus: ", corpus_->size(), " sentence pairs; dropped ", corpus_->dropped_long,
               " longer than ", o_.max_length, " pieces and ", corpus_->dropped_empty, " with an empty side"));
  alphas_ = o_.sentencepiece_alphas;
  alphas_.resize(2, alphas_.empty() ? 0.f : alphas_[0]);  // one alpha: both sides
  if (sampling()) {
    log.line(cat("subword sampling: a segmentation drawn every epoch, alpha ", alphas_[0], " (source) and ", alphas_[1],
                 " (target)"));
    text_ = std::move(text);
    viterbi_ = std::make_unique<ParallelCorpus>(*corpus_);
  }
  if (o_.rdrop_alpha > 0)
    log.line(cat("R-Drop: every pair trained twice under two dropout masks; symmetric KL weight ", o_.rdrop_alpha));
  if (validates() && world_.root())
    validator_ = std::make_unique<Validator>(o_.valid_sets[0], o_.valid_sets[1], *src_vocab_, *trg_vocab_,
                                             o_.valid_mini_batch, o_.valid_max_sentences);
}

void TranslationObjective::share_vocabs(TrainLog& log) {
  if (world_.root()) std::tie(src_vocab_, trg_vocab_) = prepare_vocabs(o_, log);
  if (!world_.parallel()) return;
  std::string src = world_.root() ? src_vocab_->serialized() : "";
  std::string trg = world_.root() ? trg_vocab_->serialized() : "";
  int64_t joint = world_.root() && src_vocab_ == trg_vocab_;
  world_.broadcast(src);
  world_.broadcast(trg);
  world_.broadcast(&joint, 1);
  if (world_.root()) return;
  src_vocab_ = std::make_shared<Vocab>(Vocab::from_bytes(src, o_.vocabs[0]));
  trg_vocab_ = joint ? src_vocab_ : std::make_shared<Vocab>(Vocab::from_bytes(trg, o_.vocabs[1]));
}

// Every rank reads the training corpus itself: its files' sizes and the encoded sentences
// must be rank 0's, or the ranks would split different batches.
void TranslationObjective::check_data_agreement() const {
  if (!world_.parallel()) return;
  std::map<std::string, std::string> items;
  const char* sides[2] = {"source", "target"};
  for (int side = 0; side < 2; ++side) {
    const std::string& path = o_.train_sets[side];
    items[cat("train-sets ", sides[side], " file ", path)] = cat(fs::file_size(path), " bytes");
    const auto& sentences = side == 0 ? corpus_->src : corpus_->trg;
    uint64_t h = checksum(nullptr, 0);
    for (const auto& s : sentences) h = checksum(s.data(), s.size() * sizeof(s[0]), checksum(nullptr, 0, h ^ s.size()));
    items[cat("train-sets ", sides[side], " encoded with rank 0's vocabulary")] =
        cat(sentences.size(), " sentences, checksum ", std::hex, h);
  }
  world_.check_agreement(items);
}

void TranslationObjective::new_model(TrainLog& log) {
  ModelConfig config = o_.model;
  config.src_vocab_size = src_vocab_->size();
  config.trg_vocab_size = trg_vocab_->size();
  if (config.tied_embeddings_all && src_vocab_ != trg_vocab_ && src_vocab_->serialized() != trg_vocab_->serialized()) {
    log.line("source and target vocabularies differ: not tying source embeddings (tied-embeddings-all off)");
    config.tied_embeddings_all = false;
  }
  model_ = std::make_unique<Model>(config, o_.seed);
}

std::unique_ptr<TrainBatch> TranslationObjective::next_batch(bool* new_epoch) {
  return batch_of(batcher_->next(new_epoch));
}

std::unique_ptr<TrainBatch> TranslationObjective::batch_of(std::vector<int32_t> idx) const {
  auto b = std::make_unique<SentencePairs>();
  b->idx = std::move(idx);
  for (int32_t i : b->idx) {
    b->target_tokens += static_cast<int64_t>(corpus_->trg[i].size()) + 1;
    b->source_tokens += static_cast<int64_t>(corpus_->src[i].size());
  }
  b->sentences = static_cast<int64_t>(b->idx.size());
  return b;
}

std::vector<int64_t> TranslationObjective::sentence_tokens(const TrainBatch& batch) const {
  std::vector<int64_t> tokens;
  for (int32_t i : static_cast<const SentencePairs&>(batch).idx)
    tokens.push_back(static_cast<int64_t>(corpus_->trg[i].size()) + 1);
  return tokens;
}

std::unique_ptr<TrainBatch> TranslationObjective::part(const TrainBatch& batch,
                                                       const std::vector<int32_t>& positions) const {
  const std::vector<int32_t>& idx = static_cast<const SentencePairs&>(batch).idx;
  std::vector<int32_t> chosen;
  for (int32_t p : positions) chosen.push_back(idx[p]);
  return batch_of(std::move(chosen));
}

// With R-Drop the batch holds every pair twice (the second half repeats the first), each copy
// under its own dropout masks; the losses are halved so that the mean over the update's target
// tokens stays one cross-entropy per token, plus the consistency term.
Var TranslationObjective::losses(const TrainBatch& batch, float label_smoothing, Rng& rng) {
  std::vector<std::vector<int32_t>> s, t;
  const std::vector<int32_t>& idx = static_cast<const SentencePairs&>(batch).idx;
  const bool rdrop = o_.rdrop_alpha > 0;
  for (int copy = 0; copy < (rdrop ? 2 : 1); ++copy)
    for (int32_t i : idx) {
      s.push_back(corpus_->src[i]);
      t.push_back(corpus_->trg[i]);
    }
  TargetBatch trg = TargetBatch::from(t);
  trg.twin_kl = o_.rdrop_alpha;
  Var losses = model_->token_losses(SourceBatch::from(s), trg, label_smoothing, true, rng);
  return rdrop ? scale(losses, 0.5f) : losses;
}

}  // namespace

std::unique_ptr<TrainingObjective> make_translation_objective(const TrainOptions& options, const Distributed& world) {
  return std::make_unique<TranslationObjective>(options, world);
}

}  // namespace nmt
