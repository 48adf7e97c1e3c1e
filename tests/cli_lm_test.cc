// Language models through the built binary (NMT_BINARY): nmt train --type lm|lm-transformer
// in sentence and stream mode and nmt score -i, on generated syllable text
// (tests/cli_helpers.h) with tiny models trained for a few updates:
//  - the validation perplexity of the log equals what nmt score prints for the same text and
//    model (scoring equals the training loss), for both kinds and both modes;
//  - an interrupted stream-mode run resumes exactly, its carried state included;
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
  // Scoring bad text.
  for (const std::string cmd : {"score"}) {
    r = nmt(cmd + " " + lm_arg("lm.bin") + " -i '" + path("bad.txt") + "'");
    EXPECT_EQ(r.code, 1) << cmd << ": " << r.err;
    EXPECT_TRUE(contains_text(r.err, path("bad.txt") + ":2: invalid UTF-8")) << cmd << ": " << r.err;
    r = nmt(cmd + " " + lm_arg("lm.bin") + " -i '" + path("empty.txt") + "'");
    EXPECT_EQ(r.code, 1) << cmd << ": " << r.err;
    EXPECT_TRUE(contains_text(r.err, path("empty.txt") + ": the file is empty")) << cmd << ": " << r.err;
  }
  // A translation model where a language model is needed, and the other way round.
  r = nmt("score " + lm_arg("attention.bin") + " -i '" + path("valid.txt") + "'");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains_text(r.err, "is a translation model: it scores --texts SRC TRG")) << r.err;
  r = nmt("translate " + lm_arg("lm.bin") + " -i '" + path("valid.txt") + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("lm.bin") + " is a language model (type lm), not a translation model"))
      << r.err;
  r = nmt("score " + lm_arg("lm.bin") + " -t '" + path("valid.txt") + "' '" + path("valid.txt") + "'");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains_text(r.err, path("lm.bin") + " is a language model (type lm), not a translation model"))
      << r.err;
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
      {"train --type lm" + text + " --dec-type attention",
       "dec-type must be rnn or transformer with enc-type none (a language model), got 'attention'"},
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
