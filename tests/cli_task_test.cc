// `nmt train --task NAME` (training/task.h) through the built binary: a task fills the options
// it names, explicit options (command line or config file) win, unknown names are refused
// listing the known ones, and --help lists every task. --dump-config shows the merged options
// without reading or training anything.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "synthetic.h"
#include "training/task.h"

namespace nmt {
namespace {

using testing::contains_text;
using testing::RunResult;
using testing::TempDir;

class CliTaskTest : public ::testing::Test {
 protected:
  RunResult dump(const std::string& extra) {
    return testing::run_nmt(dir_, "train -t a.src a.trg -v v.spm v.spm -m model.bin --dump-config " + extra);
  }
  TempDir dir_{"nmt_cli_task"};
};

TEST_F(CliTaskTest, TaskFillsTheOptionsItNames) {
  const RunResult r = dump("--task transformer-tiny");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string line :
       {"task = transformer-tiny", "type = transformer", "dim-emb = 128", "transformer-dim-ffn = 256", "enc-depth = 4",
        "dec-depth = 4", "transformer-norm = post", "transformer-dropout = 0.3", "transformer-dropout-attention = 0",
        "learn-rate = 0.005", "lr-warmup = 2000", "mini-batch-words = 4000", "exponential-smoothing = 0.0001"})
    EXPECT_TRUE(contains_text(r.out, line + std::string("\n"))) << line << "\n" << r.out;
  const RunResult att = dump("--task attention-smoothed");
  ASSERT_EQ(att.code, 0) << att.err;
  for (const std::string line : {"type = attention", "dropout = 0.3", "exponential-smoothing = 0.0001"})
    EXPECT_TRUE(contains_text(att.out, line + std::string("\n"))) << line << "\n" << att.out;
  const RunResult sampled = dump("--task attention-sampled");
  ASSERT_EQ(sampled.code, 0) << sampled.err;
  for (const std::string line :
       {"type = attention", "dropout = 0.3", "exponential-smoothing = 0.0001", "sentencepiece-alphas = 0.3"})
    EXPECT_TRUE(contains_text(sampled.out, line + std::string("\n"))) << line << "\n" << sampled.out;
  const RunResult bn = dump("--task bottleneck-short");
  ASSERT_EQ(bn.code, 0) << bn.err;
  for (const std::string line : {"type = bottleneck", "enc-bidirectional = true", "learn-rate = 0.003"})
    EXPECT_TRUE(contains_text(bn.out, line + std::string("\n"))) << line << "\n" << bn.out;
  const RunResult as = dump("--task attention-short");
  ASSERT_EQ(as.code, 0) << as.err;
  for (const std::string line : {"type = attention", "learn-rate = 0.003", "lr-warmup = 100"})
    EXPECT_TRUE(contains_text(as.out, line + std::string("\n"))) << line << "\n" << as.out;
  const RunResult tf = dump("--task transformer-smoothed");
  ASSERT_EQ(tf.code, 0) << tf.err;
  for (const std::string line : {"type = transformer", "transformer-dropout = 0.3", "exponential-smoothing = 0.0001"})
    EXPECT_TRUE(contains_text(tf.out, line + std::string("\n"))) << line << "\n" << tf.out;
}

TEST_F(CliTaskTest, ReferenceTasksAreTheirTypes) {
  for (const std::string type : {"bottleneck", "attention", "transformer"}) {
    SCOPED_TRACE(type);
    const RunResult by_task = dump("--task " + type);
    const RunResult by_type = dump("--type " + type);
    ASSERT_EQ(by_task.code, 0) << by_task.err;
    ASSERT_EQ(by_type.code, 0) << by_type.err;
    // The same options, but for the task line itself.
    std::string without_task = by_task.out;
    const std::string task_line = "task = " + type + "\n";
    ASSERT_NE(without_task.find(task_line), std::string::npos) << by_task.out;
    without_task.erase(without_task.find(task_line), task_line.size());
    EXPECT_EQ(without_task, by_type.out);
  }
}

TEST_F(CliTaskTest, ExplicitOptionsOverrideTheTask) {
  const RunResult r = dump("--task transformer-tiny --dim-emb 64 --learn-rate 0.001 --exponential-smoothing 0");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const std::string line :
       {"dim-emb = 64", "learn-rate = 0.001", "exponential-smoothing = 0", "enc-depth = 4", "lr-warmup = 2000"})
    EXPECT_TRUE(contains_text(r.out, line + std::string("\n"))) << line << "\n" << r.out;
  EXPECT_FALSE(contains_text(r.out, "dim-emb = 128")) << r.out;
  // A config file wins over the task too, and the command line over both.
  const std::string cfg = dir_.write("t.cfg", "enc-depth = 2\ndec-depth = 2\n");
  const RunResult c = dump("--task transformer-tiny -c '" + cfg + "' --dec-depth 3");
  ASSERT_EQ(c.code, 0) << c.err;
  EXPECT_TRUE(contains_text(c.out, "enc-depth = 2\n")) << c.out;
  EXPECT_TRUE(contains_text(c.out, "dec-depth = 3\n")) << c.out;
  // The task may itself come from the config file.
  const std::string task_cfg = dir_.write("task.cfg", "task = attention-smoothed\n");
  const RunResult t = dump("-c '" + task_cfg + "' --dropout 0.4");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(contains_text(t.out, "dropout = 0.4\n")) << t.out;
  EXPECT_TRUE(contains_text(t.out, "exponential-smoothing = 0.0001\n")) << t.out;
}

TEST_F(CliTaskTest, UnknownTaskIsRefusedListingTheKnownOnes) {
  const RunResult r = dump("--task transformer-huge");
  EXPECT_EQ(r.code, 2) << r.err;
  std::string known;
  for (const Task& t : tasks()) known += (known.empty() ? "" : ", ") + t.name;
  EXPECT_TRUE(contains_text(r.err, "task must be one of " + known + ", got 'transformer-huge'")) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTaskTest, HelpListsEveryTaskWithItsOptions) {
  const RunResult r = testing::run_nmt(dir_, "train --help");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const Task& t : tasks()) {
    EXPECT_TRUE(contains_text(r.out, "  " + t.name + " ")) << t.name;
    for (const auto& [key, value] : t.options) EXPECT_TRUE(contains_text(r.out, "--" + key + " " + value)) << key;
  }
  EXPECT_TRUE(contains_text(r.out, "--task arg")) << r.out;
}

// A task's options are real options: training with one runs (a tiny model for 2 updates).
TEST_F(CliTaskTest, TrainingWithATaskRuns) {
  const auto pairs = testing::reversal_pairs(60, 3, 6, 1);
  testing::write_lines(dir_.path("a.src"), pairs.src);
  testing::write_lines(dir_.path("a.trg"), pairs.trg);
  const RunResult r = testing::run_nmt(
      dir_, "train -t '" + dir_.path("a.src") + "' '" + dir_.path("a.trg") + "' -v '" + dir_.path("v.spm") + "' '" +
                dir_.path("v.spm") + "' --vocab-size 37 -m '" + dir_.path("tiny.bin") +
                "' --task transformer-tiny --dim-emb 16 --transformer-dim-ffn 16 --enc-depth 1 --dec-depth 1 "
                "--mini-batch-words 100 --after 2u --cpu-threads 1 --log '" +
                dir_.path("train.log") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string log = testing::slurp(dir_.path("train.log"));
  EXPECT_TRUE(contains_text(log, "transformer-norm=post")) << log;
  EXPECT_TRUE(contains_text(log, "enc-depth=1")) << log;
  // A task's sampling option reaches the corpus.
  const RunResult s = testing::run_nmt(
      dir_, "train -t '" + dir_.path("a.src") + "' '" + dir_.path("a.trg") + "' -v '" + dir_.path("v.spm") + "' '" +
                dir_.path("v.spm") + "' -m '" + dir_.path("att.bin") +
                "' --task attention-sampled --dim-emb 8 --dim-rnn 16 --dim-att 8 --mini-batch-words 100 --after 2u "
                "--cpu-threads 1");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_TRUE(contains_text(s.err, "subword sampling: a segmentation drawn every epoch, alpha 0.3 (source) and 0.3"))
      << s.err;
}

}  // namespace
}  // namespace nmt
