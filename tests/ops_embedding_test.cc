#include <gtest/gtest.h>

#include "core/error.h"
#include "gradcheck.h"
#include "op_helpers.h"
#include "ops/embedding.h"

namespace nmt {
using testing::expect_gradients_match;
using testing::random_tensor;

TEST(Embedding, ForwardGathersRows) {
  Tensor table = random_tensor({5, 3}, 1);
  const std::vector<int32_t> ids = {4, 0, 4, 2, 1, 3};
  NoGradScope ng;
  Var y = embedding(leaf(table), ids, {2, 3});
  ASSERT_EQ(y->value.shape(), Shape({2, 3, 3}));
  for (size_t i = 0; i < ids.size(); ++i)
    for (int e = 0; e < 3; ++e) EXPECT_EQ(y->value[i * 3 + e], table[ids[i] * 3 + e]);
}

TEST(Embedding, GradientScatterAdds) {
  // Linear in the table (a gather): central differences are exact up to rounding.
  expect_gradients_match(
      [](const std::vector<Var>& x) {
        return embedding(x[0], {1, 3, 1, 1, 0}, {5});
      },
      {random_tensor({4, 3}, 2)});
}

TEST(Embedding, RepeatedIdsSumAndUnusedRowsStayZero) {
  Tensor table = random_tensor({4, 2}, 3);
  Var t = leaf(table.clone(), true);
  Var y = embedding(t, {2, 2, 0}, {3});
  Tape::current().backward(y, Tensor::full({3, 2}, 1.0f));
  EXPECT_EQ(t->grad.to_vector(), std::vector<float>({1, 1, 0, 0, 2, 2, 0, 0}));
}

TEST(Embedding, LargeBackwardMatchesNaive) {
  // E = 520: three column blocks; above the OpenMP threshold.
  const int64_t v = 30, e = 520, n = 200;
  std::vector<int32_t> ids(n);
  for (int64_t i = 0; i < n; ++i) ids[i] = static_cast<int32_t>((i * i) % v);
  Tensor dout = random_tensor({n, e}, 4), dtable = Tensor::zeros({v, e});
  embedding_backward(dout, ids, dtable);
  std::vector<double> want(v * e, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < e; ++k) want[ids[i] * e + k] += dout[i * e + k];
  for (int64_t i = 0; i < v * e; ++i) ASSERT_NEAR(dtable[i], want[i], 1e-4) << i;
}

TEST(Embedding, Errors) {
  Var table = leaf(Tensor({5, 3}));
  testing::expect_error_containing([&] { embedding(table, {1, 5}, {2}); }, "id 5");
  testing::expect_error_containing([&] { embedding(table, {1, -2}, {2}); }, "[5, 3]");
  testing::expect_error_containing([&] { embedding(table, {1, 2, 3}, {2, 2}); }, "[2, 2]");
  testing::expect_error_containing([] { embedding(leaf(Tensor({5})), {1}, {1}); }, "[5]");
}

}  // namespace nmt
