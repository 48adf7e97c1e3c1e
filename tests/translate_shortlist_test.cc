// Lexical shortlists (translate/shortlist.h): IBM Model 1 finds the translations of a
// synthetic corpus, the file round-trips and its errors name file and line, a batch's
// vocabulary is what the header promises, the output layer's slice gives the full logits'
// columns (fp32 and int8), and search with a shortlist scores exactly the renormalised
// log-probabilities of the shortlist's columns, generating nothing outside them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "cli_helpers.h"
#include "core/error.h"
#include "core/graph.h"
#include "ops/linear_int8.h"
#include "ops/softmax.h"
#include "synthetic.h"
#include "translate/search.h"
#include "translate/shortlist.h"

namespace nmt {
namespace {

const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new testing::OneThreadEnvironment);

// Source piece s (4..19) translates to target piece s + 8; targets come reversed, with an
// extra frequent piece 30 in every other sentence.
struct Corpus {
  std::vector<std::vector<int32_t>> src, trg;
};
Corpus mapped_corpus(int pairs) {
  Corpus c;
  uint32_t x = 11;
  auto next = [&] { return x = x * 1664525u + 1013904223u, x >> 8; };
  for (int i = 0; i < pairs; ++i) {
    std::vector<int32_t> s, t;
    const int len = 3 + static_cast<int>(next() % 6);
    for (int j = 0; j < len; ++j) s.push_back(4 + static_cast<int32_t>(next() % 16));
    for (auto it = s.rbegin(); it != s.rend(); ++it) t.push_back(*it + 8);
    if (i % 2 == 0) t.insert(t.begin() + static_cast<int64_t>(next() % t.size()), 30);
    c.src.push_back(s);
    c.trg.push_back(t);
  }
  return c;
}

ShortlistOptions lists(int first, int best) {
  ShortlistOptions o;
  o.first = first;
  o.best = best;
  return o;
}

TEST(Shortlist, ModelOneFindsTheTranslations) {
  const Corpus c = mapped_corpus(400);
  const ShortlistOptions o = lists(2, 1);
  const Shortlist s = Shortlist::build(c.src, c.trg, 20, 32, o);
  for (int32_t src = 4; src < 20; ++src) EXPECT_EQ(s.best(src), std::vector<int32_t>{src + 8}) << src;
  for (int32_t src = 0; src < 4; ++src) EXPECT_TRUE(s.best(src).empty());  // never seen
  // The most frequent: 30 (in half the sentences), then the most frequent mapped piece.
  std::map<int32_t, int> count;
  for (const auto& t : c.trg)
    for (int32_t id : t) ++count[id];
  int32_t second = -1;
  for (const auto& [id, n] : count)
    if (id != 30 && (second < 0 || n > count[second])) second = id;
  EXPECT_EQ(s.first(), (std::vector<int32_t>{30, second}));
  EXPECT_THROW(s.best(20), Error);
  EXPECT_THROW(Shortlist::build(c.src, {}, 20, 32, o), Error);
  EXPECT_THROW(Shortlist::build({{25}}, {{5}}, 20, 32, o), Error);  // source id out of range
  // Sources ending in </s> (as a training corpus holds them) give the same lists.
  std::vector<std::vector<int32_t>> with_eos = c.src;
  for (auto& x : with_eos) x.push_back(Vocab::kEos);
  const Shortlist e = Shortlist::build(with_eos, c.trg, 20, 32, o);
  EXPECT_EQ(e.first(), s.first());
  for (int32_t src = 0; src < 20; ++src) EXPECT_EQ(e.best(src), s.best(src)) << src;
}

TEST(Shortlist, BatchVocabulary) {
  const Corpus c = mapped_corpus(400);
  const Shortlist s = Shortlist::build(c.src, c.trg, 20, 32, lists(1, 2));
  const SourceBatch batch = SourceBatch::from({{5, 6, Vocab::kEos}, {7, Vocab::kEos}});
  const std::vector<int32_t> v = s.vocabulary(batch, false);
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  std::set<int32_t> want = {30, Vocab::kEos};
  for (int32_t src : {5, 6, 7})
    for (int32_t t : s.best(src)) want.insert(t);
  EXPECT_EQ(v, std::vector<int32_t>(want.begin(), want.end()));
  std::vector<int32_t> with_unk = s.vocabulary(batch, true);
  want.insert(Vocab::kUnk);
  EXPECT_EQ(with_unk, std::vector<int32_t>(want.begin(), want.end()));
}

class ShortlistFile : public testing::FileTest {
 protected:
  void SetUp() override { open_dir("nmt_shortlist"); }
  void TearDown() override { close_dir(); }
};

TEST_F(ShortlistFile, RoundTripAndErrors) {
  const Corpus c = mapped_corpus(200);
  const Shortlist s = Shortlist::build(c.src, c.trg, 20, 32, ShortlistOptions{});
  s.save(path("lex.txt"));
  const Shortlist t = Shortlist::load_for(path("lex.txt"), 20, 32);
  EXPECT_EQ(t.first(), s.first());
  for (int32_t src = 0; src < 20; ++src) EXPECT_EQ(t.best(src), s.best(src));
  auto message = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no InputError");
  };
  EXPECT_NE(message([&] { Shortlist::load_for(path("lex.txt"), 20, 40); }).find("the model's have 20 and 40"),
            std::string::npos);
  EXPECT_NE(message([&] { Shortlist::load(path("missing.txt")); }).find("missing.txt"), std::string::npos);
  struct Malformed {
    const char* name;
    const char* text;
    const char* error;
  };
  for (const Malformed& m :
       {Malformed{"bad1.txt", "nmt-shortlist 2 20 32\nfirst 4\n", "bad1.txt:1: shortlist format version 2"},
        Malformed{"bad2.txt", "nmt-shortlist 1 20 32\nfirst 4 5\n4: 12 13\n5: 12 x3\n",
                  "bad2.txt:4: 'x3' is not an id in [0, 32)"},
        Malformed{"bad3.txt", "nmt-shortlist 1 20 32\nfirst 4\n21: 12\n", "bad3.txt:3: '21' is not an id in [0, 20)"},
        Malformed{"bad4.txt", "hello\n", "bad4.txt:1: not an nmt shortlist"}}) {
    write(m.name, m.text);
    const std::string got = message([&] { Shortlist::load(path(m.name)); });
    EXPECT_NE(got.find(m.error), std::string::npos) << m.name << ": " << got;
  }
}

// The slice's logits are the full logits' columns, in fp32 and in int8.
TEST(OutputSlice, ColumnsOfTheFullLogits) {
  for (const std::string type : {"bottleneck", "transformer"}) {
    auto model = testing::tiny_random_model(type, 40, 3, 2.0f);
    NoGradScope ng;
    Rng rng(0);
    const SourceBatch src = SourceBatch::from({{5, 9, 12, Vocab::kEos}, {7, Vocab::kEos}});
    const std::vector<int32_t> ids = {3, 4, 17, 18, 39};
    for (bool int8 : {false, true}) {
      std::unique_ptr<Int8Scope> scope = int8 ? std::make_unique<Int8Scope>() : nullptr;
      EncoderOutput enc = model->encoder().encode(src, false, rng);
      auto full = model->decoder().start(enc);
      auto part = model->decoder().start(enc);
      part->output_slice = model->decoder().output_slice(ids);
      for (const std::vector<int32_t>& previous : {std::vector<int32_t>{2, 2}, std::vector<int32_t>{9, 30}}) {
        const Tensor a = model->decoder().step(*full, previous)->value;
        const Tensor b = model->decoder().step(*part, previous)->value;
        ASSERT_EQ(b.shape(), (Shape{2, 5}));
        for (int64_t r = 0; r < 2; ++r)
          for (size_t j = 0; j < ids.size(); ++j)
            EXPECT_NEAR(b[r * 5 + j], a[r * 40 + ids[j]], 1e-5) << type << " int8 " << int8;
      }
    }
  }
}

// Search with a shortlist: every token is in the batch's vocabulary, and each hypothesis's
// score is the sum of its tokens' log-probabilities renormalised over that vocabulary
// (forced decoding through the sliced output layer).
TEST(ShortlistSearch, ScoresAreRenormalisedOverTheVocabulary) {
  const Corpus c = mapped_corpus(300);
  const Shortlist list = Shortlist::build(c.src, c.trg, 40, 40, lists(3, 2));
  for (const std::string type : {"attention", "transformer"}) {
    auto model = testing::tiny_random_model(type, 40, 5, 3.0f);
    const SourceBatch src = SourceBatch::from({{5, 9, 12, Vocab::kEos}, {7, 8, Vocab::kEos}});
    const std::vector<int32_t> vocab = list.vocabulary(src, false);
    for (int beam : {1, 4}) {
      SearchOptions so;
      so.beam_size = beam;
      so.n_best = beam;
      so.shortlist = &list;
      const auto found = search(*model, src, so);
      for (int64_t n = 0; n < src.batch; ++n) {
        ASSERT_FALSE(found[n].empty());
        for (const Hypothesis& h : found[n]) {
          for (int32_t t : h.tokens) EXPECT_TRUE(std::binary_search(vocab.begin(), vocab.end(), t)) << t;
          // Forced decoding of h over the vocabulary's columns.
          NoGradScope ng;
          Rng rng(0);
          const SourceBatch one = SourceBatch::from({std::vector<int32_t>(
              src.ids.begin() + n * src.length, src.ids.begin() + n * src.length + src.lengths[n])});
          auto state = model->decoder().start(model->encoder().encode(one, false, rng));
          state->output_slice = model->decoder().output_slice(vocab);
          std::vector<int32_t> out = h.tokens;
          out.push_back(Vocab::kEos);
          int32_t previous = Vocab::kBos;
          double score = 0;
          for (int32_t t : out) {
            Tensor lp = model->decoder().step(*state, {previous})->value;
            softmax_forward(lp, lp, true);
            score += lp[std::lower_bound(vocab.begin(), vocab.end(), t) - vocab.begin()];
            previous = t;
          }
          EXPECT_NEAR(h.score, score, 1e-4) << type << " beam " << beam;
        }
      }
    }
  }
}

}  // namespace
}  // namespace nmt
