// `nmt train` through the built binary (NMT_BINARY): bad inputs and options, the
// training schedule (--after units, validation, early stopping, --max-length), the log,
// --dump-config, checkpoint corruption and the divergence path. Every run trains a tiny
// model on a small synthetic corpus (tests/synthetic.h) for a few updates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "io/model_file.h"
#include "model/model.h"
#include "ops/bf16.h"
#include "synthetic.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;
using testing::RunResult;
using testing::TempDir;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string l; std::getline(is, l);) out.push_back(l);
  return out;
}

class CliTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pairs_ = testing::reversal_pairs(200, 5, 12, 1);
    src_ = dir_.path("train.src");
    trg_ = dir_.path("train.trg");
    testing::write_lines(src_, pairs_.src);
    testing::write_lines(trg_, pairs_.trg);
    const auto valid = testing::reversal_pairs(20, 5, 12, 2);
    testing::write_lines(dir_.path("valid.src"), valid.src);
    testing::write_lines(dir_.path("valid.trg"), valid.trg);
    model_ = dir_.path("model.bin");
    ckpt_ = model_ + ".ckpt";
    vocab_ = dir_.path("vocab.spm");
  }

  // A tiny attention model; `extra` is appended (later options are errors when repeated).
  std::string args(const std::string& extra, const std::string& src = "", const std::string& trg = "") const {
    return "train -t '" + (src.empty() ? src_ : src) + "' '" + (trg.empty() ? trg_ : trg) + "' -v '" + vocab_ + "' '" +
           vocab_ + "' --vocab-size 37 -m '" + model_ + "' --dim-emb 8 --dim-rnn 16 --dim-att 8 --cpu-threads 1 " +
           (contains(extra, "--mini-batch-words") ? "" : "--mini-batch-words 100 ") + extra;
  }
  RunResult train(const std::string& extra) const { return testing::run_nmt(dir_, args(extra)); }

  std::string ckpt_value(const std::string& key) const {
    ModelFile f = load_model_file(ckpt_);
    auto it = f.config.find("train." + key);
    return it == f.config.end() ? "<missing>" : it->second;
  }

  // "N batches an epoch" from the log.
  static int batches_an_epoch(const std::string& log) {
    std::smatch m;
    const std::regex re(" ([0-9]+) batches an epoch");
    return std::regex_search(log, m, re) ? std::stoi(m[1]) : -1;
  }

  TempDir dir_{"nmt_cli_train"};
  testing::ParallelText pairs_;
  std::string src_, trg_, model_, ckpt_, vocab_;
};

// ---- Inputs ---------------------------------------------------------------------

TEST_F(CliTrainTest, MismatchedLineCountsNameBothFilesAndCounts) {
  std::vector<std::string> short_trg(pairs_.trg.begin(), pairs_.trg.begin() + 150);
  const std::string trg = dir_.path("short.trg");
  testing::write_lines(trg, short_trg);
  const RunResult r = testing::run_nmt(dir_, args("--after 2u", src_, trg));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, src_ + " has 200 lines")) << r.err;
  EXPECT_TRUE(contains(r.err, trg + " has 150")) << r.err;
  EXPECT_FALSE(fs::exists(model_));
  // Detected before the missing vocabulary would be trained on the mismatched files.
  EXPECT_FALSE(fs::exists(vocab_));
}

TEST_F(CliTrainTest, MissingFileIsNamed) {
  const std::string missing = dir_.path("no_such.trg");
  RunResult r = testing::run_nmt(dir_, args("--after 2u", src_, missing));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, missing)) << r.err;
  // Missing with the vocabulary already there (the corpus is read by the trainer itself).
  ASSERT_EQ(train("--after 1u").code, 0);
  r = testing::run_nmt(dir_, args("--after 2u", missing, trg_));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, missing)) << r.err;
  // A missing validation file.
  r = train("--after 2u --valid-sets '" + dir_.path("valid.src") + "' '" + missing + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, missing)) << r.err;
}

TEST_F(CliTrainTest, EmptyCorpusIsAClearError) {
  const std::string src = dir_.write("empty.src", ""), trg = dir_.write("empty.trg", "");
  // No vocabulary yet: vocabulary training is the first to read the files.
  RunResult r = testing::run_nmt(dir_, args("--after 2u", src, trg));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, src) && contains(r.err, trg)) << r.err;
  EXPECT_TRUE(contains(r.err, "no non-empty lines")) << r.err;
  // With a vocabulary: the corpus loader says what it read and dropped.
  ASSERT_EQ(train("--after 1u").code, 0);
  const std::string blank_src = dir_.write("blank.src", "\n\n  \n"), blank_trg = dir_.write("blank.trg", "b\n\nc\n");
  r = testing::run_nmt(dir_, args("--after 2u", blank_src, blank_trg));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, blank_src) && contains(r.err, blank_trg)) << r.err;
  EXPECT_TRUE(contains(r.err, "no sentence pairs left (3 lines read, 3 with an empty side")) << r.err;
}

TEST_F(CliTrainTest, InvalidUtf8NamesFileAndLine) {
  std::vector<std::string> bad = pairs_.trg;
  bad[6] = "b c \xC3 d";
  const std::string trg = dir_.path("bad.trg");
  testing::write_lines(trg, bad);
  RunResult r = testing::run_nmt(dir_, args("--after 2u", src_, trg));  // through vocabulary training
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, trg + ":7: invalid UTF-8")) << r.err;
  ASSERT_EQ(train("--after 1u").code, 0);
  r = testing::run_nmt(dir_, args("--after 2u", src_, trg));  // through the corpus loader
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, trg + ":7: invalid UTF-8")) << r.err;
}

TEST_F(CliTrainTest, BadOptionValuesExitTwoBeforeDoingAnything) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--type foo", "type must be bottleneck, attention, transformer, lm or lm-transformer, got 'foo'"},
      {"--after 10x", "after must be amounts like 10e or 10e,500u"},
      {"--after 10x", "got '10x': unknown unit 'x'"},
      {"--after 60s", "got '60s': unknown unit 's'"},
      {"--after -3u", "got '-3u': '-3u' is not a number >= 0 with a unit"},
      {"--optimizer-delay 0", "optimizer-delay must be >= 1, got 0"},
      {"--valid-metrics foo", "valid-metrics must be among ce, perplexity, bleu, got 'foo'"},
      {"--valid-freq 5x", "valid-freq must be amounts like 10e or 10e,500u"},
      {"--valid-freq 1e,5u", "valid-freq must be one amount (like 500u), got '1e,5u'"},
      {"--mini-batch-words 0", "mini-batch-words must be >= 1, got 0"},
      {"--maxi-batch 0", "maxi-batch must be >= 1, got 0"},
      {"--maxi-batch-sort length", "maxi-batch-sort must be src, trg or max, got 'length'"},
      {"--label-smoothing 1.5", "label-smoothing must be in [0, 1), got 1.5"},
      {"--learn-rate -1", "learn-rate must be a finite number >= 0, got -1"},
      {"--max-divergence 0", "max-divergence must be >= 1, got 0"},
      {"--exponential-smoothing 1.5", "exponential-smoothing must be in [0, 1] (0: off), got 1.5"},
      {"--learn-rate abc", "--learn-rate"},
      {"--cell lstn", "cell must be lstm, gru or rnn, got 'lstn'"},
      {"--type transformer --transformer-heads 3",
       "dim-emb must be a multiple of transformer-heads, got 8 with transformer-heads 3"},
      {"--no-such-option 3", "no-such-option"},
      {"--valid-sets one_file", "valid-sets must be 2 files (SRC TRG), got 1"},
      {"--precision float16", "precision must be float32 or bfloat16, got 'float16'"},
      {"--precision bfloat16 bfloat16", "precision's optimizer type must be float32"},
      {"--precision float32 float32 float32", "precision must be one or two types"},
      {"--sentencepiece-alphas 1.5", "sentencepiece-alphas must be in [0, 1] (0: off), got [1.5]"},
      {"--rdrop-alpha -1", "rdrop-alpha must be a finite number >= 0 (0: off), got -1"},
      {"--rdrop-alpha nan", "rdrop-alpha must be a finite number >= 0 (0: off), got nan"},
      {"--sentencepiece-alphas 0.1 0.1 0.1",
       "sentencepiece-alphas must be 1 or 2 values (SRC [TRG]), got [0.1, 0.1, 0.1]"},
  };
  for (const auto& [extra, message] : cases) {
    const RunResult r = train((contains(extra, "--after") ? "" : "--after 2u ") + extra);
    EXPECT_EQ(r.code, 2) << extra << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, message)) << extra << "\n" << r.err;
  }
  // Missing required options.
  EXPECT_EQ(testing::run_nmt(dir_, "train -t '" + src_ + "' '" + trg_ + "' -v a b").code, 2);
  EXPECT_EQ(testing::run_nmt(dir_, "train -t '" + src_ + "' -v a b -m '" + model_ + "'").code, 2);
  // Nothing was trained or written.
  EXPECT_FALSE(fs::exists(vocab_));
  EXPECT_FALSE(fs::exists(model_));
}

// ---- Schedule -------------------------------------------------------------------

TEST_F(CliTrainTest, MaxLengthDropsLongPairsAndSaysHowMany) {
  int64_t longer = 0;
  for (const auto& s : pairs_.src) longer += testing::split_words(s).size() > 8;
  ASSERT_GT(longer, 0);
  ASSERT_LT(longer, 200);
  const RunResult r = train("--after 1u --max-length 8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "training corpus: " + std::to_string(200 - longer) + " sentence pairs; dropped " +
                                  std::to_string(longer) + " longer than 8 pieces"))
      << r.err;
}

TEST_F(CliTrainTest, AfterUpdatesStopsAtThatUpdate) {
  const RunResult r = train("--after 7u");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ckpt_value("updates"), "7");
  EXPECT_EQ(load_model_file(ckpt_).config.at("adam.steps"), "7");
  EXPECT_TRUE(contains(r.err, "training finished: 7 updates")) << r.err;
  // The model file is written too, and loads.
  EXPECT_NO_THROW(load_model(model_));
}

TEST_F(CliTrainTest, AfterEpochsStopsAtTheEpochBoundary) {
  const RunResult r = train("--after 2e");
  ASSERT_EQ(r.code, 0) << r.err;
  const int per_epoch = batches_an_epoch(r.err);
  ASSERT_GT(per_epoch, 1) << r.err;
  EXPECT_EQ(ckpt_value("epochs"), "2");
  EXPECT_EQ(ckpt_value("updates"), std::to_string(2 * per_epoch));
  EXPECT_EQ(ckpt_value("epoch"), "3");  // the next batch is the first of epoch 3
  EXPECT_EQ(ckpt_value("batch"), "0");
}

// --maxi-batch-sort reaches the batcher: on this corpus (both sides of a pair the same
// length) src cuts a half-full batch where the source length changes, max and trg only when
// a batch is full, so src makes more batches an epoch. The RNN default is src.
TEST_F(CliTrainTest, MaxiBatchSortChangesTheEpochsBatches) {
  std::map<std::string, int> batches;
  for (const std::string sort : {"", "src", "trg", "max"}) {
    fs::remove(model_);
    fs::remove(ckpt_);  // a fresh run each time, not a resumed one
    const RunResult r = train("--after 1u" + (sort.empty() ? "" : " --maxi-batch-sort " + sort));
    ASSERT_EQ(r.code, 0) << sort << "\n" << r.err;
    batches[sort] = batches_an_epoch(r.err);
  }
  EXPECT_EQ(batches[""], batches["src"]);
  EXPECT_GT(batches["src"], batches["max"]);
  EXPECT_EQ(batches["trg"], batches["max"]);
}

TEST_F(CliTrainTest, AfterTokensStopsAtTheFirstUpdatePastTheBudget) {
  const RunResult r = train("--after 700t");
  ASSERT_EQ(r.code, 0) << r.err;
  const int64_t tokens = std::stoll(ckpt_value("tokens"));
  EXPECT_GE(tokens, 700);
  EXPECT_LT(tokens, 700 + 100) << "trained on past the budget (a batch holds at most 100 target tokens)";
}

TEST_F(CliTrainTest, FirstBudgetReachedWins) {
  const RunResult r = train("--after 5e,9u");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ckpt_value("updates"), "9");
}

TEST_F(CliTrainTest, ValidationWritesBestModelsAndLogs) {
  const RunResult r = train("--after 10u --valid-freq 5u --valid-metrics perplexity ce bleu --valid-sets '" +
                            dir_.path("valid.src") + "' '" + dir_.path("valid.trg") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "Validation 1 at Ep. 1 Up. 5 : perplexity ")) << r.err;
  EXPECT_TRUE(contains(r.err, "Validation 2 at Ep. 1 Up. 10 : perplexity ")) << r.err;
  EXPECT_FALSE(contains(r.err, "Validation 3")) << r.err;
  for (const char* metric : {"perplexity", "ce", "bleu"}) {
    const std::string best = model_ + ".best-" + metric;
    ASSERT_TRUE(fs::exists(best)) << best;
    EXPECT_NO_THROW(load_model(best)) << best;
    EXPECT_NE(ckpt_value(std::string("best.") + metric), "<missing>") << metric;
  }
  EXPECT_EQ(ckpt_value("validations"), "2");
  // A perplexity equals exp(ce).
  EXPECT_NEAR(std::stod(ckpt_value("best.perplexity")), std::exp(std::stod(ckpt_value("best.ce"))), 1e-6);
}

// Perplexity of a model file on the validation set, from `nmt score`'s per-line total and
// average log-probabilities (tokens per line = total / average).
double score_perplexity(const TempDir& dir, const std::string& model) {
  const RunResult r = testing::run_nmt(dir, "score -m '" + model + "' -t '" + dir.path("valid.src") + "' '" +
                                                dir.path("valid.trg") + "' --cpu-threads 1");
  EXPECT_EQ(r.code, 0) << r.err;
  double log_prob = 0, tokens = 0;
  for (const std::string& line : lines_of(r.out)) {
    const auto w = testing::split_words(line);
    if (w.size() != 2) continue;
    log_prob += std::stod(w[0]);
    tokens += std::round(std::stod(w[0]) / std::stod(w[1]));
  }
  EXPECT_GT(tokens, 0) << r.out;
  return std::exp(-log_prob / tokens);
}

TEST_F(CliTrainTest, ExponentialSmoothingValidatesAndSavesTheAverage) {
  const RunResult r = train(
      "--after 20u --valid-freq 20u --valid-metrics perplexity --exponential-smoothing 0.05 "
      "--valid-sets '" +
      dir_.path("valid.src") + "' '" + dir_.path("valid.trg") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  std::smatch m;
  const std::regex re("Validation 1 at Ep\\. [0-9]+ Up\\. 20 : perplexity ([0-9.]+)");
  ASSERT_TRUE(std::regex_search(r.err, m, re)) << r.err;
  const double logged = std::stod(m[1]);
  // The validation scored the model file's (smoothed) parameters, not the raw ones the
  // checkpoint trains on, and the best model is that same average.
  EXPECT_NEAR(score_perplexity(dir_, model_), logged, 5e-4 * logged);
  EXPECT_GT(std::abs(score_perplexity(dir_, ckpt_) - logged), 4e-3 * logged);  // about 8e-3 here
  const ModelFile model = load_model_file(model_), best = load_model_file(model_ + ".best-perplexity"),
                  ckpt = load_model_file(ckpt_);
  ASSERT_NE(ckpt.find_tensor("smoothing.average"), nullptr);
  for (const auto& [name, t] : model.tensors) {
    const Tensor* b = best.find_tensor(name);
    ASSERT_NE(b, nullptr) << name;
    EXPECT_EQ(std::memcmp(t.data(), b->data(), t.numel() * sizeof(float)), 0) << name;
  }
}

TEST_F(CliTrainTest, ExponentialSmoothingFactorOneSavesTheRawParameters) {
  // decay max(1, ...) = 1: the average is the last parameters, bit for bit.
  const RunResult r = train("--after 5u --exponential-smoothing 1");
  ASSERT_EQ(r.code, 0) << r.err;
  const ModelFile model = load_model_file(model_), ckpt = load_model_file(ckpt_);
  for (const auto& [name, t] : model.tensors) {
    const Tensor* raw = ckpt.find_tensor(name);
    ASSERT_NE(raw, nullptr) << name;
    EXPECT_EQ(std::memcmp(t.data(), raw->data(), t.numel() * sizeof(float)), 0) << name;
  }
}

// --rnn-recompute trades memory for a second RNN forward; what is learned does not change.
TEST_F(CliTrainTest, RnnRecomputeLearnsTheSameParameters) {
  auto remove_model_files = [&] {
    for (const auto& entry : fs::directory_iterator(dir_.path("")))
      if (entry.path().filename().string().rfind("model.bin", 0) == 0) fs::remove(entry.path());
  };
  for (const char* type : {"attention", "bottleneck"}) {
    SCOPED_TRACE(type);
    const std::string common = std::string("--after 20u --seed 5 --type ") + type;
    const RunResult plain = train(common);
    ASSERT_EQ(plain.code, 0) << plain.err;
    const ModelFile first = load_model_file(model_);
    remove_model_files();
    ASSERT_FALSE(fs::exists(ckpt_));  // the second run starts afresh, it does not resume
    const RunResult recomputed = train(common + " --rnn-recompute");
    ASSERT_EQ(recomputed.code, 0) << recomputed.err;
    EXPECT_FALSE(contains(plain.err, "recomputed in the backward"));
    EXPECT_TRUE(contains(recomputed.err, "RNN workspaces recomputed in the backward")) << recomputed.err;
    const ModelFile second = load_model_file(model_);
    ASSERT_EQ(first.tensors.size(), second.tensors.size());
    for (const auto& [name, t] : first.tensors) {
      const Tensor* u = second.find_tensor(name);
      ASSERT_NE(u, nullptr) << name;
      ASSERT_EQ(u->numel(), t.numel()) << name;
      for (int64_t i = 0; i < t.numel(); ++i) ASSERT_NEAR((*u)[i], t[i], 1e-4) << name << " at " << i;
    }
    remove_model_files();
  }
}

// R-Drop's plumbing: without dropout the two copies of a pair see the same model, so the
// consistency term and its gradient vanish and the halved pair of losses is one copy's loss:
// the displayed costs and the parameters learned are plain training's up to the products'
// summation order. Both
// decoder families pass the twins to the output layer.
TEST_F(CliTrainTest, RdropWithoutDropoutLearnsWhatPlainTrainingLearns) {
  for (const char* type : {"attention --dropout 0", "transformer --transformer-heads 2 --transformer-dropout 0"}) {
    SCOPED_TRACE(type);
    std::vector<ModelFile> learned;
    std::vector<double> costs;  // the displayed mean cost per target token, updates 1-10 and 11-20
    for (const char* rdrop : {"", " --rdrop-alpha 3"}) {
      for (const char* f : {"model.bin", "model.bin.ckpt"}) fs::remove(dir_.path(f));
      const RunResult r = train(std::string("--after 20u --disp-freq 10u --seed 5 --type ") + type + rdrop);
      ASSERT_EQ(r.code, 0) << r.err;
      const std::regex cost(" : Cost ([0-9.]+) : ");
      for (std::sregex_iterator it(r.err.begin(), r.err.end(), cost), end; it != end; ++it)
        costs.push_back(std::stod((*it)[1]));
      EXPECT_EQ(contains(r.err, "R-Drop: every pair trained twice under two dropout masks; symmetric KL weight 3"),
                *rdrop != 0)
          << r.err;
      learned.push_back(load_model_file(model_));
    }
    ASSERT_EQ(costs.size(), 4u);
    EXPECT_NEAR(costs[0], costs[2], 2e-4);
    EXPECT_NEAR(costs[1], costs[3], 2e-4);
    ASSERT_EQ(learned[0].tensors.size(), learned[1].tensors.size());
    double largest = 0;
    for (const auto& [name, t] : learned[0].tensors) {
      const Tensor* u = learned[1].find_tensor(name);
      ASSERT_NE(u, nullptr) << name;
      ASSERT_EQ(u->numel(), t.numel()) << name;
      for (int64_t i = 0; i < t.numel(); ++i) {
        ASSERT_NEAR((*u)[i], t[i], 1e-4) << name << " at " << i;
        largest = std::max(largest, std::fabs(double((*u)[i]) - t[i]));
      }
    }
    std::cout << "largest parameter difference " << largest << "\n";
  }
}

// --precision reaches the trainer: bfloat16 products say so in the log and learn parameters
// close to, but not equal to, fp32's; "float32 float32" (Marian's two-type form) is the default.
TEST_F(CliTrainTest, PrecisionBfloat16ChangesTheProductsOnly) {
  if (bf16_support() == Bf16Support::none) GTEST_SKIP() << "no bfloat16 products on this CPU";
  auto run = [&](const std::string& precision) {
    for (const auto& entry : fs::directory_iterator(dir_.path("")))
      if (entry.path().filename().string().rfind("model.bin", 0) == 0) fs::remove(entry.path());
    const RunResult r = train("--after 20u --seed 5 --type transformer " + precision);
    EXPECT_EQ(r.code, 0) << r.err;
    return std::make_pair(r.err, load_model_file(model_));
  };
  const auto [fp32_log, fp32] = run("");
  const auto [same_log, same] = run("--precision float32 float32");
  const auto [bf16_log, bf16] = run("--precision bfloat16");
  EXPECT_FALSE(contains(fp32_log, "bfloat16"));
  EXPECT_TRUE(contains(bf16_log, "matrix products in bfloat16 with fp32 accumulation")) << bf16_log;
  ASSERT_EQ(fp32.tensors.size(), bf16.tensors.size());
  double max_same = 0, max_bf16 = 0, scale = 0;
  for (const auto& [name, t] : fp32.tensors) {
    const Tensor* u = same.find_tensor(name);
    const Tensor* b = bf16.find_tensor(name);
    ASSERT_TRUE(u && b) << name;
    for (int64_t i = 0; i < t.numel(); ++i) {
      max_same = std::max(max_same, double(std::fabs((*u)[i] - t[i])));
      max_bf16 = std::max(max_bf16, double(std::fabs((*b)[i] - t[i])));
      scale = std::max(scale, double(std::fabs(t[i])));
    }
  }
  EXPECT_EQ(max_same, 0.0) << "--precision float32 float32 is the default";
  EXPECT_GT(max_bf16, 0.0) << "bfloat16 products learned exactly the fp32 parameters";
  EXPECT_LT(max_bf16, 0.05 * scale) << "bfloat16 products learned far other parameters";
}

// Below AVX-512 oneDNN has no bfloat16 matmul: --precision bfloat16 is refused before anything
// is read or written (oneDNN capped at AVX2 through its ONEDNN_MAX_CPU_ISA, as on such a CPU).
TEST_F(CliTrainTest, PrecisionBfloat16WithoutAvx512ExitsTwo) {
  setenv("ONEDNN_MAX_CPU_ISA", "AVX2", 1);
  const RunResult r = train("--after 2u --precision bfloat16");
  unsetenv("ONEDNN_MAX_CPU_ISA");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains(r.err, "precision must be float32 on this CPU, oneDNN at avx2")) << r.err;
  EXPECT_TRUE(contains(r.err, "bfloat16 matmuls need AVX-512")) << r.err;
  EXPECT_FALSE(fs::exists(vocab_));
  EXPECT_FALSE(fs::exists(model_));
}

TEST_F(CliTrainTest, ValidTranslationOutputWritesOneLinePerValidationLine) {
  // An empty validation line must get an empty translation line, in place.
  std::vector<std::string> src = testing::split_lines(testing::slurp(dir_.path("valid.src")));
  std::vector<std::string> trg = testing::split_lines(testing::slurp(dir_.path("valid.trg")));
  src[3] = trg[3] = "";
  testing::write_lines(dir_.path("valid.src"), src);
  testing::write_lines(dir_.path("valid.trg"), trg);
  const RunResult r = train("--after 60u --valid-freq 30u --valid-metrics perplexity --valid-translation-output '" +
                            dir_.path("valid.{E}.{U}.out") + "' --valid-sets '" + dir_.path("valid.src") + "' '" +
                            dir_.path("valid.trg") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const int epoch = 60 / batches_an_epoch(r.err) + 1;  // the epoch being trained at update 60
  const std::string first = "valid." + std::to_string(30 / batches_an_epoch(r.err) + 1) + ".30.out";
  const std::string last = "valid." + std::to_string(epoch) + ".60.out";
  for (const std::string& name : {first, last}) {
    ASSERT_TRUE(fs::exists(dir_.path(name))) << name << "\n" << r.err;
    const auto lines = lines_of(testing::slurp(dir_.path(name)));
    ASSERT_EQ(lines.size(), src.size()) << name;
    EXPECT_EQ(lines[3], "") << name;
  }
  // The last file is what `nmt translate` (greedy) makes of the validation sources with
  // the model saved at that update.
  const RunResult tr = testing::run_nmt(
      dir_, "translate -m '" + model_ + "' --beam-size 1 --cpu-threads 1 -i '" + dir_.path("valid.src") + "'");
  ASSERT_EQ(tr.code, 0) << tr.err;
  EXPECT_EQ(testing::slurp(dir_.path(last)), tr.out);
  int nonempty = 0;
  for (const auto& l : lines_of(tr.out)) nonempty += !l.empty();
  EXPECT_GE(nonempty, 10);
  for (const auto& entry : fs::directory_iterator(dir_.dir()))  // no temporary file left
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  // A path in a missing directory is refused before training, naming it; so is the
  // option without validation sets.
  fs::remove(ckpt_);
  RunResult bad = train("--after 2u --valid-translation-output '" + dir_.path("no/such/v.out") + "' --valid-sets '" +
                        dir_.path("valid.src") + "' '" + dir_.path("valid.trg") + "'");
  EXPECT_NE(bad.code, 0);
  EXPECT_TRUE(contains(bad.err, "no directory " + dir_.path("no/such"))) << bad.err;
  EXPECT_FALSE(fs::exists(ckpt_));
  bad = train("--after 2u --valid-translation-output '" + dir_.path("v.out") + "'");
  EXPECT_EQ(bad.code, 2);
  EXPECT_TRUE(contains(bad.err, "valid-translation-output must be empty without valid-sets")) << bad.err;
}

TEST_F(CliTrainTest, EarlyStoppingStopsAndStaysStopped) {
  // With a learning rate of 0 the parameters never change, so the validation
  // perplexity never improves after the first validation.
  const std::string opts =
      "--after 100u --learn-rate 0 --valid-freq 1u --early-stopping 3 --valid-metrics perplexity "
      "--valid-sets '" +
      dir_.path("valid.src") + "' '" + dir_.path("valid.trg") + "'";
  RunResult r = train(opts);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "early stopping: perplexity did not improve for 3 validations")) << r.err;
  EXPECT_EQ(ckpt_value("updates"), "4");  // validation 1 new best, 2-4 stalled
  EXPECT_EQ(ckpt_value("stalls"), "3");
  // Running the same command again does not train on.
  r = train(opts);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ckpt_value("updates"), "4") << r.err;
}

// ---- Output ---------------------------------------------------------------------

TEST_F(CliTrainTest, LogFileGetsTheSameLines) {
  const std::string log = dir_.path("train.log");
  const RunResult r = train("--after 6u --disp-freq 2u --log '" + log + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto err_lines = lines_of(r.err), log_lines = lines_of(testing::slurp(log));
  // stderr is not a terminal here, so it has no progress line: both hold the same lines.
  EXPECT_EQ(err_lines, log_lines);
  EXPECT_GE(
      std::count_if(log_lines.begin(), log_lines.end(), [](const std::string& l) { return contains(l, " : Up. "); }),
      3);
  EXPECT_TRUE(contains(testing::slurp(log), "training finished: 6 updates"));
}

TEST_F(CliTrainTest, DisplayLinesShowTheMatrixProductsRate) {
  // Each display line gives the GFLOP/s of the interval's matrix products (ops/flops.h), the
  // figure benchmarks set against the machine's matmul peak.
  const RunResult r = train("--after 4u --disp-freq 2u");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::regex re(R"( tok/s \(src\+trg\) : ([0-9.e+-]+) GFLOP/s products : )");
  int lines = 0;
  for (const std::string& line : lines_of(r.err)) {
    if (!contains(line, " tok/s ")) continue;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, re)) << line;
    EXPECT_GT(std::stod(m[1]), 0.0) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 2) << r.err;
}

TEST_F(CliTrainTest, DumpConfigPrintsTheOptionsAndTrainsNothing) {
  const RunResult r = train("--after 10u --type bottleneck --learn-rate 0.003 --dump-config");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string& line :
       std::vector<std::string>{"after = 10u", "type = bottleneck", "learn-rate = 0.003", "dim-emb = 8",
                                "train-sets = " + src_, "train-sets = " + trg_, "vocabs = " + vocab_,
                                "model = " + model_, "mini-batch-words = 100", "optimizer-delay = 1", "seed = 1"})
    EXPECT_TRUE(contains(r.out, line + "\n")) << line << "\n" << r.out;
  EXPECT_FALSE(fs::exists(vocab_));
  EXPECT_FALSE(fs::exists(model_));
  // What it prints is a config file that gives the same options back.
  const std::string cfg = dir_.write("dumped.cfg", r.out);
  const RunResult again = testing::run_nmt(dir_, "train -c '" + cfg + "' --dump-config");
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(again.out, r.out);
}

// ---- Failures -------------------------------------------------------------------

TEST_F(CliTrainTest, CorruptCheckpointIsDetected) {
  ASSERT_EQ(train("--after 3u").code, 0);
  const auto size = fs::file_size(ckpt_);
  std::string bytes = testing::slurp(ckpt_);
  ASSERT_EQ(bytes.size(), size);
  bytes[size / 2] = static_cast<char>(bytes[size / 2] ^ 0x10);
  dir_.write("model.bin.ckpt", bytes);
  RunResult r = train("--after 6u");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, ckpt_)) << r.err;
  EXPECT_TRUE(contains(r.err, "corrupt") || contains(r.err, "checksum")) << r.err;
  // Truncated.
  dir_.write("model.bin.ckpt", bytes.substr(0, size - 100));
  r = train("--after 6u");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, ckpt_)) << r.err;
  EXPECT_TRUE(contains(r.err, "corrupt") || contains(r.err, "truncated")) << r.err;
}

TEST_F(CliTrainTest, DivergenceSkipsUpdatesThenFailsKeepingTheLastCheckpoint) {
  // The first update with an absurd learning rate moves every parameter by ~1e30; the
  // next forward pass overflows (the bottleneck's logits multiply two such matrices).
  const RunResult r = train("--type bottleneck --after 50u --learn-rate 1e30 --save-freq 1u --max-divergence 3");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "training diverged: 3 updates in a row had a non-finite loss or gradient")) << r.err;
  EXPECT_TRUE(contains(r.err, "last good checkpoint is " + ckpt_)) << r.err;
  int skipped = 0;
  for (const auto& l : lines_of(r.err)) skipped += contains(l, "update skipped");
  EXPECT_EQ(skipped, 3) << r.err;
  // The checkpoint holds the last update that was made, and loads.
  ASSERT_TRUE(fs::exists(ckpt_));
  EXPECT_EQ(ckpt_value("updates"), "1");
  EXPECT_EQ(ckpt_value("divergent"), "0");  // saved after the good update
  EXPECT_NO_THROW(load_model(model_));
  EXPECT_NO_THROW(model_from_file(load_model_file(ckpt_), ckpt_));
}

TEST_F(CliTrainTest, Help) {
  const RunResult r = testing::run_nmt(dir_, "train --help");
  EXPECT_EQ(r.code, 0);
  for (const char* option : {"--train-sets", "--after", "--valid-metrics", "--early-stopping", "--max-length"})
    EXPECT_TRUE(contains(r.out, option)) << option;
}

}  // namespace
}  // namespace nmt
