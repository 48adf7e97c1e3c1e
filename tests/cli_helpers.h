// Shared fixtures of the tests that work on files and run the built `nmt` binary
// (tests/cli_*_test.cc, tests/tokenization_*_test.cc):
// - FileTest: a temporary directory, fresh for every test (open_dir in SetUp) or shared by
//   a suite (open_dir in SetUpTestSuite), with path/write/write_gz and `nmt ARGS` runs in it;
// - TinyModelTest: a FileTest whose suite trains one small SentencePiece vocabulary on
//   generated syllable text and saves tiny random-weight models with it, once per suite.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/context.h"
#include "model/model.h"
#include "synthetic.h"
#include "tokenization/vocab.h"
#include "translate/translator.h"

namespace nmt::testing {

// Generated text over a few syllables ("kalo mi netaro"), so a small vocabulary covers it.
inline std::vector<std::string> make_text(int lines, uint32_t seed) {
  static const char* syl[] = {"ka", "lo", "mi", "ne", "su", "ta", "ro", "vi"};
  std::vector<std::string> out;
  uint32_t x = seed;
  auto next = [&] { return (x = x * 1664525u + 1013904223u) >> 16; };
  for (int i = 0; i < lines; ++i) {
    std::string l;
    const int words = 1 + next() % 6;
    for (int w = 0; w < words; ++w) {
      if (w) l += ' ';
      const int n = 1 + next() % 3;
      for (int k = 0; k < n; ++k) l += syl[next() % 8];
    }
    out.push_back(l);
  }
  return out;
}

class FileTest : public ::testing::Test {
 protected:
  static void open_dir(const std::string& prefix) { dir_ = std::make_unique<TempDir>(prefix); }
  static void close_dir() { dir_.reset(); }

  static std::string path(const std::string& name) { return dir_->path(name); }
  static std::string write(const std::string& name, const std::string& bytes) { return dir_->write(name, bytes); }
  static std::string write_gz(const std::string& name, const std::string& bytes) {
    testing::write_gz(path(name), bytes);
    return path(name);
  }
  // Runs `nmt ARGS` through the shell (ARGS may redirect stdin), capturing both streams.
  static RunResult nmt(const std::string& args) {
    RunResult r = run_nmt(*dir_, args);
    EXPECT_NE(r.code, -1) << "nmt " << args << " did not exit normally";
    return r;
  }

  static inline std::unique_ptr<TempDir> dir_;
};

class TinyModelTest : public FileTest {
 protected:
  // Call from SetUpTestSuite: opens the suite's directory, trains vocab.spm (24 pieces, on
  // 300 lines of make_text(corpus_seed)) and saves tiny_random_model(TYPE, ..., model_seed)
  // with weights scaled 8x (outputs that vary with the input) as TYPE.bin for each of
  // `types`; model_ is the first one as loaded back from its file.
  static void set_up_models(const std::string& prefix, uint32_t corpus_seed, const std::vector<std::string>& types,
                            uint64_t model_seed) {
    Context::get().set_threads(1);
    open_dir(prefix);
    write("corpus.txt", join_lines(make_text(300, corpus_seed)));
    VocabTrainOptions vo;
    vo.inputs = {path("corpus.txt")};
    vo.model_path = path("vocab.spm");
    vo.vocab_size = 24;
    train_vocab(vo);
    vocab_ = std::make_unique<Vocab>(Vocab::load(path("vocab.spm")));
    for (const std::string& type : types)
      save_model(path(type + ".bin"), *tiny_random_model(type, vocab_->size(), model_seed, 8.0f), *vocab_, *vocab_);
    model_ = std::make_unique<LoadedModel>(load_model(path(types.at(0) + ".bin")));
  }
  // A second vocabulary, other.spm (30 pieces on other text), for the refusals of members
  // whose vocabularies differ.
  static Vocab train_other_vocab() {
    write("other.txt", join_lines(make_text(300, 99)));
    VocabTrainOptions vo;
    vo.inputs = {path("other.txt")};
    vo.model_path = path("other.spm");
    vo.vocab_size = 30;
    train_vocab(vo);
    return Vocab::load(path("other.spm"));
  }
  static void TearDownTestSuite() {
    model_.reset();
    vocab_.reset();
    close_dir();
  }

  static std::string model_arg(const std::string& type = "attention") {
    return "-m '" + path(type + ".bin") + "' --cpu-threads 1";
  }
  // Beam search of width k with a limit above every input of the tests.
  static TranslateOptions beam(int k) {
    TranslateOptions o;
    o.search.beam_size = k;
    o.max_input_length = 256;
    return o;
  }
  // In-process translations of `lines` by model_.
  static std::vector<Translation> expected(const std::vector<std::string>& lines, const TranslateOptions& o) {
    std::vector<std::vector<int32_t>> ids;
    for (const auto& l : lines) ids.push_back(model_->src_vocab->encode(l));
    return translate_ids(*model_->model, ids, o);
  }

  static inline std::unique_ptr<Vocab> vocab_;
  static inline std::unique_ptr<LoadedModel> model_;
};

// The first number of each line of nmt score's or nmt translate --n-best's output: a
// sentence's score, or F0 of an n-best line.
inline std::vector<double> first_scores(const std::string& out) {
  std::vector<double> v;
  const std::regex nbest(R"(^\d+ \|\|\| .* \|\|\| F0= (\S+) \|\|\| \S+$)");
  for (const auto& l : split_lines(out)) {
    std::smatch m;
    v.push_back(std::regex_match(l, m, nbest) ? std::stod(m[1]) : std::stod(l.substr(0, l.find(' '))));
  }
  return v;
}

}  // namespace nmt::testing
