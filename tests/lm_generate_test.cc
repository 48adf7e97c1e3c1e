// Drawing pieces (lm/generate.h): top-k never draws outside the k most probable pieces, top-p
// outside its nucleus; temperature 0 and greedy take the most probable; full sampling draws
// each piece about as often as its probability; special pieces are never drawn; the sampling
// option's words are checked. Generation itself is tested through nmt generate
// (tests/cli_lm_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "lm/generate.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

std::vector<float> random_logits(int64_t V, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> l(V);
  for (float& x : l) x = 3.0f * rng.normal();
  return l;
}

GenerateOptions with(const std::vector<std::string>& words, float temperature = 1.0f) {
  GenerateOptions o;
  parse_sampling(words, o);
  o.temperature = temperature;
  o.validate();
  return o;
}

// The ids ranked by logit, best first (lower id among equals), specials left out.
std::vector<int32_t> ranked(const std::vector<float>& l) {
  std::vector<int32_t> ids;
  for (int32_t v = 0; v < static_cast<int32_t>(l.size()); ++v)
    if (v != Vocab::kPad && v != Vocab::kBos && v != Vocab::kUnk) ids.push_back(v);
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) { return l[a] > l[b]; });
  return ids;
}

TEST(Sampling, TopKNeverDrawsOutsideTheTopK) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    const std::vector<float> l = random_logits(50, seed);
    const std::vector<int32_t> order = ranked(l);
    for (int k : {1, 3, 10}) {
      const GenerateOptions o = with({"topk", std::to_string(k)}, 2.0f);  // a flat distribution: draws spread
      Rng rng(seed);
      std::map<int32_t, int> seen;
      for (int i = 0; i < 3000; ++i) ++seen[pick_token(l.data(), 50, o, rng)];
      for (const auto& [id, n] : seen)
        EXPECT_NE(std::find(order.begin(), order.begin() + k, id), order.begin() + k) << "k " << k << " drew " << id;
      EXPECT_EQ(static_cast<int>(seen.size()), k) << "every one of the top " << k << " is drawn";
    }
  }
}

TEST(Sampling, TopPDrawsFromTheNucleusOnly) {
  const std::vector<float> l = random_logits(40, 9);
  const std::vector<int32_t> order = ranked(l);
  double total = 0;
  for (int32_t v : order) total += std::exp(l[v]);
  const GenerateOptions o = with({"topp", "0.8"});
  size_t nucleus = 0;  // the smallest prefix of `order` whose probability reaches 0.8
  for (double sum = 0; sum < 0.8 * total;) sum += std::exp(l[order[nucleus++]]);
  Rng rng(3);
  std::map<int32_t, int> seen;
  for (int i = 0; i < 5000; ++i) ++seen[pick_token(l.data(), 40, o, rng)];
  for (const auto& [id, n] : seen)
    EXPECT_NE(std::find(order.begin(), order.begin() + nucleus, id), order.begin() + nucleus) << id;
  EXPECT_EQ(seen.size(), nucleus);
}

TEST(Sampling, TemperatureZeroAndGreedyTakeTheMostProbable) {
  std::vector<float> l = random_logits(30, 4);
  l[Vocab::kUnk] = 100.0f;  // never drawn, however probable
  const int32_t best = ranked(l)[0];
  Rng rng(1);
  for (const std::vector<std::string>& w :
       std::vector<std::vector<std::string>>{{"full"}, {"topk", "5"}, {"topp", "0.5"}})
    for (int i = 0; i < 20; ++i) EXPECT_EQ(pick_token(l.data(), 30, with(w, 0.0f), rng), best);
  EXPECT_EQ(pick_token(l.data(), 30, with({"greedy"}, 1.0f), rng), best);
  // Ties go to the lower id.
  std::vector<float> flat(10, 1.0f);
  EXPECT_EQ(pick_token(flat.data(), 10, with({"greedy"}), rng), Vocab::kEos);
}

TEST(Sampling, FullSamplingFollowsTheDistribution) {
  const std::vector<float> l{0, 0, 0, 1.0f, 0.5f, -1.0f, 2.0f, 0.0f};
  const GenerateOptions o = with({"full"}, 1.0f);
  std::vector<double> p(8, 0.0);
  double total = 0;
  for (int v = 3; v < 8; ++v) total += std::exp(l[v]);
  Rng rng(17);
  const int n = 40000;
  std::vector<int> count(8, 0);
  for (int i = 0; i < n; ++i) ++count[pick_token(l.data(), 8, o, rng)];
  for (int v = 0; v < 3; ++v) EXPECT_EQ(count[v], 0) << "special " << v;
  for (int v = 3; v < 8; ++v) {
    const double expected = std::exp(l[v]) / total;
    EXPECT_NEAR(count[v] / static_cast<double>(n), expected, 4 * std::sqrt(expected / n)) << v;
  }
}

TEST(Sampling, OptionWordsAreChecked) {
  GenerateOptions o;
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"topk"}, {"foo"}, {"greedy", "3"}, {"topk", "x"}, {"topp", "0.5x"}, {}}) {
    try {
      parse_sampling(bad, o);
      ADD_FAILURE() << "accepted " << testing::PrintToString(bad);
    } catch (const OptionError& e) {
      EXPECT_NE(std::string(e.what()).find("sampling"), std::string::npos) << e.what();
    }
  }
  for (const auto& [words, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"topk", "0"}, "sampling topk K must have K >= 1, got 0"},
           {{"topp", "1.5"}, "sampling topp P must have P in (0, 1], got 1.5"}}) {
    GenerateOptions g;
    parse_sampling(words, g);
    try {
      g.validate();
      ADD_FAILURE() << "accepted " << testing::PrintToString(words);
    } catch (const OptionError& e) {
      EXPECT_EQ(std::string(e.what()), message);
    }
  }
  GenerateOptions g;
  g.temperature = -1;
  EXPECT_THROW(g.validate(), OptionError);
}

}  // namespace
}  // namespace nmt
