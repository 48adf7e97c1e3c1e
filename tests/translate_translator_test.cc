// translate_ids (order, empty inputs, truncation, mini-batching), score_ids (batching,
// against a step-by-step reference) and the alignment output formats.
#include <gtest/gtest.h>

#include "core/context.h"
#include "core/error.h"
#include "core/graph.h"
#include "model/model.h"
#include "ops/softmax.h"
#include "synthetic.h"
#include "translate/output.h"
#include "translate/score.h"
#include "translate/translator.h"

namespace nmt {
namespace {

constexpr int64_t kVocab = 12;

const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new testing::OneThreadEnvironment);

std::unique_ptr<Model> tiny_model(const std::string& type, uint64_t seed) {
  return testing::tiny_random_model(type, kVocab, seed, 3.0f);
}

// Piece ids (4..V-1, no </s>) of the given lengths.
std::vector<std::vector<int32_t>> ids(const std::vector<int>& lengths, uint32_t seed) {
  return testing::random_ids(lengths, kVocab, seed);
}

TEST(TranslateIds, OrderEmptyInputsAndMiniBatches) {
  auto model = tiny_model("attention", 3);
  const auto src = ids({4, 0, 9, 1, 0, 6, 2, 7, 3}, 11);
  for (int beam : {1, 3}) {
    TranslateOptions one;
    one.search.beam_size = beam;
    one.mini_batch = 1;
    TranslateOptions many = one;
    many.mini_batch = 4;
    size_t last_progress = 0;
    many.progress = [&](size_t done) {
      EXPECT_GT(done, last_progress);
      last_progress = done;
    };
    const auto a = translate_ids(*model, src, one);
    const auto b = translate_ids(*model, src, many);
    EXPECT_EQ(last_progress, src.size());
    ASSERT_EQ(a.size(), src.size());
    ASSERT_EQ(b.size(), src.size());
    for (size_t i = 0; i < src.size(); ++i) {
      if (src[i].empty()) {
        EXPECT_TRUE(a[i].hypotheses.empty());
        EXPECT_TRUE(b[i].source.empty());
        continue;
      }
      // Line i's result belongs to line i: its source is line i's ids + </s>.
      std::vector<int32_t> expect = src[i];
      expect.push_back(Vocab::kEos);
      EXPECT_EQ(b[i].source, expect);
      ASSERT_EQ(a[i].hypotheses.size(), 1u);
      ASSERT_EQ(b[i].hypotheses.size(), 1u);
      EXPECT_EQ(a[i].hypotheses[0].tokens, b[i].hypotheses[0].tokens) << "beam " << beam << " line " << i;
      EXPECT_NEAR(a[i].hypotheses[0].score, b[i].hypotheses[0].score, 1e-4);
      // The same as searching the sentence alone.
      const auto alone = search(*model, SourceBatch::from({expect}), one.search)[0][0];
      EXPECT_EQ(alone.tokens, b[i].hypotheses[0].tokens);
    }
  }
}

// --gemm-type int8: every model type translates with int8 linear layers, a sentence's
// translation and score are the same alone or in a batch (activations are quantized per
// row), and the int8 path really ran (some score differs from fp32's).
TEST(TranslateIds, Int8IsTheSameAloneOrInABatch) {
  for (const std::string type : {"bottleneck", "attention", "transformer"}) {
    auto model = tiny_model(type, 4);
    const auto src = ids({5, 2, 8, 3, 6, 1, 7}, 13);
    for (int beam : {1, 3}) {
      TranslateOptions o;
      o.search.beam_size = beam;
      o.int8 = true;
      TranslateOptions fp32 = o;
      fp32.int8 = false;
      const auto batched = translate_ids(*model, src, o);
      const auto reference = translate_ids(*model, src, fp32);
      bool any_differs = false;
      for (size_t i = 0; i < src.size(); ++i) {
        const auto alone = translate_ids(*model, {src[i]}, o)[0];
        ASSERT_FALSE(alone.hypotheses.empty());
        EXPECT_EQ(alone.hypotheses[0].tokens, batched[i].hypotheses[0].tokens) << type << " beam " << beam << " " << i;
        // As in fp32, oneDNN may block a product differently for other row counts: equal up to rounding.
        EXPECT_NEAR(alone.hypotheses[0].score, batched[i].hypotheses[0].score, 1e-4)
            << type << " beam " << beam << " " << i;
        any_differs |= batched[i].hypotheses[0].score != reference[i].hypotheses[0].score;
      }
      EXPECT_TRUE(any_differs) << type << ": int8 scores equal fp32's exactly; the int8 path did not run";
    }
  }
  EXPECT_TRUE(parse_gemm_type("int8"));
  EXPECT_FALSE(parse_gemm_type("float32"));
  EXPECT_THROW(parse_gemm_type("int4"), OptionError);
}

// fp32 translation reads packed weights (ops/linear_packed.h): a sentence's result is
// the same alone or in a batch, and the same as a search outside translate_ids, which
// reads the plain weights.
TEST(TranslateIds, PackedWeightsChangeNoTranslation) {
  for (const std::string type : {"bottleneck", "attention", "transformer"}) {
    auto model = tiny_model(type, 5);
    const auto src = ids({5, 2, 8, 3, 6, 1, 7}, 17);
    for (int beam : {1, 3}) {
      TranslateOptions o;
      o.search.beam_size = beam;
      const auto batched = translate_ids(*model, src, o);
      for (size_t i = 0; i < src.size(); ++i) {
        const auto alone = translate_ids(*model, {src[i]}, o)[0];
        const auto plain = search(*model, SourceBatch::from({batched[i].source}), o.search)[0][0];
        ASSERT_FALSE(alone.hypotheses.empty());
        EXPECT_EQ(alone.hypotheses[0].tokens, batched[i].hypotheses[0].tokens) << type << " beam " << beam << " " << i;
        EXPECT_EQ(plain.tokens, batched[i].hypotheses[0].tokens) << type << " beam " << beam << " " << i;
        EXPECT_NEAR(alone.hypotheses[0].score, batched[i].hypotheses[0].score, 1e-4) << type << " beam " << beam;
        EXPECT_NEAR(plain.score, batched[i].hypotheses[0].score, 1e-4) << type << " beam " << beam << " " << i;
      }
    }
  }
}

// Fewer sentences than a mini-batch a worker are cut into one batch a worker (one batch of
// them would leave the other worker idle), and the translations stay the same.
TEST(TranslateIds, FewSentencesAreSpreadOverTheWorkers) {
  WorkerPool workers(2, 1);
  auto model = tiny_model("attention", 6);
  const auto src = ids({5, 2, 8, 3, 6, 1, 7}, 23);
  TranslateOptions alone;
  alone.mini_batch = 64;
  TranslateOptions spread = alone;
  spread.workers = &workers;
  size_t calls = 0, last = 0;
  spread.progress = [&](size_t done) {
    ++calls;
    last = done;
  };
  const auto a = translate_ids(*model, src, alone);
  const auto b = translate_ids(*model, src, spread);
  EXPECT_EQ(calls, 2u) << "7 sentences, 2 workers: batches of 4 and 3";
  EXPECT_EQ(last, src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    ASSERT_EQ(b[i].hypotheses.size(), 1u) << i;
    EXPECT_EQ(a[i].hypotheses[0].tokens, b[i].hypotheses[0].tokens) << i;
    EXPECT_NEAR(a[i].hypotheses[0].score, b[i].hypotheses[0].score, 1e-4) << i;
  }
}

// Workers (--workers): mini-batches translated side by side on other threads give what the
// caller's thread gives one batch at a time, for every model type, search and number type.
TEST(TranslateIds, WorkersTranslateAsTheCallerDoes) {
  WorkerPool workers(2, 1);
  for (const std::string type : {"bottleneck", "attention", "transformer"}) {
    auto model = tiny_model(type, 6);
    const auto src = ids({5, 0, 2, 8, 3, 6, 1, 7, 4, 9, 2}, 19);
    for (int beam : {1, 3}) {
      for (bool int8 : {false, true}) {
        TranslateOptions alone;
        alone.search.beam_size = beam;
        alone.int8 = int8;
        alone.mini_batch = 2;
        TranslateOptions side_by_side = alone;
        side_by_side.workers = &workers;
        size_t progress_calls = 0, last = 0;
        side_by_side.progress = [&](size_t done) {
          ++progress_calls;
          EXPECT_GT(done, last);
          last = done;
        };
        const auto a = translate_ids(*model, src, alone);
        const auto b = translate_ids(*model, src, side_by_side);
        EXPECT_EQ(progress_calls, 5u) << "one call per mini-batch of the 10 non-empty inputs";
        EXPECT_EQ(last, src.size());
        ASSERT_EQ(b.size(), src.size());
        for (size_t i = 0; i < src.size(); ++i) {
          EXPECT_EQ(a[i].source, b[i].source) << i;
          ASSERT_EQ(a[i].hypotheses.size(), b[i].hypotheses.size()) << i;
          if (a[i].hypotheses.empty()) continue;
          EXPECT_EQ(a[i].hypotheses[0].tokens, b[i].hypotheses[0].tokens) << type << " beam " << beam << " " << i;
          EXPECT_NEAR(a[i].hypotheses[0].score, b[i].hypotheses[0].score, 1e-4) << type << " beam " << beam;
        }
      }
    }
  }
  EXPECT_EQ(make_workers(1), nullptr);
  EXPECT_THROW(make_workers(-1), OptionError);
}

TEST(TranslateIds, TruncatesLongInputsInPlace) {
  auto model = tiny_model("bottleneck", 5);
  const auto src = ids({3, 12, 5, 20}, 7);
  TranslateOptions o;
  o.max_input_length = 5;
  const auto t = translate_ids(*model, src, o);
  ASSERT_EQ(t.size(), 4u);
  const bool truncated[] = {false, true, false, true};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(t[i].truncated, truncated[i]) << i;
    EXPECT_EQ(t[i].source.size(), std::min<size_t>(src[i].size(), 5) + 1) << i;
    EXPECT_TRUE(std::equal(t[i].source.begin(), t[i].source.end() - 1, src[i].begin())) << i;
    EXPECT_FALSE(t[i].hypotheses.empty());
  }
  // Translating the cut input directly gives the same result.
  std::vector<std::vector<int32_t>> cut = {std::vector<int32_t>(src[3].begin(), src[3].begin() + 5)};
  TranslateOptions plain;
  EXPECT_EQ(translate_ids(*model, cut, plain)[0].hypotheses[0].tokens, t[3].hypotheses[0].tokens);
  o.max_input_length = -1;
  EXPECT_THROW(translate_ids(*model, src, o), OptionError);
  o.max_input_length = 0;
  o.mini_batch = 0;
  EXPECT_THROW(translate_ids(*model, src, o), OptionError);
}

// log p(target | source) summed over steps with the decoder's step(): the reference.
double step_score(Model& model, const std::vector<int32_t>& src, const std::vector<int32_t>& trg) {
  NoGradScope no_grad;
  Rng rng(0);
  std::vector<int32_t> s = src;
  s.push_back(Vocab::kEos);
  auto state = model.decoder().start(model.encoder().encode(SourceBatch::from({s}), false, rng));
  double total = 0;
  int32_t prev = Vocab::kBos;
  for (size_t t = 0; t <= trg.size(); ++t) {
    const Tensor lp = log_softmax(model.decoder().step(*state, {prev}))->value;
    const int32_t y = t < trg.size() ? trg[t] : Vocab::kEos;
    total += lp[y];
    prev = y;
  }
  return total;
}

TEST(ScoreIds, BatchedEqualsStepByStep) {
  for (const char* type : {"bottleneck", "attention"}) {
    auto model = tiny_model(type, 9);
    const auto src = ids({3, 0, 7, 2, 5, 1}, 1);
    const auto trg = ids({2, 4, 0, 6, 1, 3}, 2);
    ScoreOptions big;
    ScoreOptions small;
    small.mini_batch = 2;
    small.max_rows = 6;  // forces splits by rows too
    const auto a = score_ids(*model, src, trg, big);
    const auto b = score_ids(*model, src, trg, small);
    ASSERT_EQ(a.size(), src.size());
    for (size_t i = 0; i < src.size(); ++i) {
      const double ref = step_score(*model, src[i], trg[i]);
      EXPECT_NEAR(a[i].log_prob, ref, 1e-4) << type << " line " << i;
      EXPECT_NEAR(b[i].log_prob, ref, 1e-4) << type << " line " << i;
      EXPECT_EQ(a[i].tokens, static_cast<int>(trg[i].size()) + 1);
      EXPECT_NEAR(a[i].average(), a[i].log_prob / a[i].tokens, 1e-12);
      EXPECT_LT(a[i].log_prob, 0);
    }
  }
  auto model = tiny_model("attention", 1);
  EXPECT_THROW(score_ids(*model, ids({1, 2}, 1), ids({1}, 1), ScoreOptions{}), Error);
}

TEST(OutputFormat, SoftAndHardAlignments) {
  const std::vector<std::vector<float>> a = {
      {0.5f, 0.25f, 0.25f}, {0.1f, 0.2f, 0.7f}, {0.6f, 0.3f, 0.1f}, {0.2f, 0.2f, 0.6f}};
  EXPECT_EQ(format_alignment(a, AlignmentFormat::Soft), "0.5,0.25,0.25 0.1,0.2,0.7 0.6,0.3,0.1 0.2,0.2,0.6");
  // (argmax source, target) pairs sorted by source then target.
  EXPECT_EQ(format_alignment(a, AlignmentFormat::Hard), "0-0 0-2 2-1 2-3");
  EXPECT_EQ(format_alignment(a, AlignmentFormat::None), "");
  EXPECT_EQ(parse_alignment_format("soft"), AlignmentFormat::Soft);
  EXPECT_EQ(parse_alignment_format("hard"), AlignmentFormat::Hard);
  EXPECT_EQ(parse_alignment_format(""), AlignmentFormat::None);
  EXPECT_THROW(parse_alignment_format("0.5"), OptionError);
}

}  // namespace
}  // namespace nmt
