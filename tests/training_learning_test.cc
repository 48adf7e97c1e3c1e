// The RNN models learn: `nmt train` (the built binary) on the synthetic reversal task
// (tests/synthetic.h), then greedy translation of held-out sentences through the C++ API.
//
//  - Each RNN model type (bottleneck, attention) reverses sequences of 5-12 symbols with
//    at least 99% of the test sentences exactly right.
//  - On long sequences (20-30 symbols) and the same small budget, attention is far
//    better than the bottleneck (Bahdanau et al. 2015's classic result).
//
// Budgets and settings, and why: training runs single-threaded (--cpu-threads 1: the
// matrices are tiny, and one thread makes the runs bit-reproducible whatever the
// machine's core count). Adam with beta2 = 0.999 and a gradient clip of 5 (instead of
// the defaults 0.98 and 1) made these RNNs learn 2-3x faster in our sweeps; a short
// warm-up and an inverse-square-root decay of the learning rate damp the late spikes of
// the validation loss. The evaluated model is MODEL.best-ce, chosen on a validation set
// disjoint from the test set. The bottleneck is the slow learner: a 2-layer GRU of 128
// (20000 pairs, 5000 updates of 500 tokens, about 50 s of one core) reached 99.4-100%
// exact matches over the seeds tried (NMT_TEST_SEED=1,2,4,6; 4000 updates of a
// 32-wide embedding gave 98.4-99.8%, too close to the 99% bar). The attention model
// (64 wide, 3000 updates, ~10 s) reached 99.8-100% with every seed tried.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "ops/bf16.h"
#include "synthetic.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

using testing::Accuracy;
using testing::ParallelText;
using testing::RunResult;
using testing::TempDir;

// Drops the pairs of `test` whose source also occurs in `train` (held-out means unseen).
ParallelText unseen(const ParallelText& test, const ParallelText& train) {
  std::set<std::string> seen(train.src.begin(), train.src.end());
  ParallelText out;
  for (size_t i = 0; i < test.src.size(); ++i)
    if (!seen.count(test.src[i])) {
      out.src.push_back(test.src[i]);
      out.trg.push_back(test.trg[i]);
    }
  return out;
}

// NMT_TEST_SEED=k shifts the data and training seeds, to check that the settings are
// robust (default 0: the seeds the suite runs with).
uint64_t seed_shift() {
  const char* s = std::getenv("NMT_TEST_SEED");
  return s ? std::strtoull(s, nullptr, 10) : 0;
}

struct Task {
  int train_pairs, min_len, max_len;
  int test_pairs;
};

class TrainingLearningTest : public ::testing::Test {
 protected:
  // Writes train/valid/test sets of the reversal task.
  void make_data(const Task& t, uint64_t seed) {
    seed += 1000 * seed_shift();
    const ParallelText train = testing::reversal_pairs(t.train_pairs, t.min_len, t.max_len, seed);
    const ParallelText valid = unseen(testing::reversal_pairs(200, t.min_len, t.max_len, seed + 1), train);
    test_ = unseen(testing::reversal_pairs(t.test_pairs, t.min_len, t.max_len, seed + 2), train);
    ASSERT_GT(test_.src.size(), static_cast<size_t>(t.test_pairs) * 9 / 10);
    testing::write_lines(dir_.path("train.src"), train.src);
    testing::write_lines(dir_.path("train.trg"), train.trg);
    testing::write_lines(dir_.path("valid.src"), valid.src);
    testing::write_lines(dir_.path("valid.trg"), valid.trg);
  }

  // Trains model `name` (its vocabulary, NAME.spm, is trained by nmt train itself) and
  // returns the greedy accuracy of NAME.best-ce on the test set (no dropout unless `options` set it).
  Accuracy train_and_test(const std::string& name, const std::string& options) {
    const std::string model = dir_.path(name + ".bin"), vocab = dir_.path(name + ".spm");
    const auto started = std::chrono::steady_clock::now();
    const RunResult r = testing::run_nmt(
        dir_, "train -t '" + dir_.path("train.src") + "' '" + dir_.path("train.trg") + "' --valid-sets '" +
                  dir_.path("valid.src") + "' '" + dir_.path("valid.trg") + "' -v '" + vocab + "' '" + vocab +
                  "' --vocab-size " + std::to_string(testing::kReversalVocabSize) + " -m '" + model +
                  "' --valid-metrics ce --valid-freq 500u --early-stopping 0 --disp-freq 500u --cpu-threads 1 " +
                  (options.find("--dropout ") == std::string::npos ? "--dropout 0 " : "") +
                  "--label-smoothing 0 --optimizer-params 0.9 0.999 1e-8 --clip-norm 5 --seed " +
                  std::to_string(1 + seed_shift()) + " " + options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    EXPECT_EQ(r.code, 0) << r.err;
    if (r.code != 0) return {};
    // Every symbol is one piece of the vocabulary nmt train made.
    const Vocab v = Vocab::load(vocab);
    for (const std::string& s : testing::reversal_symbols()) EXPECT_EQ(v.encode(s).size(), 1u) << s;
    hyps_ = testing::translate_greedy(model + ".best-ce", test_.src);
    const Accuracy a = testing::accuracy(hyps_, test_.trg);
    std::cout << "[ " << name << " ] " << seconds << " s training; exact " << a.exact << ", tokens " << a.tokens
              << " on " << test_.src.size() << " test sentences\n";
    RecordProperty(name + "_exact", std::to_string(a.exact));
    RecordProperty(name + "_seconds", std::to_string(seconds));
    if (HasFailure()) std::cout << r.err;
    return a;
  }

  // Batching changes no translation (docs/design.md, "Batch independence"): the held-out set
  // translated by `nmt translate` sentence by sentence and in mini-batches of 64 (beam 5, fp32
  // and int8) gives the same lines, and `nmt score` gives the same scores up to their printed
  // rounding. Run on every ISA CI covers, with a model that really learned (decisive margins).
  void expect_batch_independent(const std::string& name) {
    const std::string model = "-m '" + dir_.path(name + ".bin.best-ce") + "' --cpu-threads 2";
    testing::write_lines(dir_.path("test.src"), test_.src);
    testing::write_lines(dir_.path("test.trg"), test_.trg);
    const std::string in = " -i '" + dir_.path("test.src") + "'";
    for (const std::string gemm : {"float32", "int8"}) {
      const RunResult alone = testing::run_nmt(dir_, "translate " + model + in + " --mini-batch 1 --gemm-type " + gemm);
      const RunResult batched =
          testing::run_nmt(dir_, "translate " + model + in + " --mini-batch 64 --gemm-type " + gemm);
      ASSERT_EQ(alone.code, 0) << alone.err;
      ASSERT_EQ(batched.code, 0) << batched.err;
      EXPECT_EQ(alone.out, batched.out) << name << ", " << gemm << ": a sentence alone and in a batch";
    }
    const std::string pair = " -t '" + dir_.path("test.src") + "' '" + dir_.path("test.trg") + "'";
    const RunResult alone = testing::run_nmt(dir_, "score " + model + pair + " --mini-batch 1");
    const RunResult batched = testing::run_nmt(dir_, "score " + model + pair + " --mini-batch 64");
    ASSERT_EQ(alone.code, 0) << alone.err;
    ASSERT_EQ(batched.code, 0) << batched.err;
    const auto a = testing::split_lines(alone.out), b = testing::split_lines(batched.out);
    ASSERT_EQ(a.size(), test_.src.size());
    ASSERT_EQ(b.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i) {  // "TOTAL AVERAGE", printed to 4 decimals
      const double ta = std::stod(a[i]), tb = std::stod(b[i]);
      EXPECT_NEAR(ta, tb, 1.01e-4) << name << ": score of line " << i + 1 << " alone and in a batch";
    }
  }

  // At least 99% of the held-out sentences exactly right; otherwise a few of the wrong ones shown.
  void expect_reverses(const Accuracy& a) const {
    EXPECT_GE(a.exact, 0.99);
    if (a.exact < 0.99) show_errors();
  }

  // Prints a few wrong translations of the last model tested.
  void show_errors() const {
    for (size_t i = 0, shown = 0; i < hyps_.size() && shown < 10; ++i)
      if (hyps_[i] != test_.trg[i]) {
        std::cout << "  wrong: " << test_.src[i] << " -> " << hyps_[i] << "\n";
        ++shown;
      }
  }

  TempDir dir_{"nmt_learning"};
  ParallelText test_;
  std::vector<std::string> hyps_;
};

TEST_F(TrainingLearningTest, BottleneckReversesShortSequences) {
  make_data({20000, 5, 12, 500}, 101);
  const Accuracy a = train_and_test("bottleneck",
                                    "--type bottleneck --cell gru --dim-emb 64 --dim-rnn 128 "
                                    "--mini-batch-words 500 --learn-rate 3e-3 --lr-warmup 400 "
                                    "--lr-decay-inv-sqrt true --after 5000u");
  expect_reverses(a);
  expect_batch_independent("bottleneck");
}

TEST_F(TrainingLearningTest, AttentionReversesShortSequences) {
  make_data({20000, 5, 12, 500}, 201);
  const Accuracy a = train_and_test("attention",
                                    "--type attention --dim-emb 32 --dim-rnn 64 "
                                    "--mini-batch-words 500 --learn-rate 3e-3 --lr-warmup 400 "
                                    "--lr-decay-inv-sqrt true --after 3000u");
  expect_reverses(a);
  expect_batch_independent("attention");
}

// The transformer (2 + 2 layers of 64, 4 heads), trained with fp32 and with bfloat16 matrix
// products from the same seed: both reverse the sequences. 2,500 updates leave room on every
// ISA: at 1,500, oneDNN's AVX2 kernels (other rounding, so another trajectory) gave 93.4%
// exact with this seed and 99.8-100% with NMT_TEST_SEED=1,2,3, AVX-512 100% with all four;
// at 2,000 both reached 100%.
TEST_F(TrainingLearningTest, TransformerReversesShortSequences) {
  make_data({20000, 5, 12, 500}, 401);
  const std::string same =
      "--type transformer --dim-emb 64 --transformer-dim-ffn 128 --enc-depth 2 --dec-depth 2 "
      "--transformer-dropout 0 --mini-batch-words 500 --learn-rate 3e-3 --lr-warmup 400 "
      "--after 2500u ";
  const Accuracy fp32 = train_and_test("transformer", same);
  expect_reverses(fp32);
  expect_batch_independent("transformer");
  if (bf16_support() == Bf16Support::none) GTEST_SKIP() << "fp32 learned; no bfloat16 products on this CPU";
  const Accuracy bf16 = train_and_test("transformer_bf16", same + "--precision bfloat16");
  expect_reverses(bf16);
}

// R-Drop (--rdrop-alpha) with dropout on: the attention model of the test above, each pair
// trained twice under two masks with the consistency term, still reverses the sequences.
TEST_F(TrainingLearningTest, AttentionWithRdropReversesShortSequences) {
  make_data({20000, 5, 12, 500}, 501);
  const Accuracy a = train_and_test("attention_rdrop",
                                    "--type attention --dim-emb 32 --dim-rnn 64 "
                                    "--mini-batch-words 500 --learn-rate 3e-3 --lr-warmup 400 "
                                    "--lr-decay-inv-sqrt true --after 3000u --dropout 0.1 --rdrop-alpha 1");
  expect_reverses(a);
}

TEST_F(TrainingLearningTest, AttentionBeatsBottleneckOnLongSequences) {
  make_data({5000, 20, 30, 200}, 301);
  const std::string same = "--dim-emb 32 --dim-rnn 64 --mini-batch-words 1000 --learn-rate 3e-3 --after 1000u ";
  const Accuracy bottleneck = train_and_test("bottleneck_long", same + "--type bottleneck");
  const Accuracy attention = train_and_test("attention_long", same + "--type attention");
  EXPECT_GE(attention.tokens, 0.8);
  EXPECT_GE(attention.tokens, bottleneck.tokens + 0.4);
  EXPECT_GE(attention.exact, bottleneck.exact + 0.3);
}

}  // namespace
}  // namespace nmt
