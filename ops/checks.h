// Input checks shared by the ops, kept apart from the kernels. Each throws nmt::Error
// with the op's name and the offending shapes.
#pragma once

#include <string>

#include "core/tensor.h"

namespace nmt {

void check_same_shape(const char* op, const Tensor& a, const Tensor& b);
void check_rank(const char* op, const Tensor& t, int rank, const char* what);
void check_dim(const char* op, const Tensor& t, int axis, int64_t expected, const char* what);

}  // namespace nmt
