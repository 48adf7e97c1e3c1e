#include "core/random.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "core/error.h"

namespace nmt {

namespace {
constexpr const char* kStateTag = "xoshiro256ss";

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t splitmix_next(uint64_t& x) {
  x += 0x9e3779b97f4a7c15ULL;
  return mix64(x);
}
}  // namespace

uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (uint64_t& w : s_) w = splitmix_next(x);
}

uint64_t Rng::next_u64() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Rng::uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }

float Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  // u1 in (0, 1] so the log is finite; computed in double for accuracy in the tails.
  const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = 6.283185307179586476925 * u2;  // 2 pi
  spare_ = static_cast<float>(r * std::sin(a));
  has_spare_ = true;
  return static_cast<float>(r * std::cos(a));
}

uint64_t Rng::below(uint64_t n) {
  if (n == 0) throw Error("Rng::below(0): empty range");
  // Rejection: accept only draws below the largest multiple of n.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return x % n;
}

std::string Rng::state() const {
  uint32_t spare_bits;
  std::memcpy(&spare_bits, &spare_, sizeof spare_bits);
  std::ostringstream os;
  os << kStateTag << ' ' << s_[0] << ' ' << s_[1] << ' ' << s_[2] << ' ' << s_[3] << ' ' << (has_spare_ ? 1 : 0) << ' '
     << spare_bits;
  return os.str();
}

void Rng::set_state(const std::string& s) {
  std::istringstream is(s);
  std::string tag;
  uint64_t w[4];
  int has_spare = -1;
  uint32_t spare_bits = 0;
  is >> tag >> w[0] >> w[1] >> w[2] >> w[3] >> has_spare >> spare_bits;
  std::string rest;
  if (!is || tag != kStateTag || (has_spare != 0 && has_spare != 1) || (is >> rest) || (w[0] | w[1] | w[2] | w[3]) == 0)
    throw InputError(cat("malformed random generator state: \"", s, "\""));
  std::memcpy(s_, w, sizeof s_);
  has_spare_ = has_spare == 1;
  std::memcpy(&spare_, &spare_bits, sizeof spare_);
}

Rng& global_rng() {
  static Rng rng(1);
  return rng;
}

void seed_global_rng(uint64_t seed) { global_rng() = Rng(seed); }

}  // namespace nmt
