// training/signals: which SIGCONT starts mpirun's teardown. The parent plays mpirun: the
// child is this test's fork with the distributed handlers installed, and it reports through
// its exit code what it made of the SIGCONT it got (0: nothing asked it to stop, 1: mpirun
// is ending the job, 2: another stop request).
#include "training/signals.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

namespace nmt {
namespace {

using std::chrono::milliseconds;

int verdict() {
  if (mpirun_ending()) return 1;
  return stop_requested() ? 2 : 0;
}

// Forks a child that runs `setup`, installs the handlers, tells the parent it is ready and
// waits for a byte on a pipe before running `child`; `parent` gets the child's pid and the
// pipe's write end to play its part once the child is ready. Returns the child's exit code,
// or -1 when it did not exit normally.
int play(const std::function<void()>& setup, const std::function<int()>& child,
         const std::function<void(pid_t, int)>& parent) {
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    setup();
    install_stop_handlers(true);
    char c;
    if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1) _exit(3);
    _exit(child());
  }
  char c;
  if (read(ready[0], &c, 1) == 1) parent(pid, go[1]);
  for (const int fd : {ready[0], ready[1], go[0], go[1]}) close(fd);
  // A child left stopped (the parent's part failed half-way) would never exit: 10 s, then it is killed.
  int status = 0;
  for (int waited_ms = 0; waitpid(pid, &status, WNOHANG) == 0; waited_ms += 10) {
    if (waited_ms >= 10'000) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void block_sigcont(bool block) {
  sigset_t cont;
  sigemptyset(&cont);
  sigaddset(&cont, SIGCONT);
  sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &cont, nullptr);
}

void release(int go) { ASSERT_EQ(write(go, "g", 1), 1); }

TEST(StopSignals, ASigcontFromTheParentOfARunningProcessIsMpirunsTeardown) {
  const int code = play([] {},
                        [] {
                          std::this_thread::sleep_for(milliseconds(100));
                          return verdict();
                        },
                        [](pid_t pid, int go) {
                          kill(pid, SIGCONT);
                          release(go);
                        });
  EXPECT_EQ(code, 1);
}

TEST(StopSignals, ASigcontFromAnybodyElseIsNoTeardown) {
  const int code = play([] {},
                        [] {
                          kill(getpid(), SIGCONT);
                          std::this_thread::sleep_for(milliseconds(100));
                          return verdict();
                        },
                        [](pid_t, int go) { release(go); });
  EXPECT_EQ(code, 0);
}

// Ctrl-Z under mpirun: SIGSTOP, then the SIGCONT that resumes it. The handler may run only
// after the process's other threads have run again (here: SIGCONT is blocked until 100 ms
// after the resume), and the SIGCONT is still no teardown.
TEST(StopSignals, TheSigcontThatResumesAStopIsNoTeardownHoweverLateItsHandlerRuns) {
  for (const int late_ms : {0, 100}) {
    const int code = play([late_ms] { block_sigcont(late_ms > 0); },
                          [late_ms] {
                            std::this_thread::sleep_for(milliseconds(late_ms));
                            block_sigcont(false);
                            std::this_thread::sleep_for(milliseconds(50));
                            return verdict();
                          },
                          [](pid_t pid, int go) {
                            kill(pid, SIGSTOP);
                            int status = 0;
                            ASSERT_EQ(waitpid(pid, &status, WUNTRACED), pid);
                            ASSERT_TRUE(WIFSTOPPED(status));
                            std::this_thread::sleep_for(milliseconds(1000));
                            kill(pid, SIGCONT);
                            release(go);
                          });
    EXPECT_EQ(code, 0) << "handler run " << late_ms << " ms after the resume";
  }
}

}  // namespace
}  // namespace nmt
