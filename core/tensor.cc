#include "core/tensor.h"

#include <algorithm>
#include <cstring>

#include "core/allocator.h"
#include "core/error.h"

namespace nmt {

namespace {
// Large fills and copies are split over the threads in blocks: done on one thread, the other
// would wait through them (they sit between the parallel kernels of a training step).
constexpr int64_t kParallelMin = int64_t{1} << 16;  // floats
constexpr int64_t kBlock = int64_t{1} << 14;

// dst[0, n) = src[0, n), or 0 where src is null.
void fill_or_copy(float* dst, const float* src, int64_t n) {
  const int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t i = b * kBlock, len = std::min(kBlock, n - i) * static_cast<int64_t>(sizeof(float));
    if (src)
      std::memcpy(dst + i, src + i, len);
    else
      std::memset(dst + i, 0, len);
  }
}
}  // namespace

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) { return vec_str(shape); }

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
  for (int64_t d : shape_)
    if (d < 0) throw Error(cat("negative dimension in shape ", shape_str(shape_)));
  size_t bytes = std::max<int64_t>(nmt::numel(shape_), 1) * sizeof(float);
  float* p = static_cast<float*>(pool_alloc(bytes));
  storage_ = std::shared_ptr<float>(p, [bytes](float* q) { pool_free(q, bytes); });
  data_ = p;
}

Tensor Tensor::zeros(Shape shape) {
  Tensor t(std::move(shape));
  t.zero();
  return t;
}

Tensor Tensor::full(Shape shape, float value) {
  Tensor t(std::move(shape));
  t.fill(value);
  return t;
}

Tensor Tensor::from(Shape shape, const std::vector<float>& values) {
  Tensor t(std::move(shape));
  if (static_cast<int64_t>(values.size()) != t.numel())
    throw Error(cat("Tensor::from: ", values.size(), " values for shape ", shape_str(t.shape_)));
  std::copy(values.begin(), values.end(), t.data_);
  return t;
}

Tensor Tensor::view(float* data, Shape shape) {
  Tensor t;
  t.data_ = data;
  t.shape_ = std::move(shape);
  return t;
}

int64_t Tensor::dim(int i) const {
  int r = rank();
  int j = i < 0 ? i + r : i;
  if (j < 0 || j >= r) throw Error(cat("dim(", i, ") of a tensor of shape ", shape_str(shape_)));
  return shape_[j];
}

Tensor Tensor::reshape(Shape shape) const {
  if (nmt::numel(shape) != numel()) throw Error(cat("cannot reshape ", shape_str(shape_), " to ", shape_str(shape)));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::leading(int64_t n) const { return rows(0, n); }

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  if (rank() < 1 || begin < 0 || begin > end || end > shape_[0])
    throw Error(cat("rows(", begin, ", ", end, ") of a tensor of shape ", shape_str(shape_)));
  Tensor t = *this;
  t.shape_[0] = end - begin;
  if (data_) t.data_ += begin * (numel() / std::max<int64_t>(shape_[0], 1));
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape_);
  fill_or_copy(t.data_, data_, numel());
  return t;
}

void Tensor::copy_from(const Tensor& other) {
  if (other.numel() != numel()) throw Error(cat("copy_from: ", shape_str(other.shape_), " into ", shape_str(shape_)));
  fill_or_copy(data_, other.data_, numel());
}

void Tensor::zero() { fill_or_copy(data_, nullptr, numel()); }

void Tensor::fill(float value) { std::fill(data_, data_ + numel(), value); }

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data_, data_ + numel()); }

}  // namespace nmt
