// The CPU floor: nmt's own code is compiled for x86-64-v3 (AVX2, FMA, BMI1/2, F16C, LZCNT,
// MOVBE). On an older CPU its first AVX2 instruction would end the process with SIGILL and no
// word of why, so this check runs before any of that code: it is compiled for the x86-64
// baseline (CMakeLists.txt) and runs as a constructor of the highest priority, before the
// static initializers of nmt's own files (shared libraries, Debian's baseline code, run first).
#include <cstdio>
#include <cstdlib>

namespace {

__attribute__((constructor(101))) void require_x86_64_v3() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("x86-64-v3")) return;
  std::fputs(
      "nmt: error: this CPU lacks the x86-64-v3 instructions (AVX2, FMA, BMI2) that nmt is compiled for; "
      "nmt needs an AVX2 CPU (Intel Haswell, AMD Zen or newer)\n",
      stderr);
  std::_Exit(1);
}

}  // namespace
