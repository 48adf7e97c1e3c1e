// The process's random generator (dropout masks, data shuffling, parameter init).
//
// xoshiro256** seeded through splitmix64: fast, good quality, and its whole state is
// four words, so a checkpoint can save it (state()) and a resumed run can restore it
// (set_state()) and draw exactly the numbers the uninterrupted run would have drawn.
// Not thread-safe: each thread that draws needs its own Rng (the ops that need many
// numbers, e.g. dropout, draw one key from it and derive the rest in parallel).
#pragma once

#include <cstdint>
#include <string>

namespace nmt {

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits.
  float uniform();
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  float normal();
  // Uniform integer in [0, n), unbiased; n must be > 0 (shuffling).
  uint64_t below(uint64_t n);

  // The full state as one line of text, and its inverse (throws InputError on a malformed string).
  std::string state() const;
  void set_state(const std::string& s);

 private:
  uint64_t s_[4];
  bool has_spare_ = false;
  float spare_ = 0.f;
};

// A stateless 64-bit mix (splitmix64 finaliser): mix64(key + i) gives independent-looking
// streams that parallel loops can draw from without sharing an Rng.
uint64_t mix64(uint64_t x);

// The process-wide generator (default seed 1 until seeded).
Rng& global_rng();
void seed_global_rng(uint64_t seed);

}  // namespace nmt
