// The model's parameters and their gradients, each in ONE contiguous, 64-byte aligned
// arena (as llm.c's malloc_and_point_parameters), with a named view per parameter.
// Gradient clipping, the optimizer and checkpoint I/O are then single loops over the arena.
//
// Usage: model constructors call add() and keep the returned Var (its tensors are empty
// until allocate()); the trainer calls allocate(seed) once all parameters are declared.
// Each parameter starts at a 64-byte boundary: the arena has zero padding between
// parameters (zero values, zero gradients; the optimizer leaves it at zero).
// The views are non-owning: the ParamStore must outlive every Var it handed out.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/graph.h"
#include "core/tensor.h"

namespace nmt {

// A zeroed, 64-byte aligned buffer of n floats: the arenas, and the buffers laid out like
// them (Adam's moments, the smoothed average of training/smoothing.h).
struct FreeFloats {
  void operator()(float* p) const;
};
using FloatBuffer = std::unique_ptr<float, FreeFloats>;
FloatBuffer aligned_floats(int64_t n);

struct Init {
  enum Kind { Zeros, Ones, Uniform, Normal } kind;
  float scale = 0.f;  // Uniform(-scale, scale), Normal(0, scale)

  static Init zeros() { return {Zeros, 0.f}; }
  static Init ones() { return {Ones, 0.f}; }
  static Init uniform(float scale) { return {Uniform, scale}; }
  static Init normal(float stddev) { return {Normal, stddev}; }
};

class ParamStore {
 public:
  ParamStore() = default;
  ParamStore(const ParamStore&) = delete;  // the Vars point into this object's arena
  ParamStore& operator=(const ParamStore&) = delete;

  // Declares a parameter and returns its Var at once (requires_grad = true, empty tensors
  // until allocate()). Throws nmt::Error on a duplicate or empty name, a negative
  // dimension, or when called after allocate().
  Var add(const std::string& name, const Shape& shape, Init init);

  // Allocates one buffer for all values and one for all gradients, points every Var at
  // its slice, zeroes the gradients and initialises the values. Parameter `name` is drawn
  // from its own stream seeded by (seed, name): deterministic for a seed, and independent
  // of which other parameters exist or their order. Throws if called twice.
  void allocate(uint64_t seed);
  bool allocated() const { return values_ != nullptr; }

  // The arenas (null before allocate()). size() is the total number of floats in each,
  // padding included; num_params() counts parameter elements only.
  float* values() { return values_.get(); }
  const float* values() const { return values_.get(); }
  float* grads() { return grads_.get(); }
  const float* grads() const { return grads_.get(); }
  int64_t size() const { return size_; }
  int64_t num_params() const;

  void zero_grads();

  // Parameter names in declaration order (= arena order).
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  // Throws nmt::Error on an unknown name.
  Var get(const std::string& name) const;
  const Shape& shape(const std::string& name) const;
  // Float offset of the parameter in the arena.
  int64_t offset(const std::string& name) const;

  // For loading: copies `value` into the parameter. Throws nmt::InputError naming the
  // parameter and both shapes when the shapes differ, nmt::Error on an unknown name or
  // before allocate().
  void set_value(const std::string& name, const Tensor& value);

 private:
  struct Entry {
    Var var;
    Shape shape;
    Init init;
    int64_t offset;
  };
  const Entry& entry(const std::string& name) const;

  std::vector<std::string> names_;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
  int64_t size_ = 0;
  FloatBuffer values_;
  FloatBuffer grads_;
};

}  // namespace nmt
