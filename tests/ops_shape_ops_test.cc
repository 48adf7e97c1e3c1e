#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/shape_ops.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

namespace {
Shape strides_of(const Shape& s) {
  Shape st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

// Naive permute: out[idx] = a[idx mapped back through perm].
Tensor naive_transpose(const Tensor& a, const std::vector<int>& perm) {
  const Shape& in = a.shape();
  Shape out_shape(perm.size());
  for (size_t k = 0; k < perm.size(); ++k) out_shape[k] = in[perm[k]];
  Tensor out(out_shape);
  const Shape in_st = strides_of(in), out_st = strides_of(out_shape);
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t src = 0;
    for (size_t k = 0; k < perm.size(); ++k) src += (i / out_st[k] % out_shape[k]) * in_st[perm[k]];
    out[i] = a[src];
  }
  return out;
}

void expect_equal(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a[i], b[i]) << "element " << i;
}
}  // namespace

// Every op here only moves values (index_select's gradient adds them), so central
// differences are exact up to rounding: the default tolerances are ample.

TEST(Reshape, SharesStorageAndInfers) {
  Tensor a = random_tensor({2, 3, 4}, 1);
  NoGradScope ng;
  Var x = leaf(a);
  Var r = reshape(x, {6, -1});
  EXPECT_EQ(r->value.shape(), Shape({6, 4}));
  EXPECT_EQ(r->value.data(), a.data());
  testing::expect_error_containing([&] { reshape(x, {5, 5}); }, "[2, 3, 4]");
  testing::expect_error_containing([&] { reshape(x, {5, -1}); }, "[5, -1]");
  testing::expect_error_containing([&] { reshape(x, {-1, -1}); }, "[-1, -1]");
}

TEST(Reshape, Gradient) {
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return reshape(x[0], {3, 8});
      },
      {random_tensor({2, 3, 4}, 2)});
}

TEST(Concat, ForwardMatchesLoop) {
  Tensor a = random_tensor({2, 3, 2}, 3), b = random_tensor({2, 1, 2}, 4), c = random_tensor({2, 2, 2}, 5);
  NoGradScope ng;
  Var y = concat({leaf(a), leaf(b), leaf(c)}, 1);
  ASSERT_EQ(y->value.shape(), Shape({2, 6, 2}));
  for (int n = 0; n < 2; ++n)
    for (int t = 0; t < 6; ++t)
      for (int k = 0; k < 2; ++k) {
        float want = t < 3 ? a[(n * 3 + t) * 2 + k] : t < 4 ? b[(n * 1 + t - 3) * 2 + k] : c[(n * 2 + t - 4) * 2 + k];
        EXPECT_EQ(y->value[(n * 6 + t) * 2 + k], want);
      }
  // Last axis via a negative index, and the first axis.
  Var z = concat({leaf(a), leaf(a)}, -1);
  EXPECT_EQ(z->value.shape(), Shape({2, 3, 4}));
  EXPECT_EQ(z->value[2], a[0]);
  Var w = concat({leaf(a), leaf(a)}, 0);
  EXPECT_EQ(w->value.shape(), Shape({4, 3, 2}));
  EXPECT_EQ(w->value[12], a[0]);
}

TEST(Concat, GradientWithMixedRequiresGrad) {
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return concat({x[0], x[1], x[0]}, 1);
      },
      {random_tensor({2, 3, 2}, 6), random_tensor({2, 2, 2}, 7)});
  // An input without a gradient is skipped but its columns still offset the others.
  Tensor fixed = random_tensor({2, 4}, 8);
  expect_gradients_match(
      [&](const std::vector<Var>& x) {
        return concat({leaf(fixed), x[0]}, 1);
      },
      {random_tensor({2, 3}, 9)});
}

TEST(Concat, Errors) {
  testing::expect_error_containing([] { concat({leaf(Tensor({2, 3})), leaf(Tensor({3, 3}))}, 1); }, "[3, 3]");
  testing::expect_error_containing([] { concat({leaf(Tensor({2, 3})), leaf(Tensor({2, 3, 1}))}, 0); }, "[2, 3, 1]");
  testing::expect_error_containing([] { concat({leaf(Tensor({2, 3}))}, 2); }, "axis 2");
  EXPECT_THROW(concat({}, 0), Error);
}

TEST(SplitSlice, RoundTripsThroughConcat) {
  Tensor a = random_tensor({3, 7, 2}, 10);
  NoGradScope ng;
  std::vector<Var> parts = split(leaf(a), 1, {2, 0, 4, 1});
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0]->value.shape(), Shape({3, 2, 2}));
  EXPECT_EQ(parts[1]->value.shape(), Shape({3, 0, 2}));
  EXPECT_EQ(parts[2]->value.shape(), Shape({3, 4, 2}));
  expect_equal(concat(parts, 1)->value, a);
  // slice agrees with the naive index.
  Var s = slice(leaf(a), -2, 2, 6);
  for (int n = 0; n < 3; ++n)
    for (int t = 0; t < 4; ++t)
      for (int k = 0; k < 2; ++k) EXPECT_EQ(s->value[(n * 4 + t) * 2 + k], a[(n * 7 + t + 2) * 2 + k]);
}

TEST(SplitSlice, Gradients) {
  expect_gradients_match([](const std::vector<Var>& x) { return slice(x[0], 1, 1, 3); },
                         {random_tensor({2, 4, 3}, 11)});
  // Pieces swapped, one dropped: its part of the gradient stays zero.
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        auto p = split(x[0], 0, {1, 2, 1});
        return concat({p[2], p[0]}, 0);
      },
      {random_tensor({4, 3}, 12)});
}

TEST(SplitSlice, Errors) {
  Var a = leaf(Tensor({2, 5}));
  testing::expect_error_containing([&] { slice(a, 1, 3, 6); }, "[2, 5]");
  testing::expect_error_containing([&] { slice(a, 1, 4, 3); }, "[4, 3)");
  testing::expect_error_containing([&] { split(a, 1, {2, 2}); }, "[2, 5]");
  testing::expect_error_containing([&] { split(a, 1, {6, -1}); }, "[6, -1]");
  testing::expect_error_containing([&] { slice(a, -3, 0, 1); }, "axis -3");
}

TEST(Transpose, AllRank3PermsMatchNaive) {
  Tensor a = random_tensor({2, 3, 4}, 13);
  std::vector<int> perm = {0, 1, 2};
  NoGradScope ng;
  do {
    Var t = transpose(leaf(a), perm);
    expect_equal(t->value, naive_transpose(a, perm));
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(Transpose, Rank4And5AndRoundTrip) {
  NoGradScope ng;
  Tensor a = random_tensor({2, 3, 4, 5}, 14);
  expect_equal(transpose(leaf(a), {0, 2, 1, 3})->value, naive_transpose(a, {0, 2, 1, 3}));
  expect_equal(transpose(leaf(a), {3, 1, 0, 2})->value, naive_transpose(a, {3, 1, 0, 2}));
  Tensor b = random_tensor({2, 3, 1, 4, 2}, 15);
  const std::vector<int> p = {4, 2, 0, 3, 1};
  Var t = transpose(leaf(b), p);
  expect_equal(t->value, naive_transpose(b, p));
  std::vector<int> inv(5);
  for (int k = 0; k < 5; ++k) inv[p[k]] = k;
  expect_equal(transpose(t, inv)->value, b);
  Tensor c = random_tensor({6}, 16);
  expect_equal(transpose(leaf(c), {0})->value, c);
}

TEST(Transpose, LargeMatchesNaive) {
  // Above the OpenMP threshold, for both the contiguous-row and the strided path.
  NoGradScope ng;
  Tensor a = random_tensor({4, 64, 8, 32}, 17);
  expect_equal(transpose(leaf(a), {0, 2, 1, 3})->value, naive_transpose(a, {0, 2, 1, 3}));
  expect_equal(transpose(leaf(a), {0, 1, 3, 2})->value, naive_transpose(a, {0, 1, 3, 2}));
}

TEST(Transpose, Gradient) {
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return transpose(x[0], {2, 0, 1});
      },
      {random_tensor({2, 3, 4}, 18)});
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return transpose(x[0], {0, 2, 1, 3});
      },
      {random_tensor({2, 3, 2, 2}, 19)});
}

TEST(TransposeUnbind, EqualsSplitOfTranspose) {
  NoGradScope ng;
  // The attention layout [N, T, G, H, dh] -> G x [N, H, T, dh], small and above the OpenMP
  // threshold; and a rank-3 case whose cut axis is the input's last.
  for (const Shape& shape : {Shape{2, 3, 3, 2, 4}, Shape{8, 40, 3, 4, 32}}) {
    Tensor a = random_tensor(shape, 20);
    const std::vector<int> perm = {2, 0, 3, 1, 4};
    std::vector<Var> pieces = transpose_unbind(leaf(a), perm);
    Tensor whole = naive_transpose(a, perm);
    ASSERT_EQ(pieces.size(), static_cast<size_t>(shape[2]));
    const int64_t n = whole.numel() / shape[2];
    for (size_t i = 0; i < pieces.size(); ++i) {
      ASSERT_EQ(pieces[i]->value.shape(), Shape({shape[0], shape[3], shape[1], shape[4]}));
      for (int64_t j = 0; j < n; ++j) ASSERT_EQ(pieces[i]->value[j], whole[i * n + j]) << "piece " << i << " at " << j;
    }
  }
  Tensor b = random_tensor({3, 4, 5}, 21);
  std::vector<Var> pieces = transpose_unbind(leaf(b), {2, 0, 1});
  ASSERT_EQ(pieces.size(), 5u);
  for (int i = 0; i < 5; ++i)
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 4; ++c) ASSERT_EQ(pieces[i]->value[r * 4 + c], b[(r * 4 + c) * 5 + i]);
}

TEST(TransposeUnbind, Gradients) {
  // All pieces, reordered; and one piece dropped, whose part of the gradient stays zero.
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        std::vector<Var> p = transpose_unbind(x[0], {2, 0, 3, 1, 4});
        return concat({p[2], p[0], p[1]}, 1);
      },
      {random_tensor({2, 3, 3, 2, 2}, 22)});
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        std::vector<Var> p = transpose_unbind(x[0], {1, 0});
        return concat({p[3], p[0]}, 0);
      },
      {random_tensor({3, 4}, 23)});
}

TEST(Transpose, Errors) {
  Var a = leaf(Tensor({2, 3, 4}));
  testing::expect_error_containing([&] { transpose(a, {0, 0, 1}); }, "[2, 3, 4]");
  testing::expect_error_containing([&] { transpose(a, {0, 1}); }, "[0, 1]");
  testing::expect_error_containing([&] { transpose(a, {0, 1, 3}); }, "[0, 1, 3]");
  testing::expect_error_containing([&] { transpose_unbind(a, {0, 2}); }, "[0, 2]");
  testing::expect_error_containing(
      [] {
        transpose(leaf(Tensor({1, 1, 1, 1, 1, 1})), {0, 1, 2, 3, 4, 5});
      },
      "[1, 1, 1, 1, 1, 1]");
}

TEST(IndexSelect, MatchesNaiveOnEachAxis) {
  Tensor a = random_tensor({3, 4, 2}, 20);
  NoGradScope ng;
  const std::vector<int32_t> idx0 = {2, 0, 2, 1};
  Var y0 = index_select(leaf(a), 0, idx0);
  ASSERT_EQ(y0->value.shape(), Shape({4, 4, 2}));
  for (int j = 0; j < 4; ++j)
    for (int k = 0; k < 8; ++k) EXPECT_EQ(y0->value[j * 8 + k], a[idx0[j] * 8 + k]);
  const std::vector<int32_t> idx1 = {3, 3, 0};
  Var y1 = index_select(leaf(a), 1, idx1);
  ASSERT_EQ(y1->value.shape(), Shape({3, 3, 2}));
  for (int n = 0; n < 3; ++n)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 2; ++k) EXPECT_EQ(y1->value[(n * 3 + j) * 2 + k], a[(n * 4 + idx1[j]) * 2 + k]);
  // A permutation and its inverse give the input back (beam reordering).
  const std::vector<int32_t> perm = {1, 2, 0}, inv = {2, 0, 1};
  expect_equal(index_select(index_select(leaf(a), 0, perm), 0, inv)->value, a);
  EXPECT_EQ(index_select(leaf(a), -1, {1})->value.shape(), Shape({3, 4, 1}));
}

TEST(IndexSelect, GradientScatterAddsRepeats) {
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return index_select(x[0], 0, {2, 0, 2, 2});
      },
      {random_tensor({3, 5}, 21)});
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return index_select(x[0], 1, {1, 1, 0});
      },
      {random_tensor({2, 3, 2}, 22)});
}

TEST(IndexSelect, LargeBackwardMatchesNaive) {
  // 300 columns = two column blocks; repeats everywhere; above the OpenMP threshold.
  const int64_t rows = 50, cols = 300, n = 400;
  std::vector<int32_t> idx(n);
  for (int64_t j = 0; j < n; ++j) idx[j] = static_cast<int32_t>((j * 7) % rows);
  Tensor dout = random_tensor({n, cols}, 23);
  Tensor da = Tensor::zeros({rows, cols});
  index_select_backward(dout, 0, idx, da);
  std::vector<double> want(rows * cols, 0.0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t c = 0; c < cols; ++c) want[idx[j] * cols + c] += dout[j * cols + c];
  for (int64_t i = 0; i < rows * cols; ++i) ASSERT_NEAR(da[i], want[i], 1e-4) << i;
}

TEST(IndexSelect, OutOfRangeThrows) {
  testing::expect_error_containing([] { index_select(leaf(Tensor({3, 2})), 0, {0, 3}); }, "[3, 2]");
  testing::expect_error_containing([] { index_select(leaf(Tensor({3, 2})), 1, {-1}); }, "index -1");
}

}  // namespace nmt
