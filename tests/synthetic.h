// Shared helpers of the training and CLI tests: synthetic parallel corpora (the sequence
// reversal task), reading and writing files (plain, gzip, lines), a temporary directory,
// running the built `nmt` binary, tiny random-weight models and random inputs for them,
// and scoring greedy translations of a trained model.
//
// The reversal task: a source line is 5-12 (or any range of) symbols written as words,
// "k d s b", its target the same symbols reversed, "b s d k". The symbols are single
// letters, so SentencePiece's unigram trainer (which `nmt train` runs when the --vocabs
// file does not exist) can make every symbol one piece "▁x": its vocabulary then holds
// 4 specials + 17 characters (▁ and the letters) + 16 pieces = 37 pieces, which is also
// the largest it accepts for this corpus (kReversalVocabSize).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/context.h"
#include "model/model.h"
#include "translate/translator.h"

namespace nmt::testing {

namespace fs = std::filesystem;

// The symbols of the reversal task (16 single letters, none of them a SentencePiece
// special) and the vocabulary size that makes each of them one piece.
inline const std::vector<std::string>& reversal_symbols() {
  static const std::vector<std::string> s = {"b", "c", "d", "f", "g", "h", "j", "k",
                                             "m", "n", "p", "q", "r", "s", "t", "v"};
  return s;
}
constexpr int kReversalVocabSize = 37;

struct ParallelText {
  std::vector<std::string> src, trg;
};

// n random pairs: sources of min_len..max_len symbols (uniform), targets reversed.
inline ParallelText reversal_pairs(int n, int min_len, int max_len, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const auto& sym = reversal_symbols();
  std::uniform_int_distribution<int> len(min_len, max_len);
  std::uniform_int_distribution<size_t> pick(0, sym.size() - 1);
  ParallelText p;
  for (int i = 0; i < n; ++i) {
    std::vector<std::string> words(len(rng));
    for (auto& w : words) w = sym[pick(rng)];
    std::string s, t;
    for (size_t k = 0; k < words.size(); ++k) {
      s += (k ? " " : "") + words[k];
      t += (k ? " " : "") + words[words.size() - 1 - k];
    }
    p.src.push_back(std::move(s));
    p.trg.push_back(std::move(t));
  }
  return p;
}

inline void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  for (const auto& l : lines) out << l << "\n";
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Writes `bytes` gzip-compressed (zlib's gzip writer: header, deflate stream, CRC).
inline void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) {
    ADD_FAILURE() << "cannot write " << path;
    return;
  }
  if (gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
    ADD_FAILURE() << "cannot write " << path;
  if (gzclose(f) != Z_OK) ADD_FAILURE() << "cannot write " << path;
}

// Every line of `text` without its "\n" ("a\nb\n" -> {"a", "b"}), and the reverse.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string l; std::getline(is, l);) lines.push_back(l);
  return lines;
}
inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "nmt_test") {
    std::string tmpl = (fs::temp_directory_path() / (prefix + "_XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl;
    dir_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

struct RunResult {
  int code = -1;  // exit code; -1 when the process did not exit normally
  std::string out, err;
};

// Runs `nmt ARGS` through the shell, capturing stdout and stderr into files of `dir`.
inline RunResult run_nmt(const TempDir& dir, const std::string& args) {
  const std::string cmd = std::string("'") + NMT_BINARY + "' " + args + " >'" + dir.path("run.stdout") + "' 2>'" +
                          dir.path("run.stderr") + "'";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(dir.path("run.stdout"));
  r.err = slurp(dir.path("run.stderr"));
  return r;
}

inline bool contains_text(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::vector<std::string> split_words(const std::string& s) {
  std::istringstream is(s);
  std::vector<std::string> w;
  for (std::string x; is >> x;) w.push_back(x);
  return w;
}

struct Accuracy {
  double exact = 0;   // fraction of sentences translated exactly
  double tokens = 0;  // fraction of reference positions with the right symbol (hypothesis
                      // positions beyond the reference count as neither)
};

inline Accuracy accuracy(const std::vector<std::string>& hyps, const std::vector<std::string>& refs) {
  EXPECT_EQ(hyps.size(), refs.size());
  int64_t exact = 0, right = 0, total = 0;
  for (size_t i = 0; i < hyps.size() && i < refs.size(); ++i) {
    const auto h = split_words(hyps[i]), r = split_words(refs[i]);
    exact += h == r;
    for (size_t k = 0; k < r.size(); ++k) right += k < h.size() && h[k] == r[k];
    total += static_cast<int64_t>(std::max(r.size(), h.size()));
  }
  Accuracy a;
  a.exact = refs.empty() ? 0 : static_cast<double>(exact) / static_cast<double>(refs.size());
  a.tokens = total ? static_cast<double>(right) / static_cast<double>(total) : 0;
  return a;
}

// A tiny model of preset `type` (8-wide embeddings, states and attention; no dropout) with
// random weights scaled by `scale`, so that its output distributions are peaked (small
// random weights give near-uniform ones, where search results hinge on rounding, and one
// repeated piece up to the length limit).
inline std::unique_ptr<Model> tiny_random_model(const std::string& type, int64_t vocab_size, uint64_t seed, float scale,
                                                const std::string& cell = "") {
  ModelConfig c = ModelConfig::preset(type);
  c.dim_emb = 8;
  c.dim_rnn = 8;
  c.dim_att = 8;
  c.dropout = 0;
  if (!cell.empty()) c.cell = cell;
  c.src_vocab_size = c.trg_vocab_size = vocab_size;
  auto m = std::make_unique<Model>(c, seed);
  for (int64_t i = 0; i < m->params().size(); ++i) m->params().values()[i] *= scale;
  return m;
}

// Piece ids (4..vocab_size-1: no specials, no </s>) of the given lengths, deterministic.
inline std::vector<std::vector<int32_t>> random_ids(const std::vector<int>& lengths, int64_t vocab_size,
                                                    uint32_t seed) {
  std::vector<std::vector<int32_t>> out;
  uint32_t x = seed;
  for (int len : lengths) {
    std::vector<int32_t> s;
    for (int i = 0; i < len; ++i) {
      x = x * 1664525u + 1013904223u;
      s.push_back(4 + static_cast<int32_t>((x >> 16) % (vocab_size - 4)));
    }
    out.push_back(s);
  }
  return out;
}

// One thread for tests of tiny models, which gain nothing from more: on a loaded machine
// OpenMP's spinning barriers make every op orders of magnitude slower. Register it in a
// test file with ::testing::AddGlobalTestEnvironment(new OneThreadEnvironment).
class OneThreadEnvironment : public ::testing::Environment {
  void SetUp() override { Context::get().set_threads(1); }
};

// Greedy translations of `src` by the model file at `model_path` (C++ API).
inline std::vector<std::string> translate_greedy(const std::string& model_path, const std::vector<std::string>& src) {
  LoadedModel m = load_model(model_path);
  TranslateOptions opt;
  opt.search.beam_size = 1;
  opt.search.normalize = 0;
  return translate_lines(*m.model, *m.src_vocab, *m.trg_vocab, src, opt);
}

}  // namespace nmt::testing
