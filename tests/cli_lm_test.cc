// Language models through the built binary (NMT_BINARY): nmt train --type lm|lm-transformer
// in sentence and stream mode, nmt score -i, nmt generate and nmt lm-probe, on generated
// syllable text (tests/cli_helpers.h) with tiny models trained for a few updates:
//  - the validation perplexity of the log equals what nmt score prints for the same text and
//    model (scoring equals the training loss), for both kinds and both modes;
//  - an interrupted stream-mode run resumes exactly, its carried state included;
//  - generate: the same seed gives the same lines, temperature 0 and top-k 1 are greedy, one
//    line per prompt and sample, --max-length;
//  - lm-probe: a tanh RNN with small weights shows a falling gradient norm;
//  - bad inputs and options: clear errors naming the file (and line), exit 1, or the option,
//    exit 2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "io/model_file.h"
#include "lm/language_model.h"

namespace nmt {
namespace {

using testing::contains_text;
using testing::join_lines;
using testing::make_text;
using testing::split_lines;
using Result = testing::RunResult;

class CliLmTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    set_up_models("nmt_cli_lm", 3, {"attention"}, 4);  // vocab.spm, and a translation model
    write("train.txt", join_lines(make_text(400, 11)));
    write("valid.txt", join_lines(make_text(60, 12)));
  }

  // `nmt train` of a tiny language model MODEL (a file name in the suite's directory).
  static Result train(const std::string& model, const std::string& extra) {
    return nmt("train -t '" + path("train.txt") + "' --valid-sets '" + path("valid.txt") + "' -v '" +
               path("vocab.spm") + "' -m '" + path(model) +
               "' --dim-emb 16 --dim-rnn 24 --transformer-heads 2 --transformer-dim-ffn 32 --cpu-threads 1 "
               "--mini-batch-words 300 --disp-freq 10u " +
               extra);
  }
  static std::string lm_arg(const std::string& model) { return "-m '" + path(model) + "' --cpu-threads 1"; }

  // The last "perplexity X" of a training log, or of nmt score's summary line.
  static double perplexity_in(const std::string& text) {
    const std::regex re(R"(perplexity (?:per piece )?([0-9.]+))");
    double last = -1;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
      last = std::stod((*it)[1]);
    return last;
  }
};

// The validation perplexity (the training code: fused output layer and loss, no dropout) of
// the trained model equals nmt score's (logits and log-softmax) on the same text.
TEST_F(CliLmTest, ScoringEqualsTheValidationLoss) {
  for (const std::string kind : {"--type lm --cell lstm", "--type lm --cell gru --lm-mode stream --bptt 9",
                                 "--type lm-transformer", "--type lm-transformer --lm-mode stream --bptt 9"}) {
    const Result t = train("score.bin", kind + " --after 30u --valid-freq 30u");
    ASSERT_EQ(t.code, 0) << t.err;
    const double valid = perplexity_in(t.err);
    ASSERT_GT(valid, 1.0) << t.err;
    const Result s = nmt("score " + lm_arg("score.bin") + " -i '" + path("valid.txt") + "'");
    ASSERT_EQ(s.code, 0) << s.err;
    EXPECT_EQ(split_lines(s.out).size(), 60u);
    EXPECT_NEAR(perplexity_in(s.err), valid, 2e-4 * valid) << kind << "\n" << s.err;
    EXPECT_TRUE(contains_text(s.err, "per word")) << s.err;
    std::filesystem::remove(path("score.bin.ckpt"));
  }
}

// Every float of two files' tensors agrees bit for bit.
void expect_same_tensors(const std::string& a_path, const std::string& b_path) {
  const ModelFile a = load_model_file(a_path), b = load_model_file(b_path);
  ASSERT_EQ(a.tensors.size(), b.tensors.size()) << a_path;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    ASSERT_EQ(a.tensors[i].first, b.tensors[i].first);
    const Tensor &x = a.tensors[i].second, &y = b.tensors[i].second;
    ASSERT_EQ(x.shape(), y.shape()) << a.tensors[i].first;
    EXPECT_EQ(std::memcmp(x.data(), y.data(), x.numel() * sizeof(float)), 0) << a.tensors[i].first;
  }
  for (const char* key : {"train.updates", "train.epoch", "train.batch", "train.validations"})
    EXPECT_EQ(a.config.count(key) ? a.config.at(key) : "", b.config.count(key) ? b.config.at(key) : "") << key;
  EXPECT_EQ(a.blobs.count("train.rng") ? a.blobs.at("train.rng") : "",
            b.blobs.count("train.rng") ? b.blobs.at("train.rng") : "");
}

// Interrupted in the middle of an epoch and run again, training continues as one
// uninterrupted run: the carried state (an LSTM's h and c) is in the checkpoint.
TEST_F(CliLmTest, StreamModeResumesExactly) {
  const std::string same = "--type lm --cell lstm --lm-mode stream --bptt 8 --dropout 0.3 --valid-freq 10u --seed 3";
  ASSERT_EQ(train("full.bin", same + " --after 25u").code, 0);
  const Result first = train("resumed.bin", same + " --after 13u");
  ASSERT_EQ(first.code, 0) << first.err;
  const ModelFile ckpt = load_model_file(path("resumed.bin.ckpt"));
  EXPECT_NE(ckpt.find_tensor("lm.carried.0"), nullptr);
  EXPECT_NE(ckpt.find_tensor("lm.carried.1"), nullptr);
  EXPECT_NE(ckpt.config.at("train.batch"), "0");  // stopped inside an epoch
  const Result second = train("resumed.bin", same + " --after 25u");
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_TRUE(contains_text(second.err, "resuming from")) << second.err;
  expect_same_tensors(path("full.bin"), path("resumed.bin"));
  expect_same_tensors(path("full.bin.ckpt"), path("resumed.bin.ckpt"));
  // Sentence mode (shuffled batches of lines), with smoothing and early stopping.
  const std::string sentences = "--type lm-transformer --valid-freq 5u --exponential-smoothing --early-stopping 3";
  ASSERT_EQ(train("full_s.bin", sentences + " --after 20u").code, 0);
  ASSERT_EQ(train("resumed_s.bin", sentences + " --after 9u").code, 0);
  ASSERT_EQ(train("resumed_s.bin", sentences + " --after 20u").code, 0);
  expect_same_tensors(path("full_s.bin"), path("resumed_s.bin"));
  expect_same_tensors(path("full_s.bin.ckpt"), path("resumed_s.bin.ckpt"));
}

class CliGenerateTest : public CliLmTest {
 protected:
  static void SetUpTestSuite() {
    CliLmTest::SetUpTestSuite();
    const Result r = train("gen.bin", "--type lm --after 40u");
    ASSERT_EQ(r.code, 0) << r.err;
    write("prompts.txt", "ka lo\n\nmi\n");
  }
  static Result generate(const std::string& extra) { return nmt("generate " + lm_arg("gen.bin") + " " + extra); }
};

TEST_F(CliGenerateTest, TheSameSeedGivesTheSameLines) {
  const std::string sampled = "-n 5 --sampling full --max-length 20";
  const Result a = generate(sampled + " --seed 7"), b = generate(sampled + " --seed 7"), c = generate(sampled);
  ASSERT_EQ(a.code, 0) << a.err;
  EXPECT_EQ(split_lines(a.out).size(), 5u);
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out) << "another seed, other samples";
  // A sample does not depend on how many others are drawn with it.
  const Result three = generate("-n 3 --sampling full --max-length 20 --seed 7");
  const auto five_lines = split_lines(a.out), three_lines = split_lines(three.out);
  ASSERT_EQ(three_lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(three_lines[i], five_lines[i]);
}

TEST_F(CliGenerateTest, TemperatureZeroAndTopOneAreGreedy) {
  const std::string in = " -i '" + path("prompts.txt") + "' -n 2 --max-length 15";
  const Result greedy = generate(in);
  ASSERT_EQ(greedy.code, 0) << greedy.err;
  const auto lines = split_lines(greedy.out);
  ASSERT_EQ(lines.size(), 6u);  // 3 prompts x 2 samples
  EXPECT_EQ(lines[0], lines[1]);
  EXPECT_EQ(lines[0].rfind("ka lo", 0), 0u) << lines[0];
  EXPECT_EQ(lines[4].rfind("mi", 0), 0u) << lines[4];
  for (const std::string other : {"--sampling full --temperature 0 --seed 3", "--sampling topk 1 --seed 4",
                                  "--sampling topp 0.9 --temperature 0"})
    EXPECT_EQ(generate(in + " " + other).out, greedy.out) << other;
}

TEST_F(CliGenerateTest, MaxLengthAndPieces) {
  const Result r = generate("--prompt 'ka lo' -n 4 --sampling topk 5 --max-length 3 --no-spm-decode");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto prompt = vocab_->pieces(vocab_->encode("ka lo"));
  for (const std::string& line : split_lines(r.out)) {
    const auto pieces = testing::split_words(line);
    EXPECT_LE(pieces.size(), prompt.size() + 3) << line;
    ASSERT_GE(pieces.size(), prompt.size());
    for (size_t i = 0; i < prompt.size(); ++i) EXPECT_EQ(pieces[i], prompt[i]);
  }
}

// A tanh RNN with small weights forgets: ||dJ(t)/dh(t-k)|| falls with k, geometrically.
TEST_F(CliLmTest, ProbeShowsTheGradientVanishingInASmallTanhRnn) {
  ModelConfig c = ModelConfig::preset("lm");
  c.cell = "rnn";
  c.dec_depth = 1;
  c.dim_emb = c.dim_rnn = 32;
  c.lm_mode = "stream";
  c.trg_vocab_size = vocab_->size();
  auto m = make_language_model(c, 5);
  for (int64_t i = 0; i < m->params().size(); ++i) m->params().values()[i] *= 0.5f;
  save_lm(path("tanh.bin"), *m, *vocab_);
  const Result r = nmt("lm-probe " + lm_arg("tanh.bin") + " -i '" + path("valid.txt") +
                       "' --max-distance 12 --context-lengths 1 4 --positions 200");
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<int, double> norm;
  int context_rows = 0;
  for (const std::string& line : split_lines(r.out)) {
    const auto f = testing::split_words(line);
    if (f.size() == 4 && f[0] == "gradient") {
      norm[std::stoi(f[1])] = std::stod(f[2]);
      EXPECT_GE(std::stoi(f[3]), 190) << line;  // all but the first positions of the text reach back k
    }
    context_rows += f.size() == 4 && f[0] == "context";
  }
  ASSERT_EQ(norm.size(), 13u) << r.out;
  EXPECT_EQ(context_rows, 3) << r.out;  // 1, 4 and the whole context
  for (int k = 1; k <= 12; ++k) EXPECT_LT(norm[k], 0.8 * norm[k - 1]) << "k " << k << "\n" << r.out;
  EXPECT_LT(norm[12], 1e-3 * norm[0]) << r.out;
}

TEST_F(CliLmTest, BadInputsAreClearErrors) {
  write("empty.txt", "");
  write("bad.txt", "ka lo\nmi \xC3\x28 ne\n");
  // Training on an empty or broken text.
  Result r = nmt("train --type lm -t '" + path("empty.txt") + "' -v '" + path("vocab.spm") + "' -m '" + path("e.bin") +
                 "' --cpu-threads 1");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("empty.txt") + ": the file is empty")) << r.err;
  r = nmt("train --type lm -t '" + path("bad.txt") + "' -v '" + path("new.spm") + "' -m '" + path("e.bin") +
          "' --cpu-threads 1");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("bad.txt") + ":2: invalid UTF-8")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(path("new.spm"))) << "nothing trained on bad input";
  ASSERT_EQ(train("lm.bin", "--type lm --after 2u").code, 0);
  // Scoring, generating from and probing with bad text.
  for (const std::string cmd : {"score", "generate", "lm-probe"}) {
    r = nmt(cmd + " " + lm_arg("lm.bin") + " -i '" + path("bad.txt") + "'");
    EXPECT_EQ(r.code, 1) << cmd << ": " << r.err;
    EXPECT_TRUE(contains_text(r.err, path("bad.txt") + ":2: invalid UTF-8")) << cmd << ": " << r.err;
    r = nmt(cmd + " " + lm_arg("lm.bin") + " -i '" + path("empty.txt") + "'");
    EXPECT_EQ(r.code, 1) << cmd << ": " << r.err;
    EXPECT_TRUE(contains_text(r.err, path("empty.txt") + ": the file is empty")) << cmd << ": " << r.err;
  }
  // A translation model where a language model is needed, and the other way round.
  for (const std::string& cmd : std::vector<std::string>{"generate", "lm-probe -i '" + path("valid.txt") + "'"}) {
    r = nmt(cmd + " " + lm_arg("attention.bin"));
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains_text(r.err, path("attention.bin") + " is a translation model (type attention), not a "
                                                             "language model"))
        << r.err;
  }
  r = nmt("score " + lm_arg("attention.bin") + " -i '" + path("valid.txt") + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains_text(r.err, "is a translation model: it scores --texts SRC TRG")) << r.err;
  // (A language model joins a translation model's ensemble, tests/cli_fusion_test.cc, but translates nothing alone.)
  r = nmt("translate " + lm_arg("lm.bin") + " -i '" + path("valid.txt") + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("lm.bin") + " is a language model (type lm): it reads no source")) << r.err;
  r = nmt("score " + lm_arg("lm.bin") + " -t '" + path("valid.txt") + "' '" + path("valid.txt") + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("lm.bin") + " is a language model (type lm): it reads no source")) << r.err;
}

TEST_F(CliLmTest, BadOptionsExitTwoNamingTheOption) {
  const std::string text = " -t '" + path("train.txt") + "' -v '" + path("vocab.spm") + "' -m '" + path("o.bin") + "'";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train --type lm -t '" + path("train.txt") + "' '" + path("valid.txt") + "' -v '" + path("vocab.spm") +
           "' -m '" + path("o.bin") + "'",
       "train-sets must be 1 file (the text) for a language model, got 2"},
      {"train --type lm" + text + " --valid-metrics bleu",
       "valid-metrics must be among ce, perplexity for a language model, got 'bleu'"},
      {"train --type lm" + text + " --lm-mode words", "lm-mode must be sentence or stream, got 'words'"},
      {"train --type lm" + text + " --bptt 0", "bptt must be >= 1, got 0"},
      {"train --type lm" + text + " --sentencepiece-alphas 0.1",
       "sentencepiece-alphas applies to translation models, got [0.1] for a language model"},
      {"train --type lm" + text + " --rdrop-alpha 1",
       "rdrop-alpha applies to translation models, got 1 for a language model"},
      {"train --type lm" + text + " --dec-type attention",
       "dec-type must be rnn or transformer with enc-type none (a language model), got 'attention'"},
      {"generate " + lm_arg("x.bin") + " --sampling topk",
       "sampling must be greedy, full, topk K or topp P, got 'topk'"},
      {"generate " + lm_arg("x.bin") + " --sampling topp 2", "sampling topp P must have P in (0, 1], got 2"},
      {"generate " + lm_arg("x.bin") + " --temperature -1", "temperature must be a finite number >= 0, got -1"},
      {"generate " + lm_arg("x.bin") + " -n 0", "samples must be >= 1, got 0"},
      {"generate " + lm_arg("x.bin") + " --prompt a -i '" + path("valid.txt") + "'", "--prompt TEXT or --input FILE"},
      {"lm-probe " + lm_arg("x.bin") + " -i x --max-distance -1", "max-distance must be >= 0, got -1"},
      {"lm-probe " + lm_arg("x.bin") + " -i x --context-lengths 0", "context-lengths must be >= 1 each, got 0"},
      {"score " + lm_arg("x.bin"), "give --texts SRC TRG (a translation model) or --input TEXT (a language model)"},
      {"bench train --type lm -t '" + path("train.txt") + "' -v '" + path("vocab.spm") + "'",
       "type must be a translation model's for bench train, got 'lm'"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = nmt(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_TRUE(contains_text(r.err, message)) << args << "\n" << r.err;
    EXPECT_FALSE(std::filesystem::exists(path("o.bin"))) << args;
  }
}

}  // namespace
}  // namespace nmt
