// Runs the built `nmt translate` (NMT_BINARY) end to end with tiny random-weight models
// saved here: line order and empty lines (stdin, plain file, gzip file, small batches),
// truncation of overlong inputs, n-best and alignment formats, streaming from a pipe,
// errors, and a save/load round trip (CLI output = in-process translation).
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "io/model_file.h"
#include "translate/shortlist.h"
#include "translate/translator.h"

namespace nmt {
namespace {

using testing::contains_text;
using testing::join_lines;
using Result = testing::RunResult;
using testing::slurp;
using testing::split_lines;

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t pos; (pos = s.find(sep, start)) != std::string::npos; start = pos + sep.size())
    out.push_back(s.substr(start, pos - start));
  out.push_back(s.substr(start));
  return out;
}

// The input used by most tests: empty lines first, in the middle and last; a blank line.
const std::vector<std::string> kInput = {
    "", "ka lo", "mi ne su ta ro", "", "vi", "   ", "kalo mine sutaro vi ka", "lo", "ta ta ta", ""};

class CliTranslateTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    set_up_models("nmt_cli_translate", 7, {"attention", "bottleneck"}, 5);
    write("in.txt", join_lines(kInput));
    write_gz("in.txt.gz", join_lines(kInput));
  }
};

TEST_F(CliTranslateTest, LinesStayInOrderWithEmptyLines) {
  const Result stdin_run = nmt("translate " + model_arg() + " < '" + path("in.txt") + "'");
  ASSERT_EQ(stdin_run.code, 0) << stdin_run.err;
  const auto out = split_lines(stdin_run.out);
  ASSERT_EQ(out.size(), kInput.size()) << stdin_run.out;
  const auto want = expected(kInput, beam(5));
  for (size_t i = 0; i < kInput.size(); ++i) {
    const bool empty_in = vocab_->encode(kInput[i]).empty();
    EXPECT_EQ(out[i].empty(), empty_in) << "line " << i << ": '" << out[i] << "'";
    EXPECT_EQ(out[i],
              vocab_->decode(want[i].hypotheses.empty() ? std::vector<int32_t>{} : want[i].hypotheses[0].tokens))
        << "line " << i;
  }
  // The same through a file, a gzip file, an output file, and tiny mini/maxi-batches.
  for (const std::string& args :
       {"-i '" + path("in.txt") + "'", "-i '" + path("in.txt.gz") + "'",
        "-i '" + path("in.txt") + "' --mini-batch 2 --maxi-batch 3", "-i '" + path("in.txt.gz") + "' --maxi-batch 1",
        // Workers: several mini-batches of a group translated side by side, or one at a time.
        "-i '" + path("in.txt") + "' --mini-batch 1 --workers 2",
        "-i '" + path("in.txt") + "' --mini-batch 2 --workers 3",
        "-i '" + path("in.txt") + "' --mini-batch 1 --workers 1"}) {
    const Result r = nmt("translate " + model_arg() + " " + args);
    ASSERT_EQ(r.code, 0) << args << ": " << r.err;
    EXPECT_EQ(r.out, stdin_run.out) << args;
  }
  const Result to_file = nmt("translate " + model_arg() + " -i '" + path("in.txt") + "' -o '" + path("out.txt") + "'");
  ASSERT_EQ(to_file.code, 0) << to_file.err;
  EXPECT_EQ(to_file.out, "");
  EXPECT_EQ(slurp(path("out.txt")), stdin_run.out);
  // Greedy search differs from beam search in general, but keeps the lines too.
  const Result greedy = nmt("translate " + model_arg() + " -b 1 -i '" + path("in.txt") + "'");
  ASSERT_EQ(greedy.code, 0) << greedy.err;
  const auto want1 = expected(kInput, beam(1));
  const auto g = split_lines(greedy.out);
  ASSERT_EQ(g.size(), kInput.size());
  for (size_t i = 0; i < kInput.size(); ++i)
    EXPECT_EQ(g[i], want1[i].hypotheses.empty() ? "" : vocab_->decode(want1[i].hypotheses[0].tokens));
}

TEST_F(CliTranslateTest, Int8KeepsLinesAndEqualsTheLibrary) {
  for (const std::string type : {"attention", "bottleneck"}) {
    const Result r = nmt("translate " + model_arg(type) + " --gemm-type int8 -b 3 -i '" + path("in.txt") + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto out = split_lines(r.out);
    ASSERT_EQ(out.size(), kInput.size()) << r.out;
    const LoadedModel m = load_model(path(type + ".bin"));
    std::vector<std::vector<int32_t>> src;
    for (const auto& l : kInput) src.push_back(m.src_vocab->encode(l));
    TranslateOptions o = beam(3);
    o.int8 = true;
    const auto want = translate_ids(*m.model, src, o);
    for (size_t i = 0; i < kInput.size(); ++i)
      EXPECT_EQ(out[i], want[i].hypotheses.empty() ? "" : vocab_->decode(want[i].hypotheses[0].tokens))
          << type << " line " << i;
  }
}

// nmt shortlist from a corpus with the model's vocabularies, then nmt translate --shortlist:
// the lines stay in place and equal the library's translation with that shortlist.
TEST_F(CliTranslateTest, ShortlistBuiltAndUsed) {
  const std::string corpus = "'" + path("corpus.txt") + "'";
  const Result made = nmt("shortlist -t " + corpus + " " + corpus + " -m '" + path("attention.bin") + "' -o '" +
                          path("lex.txt") + "' --first 3 --best 2");
  ASSERT_EQ(made.code, 0) << made.err;
  const Shortlist list = Shortlist::load_for(path("lex.txt"), vocab_->size(), vocab_->size());
  EXPECT_EQ(list.first().size(), 3u);
  for (const std::string gemm : {"float32", "int8"}) {
    const Result r = nmt("translate " + model_arg() + " -b 3 --gemm-type " + gemm + " --shortlist '" + path("lex.txt") +
                         "' -i '" + path("in.txt") + "'");
    ASSERT_EQ(r.code, 0) << r.err;
    const auto out = split_lines(r.out);
    ASSERT_EQ(out.size(), kInput.size()) << r.out;
    TranslateOptions o = beam(3);
    o.int8 = gemm == "int8";
    o.search.shortlist = &list;
    const auto want = expected(kInput, o);
    for (size_t i = 0; i < kInput.size(); ++i)
      EXPECT_EQ(out[i], want[i].hypotheses.empty() ? "" : vocab_->decode(want[i].hypotheses[0].tokens))
          << gemm << " line " << i;
  }
  // A shortlist made for other vocabularies, a malformed one, and a command without vocabularies.
  write("other.txt", "nmt-shortlist 1 50 50\nfirst 4\n");
  const Result other =
      nmt("translate " + model_arg() + " --shortlist '" + path("other.txt") + "' < '" + path("in.txt") + "'");
  EXPECT_NE(other.code, 0);
  EXPECT_TRUE(contains_text(other.err, "a shortlist for vocabularies of 50 and 50 pieces")) << other.err;
  write("bad.txt", "nmt-shortlist 1 24 24\nfirst 4 99\n");
  const Result bad =
      nmt("translate " + model_arg() + " --shortlist '" + path("bad.txt") + "' < '" + path("in.txt") + "'");
  EXPECT_NE(bad.code, 0);
  EXPECT_TRUE(contains_text(bad.err, "bad.txt:2: '99' is not an id in [0, 24)")) << bad.err;
  const Result no_vocab = nmt("shortlist -t " + corpus + " " + corpus + " -o '" + path("x.txt") + "'");
  EXPECT_NE(no_vocab.code, 0);
  EXPECT_TRUE(contains_text(no_vocab.err, "give either -m MODEL or --vocabs")) << no_vocab.err;
}

TEST_F(CliTranslateTest, OverlongInputIsCutNotShifted) {
  const std::vector<std::string> input = {"ka", "kalo minesu tarovi kalo minesu tarovi kalo minesu", "", "lo mi"};
  ASSERT_GT(vocab_->encode(input[1]).size(), 6u);
  write("long.txt", join_lines(input));
  const Result r = nmt("translate " + model_arg() + " --max-input-length 6 -i '" + path("long.txt") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("long.txt") + ":2:")) << r.err;
  EXPECT_TRUE(contains_text(r.err, "warning")) << r.err;
  EXPECT_FALSE(contains_text(r.err, ":1:")) << r.err;
  const auto out = split_lines(r.out);
  ASSERT_EQ(out.size(), input.size());
  TranslateOptions o = beam(5);
  o.max_input_length = 6;
  const auto want = expected(input, o);
  EXPECT_TRUE(want[1].truncated);
  for (size_t i = 0; i < input.size(); ++i)
    EXPECT_EQ(out[i], want[i].hypotheses.empty() ? "" : vocab_->decode(want[i].hypotheses[0].tokens)) << i;
  EXPECT_EQ(out[2], "");
}

TEST_F(CliTranslateTest, NBestFormatAndCount) {
  const Result best = nmt("translate " + model_arg() + " -b 4 -i '" + path("in.txt") + "'");
  ASSERT_EQ(best.code, 0) << best.err;
  const auto best_lines = split_lines(best.out);
  const Result r = nmt("translate " + model_arg() + " -b 4 --n-best -i '" + path("in.txt") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::regex line_re(R"(^(\d+) \|\|\| (.*) \|\|\| F0= (\S+) \|\|\| (\S+)$)");
  const auto lines = split_lines(r.out);
  size_t at = 0;
  for (size_t id = 0; id < kInput.size(); ++id) {
    const size_t want = vocab_->encode(kInput[id]).empty() ? 1 : 4;
    float prev = INFINITY;
    for (size_t k = 0; k < want; ++k, ++at) {
      ASSERT_LT(at, lines.size());
      std::smatch m;
      ASSERT_TRUE(std::regex_match(lines[at], m, line_re)) << lines[at];
      EXPECT_EQ(std::stoul(m[1]), id) << lines[at];
      const float score = std::stof(m[3]), norm = std::stof(m[4]);
      if (want == 1 && k == 0 && vocab_->encode(kInput[id]).empty()) {
        EXPECT_EQ(m[2].str(), "");
        continue;
      }
      EXPECT_LT(score, 0.0f);
      EXPECT_LE(norm, prev) << "n-best lists are sorted by normalized score";
      prev = norm;
      if (k == 0) {
        EXPECT_EQ(m[2].str(), best_lines[id]) << "the first n-best entry is the translation";
      }
    }
  }
  EXPECT_EQ(at, lines.size()) << "no extra lines";
  // The scores are those of in-process beam search.
  TranslateOptions o = beam(4);
  o.search.n_best = 4;
  const auto want = expected(kInput, o);
  at = 0;
  for (size_t id = 0; id < kInput.size(); ++id) {
    if (want[id].hypotheses.empty()) {
      ++at;
      continue;
    }
    for (const Hypothesis& h : want[id].hypotheses) {
      const auto fields = split(lines[at++], " ||| ");
      ASSERT_EQ(fields.size(), 4u);
      EXPECT_EQ(fields[1], vocab_->decode(h.tokens));
      EXPECT_NEAR(std::stof(fields[2].substr(4)), h.score, 1e-3 * std::max(1.0f, std::abs(h.score)));
      EXPECT_NEAR(std::stof(fields[3]), h.normalized_score, 1e-3 * std::max(1.0f, std::abs(h.normalized_score)));
    }
  }
  // --n-best-size cuts the lists; above the beam size it is a usage error.
  const Result two = nmt("translate " + model_arg() + " -b 4 --n-best --n-best-size 2 -i '" + path("in.txt") + "'");
  ASSERT_EQ(two.code, 0) << two.err;
  size_t non_empty = 0;
  for (const auto& l : kInput) non_empty += vocab_->encode(l).empty() ? 0 : 1;
  EXPECT_EQ(split_lines(two.out).size(), 2 * non_empty + (kInput.size() - non_empty));
  const Result too_many =
      nmt("translate " + model_arg() + " -b 2 --n-best --n-best-size 3 -i '" + path("in.txt") + "'");
  EXPECT_EQ(too_many.code, 2);
  EXPECT_TRUE(contains_text(too_many.err, "n-best-size must be in [1, beam-size], got 3 with beam-size 2"))
      << too_many.err;
}

// Parses "w,w,w w,w,w" into rows.
std::vector<std::vector<float>> parse_soft(const std::string& s) {
  std::vector<std::vector<float>> rows;
  for (const auto& row : split(s, " ")) {
    rows.emplace_back();
    for (const auto& w : split(row, ",")) rows.back().push_back(std::stof(w));
  }
  return rows;
}

TEST_F(CliTranslateTest, AlignmentFormats) {
  const Result soft = nmt("translate " + model_arg() + " -b 3 --alignment soft -i '" + path("in.txt") + "'");
  ASSERT_EQ(soft.code, 0) << soft.err;
  const Result hard = nmt("translate " + model_arg() + " -b 3 --alignment hard -i '" + path("in.txt") + "'");
  ASSERT_EQ(hard.code, 0) << hard.err;
  const Result plain = nmt("translate " + model_arg() + " -b 3 -i '" + path("in.txt") + "'");
  const auto soft_lines = split_lines(soft.out), hard_lines = split_lines(hard.out),
             plain_lines = split_lines(plain.out);
  ASSERT_EQ(soft_lines.size(), kInput.size());
  ASSERT_EQ(hard_lines.size(), kInput.size());
  TranslateOptions o = beam(3);
  const auto want = expected(kInput, o);
  const std::regex pair_re(R"(^(\d+)-(\d+)$)");
  for (size_t i = 0; i < kInput.size(); ++i) {
    const auto sf = split(soft_lines[i], " ||| "), hf = split(hard_lines[i], " ||| ");
    ASSERT_EQ(sf.size(), 2u) << soft_lines[i];
    ASSERT_EQ(hf.size(), 2u) << hard_lines[i];
    EXPECT_EQ(sf[0], plain_lines[i]);
    EXPECT_EQ(hf[0], plain_lines[i]);
    if (want[i].hypotheses.empty()) {
      EXPECT_EQ(sf[1], "");
      EXPECT_EQ(hf[1], "");
      continue;
    }
    const size_t src_len = vocab_->encode(kInput[i]).size() + 1, trg_len = want[i].hypotheses[0].tokens.size() + 1;
    const auto rows = parse_soft(sf[1]);
    ASSERT_EQ(rows.size(), trg_len) << "one row per target piece and </s>: " << sf[1];
    std::vector<std::pair<size_t, size_t>> expect_pairs;
    for (size_t t = 0; t < rows.size(); ++t) {
      ASSERT_EQ(rows[t].size(), src_len) << "one weight per source piece and </s>";
      float sum = 0;
      for (float w : rows[t]) sum += w;
      EXPECT_NEAR(sum, 1.0f, 1e-4) << "line " << i << " row " << t;
      expect_pairs.emplace_back(std::max_element(rows[t].begin(), rows[t].end()) - rows[t].begin(), t);
    }
    std::sort(expect_pairs.begin(), expect_pairs.end());
    std::string expect_hard;
    for (const auto& [s, t] : expect_pairs)
      expect_hard += (expect_hard.empty() ? "" : " ") + std::to_string(s) + "-" + std::to_string(t);
    EXPECT_EQ(hf[1], expect_hard) << "hard = argmax of soft, sorted by source position";
    for (const auto& p : split(hf[1], " ")) EXPECT_TRUE(std::regex_match(p, pair_re)) << p;
  }
  // With n-best lists the alignment comes after the text, as in Marian.
  const Result nb = nmt("translate " + model_arg() + " -b 2 --n-best --alignment hard -i '" + path("in.txt") + "'");
  ASSERT_EQ(nb.code, 0) << nb.err;
  const std::regex nb_re(R"(^\d+ \|\|\| .* \|\|\| (\d+-\d+( \d+-\d+)*)? \|\|\| F0= \S+ \|\|\| \S+$)");
  for (const auto& l : split_lines(nb.out)) EXPECT_TRUE(std::regex_match(l, nb_re)) << l;
}

TEST_F(CliTranslateTest, BottleneckHasNoAlignments) {
  const Result r = nmt("translate " + model_arg("bottleneck") + " --alignment soft -i '" + path("in.txt") + "'");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains_text(r.err, "bottleneck")) << r.err;
  EXPECT_TRUE(contains_text(r.err, "no attention")) << r.err;
  EXPECT_EQ(r.out, "");
  // Without --alignment it translates.
  const Result ok = nmt("translate " + model_arg("bottleneck") + " -i '" + path("in.txt") + "'");
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(split_lines(ok.out).size(), kInput.size());
}

TEST_F(CliTranslateTest, BadInputs) {
  const Result missing = nmt("translate -m '" + path("nope.bin") + "' -i '" + path("in.txt") + "'");
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(contains_text(missing.err, path("nope.bin"))) << missing.err;

  std::string bytes = slurp(path("attention.bin"));
  bytes[bytes.size() / 2] ^= 0x5a;
  write("corrupt.bin", bytes);
  const Result corrupt = nmt("translate -m '" + path("corrupt.bin") + "' -i '" + path("in.txt") + "'");
  EXPECT_EQ(corrupt.code, 1);
  EXPECT_TRUE(contains_text(corrupt.err, path("corrupt.bin"))) << corrupt.err;
  EXPECT_EQ(corrupt.out, "");

  // A configuration in a model file that breaks a rule is bad input (exit 1) naming the
  // file, not a bad command line, though the same value given as an option would be.
  ModelFile odd = load_model_file(path("attention.bin"));
  odd.config["dim-rnn"] = "15";
  save_model_file(path("odd.bin"), odd);
  const Result odd_config = nmt("translate -m '" + path("odd.bin") + "' -i '" + path("in.txt") + "'");
  EXPECT_EQ(odd_config.code, 1);
  EXPECT_TRUE(contains_text(odd_config.err, path("odd.bin") + ": model configuration: dim-rnn must be even"))
      << odd_config.err;

  const Result no_model = nmt("translate -i '" + path("in.txt") + "'");
  EXPECT_EQ(no_model.code, 2);
  EXPECT_TRUE(contains_text(no_model.err, "model")) << no_model.err;

  const Result no_input = nmt("translate " + model_arg() + " -i '" + path("nope.txt") + "'");
  EXPECT_EQ(no_input.code, 1);
  EXPECT_TRUE(contains_text(no_input.err, path("nope.txt"))) << no_input.err;

  for (const char* bad : {"--alignment maybe", "-b 0", "--mini-batch 0", "--normalize -1", "--bogus",
                          "--gemm-type int4", "--workers -1"}) {
    const Result r = nmt("translate " + model_arg() + " " + std::string(bad) + " -i '" + path("in.txt") + "'");
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
  }
}

TEST_F(CliTranslateTest, SaveLoadRoundTrip) {
  // A fresh random model: translate in-process, save, translate the file with the CLI.
  const auto model = testing::tiny_random_model("attention", vocab_->size(), 99, 8.0f, "gru");
  Model& m = *model;
  const std::vector<std::string> input = {"ka lo mi", "", "ne su", "vivi tata"};
  TranslateOptions o;
  o.search.beam_size = 2;
  const auto before = translate_lines(m, *vocab_, *vocab_, input, o);
  save_model(path("roundtrip.bin"), m, *vocab_, *vocab_);
  write("roundtrip.txt", join_lines(input));
  const Result r =
      nmt("translate -m '" + path("roundtrip.bin") + "' --cpu-threads 1 -b 2 -i '" + path("roundtrip.txt") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(split_lines(r.out), before);
  LoadedModel loaded = load_model(path("roundtrip.bin"));
  EXPECT_EQ(translate_lines(*loaded.model, *loaded.src_vocab, *loaded.trg_vocab, input, o), before);
}

TEST_F(CliTranslateTest, StdinIsAnsweredGroupByGroup) {
  // nmt translate --maxi-batch 1 reading a pipe must answer line 1 before line 2 is sent.
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  const std::string err_path = path("stream.err");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::dup2(from_child[1], STDOUT_FILENO);
    if (FILE* err = std::fopen(err_path.c_str(), "w")) ::dup2(fileno(err), STDERR_FILENO);
    ::close(to_child[1]);
    ::close(from_child[0]);
    const std::string model = path("attention.bin");
    ::execl(NMT_BINARY, NMT_BINARY, "translate", "-m", model.c_str(), "--cpu-threads", "1", "--maxi-batch", "1",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  auto read_line = [&](std::string& line) {
    line.clear();
    for (char ch;;) {
      pollfd p{from_child[0], POLLIN, 0};
      if (::poll(&p, 1, 60000) <= 0) return false;  // no answer within a minute
      if (::read(from_child[0], &ch, 1) != 1) return false;
      if (ch == '\n') return true;
      line += ch;
    }
  };
  const auto want = expected({"ka lo", "mi ne"}, beam(5));
  std::string line;
  ASSERT_EQ(::write(to_child[1], "ka lo\n", 6), 6);
  ASSERT_TRUE(read_line(line)) << "no output for the first line while stdin is still open: " << slurp(err_path);
  EXPECT_EQ(line, vocab_->decode(want[0].hypotheses[0].tokens));
  ASSERT_EQ(::write(to_child[1], "mi ne\n", 6), 6);
  ASSERT_TRUE(read_line(line));
  EXPECT_EQ(line, vocab_->decode(want[1].hypotheses[0].tokens));
  ::close(to_child[1]);
  EXPECT_FALSE(read_line(line)) << "no more output after stdin closes";
  ::close(from_child[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(err_path);
}

}  // namespace
}  // namespace nmt
