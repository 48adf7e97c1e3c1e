#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "core/error.h"
#include "tokenization/corpus.h"
#include "tokenization/vocab.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;

using testing::join_lines;
using testing::slurp;

// Sentences of single-space separated words (already NFKC-normalised): real Latin,
// German, Cyrillic, CJK words and emoji, plus made-up words from syllables of each
// script (so that the corpus has enough distinct words for a few hundred pieces), and
// some empty lines.
std::vector<std::string> make_corpus(int n, unsigned seed) {
  const std::vector<std::vector<std::string>> words = {
      {"Hello", "a",        "man",    "is",    "riding", "the",   "bike",   "two",     "dogs", "play", "in",   "snow",
       "with",  "children", "street", "water", "green",  "house", "people", "walking", "42",   "2024", "café", "naïve"},
      {"Ein", "Mädchen", "läuft", "über", "die", "Straße", "schön", "Brücke", "Käse", "grüßen", "Öl", "Bäume", "Füße",
       "und", "der", "Hund", "spielt", "im", "Schnee"},
      {"привет", "мир", "собака", "кошка", "улица", "дом", "большой", "играет", "в", "снегу", "Москва", "ёлка"},
      {"我们", "喜欢", "吃饭", "東京", "日本語", "猫", "大学", "学生", "中国", "朋友"},
      {"😀", "🚀", "🎉", "👍", "🌍"},
  };
  const std::vector<std::vector<std::string>> syllables = {
      {"ka", "ro", "ten", "mi", "sa", "lo", "ver", "ing", "pre", "tion", "st", "ed", "un", "al", "Br", "Th"},
      {"sch", "ä", "ü", "ö", "ß", "ber", "ling", "ge", "keit", "zw", "ei", "Hu", "nde", "chen", "lich", "Ü"},
      {"при", "ка", "ло", "ст", "во", "ни", "ём", "жи", "ща", "ть", "Ра", "бе", "ды", "юг", "эх", "ц"},
      {"的", "是", "人", "大", "学", "生", "中", "国", "日", "本", "語", "東", "京", "水", "火", "山"},
  };
  std::mt19937 rng(seed);
  const auto word = [&](size_t script) {
    if (script == 4 || rng() % 3 == 0) return words[script][rng() % words[script].size()];
    std::string w;
    for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) w += syllables[script][rng() % syllables[script].size()];
    return w;
  };
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) {
    if (i % 97 == 5) {
      lines.emplace_back();
      continue;
    }
    const size_t primary = rng() % 4;
    const int len = 3 + static_cast<int>(rng() % 10);
    std::string line;
    for (int k = 0; k < len; ++k) line += (k ? " " : "") + word(rng() % 5 == 0 ? rng() % words.size() : primary);
    lines.push_back(line);
  }
  return lines;
}

// One temporary directory and one trained unigram vocabulary shared by the tests.
class VocabTest : public testing::FileTest {
 protected:
  static void SetUpTestSuite() {
    open_dir("nmt_vocab");
    corpus_ = new std::vector<std::string>(make_corpus(3000, 1));
    // Half plain, half gzip: training is joint over both files.
    const std::vector<std::string> a(corpus_->begin(), corpus_->begin() + 1500),
        b(corpus_->begin() + 1500, corpus_->end());
    write("part1.txt", join_lines(a));
    write_gz("part2.gz", join_lines(b));
    stats_ = new VocabTrainStats(train_vocab(options("unigram.spm")));
  }
  static void TearDownTestSuite() {
    close_dir();
    delete corpus_;
    delete stats_;
  }

  static VocabTrainOptions options(const std::string& model) {
    VocabTrainOptions o;
    o.inputs = {path("part1.txt"), path("part2.gz")};
    o.model_path = path(model);
    o.vocab_size = kVocabSize;
    return o;
  }
  static std::string train_error(const VocabTrainOptions& o) {
    try {
      train_vocab(o);
    } catch (const InputError& e) {
      return e.what();
    }
    ADD_FAILURE() << "training did not throw InputError";
    return "";
  }

  static constexpr int kVocabSize = 400;
  static std::vector<std::string>* corpus_;
  static VocabTrainStats* stats_;
};
std::vector<std::string>* VocabTest::corpus_ = nullptr;
VocabTrainStats* VocabTest::stats_ = nullptr;

TEST_F(VocabTest, TrainingStats) {
  ASSERT_EQ(stats_->files.size(), 2u);
  EXPECT_EQ(stats_->files[0].lines + stats_->files[1].lines, 3000);
  int64_t empty = 0;
  for (const auto& l : *corpus_) empty += l.empty();
  EXPECT_GT(empty, 0);
  EXPECT_EQ(stats_->files[0].empty_lines + stats_->files[1].empty_lines, empty);
  EXPECT_EQ(stats_->sentences, 3000 - empty);
  EXPECT_EQ(stats_->sentences_used, stats_->sentences);
  EXPECT_EQ(stats_->model_bytes, fs::file_size(path("unigram.spm")));
}

TEST_F(VocabTest, SpecialIds) {
  const Vocab v = Vocab::load(path("unigram.spm"));
  EXPECT_EQ(v.size(), kVocabSize);
  EXPECT_EQ(v.pieces({Vocab::kPad, Vocab::kUnk, Vocab::kBos, Vocab::kEos}),
            (std::vector<std::string>{"<pad>", "<unk>", "<s>", "</s>"}));
  EXPECT_EQ(Vocab::kPad, 0);
  EXPECT_EQ(Vocab::kUnk, 1);
  EXPECT_EQ(Vocab::kBos, 2);
  EXPECT_EQ(Vocab::kEos, 3);
}

TEST_F(VocabTest, RoundTripEveryLine) {
  const Vocab v = Vocab::load(path("unigram.spm"));
  for (const auto& line : *corpus_) {
    const auto ids = v.encode(line);
    for (int32_t id : ids) {
      ASSERT_GT(id, Vocab::kUnk) << "special or unknown id in the encoding of '" << line << "'";
      ASSERT_LT(id, v.size());
    }
    ASSERT_EQ(v.decode(ids), line);
  }
  // New sentences made of the same characters round-trip too.
  for (const auto& line : make_corpus(200, 99)) ASSERT_EQ(v.decode(v.encode(line)), line);
  EXPECT_TRUE(v.encode("").empty());
  EXPECT_EQ(v.decode({}), "");
}

TEST_F(VocabTest, DecodeSkipsPadBosEos) {
  const Vocab v = Vocab::load(path("unigram.spm"));
  const std::string text = "Ein Mädchen 😀 играет 我们";
  auto ids = v.encode(text);
  ids.insert(ids.begin(), Vocab::kBos);
  ids.insert(ids.end(), {Vocab::kEos, Vocab::kPad, Vocab::kPad});
  EXPECT_EQ(v.decode(ids), text);
  EXPECT_THROW(v.decode({5, v.size()}), Error);
  EXPECT_THROW(v.decode({-1}), Error);
  EXPECT_THROW(v.pieces({v.size()}), Error);
}

TEST_F(VocabTest, PiecesSpellTheText) {
  const Vocab v = Vocab::load(path("unigram.spm"));
  const std::string text = "Hello мир 東京 🚀";
  std::string joined;
  for (const auto& p : v.pieces(v.encode(text))) joined += p;
  EXPECT_EQ(joined, "\u2581Hello\u2581мир\u2581東京\u2581🚀");
}

TEST_F(VocabTest, NormalisesAndMarksUnknown) {
  const Vocab v = Vocab::load(path("unigram.spm"));
  EXPECT_EQ(v.decode(v.encode("\uFF28\uFF45llo  a   man ")), "Hello a man");  // fullwidth, extra spaces
  const auto ids = v.encode("a ☃ man");                                       // the snowman is not in the corpus
  EXPECT_NE(std::find(ids.begin(), ids.end(), Vocab::kUnk), ids.end());
}

TEST_F(VocabTest, SameSeedSameBytes) {
  train_vocab(options("again.spm"));
  EXPECT_EQ(slurp(path("again.spm")), slurp(path("unigram.spm")));
}

// With more lines than max_sentences the seed picks the sample.
TEST_F(VocabTest, SampleDependsOnSeedOnly) {
  auto o = options("s1.spm");
  o.max_sentences = 500;
  o.vocab_size = 200;
  const auto stats = train_vocab(o);
  EXPECT_EQ(stats.sentences_used, 500);
  o.model_path = path("s1_again.spm");
  train_vocab(o);
  o.model_path = path("s2.spm");
  o.seed = 2;
  train_vocab(o);
  EXPECT_EQ(slurp(path("s1.spm")), slurp(path("s1_again.spm")));
  EXPECT_NE(slurp(path("s1.spm")), slurp(path("s2.spm")));
}

TEST_F(VocabTest, Bpe) {
  auto o = options("bpe.spm");
  o.model_type = "bpe";
  o.vocab_size = 300;
  train_vocab(o);
  const Vocab v = Vocab::load(path("bpe.spm"));
  EXPECT_EQ(v.size(), 300);
  EXPECT_EQ(v.pieces({0, 1, 2, 3}), (std::vector<std::string>{"<pad>", "<unk>", "<s>", "</s>"}));
  for (size_t i = 0; i < corpus_->size(); i += 7) ASSERT_EQ(v.decode(v.encode((*corpus_)[i])), (*corpus_)[i]);
  EXPECT_NE(slurp(path("bpe.spm")), slurp(path("unigram.spm")));
}

// Subword sampling: every sample spells its line, the same seed gives the same samples,
// another seed others, and a low alpha segments differently from encode (more, shorter
// pieces); with BPE (merge dropout) as well.
TEST_F(VocabTest, SampledSegmentationsSpellTheLineAndFollowTheSeed) {
  auto o = options("bpe-sample.spm");
  o.model_type = "bpe";
  o.vocab_size = 300;
  train_vocab(o);
  std::vector<std::string> lines;
  for (size_t i = 0; i < corpus_->size(); i += 11) lines.push_back((*corpus_)[i]);
  for (const char* name : {"unigram.spm", "bpe-sample.spm"}) {
    const Vocab v = Vocab::load(path(name));
    const auto a = v.sample(lines, 0.2f, 7);
    ASSERT_EQ(a.size(), lines.size());
    EXPECT_EQ(v.sample(lines, 0.2f, 7), a) << name;
    EXPECT_NE(v.sample(lines, 0.2f, 8), a) << name;
    size_t sampled_pieces = 0, best_pieces = 0, differ = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      ASSERT_EQ(v.decode(a[i]), lines[i]) << name;
      const auto best = v.encode(lines[i]);
      sampled_pieces += a[i].size();
      best_pieces += best.size();
      differ += a[i] != best;
    }
    EXPECT_GT(differ, lines.size() / 4) << name;
    EXPECT_GT(sampled_pieces, best_pieces) << name;
  }
}

TEST_F(VocabTest, FromBytesEqualsLoad) {
  const Vocab loaded = Vocab::load(path("unigram.spm"));
  EXPECT_EQ(loaded.serialized(), slurp(path("unigram.spm")));
  const Vocab embedded = Vocab::from_bytes(loaded.serialized());
  EXPECT_EQ(embedded.serialized(), loaded.serialized());
  EXPECT_EQ(embedded.size(), loaded.size());
  for (size_t i = 0; i < corpus_->size(); i += 13)
    EXPECT_EQ(embedded.encode((*corpus_)[i]), loaded.encode((*corpus_)[i]));
}

TEST_F(VocabTest, CopiesShareTheModel) {
  std::vector<int32_t> ids;
  Vocab copy = [&] {
    const Vocab v = Vocab::load(path("unigram.spm"));
    ids = v.encode("zwei Hunde 🎉");
    Vocab c = v;
    EXPECT_EQ(&c.serialized(), &v.serialized());  // shared, not copied
    return c;
  }();
  EXPECT_EQ(copy.encode("zwei Hunde 🎉"), ids);
}

TEST_F(VocabTest, DefaultConstructedIsEmpty) {
  Vocab v;
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(v.size(), 0);
  EXPECT_EQ(v.serialized(), "");
  EXPECT_THROW(v.encode("a"), Error);
  EXPECT_THROW(v.decode({}), Error);
  v = Vocab::load(path("unigram.spm"));
  EXPECT_FALSE(v.empty());
  EXPECT_EQ(v.size(), kVocabSize);
}

TEST_F(VocabTest, BadModelFilesNameTheFile) {
  const std::string missing = path("missing.spm");
  try {
    Vocab::load(missing);
    ADD_FAILURE() << "no throw";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  for (const std::string& bytes : {std::string("this is not a sentencepiece model\n"), std::string()}) {
    const std::string garbage = write("garbage.spm", bytes);
    try {
      Vocab::load(garbage);
      ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(garbage), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(Vocab::from_bytes(slurp(path("unigram.spm")).substr(0, 1000)), InputError);
}

// A SentencePiece model trained with its own default ids (unk 0, bos 1, eos 2, no pad)
// is refused: the ids are baked into every model of ours.
TEST_F(VocabTest, ForeignSpecialIdsRefused) {
  const std::string prefix = path("foreign");
  ASSERT_TRUE(sentencepiece::SentencePieceTrainer::Train("--input=" + path("part1.txt") + " --model_prefix=" + prefix +
                                                         " --vocab_size=200 --minloglevel=1")
                  .ok());
  try {
    Vocab::load(prefix + ".model");
    ADD_FAILURE() << "no throw";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected 0/1/2/3"), std::string::npos) << e.what();
  }
}

TEST_F(VocabTest, TrainingErrors) {
  {
    const std::string bad = write("bad.txt", "fine\nKäse\nNa\xEFve\n");
    auto o = options("x.spm");
    o.inputs.push_back(bad);
    EXPECT_NE(train_error(o).find(bad + ":3: invalid UTF-8 (byte 0xEF at column 3)"), std::string::npos);
  }
  {
    auto o = options("x.spm");
    o.inputs.push_back(path("does_not_exist.gz"));
    EXPECT_NE(train_error(o).find(path("does_not_exist.gz")), std::string::npos);
  }
  {
    auto o = options("no_such_dir/x.spm");
    EXPECT_NE(train_error(o).find(path("no_such_dir/x.spm")), std::string::npos);
  }
  {
    auto o = options("x.spm");
    o.inputs = {write("blank.txt", "\n\n")};
    EXPECT_NE(train_error(o).find("no non-empty lines"), std::string::npos);
  }
  {
    auto o = options("x.spm");
    o.vocab_size = 50000;  // far more pieces than the corpus has
    EXPECT_NE(train_error(o).find("Vocabulary size too high"), std::string::npos) << train_error(o);
  }
  for (auto change : std::vector<void (*)(VocabTrainOptions&)>{
           [](VocabTrainOptions& o) { o.vocab_size = 7; },
           [](VocabTrainOptions& o) { o.model_type = "word"; },
           [](VocabTrainOptions& o) { o.character_coverage = 0.5f; },
           [](VocabTrainOptions& o) { o.max_sentences = 0; },
           [](VocabTrainOptions& o) { o.inputs.clear(); },
       }) {
    auto o = options("x.spm");
    change(o);
    EXPECT_THROW(train_vocab(o), InputError);
  }
  EXPECT_FALSE(fs::exists(path("x.spm")));
  for (const auto& entry : fs::directory_iterator(dir_->dir()))  // no temporary file left behind
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

}  // namespace
}  // namespace nmt
