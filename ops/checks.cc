#include "ops/checks.h"

#include "core/error.h"

namespace nmt {

void check_same_shape(const char* op, const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape())
    throw Error(cat(op, ": shapes differ: ", shape_str(a.shape()), " vs ", shape_str(b.shape())));
}

void check_rank(const char* op, const Tensor& t, int rank, const char* what) {
  if (t.rank() != rank)
    throw Error(cat(op, ": ", what, " must have rank ", rank, ", got shape ", shape_str(t.shape())));
}

void check_dim(const char* op, const Tensor& t, int axis, int64_t expected, const char* what) {
  if (t.dim(axis) != expected)
    throw Error(cat(op, ": ", what, " has size ", t.dim(axis), " on axis ", axis, ", expected ", expected, " (shape ",
                    shape_str(t.shape()), ")"));
}

}  // namespace nmt
