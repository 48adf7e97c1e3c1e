#include "training/signals.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace nmt {
namespace {
volatile sig_atomic_t g_signal = 0;
volatile sig_atomic_t g_mpirun_ending = 0;
// The monotonic clock, stamped every kTick by a thread of its own. Every thread of a stopped
// process stands still, so a gap longer than kStopped between two stamps was a stop. The
// SIGCONT's handler may run before the stamper's next tick (it then finds the stamp old) or
// after it (the other threads run again at once, the handler when its thread is scheduled):
// the stamper therefore also records when it saw a gap, and a SIGCONT within kStopped of
// that resumed the stop too.
std::atomic<int64_t> g_stamp_ns{0}, g_resumed_ns{INT64_MIN / 2};
constexpr int64_t kTickNs = 20'000'000, kStoppedNs = 500'000'000;
static_assert(std::atomic<int64_t>::is_always_lock_free, "read in a signal handler");

int64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

void start_stamping() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_stamp_ns = monotonic_ns();
    std::thread([] {
      for (;;) {
        const int64_t now = monotonic_ns();
        if (now - g_stamp_ns.load() > kStoppedNs) g_resumed_ns = now;  // before the stamp: see on_cont
        g_stamp_ns = now;
        std::this_thread::sleep_for(std::chrono::nanoseconds(kTickNs));
      }
    }).detach();
  });
}

extern "C" void on_stop(int sig) { g_signal = sig; }

extern "C" void on_cont(int, siginfo_t* info, void*) {
  const int64_t now = monotonic_ns();
  const bool was_stopped = now - g_stamp_ns.load() > kStoppedNs || now - g_resumed_ns.load() < kStoppedNs;
  if (!was_stopped && info && info->si_code == SI_USER && info->si_pid == getppid()) {
    g_mpirun_ending = 1;
    g_signal = SIGCONT;
  }
}

void handle(int sig, void (*fn)(int)) {
  struct sigaction sa = {};
  sa.sa_handler = fn;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, nullptr);
}
}  // namespace

void install_stop_handlers(bool distributed) {
  g_signal = g_mpirun_ending = 0;
  handle(SIGINT, on_stop);
  handle(SIGTERM, on_stop);
  if (!distributed) return;
  handle(SIGUSR1, on_stop);
  start_stamping();
  struct sigaction sa = {};
  sa.sa_sigaction = on_cont;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_SIGINFO;
  sigaction(SIGCONT, &sa, nullptr);
}

bool stop_requested() { return g_signal != 0; }
bool mpirun_ending() { return g_mpirun_ending != 0; }

std::string stop_reason() {
  if (g_mpirun_ending) return "mpirun is ending the job (its SIGCONT after a SIGINT or SIGTERM)";
  const int sig = g_signal;
  if (sig == 0) return "";
  const char* name = sigabbrev_np(sig);
  return "signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
}

}  // namespace nmt
