// A dense, row-major float32 tensor. Storage is shared (copies are shallow) and comes
// from the caching allocator; a tensor may also be a non-owning view (into the
// parameter arena, say).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nmt {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& shape);
std::string shape_str(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  // Owning, uninitialised.
  explicit Tensor(Shape shape);
  static Tensor zeros(Shape shape);
  static Tensor full(Shape shape, float value);
  static Tensor from(Shape shape, const std::vector<float>& values);
  // Non-owning view of memory owned elsewhere.
  static Tensor view(float* data, Shape shape);

  bool empty() const { return data_ == nullptr; }
  float* data() { return data_; }
  const float* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const { return nmt::numel(shape_); }

  float& operator[](int64_t i) { return data_[i]; }
  float operator[](int64_t i) const { return data_[i]; }

  // Same storage, another shape of the same number of elements.
  Tensor reshape(Shape shape) const;
  // The first `n` entries along axis 0, sharing (and keeping alive) the storage.
  Tensor leading(int64_t n) const;
  // Entries [begin, end) along axis 0, sharing (and keeping alive) the storage.
  Tensor rows(int64_t begin, int64_t end) const;
  // A deep copy.
  Tensor clone() const;
  void copy_from(const Tensor& other);  // same numel required
  void zero();
  // Drops this tensor's share of its storage (data() becomes null, empty() true) and keeps
  // the shape: what is left of an op result no backward needs (core/graph.h).
  void drop_storage() {
    storage_.reset();
    data_ = nullptr;
  }
  void fill(float value);
  std::vector<float> to_vector() const;

 private:
  std::shared_ptr<float> storage_;
  float* data_ = nullptr;
  Shape shape_;
};

}  // namespace nmt
