#include "core/params.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"

namespace nmt {
namespace {

constexpr int64_t kAlignFloats = 16;  // 64 bytes

int64_t round_up(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Our own generator and transforms (not <random>'s distributions, whose output differs
// between standard libraries), so a seed gives the same model everywhere.
void init_values(float* p, int64_t n, const Init& init, uint64_t seed, const std::string& name) {
  switch (init.kind) {
    case Init::Zeros:
      std::fill(p, p + n, 0.f);
      return;
    case Init::Ones:
      std::fill(p, p + n, 1.f);
      return;
    default:
      break;
  }
  uint64_t state = seed ^ fnv1a64(name);
  splitmix64(state);
  if (init.kind == Init::Uniform) {
    for (int64_t i = 0; i < n; ++i) {
      double u = (splitmix64(state) >> 11) * 0x1.0p-53;  // [0, 1)
      p[i] = static_cast<float>((2.0 * u - 1.0) * init.scale);
    }
    return;
  }
  // Normal: Box-Muller, two values per pair of uniforms.
  const double two_pi = 6.283185307179586476925;
  for (int64_t i = 0; i < n; i += 2) {
    double u1 = ((splitmix64(state) >> 11) + 1) * 0x1.0p-53;  // (0, 1]
    double u2 = (splitmix64(state) >> 11) * 0x1.0p-53;
    double r = std::sqrt(-2.0 * std::log(u1)) * init.scale;
    p[i] = static_cast<float>(r * std::cos(two_pi * u2));
    if (i + 1 < n) p[i + 1] = static_cast<float>(r * std::sin(two_pi * u2));
  }
}

}  // namespace

void FreeFloats::operator()(float* p) const { std::free(p); }

FloatBuffer aligned_floats(int64_t n) {
  size_t bytes = static_cast<size_t>(std::max<int64_t>(round_up(n, kAlignFloats), kAlignFloats)) * sizeof(float);
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, bytes);
  return FloatBuffer(static_cast<float*>(p));
}

Var ParamStore::add(const std::string& name, const Shape& shape, Init init) {
  if (allocated()) throw Error(cat("ParamStore::add('", name, "') after allocate()"));
  if (name.empty()) throw Error("ParamStore::add: empty parameter name");
  if (index_.count(name)) throw Error(cat("ParamStore::add: duplicate parameter name '", name, "'"));
  for (int64_t d : shape)
    if (d < 0) throw Error(cat("ParamStore::add('", name, "'): negative dimension in shape ", shape_str(shape)));
  if ((init.kind == Init::Uniform || init.kind == Init::Normal) && !(init.scale >= 0.f))
    throw Error(cat("ParamStore::add('", name, "'): init scale ", init.scale, " must be >= 0"));
  auto node = std::make_shared<Node>();
  node->requires_grad = true;
  Entry e{node, shape, init, size_};
  size_ = round_up(size_ + numel(shape), kAlignFloats);
  index_.emplace(name, entries_.size());
  names_.push_back(name);
  entries_.push_back(std::move(e));
  return node;
}

void ParamStore::allocate(uint64_t seed) {
  if (allocated()) throw Error("ParamStore::allocate called twice");
  values_ = aligned_floats(size_);
  grads_ = aligned_floats(size_);
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    float* v = values_.get() + e.offset;
    init_values(v, numel(e.shape), e.init, seed, names_[i]);
    e.var->value = Tensor::view(v, e.shape);
    e.var->grad = Tensor::view(grads_.get() + e.offset, e.shape);
  }
}

int64_t ParamStore::num_params() const {
  int64_t n = 0;
  for (const Entry& e : entries_) n += numel(e.shape);
  return n;
}

void ParamStore::zero_grads() {
  if (!allocated()) throw Error("ParamStore::zero_grads before allocate()");
  float* g = grads_.get();
  const int64_t n = size_;
#pragma omp parallel for simd if (n > 65536)
  for (int64_t i = 0; i < n; ++i) g[i] = 0.f;
}

const ParamStore::Entry& ParamStore::entry(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(cat("unknown parameter '", name, "'"));
  return entries_[it->second];
}

Var ParamStore::get(const std::string& name) const { return entry(name).var; }
const Shape& ParamStore::shape(const std::string& name) const { return entry(name).shape; }
int64_t ParamStore::offset(const std::string& name) const { return entry(name).offset; }

void ParamStore::set_value(const std::string& name, const Tensor& value) {
  const Entry& e = entry(name);
  if (!allocated()) throw Error(cat("ParamStore::set_value('", name, "') before allocate()"));
  if (value.shape() != e.shape)
    throw InputError(cat("parameter '", name, "': got shape ", shape_str(value.shape()), ", the model expects ",
                         shape_str(e.shape)));
  e.var->value.copy_from(value);
}

}  // namespace nmt
