// Resuming training is exact: a run interrupted (by its --after budget, or by SIGTERM /
// SIGINT, which save a checkpoint and exit 0) and then continued by running the command
// again ends with bitwise the same parameters, Adam moments, random state and corpus
// position as one uninterrupted run with the same seed, dropout on. Through the built
// binary (NMT_BINARY).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "io/model_file.h"
#include "synthetic.h"

extern char** environ;

namespace nmt {
namespace {

namespace fs = std::filesystem;
using testing::RunResult;
using testing::TempDir;

// Every tensor of `b` has the same name, shape and bytes as in `a`.
void expect_same_tensors(const ModelFile& a, const ModelFile& b, const std::string& what) {
  ASSERT_EQ(a.tensors.size(), b.tensors.size()) << what;
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    const auto& [name, ta] = a.tensors[i];
    const auto& tb = b.tensors[i].second;
    ASSERT_EQ(name, b.tensors[i].first) << what;
    ASSERT_EQ(ta.shape(), tb.shape()) << what << " " << name;
    int64_t differ = 0, first = -1;
    for (int64_t k = 0; k < ta.numel(); ++k)
      if (std::memcmp(ta.data() + k, tb.data() + k, sizeof(float)) != 0) {
        if (first < 0) first = k;
        ++differ;
      }
    EXPECT_EQ(differ, 0) << what << ": tensor " << name << " differs in " << differ << " of " << ta.numel()
                         << " elements, first at " << first << " (" << ta.data()[first < 0 ? 0 : first] << " vs "
                         << tb.data()[first < 0 ? 0 : first] << ")";
  }
}

// The parts of two checkpoints that must agree exactly (not the wall-clock minutes).
void expect_same_checkpoint(const std::string& a_path, const std::string& b_path) {
  const ModelFile a = load_model_file(a_path), b = load_model_file(b_path);
  expect_same_tensors(a, b, "checkpoint");  // parameters, adam.m, adam.v
  for (const char* key : {"train.updates", "train.tokens", "train.epochs", "train.epoch", "train.batch", "adam.steps",
                          "train.stalls", "train.validations"})
    EXPECT_EQ(a.config.at(key), b.config.at(key)) << key;
  for (const auto& [key, value] : a.config)
    if (key.rfind("train.best.", 0) == 0) {
      EXPECT_EQ(value, b.config.count(key) ? b.config.at(key) : "") << key;
    }
  EXPECT_EQ(a.blobs.at("train.rng"), b.blobs.at("train.rng"));
}

class TrainingResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto train = testing::reversal_pairs(200, 5, 12, 11);
    const auto valid = testing::reversal_pairs(20, 5, 12, 12);
    testing::write_lines(dir_.path("train.src"), train.src);
    testing::write_lines(dir_.path("train.trg"), train.trg);
    testing::write_lines(dir_.path("valid.src"), valid.src);
    testing::write_lines(dir_.path("valid.trg"), valid.trg);
    const RunResult r = testing::run_nmt(dir_, "vocab -t '" + dir_.path("train.src") + "' '" + dir_.path("train.trg") +
                                                   "' -o '" + dir_.path("vocab.spm") + "' --vocab-size 37");
    ASSERT_EQ(r.code, 0) << r.err;
  }

  // `nmt train` arguments for model `name` (without the budget).
  std::string args(const std::string& name, const std::string& extra) const {
    return "train -t '" + dir_.path("train.src") + "' '" + dir_.path("train.trg") + "' -v '" + dir_.path("vocab.spm") +
           "' '" + dir_.path("vocab.spm") + "' -m '" + dir_.path(name) +
           "' --dim-emb 8 --dim-rnn 16 --dim-att 8 --cpu-threads 1 --mini-batch-words 100 --seed 5 " + extra;
  }
  RunResult train(const std::string& name, const std::string& extra, const std::string& after) const {
    return testing::run_nmt(dir_, args(name, extra) + " --after " + after);
  }

  // Trains `full` uninterrupted to `final_budget`, and `resumed` in stages (each a new
  // process running the same command but its budget), then compares them.
  void check_resume(const std::string& extra, const std::vector<std::string>& stages, const std::string& final_budget,
                    const std::vector<std::string>& best_metrics = {}) {
    RunResult r = train("full.bin", extra, final_budget);
    ASSERT_EQ(r.code, 0) << r.err;
    for (size_t i = 0; i < stages.size(); ++i) {
      r = train("resumed.bin", extra, stages[i]);
      ASSERT_EQ(r.code, 0) << r.err;
      EXPECT_EQ(testing::contains_text(r.err, "resuming from"), i > 0) << r.err;
    }
    r = train("resumed.bin", extra, final_budget);
    ASSERT_EQ(r.code, 0) << r.err;
    expect_same_tensors(load_model_file(dir_.path("full.bin")), load_model_file(dir_.path("resumed.bin")), "model");
    expect_same_checkpoint(dir_.path("full.bin.ckpt"), dir_.path("resumed.bin.ckpt"));
    for (const std::string& m : best_metrics)
      expect_same_tensors(load_model_file(dir_.path("full.bin.best-" + m)),
                          load_model_file(dir_.path("resumed.bin.best-" + m)), "best-" + m);
  }

  TempDir dir_{"nmt_resume"};
};

TEST_F(TrainingResumeTest, AttentionWithDropoutResumedAcrossAnEpochBoundary) {
  // 200 pairs make about 20 batches an epoch: 30 and 60 updates lie in epochs 2 and 3.
  check_resume("--type attention --dropout 0.3 --label-smoothing 0.1", {"30u"}, "60u");
}

// Subword sampling draws each epoch's segmentations from (seed, epoch): resumed within an
// epoch and across epochs, training continues on the same samples.
TEST_F(TrainingResumeTest, TransformerWithSubwordSamplingResumedAcrossEpochs) {
  check_resume("--type transformer --transformer-heads 2 --enc-depth 1 --dec-depth 1 --sentencepiece-alphas 0.3 0.2",
               {"5u", "25u"}, "45u");
}

// R-Drop draws two dropout masks a pair from the run's generator: resumed, the twins see the
// masks the uninterrupted run drew.
TEST_F(TrainingResumeTest, TransformerWithRdropResumedAcrossAnEpochBoundary) {
  check_resume("--type transformer --transformer-heads 2 --enc-depth 1 --dec-depth 1 --rdrop-alpha 1", {"30u"}, "60u");
}

// With --exponential-smoothing: the checkpoint's average (and so the smoothed model and
// best-* files) continues exactly.
TEST_F(TrainingResumeTest, BottleneckWithDelayValidationAndSmoothingResumedSeveralTimes) {
  check_resume(
      "--type bottleneck --cell gru --enc-bidirectional true --dropout 0.2 --optimizer-delay 2 "
      "--exponential-smoothing 0.01 "
      "--valid-freq 7u --valid-metrics perplexity bleu --early-stopping 0 --valid-sets '" +
          dir_.path("valid.src") + "' '" + dir_.path("valid.trg") + "'",
      {"5u", "1e", "15u"}, "2e", {"perplexity", "bleu"});
}

// A checkpoint written before the optimizer's state had its own entries (the step count as
// train.adam-steps) resumes as exactly as a current one.
TEST_F(TrainingResumeTest, CheckpointWithTheOldAdamStepEntryResumesExactly) {
  const std::string extra = "--type attention --dropout 0.3";
  RunResult r = train("full.bin", extra, "20u");
  ASSERT_EQ(r.code, 0) << r.err;
  r = train("resumed.bin", extra, "10u");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string ckpt = dir_.path("resumed.bin.ckpt");
  ModelFile f = load_model_file(ckpt);
  f.config["train.adam-steps"] = f.config.at("adam.steps");
  f.config.erase("adam.steps");
  save_model_file(ckpt, f);
  r = train("resumed.bin", extra, "20u");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(testing::contains_text(r.err, "resuming from")) << r.err;
  expect_same_tensors(load_model_file(dir_.path("full.bin")), load_model_file(dir_.path("resumed.bin")), "model");
  expect_same_checkpoint(dir_.path("full.bin.ckpt"), ckpt);
}

// Starts `nmt ARGS...` without a shell (so a signal reaches nmt itself), stderr to a file.
pid_t spawn_nmt(const std::vector<std::string>& args, const std::string& err_path) {
  std::vector<std::string> argv_s = {NMT_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  EXPECT_EQ(rc, 0) << std::strerror(rc);
  return rc == 0 ? pid : -1;
}

class TrainingSignalTest : public TrainingResumeTest, public ::testing::WithParamInterface<int> {};

TEST_P(TrainingSignalTest, SignalSavesACheckpointExitsZeroAndResumesExactly) {
  const int sig = GetParam();
  const std::string extra = "--type attention --dropout 0.3 --disp-freq 1u";
  RunResult r = train("full.bin", extra, "300u");
  ASSERT_EQ(r.code, 0) << r.err;

  // The same command, stopped by the signal once a few updates are logged (the handler
  // is installed before the first update; it is honoured after the current one).
  std::vector<std::string> argv = {"train",
                                   "-t",
                                   dir_.path("train.src"),
                                   dir_.path("train.trg"),
                                   "-v",
                                   dir_.path("vocab.spm"),
                                   dir_.path("vocab.spm"),
                                   "-m",
                                   dir_.path("resumed.bin"),
                                   "--dim-emb",
                                   "8",
                                   "--dim-rnn",
                                   "16",
                                   "--dim-att",
                                   "8",
                                   "--cpu-threads",
                                   "1",
                                   "--mini-batch-words",
                                   "100",
                                   "--seed",
                                   "5",
                                   "--type",
                                   "attention",
                                   "--dropout",
                                   "0.3",
                                   "--disp-freq",
                                   "1u",
                                   "--after",
                                   "300u"};
  const std::string err_path = dir_.path("signal.stderr");
  const pid_t pid = spawn_nmt(argv, err_path);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    seen = testing::contains_text(testing::slurp(err_path), " : Up. 3 :");
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(seen) << testing::slurp(err_path);
  ASSERT_EQ(::kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  const std::string err = testing::slurp(err_path);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << "\n" << err;
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  EXPECT_TRUE(testing::contains_text(
      err, "signal " + std::to_string(sig) + " (" + (sig == SIGINT ? "SIGINT" : "SIGTERM") + "): saving checkpoint"))
      << err;
  ASSERT_TRUE(fs::exists(dir_.path("resumed.bin.ckpt")));
  const int64_t stopped_at = std::stoll(load_model_file(dir_.path("resumed.bin.ckpt")).config.at("train.updates"));
  EXPECT_GE(stopped_at, 3);
  EXPECT_LT(stopped_at, 300) << "the run finished before the signal: nothing was tested";

  r = train("resumed.bin", extra, "300u");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(testing::contains_text(r.err, "resuming from")) << r.err;
  expect_same_tensors(load_model_file(dir_.path("full.bin")), load_model_file(dir_.path("resumed.bin")), "model");
  expect_same_checkpoint(dir_.path("full.bin.ckpt"), dir_.path("resumed.bin.ckpt"));
}

INSTANTIATE_TEST_SUITE_P(Signals, TrainingSignalTest, ::testing::Values(SIGTERM, SIGINT),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGTERM ? "SIGTERM" : "SIGINT");
                         });

}  // namespace
}  // namespace nmt
