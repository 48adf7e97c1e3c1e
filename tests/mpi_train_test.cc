// `mpirun -np N nmt train` (training/distributed.h) on loopback, through the built binary:
// N ranks train the parameters one process trains from the same batches; a checkpoint
// resumes on the same rank count bitwise and on another one; a killed rank ends the job
// within seconds and leaves the checkpoint intact; SIGUSR1, SIGINT or SIGTERM to mpirun stop
// every rank with one checkpoint; ranks that disagree on options or data are refused; a language model trains
// in one process only. Tiny models, tiny synthetic data, a few updates: each test takes seconds.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
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
using Clock = std::chrono::steady_clock;

// Parameters after K updates of N ranks and of one process differ only by the order of
// fp32 sums (the shares' gradients are summed across ranks, and oneDNN blocks a smaller
// batch differently), amplified a little by Adam's division by sqrt(v). With learn-rate
// 1e-3 a parameter moves by up to 1e-3 an update; the bound is 1% of that.
constexpr float kBound = 1e-5f;

// mpirun as root on this machine: --allow-run-as-root and more ranks than cores.
std::string mpirun(int ranks) {
  return "env OMPI_MCA_btl=self,vader mpirun --allow-run-as-root --oversubscribe "
         "--bind-to none -np " +
         std::to_string(ranks) + " ";
}

// The largest |a - b| over every parameter of two model files (their "param." tensors).
float max_param_diff(const std::string& a, const std::string& b) {
  const ModelFile fa = load_model_file(a), fb = load_model_file(b);
  float worst = 0;
  int compared = 0;
  for (const auto& [name, t] : fa.tensors) {
    const Tensor* u = fb.find_tensor(name);
    if (u == nullptr || u->numel() != t.numel()) {
      ADD_FAILURE() << b << " has no tensor " << name << " like " << a << "'s";
      return INFINITY;
    }
    for (int64_t i = 0; i < t.numel(); ++i) worst = std::max(worst, std::fabs(t.data()[i] - u->data()[i]));
    ++compared;
  }
  EXPECT_GT(compared, 3);
  return worst;
}

bool same_bytes(const std::string& a, const std::string& b) { return testing::slurp(a) == testing::slurp(b); }

class MpiTrainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto pairs = testing::reversal_pairs(120, 2, 9, 3);
    testing::write_lines(dir_.path("train.src"), pairs.src);
    testing::write_lines(dir_.path("train.trg"), pairs.trg);
    // The vocabulary is trained once, by a one-process run: every run then reads the same one.
    EXPECT_EQ(run(1, args("v.bin", "--after 1u")).code, 0);
  }

  // A tiny attention model; mini-batches of 2 to 8 sentences unless `extra` sets another size.
  std::string args(const std::string& model, const std::string& extra) const {
    return "train -t train.src train.trg -v vocab.spm vocab.spm --vocab-size 24 -m " + model +
           " --type attention --dim-emb 8 --dim-rnn 16 --dim-att 8 --cpu-threads 1 --disp-freq 1u --learn-rate 1e-3 " +
           (extra.find("--mini-batch-words") == std::string::npos ? "--mini-batch-words 24 " : "") + extra;
  }
  // `nmt ARGS` in the test's directory, by one process (ranks 1) or by mpirun.
  RunResult run(int ranks, const std::string& nmt_args) const {
    const std::string cmd = "cd '" + dir_.dir().string() + "' && " + (ranks > 1 ? mpirun(ranks) : "") + "'" +
                            NMT_BINARY + "' " + nmt_args + " >run.out 2>run.err";
    const int status = std::system(cmd.c_str());
    RunResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = testing::slurp(dir_.path("run.out"));
    r.err = testing::slurp(dir_.path("run.err"));
    return r;
  }
  void train(int ranks, const std::string& model, const std::string& extra) const {
    const RunResult r = run(ranks, args(model, extra));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string path(const std::string& name) const { return dir_.path(name); }

  // Starts `sh -c CMD` in the test's directory; returns its pid.
  pid_t start(const std::string& cmd) const {
    const std::string full = "cd '" + dir_.dir().string() + "' && exec " + cmd;
    const char* argv[] = {"/bin/sh", "-c", full.c_str(), nullptr};
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
    return pid;
  }
  // Waits up to `seconds` for `pid`; its exit code, -2 when it was still running (then killed).
  static int wait_for(pid_t pid, double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    int status = 0;
    while (Clock::now() < until) {
      if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -2;
  }
  // Waits until `file` exists (a checkpoint written); false after `seconds`.
  static bool wait_for_file(const std::string& file, double seconds) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < until) {
      if (fs::exists(file)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  TempDir dir_{"nmt_mpi_train"};
};

TEST_F(MpiTrainTest, TwoThreeAndFourRanksTrainWhatOneProcessTrains) {
  // Mini-batches of 1 to 3 sentences: with 3 ranks some shares are empty.
  const std::string k = "--after 8u --dropout 0 --mini-batch-words 12";
  train(1, "one.bin", k);
  train(2, "two.bin", k);
  train(3, "three.bin", k);
  train(4, "four.bin", k);  // more processes than this machine's cores
  const float two = max_param_diff(path("one.bin"), path("two.bin"));
  const float three = max_param_diff(path("one.bin"), path("three.bin"));
  const float four = max_param_diff(path("one.bin"), path("four.bin"));
  std::cout << "max |parameter difference| after 8 updates: 2 ranks " << two << ", 3 ranks " << three << ", 4 ranks "
            << four << "\n";
  EXPECT_LE(two, kBound);
  EXPECT_LE(three, kBound);
  EXPECT_LE(four, kBound);
  // The runs did train: 8 updates moved the parameters far beyond the bound.
  train(1, "two_updates.bin", "--after 2u --dropout 0");
  EXPECT_GT(max_param_diff(path("one.bin"), path("two_updates.bin")), 100 * kBound);
  const RunResult r = run(3, args("log.bin", "--after 1u --dropout 0"));
  EXPECT_NE(r.err.find("tok/s (src+trg, 3 processes)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("data-parallel training on 3 processes"), std::string::npos) << r.err;
}

TEST_F(MpiTrainTest, ResumesBitwiseOnTheSameRankCountAndCloselyOnAnother) {
  const std::string opts = "--dropout 0.1 --save-freq 3u";
  train(2, "straight.bin", opts + " --after 6u");
  train(2, "resumed.bin", opts + " --after 3u");
  train(2, "resumed.bin", opts + " --after 6u");
  EXPECT_TRUE(same_bytes(path("straight.bin"), path("resumed.bin")));
  // On 3 ranks the same batches are split differently; without dropout the result is the
  // same up to the order of sums.
  const std::string plain = "--dropout 0 --save-freq 3u";
  train(2, "plain.bin", plain + " --after 6u");
  train(2, "moved.bin", plain + " --after 3u");
  const RunResult r = run(3, args("moved.bin", plain + " --after 6u"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("written by 2 processes, this run has 3"), std::string::npos) << r.err;
  EXPECT_LE(max_param_diff(path("plain.bin"), path("moved.bin")), kBound);
}

TEST_F(MpiTrainTest, AKilledRankEndsTheJobWithinSecondsAndKeepsTheCheckpoint) {
  const pid_t job = start(mpirun(2) + "'" + NMT_BINARY + "' " + args("long.bin", "--after 100000u --save-freq 5u") +
                          " >run.out 2>run.err");
  ASSERT_TRUE(wait_for_file(path("long.bin.ckpt"), 60)) << testing::slurp(path("run.err"));
  // Rank 1: the nmt process whose environment says so.
  pid_t rank1 = -1;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string env = testing::slurp(e.path().string() + "/environ");
    const std::string cmd = testing::slurp(e.path().string() + "/cmdline");
    if (cmd.find("long.bin") != std::string::npos &&
        env.find(std::string("OMPI_COMM_WORLD_RANK=1") + '\0') != std::string::npos && cmd.rfind(NMT_BINARY, 0) == 0)
      rank1 = std::stoi(e.path().filename().string());
  }
  ASSERT_GT(rank1, 0) << "rank 1 not found";
  const auto killed = Clock::now();
  kill(rank1, SIGKILL);
  const int code = wait_for(job, 30);
  const double seconds = std::chrono::duration<double>(Clock::now() - killed).count();
  EXPECT_NE(code, 0);
  EXPECT_NE(code, -2) << "the job still ran 30 s after a rank was killed";
  EXPECT_LT(seconds, 10);
  EXPECT_NE(testing::slurp(path("run.err")).find("exited on signal 9"), std::string::npos)
      << testing::slurp(path("run.err"));
  EXPECT_NO_THROW(load_model_file(path("long.bin.ckpt")));  // written by temp + rename: whole
}

TEST_F(MpiTrainTest, Sigusr1ToMpirunStopsEveryRankWithOneCheckpoint) {
  const pid_t job = start(mpirun(2) + "'" + NMT_BINARY + "' " +
                          args("stop.bin", "--after 100000u --save-freq 100000u") + " >run.out 2>run.err");
  // The first display line: training is under way.
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (testing::slurp(path("run.err")).find("Up. 2 ") == std::string::npos && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(job, SIGUSR1);
  EXPECT_EQ(wait_for(job, 30), 0) << testing::slurp(path("run.err"));
  const std::string err = testing::slurp(path("run.err"));
  EXPECT_NE(err.find("saving checkpoint and stopping"), std::string::npos) << err;
  const ModelFile ckpt = load_model_file(path("stop.bin.ckpt"));
  EXPECT_EQ(ckpt.config.at("train.ranks"), "2");
  // It resumes where it stopped.
  const std::string updates = ckpt.config.at("train.updates");
  const RunResult again = run(2, args("stop.bin", "--after " + std::to_string(std::stoll(updates) + 1) + "u"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming from"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("update " + updates), std::string::npos) << again.err;
}

// Sent SIGINT or SIGTERM, Open MPI's mpirun ends the job: SIGCONT to every process, SIGTERM
// odls_base_sigkill_timeout seconds later (1 by default, as here) and SIGKILL as long again
// after that. The SIGCONT stops every process after the same update; process 0 saves, every
// process leaves after the save and before the SIGKILL (each says so), and the run resumes.
class MpirunTeardownTest : public MpiTrainTest, public ::testing::WithParamInterface<int> {};

TEST_P(MpirunTeardownTest, SavesOneCheckpointAndEveryProcessLeaves) {
  const pid_t job = start(mpirun(2) + "'" + NMT_BINARY + "' " + args("end.bin", "--after 100000u --save-freq 100000u") +
                          " >run.out 2>run.err");
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (testing::slurp(path("run.err")).find("Up. 2 ") == std::string::npos && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(job, GetParam());
  EXPECT_NE(wait_for(job, 30), -2) << "mpirun did not end";  // it exits 1 after ending a job
  const std::string err = testing::slurp(path("run.err"));
  EXPECT_NE(
      err.find("mpirun is ending the job (its SIGCONT after a SIGINT or SIGTERM): saving checkpoint and stopping"),
      std::string::npos)
      << err;
  EXPECT_NE(err.find("process 1 of 2 stopped with the others after update "), std::string::npos) << err;
  const ModelFile ckpt = load_model_file(path("end.bin.ckpt"));
  EXPECT_EQ(ckpt.config.at("train.ranks"), "2");
  const std::string updates = ckpt.config.at("train.updates");
  const RunResult again = run(2, args("end.bin", "--after " + std::to_string(std::stoll(updates) + 1) + "u"));
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming from"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("update " + updates), std::string::npos) << again.err;
}

// Ctrl-Z and fg: mpirun stops its processes (SIGSTOP for the SIGTSTP) and forwards the
// SIGCONT that continues them. That SIGCONT is not a teardown: training goes on.
TEST_F(MpiTrainTest, AJobStoppedAndContinuedTrainsOn) {
  const pid_t job = start(mpirun(2) + "'" + NMT_BINARY + "' " + args("on.bin", "--after 100000u --save-freq 100000u") +
                          " >run.out 2>run.err");
  auto updates = [&] {
    const std::string err = testing::slurp(path("run.err"));
    int64_t n = 0;
    for (size_t at = err.find(" : Up. "); at != std::string::npos; at = err.find(" : Up. ", at + 1))
      n = std::max<int64_t>(n, std::atoll(err.c_str() + at + 7));
    return n;
  };
  const auto until = Clock::now() + std::chrono::seconds(60);
  while (updates() < 2 && Clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(job, SIGTSTP);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int64_t stopped = updates();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(updates(), stopped) << "the processes did not stop";
  kill(job, SIGCONT);
  const auto again = Clock::now() + std::chrono::seconds(30);
  while (updates() < stopped + 20 && Clock::now() < again) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GE(updates(), stopped + 20) << testing::slurp(path("run.err"));
  kill(job, SIGUSR1);
  EXPECT_EQ(wait_for(job, 30), 0);
  const std::string err = testing::slurp(path("run.err"));
  EXPECT_NE(err.find("signal 10 (SIGUSR1): saving checkpoint and stopping"), std::string::npos) << err;
  EXPECT_EQ(err.find("mpirun is ending the job"), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(Signals, MpirunTeardownTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

TEST_F(MpiTrainTest, RanksThatDisagreeAreRefusedNamingTheDifference) {
  const std::string bin = std::string("'") + NMT_BINARY + "' ";
  const std::string cmd =
      "env OMPI_MCA_btl=self,vader mpirun --allow-run-as-root --oversubscribe --bind-to none -np 1 " + bin +
      args("m.bin", "--after 2u --seed 1") + " : -np 1 " + bin + args("m.bin", "--after 2u --seed 2");
  const pid_t job = start(cmd + " >run.out 2>run.err");
  EXPECT_EQ(wait_for(job, 60), 1);
  std::string err = testing::slurp(path("run.err"));
  EXPECT_NE(err.find("disagree: option seed is '2' on rank 1 but '1' on rank 0"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(path("m.bin")));
  // The same command in two directories whose training files differ.
  for (const char* d : {"a", "b"}) {
    fs::create_directory(path(d));
    fs::copy_file(path("vocab.spm"), path(std::string(d) + "/vocab.spm"));
  }
  const auto pairs = testing::reversal_pairs(120, 2, 9, 3), other = testing::reversal_pairs(120, 2, 9, 4);
  testing::write_lines(path("a/train.src"), pairs.src);
  testing::write_lines(path("a/train.trg"), pairs.trg);
  testing::write_lines(path("b/train.src"), pairs.src);
  testing::write_lines(path("b/train.trg"), other.trg);
  const std::string data =
      "env OMPI_MCA_btl=self,vader mpirun --allow-run-as-root --oversubscribe --bind-to none -np 1 "
      "-wdir a " +
      bin + args("m.bin", "--after 2u") + " : -np 1 -wdir b " + bin + args("m.bin", "--after 2u");
  EXPECT_EQ(wait_for(start(data + " >run.out 2>run.err"), 60), 1);
  err = testing::slurp(path("run.err"));
  EXPECT_NE(err.find("train-sets target"), std::string::npos) << err;
}

// A language model's batches are not split across processes: more than one is refused at
// start, before any file is written; mpirun -np 1 trains it.
TEST_F(MpiTrainTest, LanguageModelsTrainInOneProcessOnly) {
  const std::string lm =
      "train --type lm -t train.src -v vocab.spm -m lm.bin --dim-emb 8 --dim-rnn 16 "
      "--cpu-threads 1 --mini-batch-words 24 --after 2u";
  const RunResult refused = run(2, lm);
  EXPECT_EQ(refused.code, 2) << refused.err;
  EXPECT_NE(refused.err.find("language models train in one process (mpirun -np 1), got 2 processes"), std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(path("lm.bin")));
  const std::string one = mpirun(1) + "'" + NMT_BINARY + "' " + lm;
  EXPECT_EQ(wait_for(start(one + " >run.out 2>run.err"), 60), 0) << testing::slurp(path("run.err"));
  EXPECT_TRUE(fs::exists(path("lm.bin")));
}

TEST_F(MpiTrainTest, BenchTrainAndBenchAllreduceReportTheProcesses) {
  const RunResult train = run(2,
                              "bench train --type attention -t train.src train.trg -v vocab.spm vocab.spm "
                              "--dim-emb 8 --dim-rnn 16 --dim-att 8 --cpu-threads 1 --mini-batch-words 24 "
                              "--warmup 1 --steps 3 --json");
  ASSERT_EQ(train.code, 0) << train.err;
  EXPECT_EQ(testing::split_lines(train.out).size(), 1u) << "rank 0 alone reports: " << train.out;
  EXPECT_NE(train.out.find("\"processes\": 2"), std::string::npos) << train.out;
  EXPECT_NE(train.out.find("\"allreduce_fraction\": "), std::string::npos) << train.out;
  EXPECT_NE(train.err.find("in each of 2 processes (MPI); the gradient allreduce took"), std::string::npos)
      << train.err;
  const RunResult reduce = run(4, "bench allreduce --floats 1000 100000 --repeats 3");
  ASSERT_EQ(reduce.code, 0) << reduce.err;
  EXPECT_EQ(testing::split_lines(reduce.out).size(), 2u) << reduce.out;
  EXPECT_NE(reduce.out.find("allreduce 100000 floats (0.4 MB) over 4 processes: "), std::string::npos) << reduce.out;
}

}  // namespace
}  // namespace nmt
