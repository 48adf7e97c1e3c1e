// Greedy and beam search on tiny models with random weights: beam 1 = greedy, a wide
// enough beam = exhaustive search (written here with the decoder's step()), batched =
// one sentence at a time, masking, length limits, alignments, and agreement with
// forced decoding (translate/score.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <random>

#include "core/context.h"
#include "core/error.h"
#include "core/graph.h"
#include "model/model.h"
#include "ops/softmax.h"
#include "synthetic.h"
#include "translate/score.h"
#include "translate/search.h"

namespace nmt {
namespace {

constexpr int64_t kVocab = 12;

const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new testing::OneThreadEnvironment);

// A tiny model of `type` (bottleneck | attention) with random weights, scaled up so its
// output distributions are peaked.
std::unique_ptr<Model> tiny_model(const std::string& type, uint64_t seed, float scale = 3.0f) {
  return testing::tiny_random_model(type, kVocab, seed, scale);
}

// Source sentences (ids 4..V-1, ending in </s>) of the given lengths, deterministic.
std::vector<std::vector<int32_t>> sources(const std::vector<int>& lengths, uint32_t seed) {
  std::vector<std::vector<int32_t>> out = testing::random_ids(lengths, kVocab, seed);
  for (auto& s : out) s.push_back(Vocab::kEos);
  return out;
}

SourceBatch one(const std::vector<int32_t>& s) { return SourceBatch::from({s}); }

// ---- exhaustive search, independent of translate/search.cc ----

struct Scored {
  std::vector<int32_t> tokens;
  float score;
};

// Every output of at most max_len tokens (then </s>) that search may produce (no pad,
// <s> or <unk>), with its score, expanding all prefixes breadth-first with step().
std::vector<Scored> all_outputs(Model& model, const std::vector<int32_t>& src, int max_len) {
  NoGradScope no_grad;
  Rng rng(0);
  EncoderOutput enc = model.encoder().encode(one(src), false, rng);
  auto state = model.decoder().start(enc);
  std::vector<Scored> prefixes = {{{}, 0.0f}}, done;
  std::vector<int32_t> previous = {Vocab::kBos};
  while (!prefixes.empty()) {
    Tensor lp = log_softmax(model.decoder().step(*state, previous))->value;
    const int64_t V = lp.dim(1);
    std::vector<Scored> next;
    std::vector<int32_t> rows;
    for (size_t r = 0; r < prefixes.size(); ++r) {
      const float* p = lp.data() + r * V;
      done.push_back({prefixes[r].tokens, prefixes[r].score + p[Vocab::kEos]});
      if (static_cast<int>(prefixes[r].tokens.size()) == max_len) continue;
      for (int32_t v = Vocab::kEos + 1; v < V; ++v) {
        Scored s = prefixes[r];
        s.tokens.push_back(v);
        s.score += p[v];
        next.push_back(s);
        rows.push_back(static_cast<int32_t>(r));
      }
    }
    if (next.empty()) break;
    state->select(rows);
    previous.clear();
    for (const Scored& s : next) previous.push_back(s.tokens.back());
    prefixes = std::move(next);
  }
  return done;
}

float normalized(const Scored& s, float alpha) {
  return alpha > 0 ? s.score / std::pow(static_cast<float>(s.tokens.size() + 1), alpha) : s.score;
}

// ---- tests ----

class SearchTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SearchTest, BeamOfOneEqualsGreedy) {
  auto model = tiny_model(GetParam(), 11);
  SearchOptions o;
  o.beam_size = 1;
  const SourceBatch src = SourceBatch::from(sources({3, 7, 1, 5, 9, 2}, 5));
  const auto greedy = greedy_search(*model, src, o);
  const auto beam = beam_search(*model, src, o);
  ASSERT_EQ(beam.size(), greedy.size());
  for (size_t n = 0; n < greedy.size(); ++n) {
    ASSERT_EQ(beam[n].size(), 1u);
    EXPECT_EQ(beam[n][0].tokens, greedy[n].tokens) << "sentence " << n;
    EXPECT_NEAR(beam[n][0].score, greedy[n].score, 1e-5) << "sentence " << n;
    EXPECT_NEAR(beam[n][0].normalized_score, greedy[n].normalized_score, 1e-5) << "sentence " << n;
  }
  // And search() with beam 1 is the greedy search.
  const auto via_search = search(*model, src, o);
  for (size_t n = 0; n < greedy.size(); ++n) EXPECT_EQ(via_search[n][0].tokens, greedy[n].tokens);
}

TEST_P(SearchTest, WideBeamEqualsExhaustiveSearch) {
  auto model = tiny_model(GetParam(), 3, 4.0f);
  constexpr int kMaxLen = 3;
  // 8 tokens besides </s>: 1 + 8 + 64 + 512 = 585 outputs; a beam of 600 never prunes.
  for (float alpha : {0.0f, 0.6f, 2.0f}) {
    SearchOptions o;
    o.beam_size = 600;
    o.n_best = 5;
    o.normalize = alpha;
    o.max_length_factor = 0;
    o.max_length_offset = kMaxLen;
    for (const auto& src : sources({4, 2}, 17)) {
      std::vector<Scored> all = all_outputs(*model, src, kMaxLen);
      ASSERT_EQ(all.size(), 585u);
      std::stable_sort(all.begin(), all.end(),
                       [&](const Scored& a, const Scored& b) { return normalized(a, alpha) > normalized(b, alpha); });
      const auto found = beam_search(*model, one(src), o)[0];
      ASSERT_EQ(found.size(), 5u);
      for (size_t i = 0; i < found.size(); ++i) {
        EXPECT_NEAR(found[i].normalized_score, normalized(all[i], alpha), 1e-4) << "alpha " << alpha << " rank " << i;
        EXPECT_NEAR(found[i].score, all[i].score, 1e-4);
        // Tokens must match unless two outputs tie (then either order is right).
        if (i + 1 < all.size() && std::abs(normalized(all[i], alpha) - normalized(all[i + 1], alpha)) > 1e-4 &&
            (i == 0 || std::abs(normalized(all[i], alpha) - normalized(all[i - 1], alpha)) > 1e-4)) {
          EXPECT_EQ(found[i].tokens, all[i].tokens) << "alpha " << alpha << " rank " << i;
        }
      }
    }
  }
  // The exhaustive best vs greedy: the best output scores at least as well as greedy's.
  SearchOptions g;
  g.max_length_factor = 0;
  g.max_length_offset = kMaxLen;
  g.normalize = 0;
  const auto src = sources({4}, 17)[0];
  const auto all = all_outputs(*model, src, kMaxLen);
  float best = -1e30f;
  for (const Scored& s : all) best = std::max(best, s.score);
  EXPECT_LE(greedy_search(*model, one(src), g)[0].score, best + 1e-5);
}

TEST_P(SearchTest, BatchedEqualsOneByOne) {
  auto model = tiny_model(GetParam(), 7);
  // 19 sentences: as they finish, the state keeps filler rows (row_bucket) beside live ones.
  const auto srcs = sources({5, 1, 8, 3, 3, 10, 2, 7, 4, 6, 1, 9, 2, 5, 3, 12, 4, 6, 2}, 29);
  for (int beam : {1, 4}) {
    SearchOptions o;
    o.beam_size = beam;
    o.n_best = beam;
    const auto batched = search(*model, SourceBatch::from(srcs), o);
    ASSERT_EQ(batched.size(), srcs.size());
    for (size_t n = 0; n < srcs.size(); ++n) {
      const auto alone = search(*model, one(srcs[n]), o)[0];
      ASSERT_EQ(batched[n].size(), alone.size()) << "beam " << beam << " sentence " << n;
      for (size_t k = 0; k < alone.size(); ++k) {
        EXPECT_EQ(batched[n][k].tokens, alone[k].tokens) << "beam " << beam << " sentence " << n << " hyp " << k;
        EXPECT_NEAR(batched[n][k].score, alone[k].score, 1e-4) << "beam " << beam << " sentence " << n;
      }
    }
  }
}

TEST_P(SearchTest, BeamHypothesesAreRankedAndDistinct) {
  auto model = tiny_model(GetParam(), 21);
  SearchOptions o;
  o.beam_size = 6;
  o.n_best = 6;
  const auto res = search(*model, SourceBatch::from(sources({4, 6, 2}, 3)), o);
  for (const auto& hyps : res) {
    ASSERT_EQ(hyps.size(), 6u);
    for (size_t k = 0; k + 1 < hyps.size(); ++k) {
      EXPECT_GE(hyps[k].normalized_score, hyps[k + 1].normalized_score);
      for (size_t j = k + 1; j < hyps.size(); ++j) EXPECT_NE(hyps[k].tokens, hyps[j].tokens);
    }
    for (const auto& h : hyps)
      EXPECT_NEAR(h.normalized_score, h.score / std::pow(static_cast<float>(h.tokens.size() + 1), 0.6f), 1e-5);
  }
  // n_best below the beam size cuts the list.
  o.n_best = 2;
  for (const auto& hyps : search(*model, SourceBatch::from(sources({4}, 3)), o)) EXPECT_EQ(hyps.size(), 2u);
}

TEST_P(SearchTest, ScoresEqualForcedDecoding) {
  auto model = tiny_model(GetParam(), 13);
  const auto srcs = sources({3, 6, 1, 9}, 41);
  std::vector<std::vector<int32_t>> plain;  // without </s>, as score_ids takes them
  for (const auto& s : srcs) plain.emplace_back(s.begin(), s.end() - 1);
  // Default limits, and a limit of 2 tokens that forces </s> early.
  for (int offset : {5, 2}) {
    for (int beam : {1, 3}) {
      SearchOptions o;
      o.beam_size = beam;
      o.n_best = beam;
      o.max_length_offset = offset;
      if (offset == 2) o.max_length_factor = 0;
      const auto res = search(*model, SourceBatch::from(srcs), o);
      for (size_t n = 0; n < srcs.size(); ++n) {
        for (const Hypothesis& h : res[n]) {
          EXPECT_LE(static_cast<int>(h.tokens.size()), max_output_length(o, static_cast<int>(srcs[n].size())));
          const auto s = score_ids(*model, {plain[n]}, {h.tokens}, ScoreOptions{})[0];
          EXPECT_NEAR(s.log_prob, h.score, 1e-3) << "beam " << beam << " offset " << offset << " sentence " << n;
          EXPECT_EQ(s.tokens, static_cast<int>(h.tokens.size()) + 1);
        }
      }
    }
  }
}

TEST_P(SearchTest, NeverGeneratesPadBosOrUnlessAllowedUnk) {
  auto model = tiny_model(GetParam(), 5);
  // Make <unk>, <pad> and <s> the model's favourite outputs.
  const std::string bias = "decoder.output.bias";
  ASSERT_TRUE(model->params().contains(bias));
  Var b = model->params().get(bias);
  for (int32_t id : {Vocab::kPad, Vocab::kUnk, Vocab::kBos}) b->value[id] = 30.0f;
  const SourceBatch src = SourceBatch::from(sources({3, 5}, 9));
  for (int beam : {1, 3}) {
    SearchOptions o;
    o.beam_size = beam;
    bool saw_unk = false;
    for (bool allow : {false, true}) {
      o.allow_unk = allow;
      for (const auto& hyps : search(*model, src, o))
        for (const auto& h : hyps)
          for (int32_t t : h.tokens) {
            EXPECT_NE(t, Vocab::kPad);
            EXPECT_NE(t, Vocab::kBos);
            EXPECT_NE(t, Vocab::kEos);
            if (!allow) {
              EXPECT_NE(t, Vocab::kUnk);
            }
            saw_unk |= allow && t == Vocab::kUnk;
          }
    }
    EXPECT_TRUE(saw_unk) << "with a huge <unk> bias and --allow-unk, <unk> should appear (beam " << beam << ")";
  }
}

INSTANTIATE_TEST_SUITE_P(Rnn, SearchTest, ::testing::Values("bottleneck", "attention"));

TEST(SearchAlignment, RowsPerTokenSumToOne) {
  auto model = tiny_model("attention", 17);
  const auto srcs = sources({4, 7, 2}, 13);
  for (int beam : {1, 3}) {
    SearchOptions o;
    o.beam_size = beam;
    o.n_best = beam;
    o.keep_alignment = true;
    const auto res = search(*model, SourceBatch::from(srcs), o);
    for (size_t n = 0; n < srcs.size(); ++n) {
      for (const Hypothesis& h : res[n]) {
        ASSERT_EQ(h.alignment.size(), h.tokens.size() + 1);
        for (const auto& row : h.alignment) {
          ASSERT_EQ(row.size(), srcs[n].size());
          float sum = 0;
          for (float w : row) {
            EXPECT_GE(w, 0.0f);
            sum += w;
          }
          EXPECT_NEAR(sum, 1.0f, 1e-4);
        }
      }
      // Alignments do not change the search.
      SearchOptions plain = o;
      plain.keep_alignment = false;
      const auto again = search(*model, one(srcs[n]), plain)[0];
      EXPECT_EQ(again[0].tokens, res[n][0].tokens);
    }
  }
}

TEST(SearchAlignment, AlignmentsEqualStepAttention) {
  auto model = tiny_model("attention", 19);
  const auto srcs = sources({5, 3}, 2);
  for (int beam : {1, 3}) {
    SearchOptions o;
    o.beam_size = beam;
    o.n_best = beam;
    o.keep_alignment = true;
    const auto res = search(*model, SourceBatch::from(srcs), o);
    for (size_t n = 0; n < srcs.size(); ++n) {
      for (const Hypothesis& h : res[n]) {
        // Replay the output with step() and compare the attention of every step.
        NoGradScope no_grad;
        Rng rng(0);
        auto state = model->decoder().start(model->encoder().encode(one(srcs[n]), false, rng));
        int32_t prev = Vocab::kBos;
        for (size_t t = 0; t <= h.tokens.size(); ++t) {
          model->decoder().step(*state, {prev});
          const Tensor a = state->last_attention();
          for (size_t s = 0; s < srcs[n].size(); ++s)
            EXPECT_NEAR(h.alignment[t][s], a[s], 1e-5) << "beam " << beam << " sentence " << n << " step " << t;
          if (t < h.tokens.size()) prev = h.tokens[t];
        }
      }
    }
  }
}

TEST(SearchErrors, BadOptionsAndBottleneckAlignment) {
  auto model = tiny_model("bottleneck", 1);
  const SourceBatch src = SourceBatch::from(sources({3}, 1));
  SearchOptions o;
  o.keep_alignment = true;
  EXPECT_THROW(search(*model, src, o), InputError);
  try {
    search(*model, src, o);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("bottleneck"), std::string::npos) << e.what();
  }
  // Each bad value is refused naming its option and the value.
  const std::vector<std::pair<void (*)(SearchOptions&), std::string>> cases = {
      {[](SearchOptions& b) { b.beam_size = 0; }, "beam-size must be >= 1, got 0"},
      {[](SearchOptions& b) { b.n_best = 2; }, "n-best-size must be in [1, beam-size], got 2 with beam-size 1"},
      {[](SearchOptions& b) { b.normalize = -1; }, "normalize must be >= 0, got -1"},
      {[](SearchOptions& b) { b.max_length_factor = -1; }, "max-length-factor must be >= 0, got -1"},
      {[](SearchOptions& b) { b.max_length_offset = -1; }, "max-length-offset must be >= 0, got -1"},
  };
  for (const auto& [change, message] : cases) {
    SearchOptions b;
    change(b);
    try {
      search(*model, src, b);
      ADD_FAILURE() << "no OptionError: " << message;
    } catch (const OptionError& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

// Beam search's selection equals sorting every expansion, over rows of several scan blocks
// (a partial last one), with ties (equal scores across hypotheses and tokens) and -inf entries.
TEST(SearchExpansions, EqualSortingAllExpansions) {
  const int64_t V = 1000;
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(-8.f, 3.f);
  for (int trial = 0; trial < 20; ++trial) {
    const size_t hyps = 1 + trial % 5, capacity = 1 + trial % 7;
    std::vector<float> lp(hyps * V), base(hyps);
    for (float& x : lp) x = normal(gen);
    for (size_t k = 0; k < hyps; ++k) base[k] = -static_cast<float>(k % 2);  // equal bases
    for (int i = 0; i < 50; ++i) lp[gen() % lp.size()] = -std::numeric_limits<float>::infinity();
    lp[3] = lp[V - 1] = 5.f;            // a tie inside a row, at both ends of it
    if (hyps > 2) lp[2 * V + 3] = 5.f;  // ... and across hypotheses of equal base
    if (trial % 4 == 0) std::fill(lp.begin(), lp.begin() + V - 2, -std::numeric_limits<float>::infinity());
    std::vector<Expansion> all;
    for (size_t k = 0; k < hyps; ++k)
      for (int64_t v = 0; v < V; ++v)
        if (lp[k * V + v] != -std::numeric_limits<float>::infinity())
          all.push_back({base[k] + lp[k * V + v], static_cast<int32_t>(k), static_cast<int32_t>(v)});
    std::sort(all.begin(), all.end(), [](const Expansion& a, const Expansion& b) {
      return a.score != b.score ? a.score > b.score : a.hyp != b.hyp ? a.hyp < b.hyp : a.token < b.token;
    });
    all.resize(std::min(all.size(), capacity));
    const std::vector<Expansion> got = best_expansions(lp.data(), V, base, capacity);
    ASSERT_EQ(got.size(), all.size()) << "trial " << trial;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].hyp, all[i].hyp) << "trial " << trial << " rank " << i;
      EXPECT_EQ(got[i].token, all[i].token) << "trial " << trial << " rank " << i;
      EXPECT_EQ(got[i].score, all[i].score);
    }
  }
  EXPECT_TRUE(best_expansions(nullptr, V, {}, 5).empty());
}

TEST(SearchRows, BucketsAreFewAndWasteAtMostAThird) {
  std::vector<size_t> seen;
  for (size_t n = 1; n <= 400; ++n) {
    const size_t b = row_bucket(n);
    EXPECT_GE(b, n);
    EXPECT_LE(2 * b, 3 * n) << n;  // filler rows are at most a third of the rows
    if (seen.empty() || seen.back() != b) seen.push_back(b);
  }
  EXPECT_EQ(seen, (std::vector<size_t>{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512}));
}

TEST(SearchLimits, MaxOutputLength) {
  SearchOptions o;  // factor 2, offset 5; source length counts </s>
  EXPECT_EQ(max_output_length(o, 1), 5);
  EXPECT_EQ(max_output_length(o, 4), 11);
  o.max_length_factor = 1.5f;
  o.max_length_offset = 0;
  EXPECT_EQ(max_output_length(o, 4), 4);  // floor(1.5 * 3)
  EXPECT_EQ(max_output_length(o, 1), 1);  // at least one token
}

}  // namespace
}  // namespace nmt
