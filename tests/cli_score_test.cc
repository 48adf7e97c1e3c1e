// Runs the built `nmt score` (NMT_BINARY) end to end with a tiny random-weight model
// saved here: output format and values (against score_ids and against the scores beam
// search gives its own outputs), empty lines, batching, and errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/context.h"
#include "model/model.h"
#include "tokenization/vocab.h"
#include "translate/score.h"
#include "translate/translator.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string l; std::getline(is, l);) lines.push_back(l);
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct Result {
  int code;
  std::string out, err;
};

std::vector<std::string> make_text(int lines, uint32_t seed) {
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

const std::vector<std::string> kSrc = {"ka lo", "", "mi ne su ta ro", "vi", "kalo mine", "ta ta ta su", "lo"};
const std::vector<std::string> kTrg = {"lo ka", "ne", "", "vivi su", "minekalo ro ro", "su", "lo lo lo lo"};

class CliScoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Context::get().set_threads(1);
    std::string tmpl = (fs::temp_directory_path() / "nmt_cli_score_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = new fs::path(tmpl);
    write("corpus.txt", join_lines(make_text(300, 3)));
    VocabTrainOptions vo;
    vo.inputs = {path("corpus.txt")};
    vo.model_path = path("vocab.spm");
    vo.vocab_size = 24;
    train_vocab(vo);
    const Vocab vocab = Vocab::load(path("vocab.spm"));
    ModelConfig c = ModelConfig::preset("attention");
    c.dim_emb = 8;
    c.dim_rnn = 8;
    c.dim_att = 8;
    c.src_vocab_size = c.trg_vocab_size = vocab.size();
    Model m(c, 4);
    for (int64_t i = 0; i < m.params().size(); ++i) m.params().values()[i] *= 8.0f;
    save_model(path("model.bin"), m, vocab, vocab);
    model_ = new LoadedModel(load_model(path("model.bin")));
    write("src.txt", join_lines(kSrc));
    write("trg.txt", join_lines(kTrg));
    const std::string gz = join_lines(kTrg);
    gzFile f = gzopen(path("trg.txt.gz").c_str(), "wb");
    gzwrite(f, gz.data(), static_cast<unsigned>(gz.size()));
    gzclose(f);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
    delete model_;
  }

  static std::string path(const std::string& name) { return (*dir_ / name).string(); }
  static void write(const std::string& name, const std::string& bytes) {
    std::ofstream(path(name), std::ios::binary) << bytes;
  }
  static Result nmt(const std::string& args) {
    const std::string cmd = std::string("'") + NMT_BINARY + "' " + args + " >'" + path("stdout") + "' 2>'" +
                            path("stderr") + "'";
    const int status = std::system(cmd.c_str());
    EXPECT_TRUE(WIFEXITED(status)) << cmd;
    return {WEXITSTATUS(status), slurp(path("stdout")), slurp(path("stderr"))};
  }
  static std::string model_arg() { return "-m '" + path("model.bin") + "' --cpu-threads 1"; }
  static std::vector<std::pair<double, double>> parse(const std::string& out) {
    std::vector<std::pair<double, double>> v;
    const std::regex re(R"(^(-?\d+\.\d{4}) (-?\d+\.\d{4})$)");
    for (const auto& l : split_lines(out)) {
      std::smatch m;
      EXPECT_TRUE(std::regex_match(l, m, re)) << "'" << l << "'";
      if (m.size() == 3) v.emplace_back(std::stod(m[1]), std::stod(m[2]));
    }
    return v;
  }

  static fs::path* dir_;
  static LoadedModel* model_;
};
fs::path* CliScoreTest::dir_ = nullptr;
LoadedModel* CliScoreTest::model_ = nullptr;

TEST_F(CliScoreTest, PrintsTotalAndAverageLogProbPerLine) {
  const Result r = nmt("score " + model_arg() + " -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto got = parse(r.out);
  ASSERT_EQ(got.size(), kSrc.size());
  std::vector<std::vector<int32_t>> s, t;
  for (size_t i = 0; i < kSrc.size(); ++i) {
    s.push_back(model_->src_vocab->encode(kSrc[i]));
    t.push_back(model_->trg_vocab->encode(kTrg[i]));
  }
  const auto want = score_ids(*model_->model, s, t, ScoreOptions{});
  for (size_t i = 0; i < kSrc.size(); ++i) {
    EXPECT_NEAR(got[i].first, want[i].log_prob, 1e-3) << "line " << i;
    EXPECT_NEAR(got[i].second, want[i].log_prob / (t[i].size() + 1), 1e-3) << "line " << i;
    EXPECT_LT(got[i].first, 0) << "line " << i;
  }
  // Sentence by sentence (--mini-batch 1), a gzip target and an output file give the same.
  const Result one = nmt("score " + model_arg() + " --mini-batch 1 -t '" + path("src.txt") + "' '" +
                         path("trg.txt.gz") + "' -o '" + path("scores.txt") + "'");
  ASSERT_EQ(one.code, 0) << one.err;
  EXPECT_EQ(one.out, "");
  EXPECT_EQ(slurp(path("scores.txt")), r.out);
  // The source may come from stdin.
  const Result piped = nmt("score " + model_arg() + " -t - '" + path("trg.txt") + "' < '" + path("src.txt") + "'");
  ASSERT_EQ(piped.code, 0) << piped.err;
  EXPECT_EQ(piped.out, r.out);
}

TEST_F(CliScoreTest, AgreesWithTheScoresOfSearch) {
  // Translate with nmt translate --n-best, then score the outputs with nmt score.
  const std::vector<std::string> src = make_text(12, 77);
  write("s.txt", join_lines(src));
  const Result tr = nmt("translate " + model_arg() + " -b 3 --n-best --n-best-size 1 -i '" + path("s.txt") + "'");
  ASSERT_EQ(tr.code, 0) << tr.err;
  const auto nbest = split_lines(tr.out);
  ASSERT_EQ(nbest.size(), src.size());
  std::vector<std::string> hyps;
  std::vector<double> f0;
  const std::regex re(R"(^\d+ \|\|\| (.*) \|\|\| F0= (\S+) \|\|\| \S+$)");
  for (const auto& l : nbest) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(l, m, re)) << l;
    hyps.push_back(m[1]);
    f0.push_back(std::stod(m[2]));
  }
  write("h.txt", join_lines(hyps));
  const Result sc = nmt("score " + model_arg() + " -t '" + path("s.txt") + "' '" + path("h.txt") + "'");
  ASSERT_EQ(sc.code, 0) << sc.err;
  const auto got = parse(sc.out);
  ASSERT_EQ(got.size(), src.size());
  // In-process: which outputs survive decode -> encode unchanged.
  TranslateOptions o;
  o.search.beam_size = 3;
  o.max_input_length = 256;
  std::vector<std::vector<int32_t>> ids;
  for (const auto& l : src) ids.push_back(model_->src_vocab->encode(l));
  const auto t = translate_ids(*model_->model, ids, o);
  for (size_t i = 0; i < src.size(); ++i) {
    const auto& h = t[i].hypotheses[0];
    ASSERT_EQ(model_->trg_vocab->decode(h.tokens), hyps[i]);
    // The printed F0 is the forced-decoding score of the hypothesis' own pieces...
    const auto forced = score_ids(*model_->model, {ids[i]}, {h.tokens}, ScoreOptions{})[0];
    EXPECT_NEAR(f0[i], forced.log_prob, 1e-3 * std::max(1.0, std::abs(f0[i]))) << "line " << i;
    // ... and what nmt score prints for its text, when the text encodes back to those
    // pieces (random models often emit piece sequences that do not).
    if (model_->trg_vocab->encode(hyps[i]) == h.tokens) {
      EXPECT_NEAR(got[i].first, f0[i], 1e-3 * std::max(1.0, std::abs(f0[i]))) << "line " << i << ": " << hyps[i];
    }
  }
}

TEST_F(CliScoreTest, Errors) {
  write("short.txt", "ka\nlo\n");
  const Result mismatch = nmt("score " + model_arg() + " -t '" + path("src.txt") + "' '" + path("short.txt") + "'");
  EXPECT_EQ(mismatch.code, 1);
  EXPECT_TRUE(contains(mismatch.err, path("src.txt"))) << mismatch.err;
  EXPECT_TRUE(contains(mismatch.err, path("short.txt"))) << mismatch.err;
  EXPECT_TRUE(contains(mismatch.err, "7 lines")) << mismatch.err;
  EXPECT_EQ(mismatch.out, "");

  const Result missing = nmt("score -m '" + path("nope.bin") + "' -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(contains(missing.err, path("nope.bin"))) << missing.err;

  std::string bytes = slurp(path("model.bin"));
  bytes[bytes.size() / 3] ^= 0x01;
  write("corrupt.bin", bytes);
  const Result corrupt = nmt("score -m '" + path("corrupt.bin") + "' -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_TRUE(contains(corrupt.err, path("corrupt.bin"))) << corrupt.err;

  const Result no_model = nmt("score -t '" + path("src.txt") + "' '" + path("trg.txt") + "'");
  EXPECT_EQ(no_model.code, 2);
  const Result one_file = nmt("score " + model_arg() + " -t '" + path("src.txt") + "'");
  EXPECT_EQ(one_file.code, 2);
  EXPECT_TRUE(contains(one_file.err, "two files")) << one_file.err;
  const Result missing_text = nmt("score " + model_arg() + " -t '" + path("src.txt") + "' '" + path("nope.txt") + "'");
  EXPECT_EQ(missing_text.code, 1);
  EXPECT_TRUE(contains(missing_text.err, path("nope.txt"))) << missing_text.err;
}

}  // namespace
}  // namespace nmt
