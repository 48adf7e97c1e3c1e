// The first write to a gradient: Node::grad_out (assign into an uninitialised buffer),
// Node::take_grad (adopt the output's gradient), Node::add_grad. Each op that uses them must
// give exactly the gradients it gives when the inputs' gradients already exist (pre-zeroed,
// so every write accumulates), and must not leak what an uninitialised buffer held: the
// pool's cached blocks are filled with NaN before each backward.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/error.h"
#include "gradcheck.h"
#include "ops/add.h"
#include "ops/dropout.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/mask.h"
#include "ops/matmul.h"
#include "ops/shape_ops.h"
#include "ops/softmax.h"

namespace nmt {
namespace {
using testing::random_tensor;

// Leaves NaN-filled cached blocks of sizes from 1 to 64 Ki floats (around each power of two,
// and the sizes used below), so buffers taken from the pool start as NaN. (Making
// Node::grad_out report a fresh buffer as one to add into fails 5 of these tests.)
void poison_pool() {
  std::vector<Tensor> held;
  for (int64_t n = 1; n <= 65536; n *= 2)
    for (int64_t m : {n, 3 * n / 2 + 1, 5 * n / 4 + 1}) held.push_back(Tensor::full({m}, std::nanf("")));
  for (int64_t m : {24, 30, 60, 120, 240}) held.push_back(Tensor::full({m}, std::nanf("")));
}  // all returned to the pool here

using Fn = std::function<Var(const std::vector<Var>&)>;

std::vector<Tensor> gradients(const Fn& f, const std::vector<Tensor>& inputs, bool prezeroed) {
  Tape::current().clear();
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.push_back(leaf(t.clone(), true));
  if (prezeroed)
    for (Var& v : vars) v->grad = Tensor::zeros(v->value.shape());
  Var out = f(vars);
  Tensor seed = random_tensor(out->value.shape(), 99);
  poison_pool();
  Tape::current().backward(out, seed);
  std::vector<Tensor> g;
  for (Var& v : vars) g.push_back(v->grad.empty() ? Tensor::zeros(v->value.shape()) : v->grad.clone());
  return g;
}

void expect_first_write_equals_accumulation(const Fn& f, const std::vector<Tensor>& inputs) {
  const std::vector<Tensor> fresh = gradients(f, inputs, false);
  const std::vector<Tensor> accumulated = gradients(f, inputs, true);
  for (size_t k = 0; k < inputs.size(); ++k)
    for (int64_t i = 0; i < fresh[k].numel(); ++i) {
      ASSERT_TRUE(std::isfinite(fresh[k][i])) << "input " << k << " element " << i;
      ASSERT_EQ(fresh[k][i], accumulated[k][i]) << "input " << k << " element " << i;
    }
}

}  // namespace

TEST(GradOut, AllocatesUninitialisedOnceThenAccumulates) {
  Var x = leaf(Tensor::zeros({2, 3}), true);
  Node::GradOut first = x->grad_out();
  EXPECT_FALSE(first.accumulate);
  ASSERT_EQ(first.buffer, &x->grad);
  EXPECT_EQ(x->grad.shape(), (Shape{2, 3}));
  Node::GradOut second = x->grad_out();
  EXPECT_TRUE(second.accumulate);
  EXPECT_EQ(second.buffer, first.buffer);
}

TEST(TakeGrad, AdoptsWithoutCopyThenAdds) {
  Var x = leaf(Tensor::zeros({4}), true);
  Tensor g = Tensor::from({4}, {1, 2, 3, 4});
  const float* storage = g.data();
  x->take_grad(g);
  EXPECT_EQ(x->grad.data(), storage);  // adopted, not copied
  x->take_grad(Tensor::from({4}, {10, 10, 10, 10}));
  EXPECT_EQ(x->grad.to_vector(), (std::vector<float>{11, 12, 13, 14}));
  EXPECT_THROW(x->take_grad(Tensor::zeros({3})), Error);
}

TEST(AddGrad, CopiesFirstThenAdds) {
  Var x = leaf(Tensor::zeros({3}), true);
  Tensor g = Tensor::from({3}, {1, 2, 3});
  x->add_grad(g);
  EXPECT_NE(x->grad.data(), g.data());
  x->add_grad(g);
  EXPECT_EQ(x->grad.to_vector(), (std::vector<float>{2, 4, 6}));
  EXPECT_EQ(g.to_vector(), (std::vector<float>{1, 2, 3}));  // the caller's stays as it was
  EXPECT_THROW(x->add_grad(Tensor::zeros({2, 2})), Error);
}

TEST(FirstGradientWrite, Linear) {
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return linear(v[0], v[1], v[2]); },
                                         {random_tensor({5, 6}, 1), random_tensor({4, 6}, 2), random_tensor({4}, 3)});
}

TEST(FirstGradientWrite, MatmulIncludingTheSameInputTwice) {
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return matmul(v[0], v[1], true, false); },
                                         {random_tensor({2, 6, 5}, 1), random_tensor({2, 6, 4}, 2)});
  expect_first_write_equals_accumulation(
      [](const std::vector<Var>& v) { return matmul(v[0], v[1], false, true, 0.5f); },
      {random_tensor({3, 5, 8}, 1), random_tensor({4, 8}, 2)});
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return matmul(v[0], v[0], false, true); },
                                         {random_tensor({6, 5}, 4)});
}

TEST(FirstGradientWrite, Transpose) {
  expect_first_write_equals_accumulation(
      [](const std::vector<Var>& v) {
        return transpose(v[0], {2, 0, 3, 1});
      },
      {random_tensor({2, 3, 4, 5}, 1)});
}

TEST(FirstGradientWrite, TransposeUnbindWithAndWithoutEveryPiece) {
  // Every piece used: the pieces' gradients are assigned into a's. One piece unused: its
  // place must come out zero, not what the buffer held.
  expect_first_write_equals_accumulation(
      [](const std::vector<Var>& v) {
        std::vector<Var> p = transpose_unbind(reshape(v[0], {2, 3, 3, 2, 4}), {2, 0, 3, 1, 4});
        return concat({p[1], p[2], p[0]}, 0);
      },
      {random_tensor({2, 3, 24}, 1)});
  expect_first_write_equals_accumulation(
      [](const std::vector<Var>& v) {
        std::vector<Var> p = transpose_unbind(reshape(v[0], {2, 3, 3, 2, 4}), {2, 0, 3, 1, 4});
        return concat({p[2], p[0]}, 0);
      },
      {random_tensor({2, 3, 24}, 2)});
}

TEST(FirstGradientWrite, SoftmaxLayerNormAndMask) {
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return softmax(v[0]); },
                                         {random_tensor({6, 10}, 1)});
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return log_softmax(v[0]); },
                                         {random_tensor({6, 10}, 2)});
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); },
                                         {random_tensor({5, 8}, 3), random_tensor({8}, 4), random_tensor({8}, 5)});
  // Masked entries must get 0, not what the buffer held: a padded key and the causal mask.
  const Tensor keys = Tensor::from({2, 4}, {1, 1, 1, 0, 1, 1, 0, 0});
  for (bool causal : {false, true})
    expect_first_write_equals_accumulation([&](const std::vector<Var>& v) { return mask_scores(v[0], keys, causal); },
                                           {random_tensor({2, 3, 4, 4}, 6)});
  // The attention pattern: the mask's gradient comes from the softmax's first write.
  expect_first_write_equals_accumulation(
      [&](const std::vector<Var>& v) { return softmax(mask_scores(v[0], keys, true)); },
      {random_tensor({2, 3, 4, 4}, 7)});
}

TEST(FirstGradientWrite, ReshapeAndAddIncludingTheSameInputTwice) {
  expect_first_write_equals_accumulation(
      [](const std::vector<Var>& v) {
        return add(reshape(v[0], {4, 6}), reshape(v[1], {4, 6}));
      },
      {random_tensor({2, 12}, 1), random_tensor({24}, 2)});
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return add(v[0], v[0]); },
                                         {random_tensor({3, 5}, 3)});
  // A residual connection: x reaches the sum directly and through a product, and its
  // gradient adopted from the sum must then take the product's share.
  expect_first_write_equals_accumulation([](const std::vector<Var>& v) { return add(v[0], linear(v[0], v[1], Var())); },
                                         {random_tensor({4, 5}, 4), random_tensor({5, 5}, 5)});
}

TEST(FirstGradientWrite, Dropout) {
  Rng rng_a(7), rng_b(7);
  int call = 0;
  // The same mask on both runs: each draws from its own Rng with the same seed.
  expect_first_write_equals_accumulation(
      [&](const std::vector<Var>& v) { return dropout(v[0], 0.3f, true, call++ % 2 ? rng_b : rng_a); },
      {random_tensor({6, 40}, 1)});
}

}  // namespace nmt
