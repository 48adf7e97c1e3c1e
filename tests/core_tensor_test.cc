// Tensor views along axis 0: leading(n) and rows(begin, end) share the storage (writes show
// through both ways), keep it alive after the tensor they came from is gone, and refuse
// ranges outside the tensor with its shape in the message.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace nmt {
namespace {

Tensor counting(Shape shape) {
  Tensor t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(i);
  return t;
}

TEST(TensorRows, ViewsTheRowsAndSharesTheStorage) {
  Tensor t = counting({4, 2, 3});
  Tensor mid = t.rows(1, 3);
  EXPECT_EQ(mid.shape(), (Shape{2, 2, 3}));
  for (int64_t i = 0; i < mid.numel(); ++i) EXPECT_EQ(mid[i], static_cast<float>(6 + i));
  mid[0] = -1.0f;
  EXPECT_EQ(t[6], -1.0f);
  t[11] = -2.0f;
  EXPECT_EQ(mid[5], -2.0f);
  EXPECT_EQ(t.rows(2, 2).numel(), 0);
  EXPECT_EQ(t.rows(0, 4).data(), t.data());
  EXPECT_EQ(t.leading(3).shape(), (Shape{3, 2, 3}));
}

TEST(TensorRows, KeepsTheStorageAlive) {
  Tensor tail;
  {
    Tensor t = counting({3, 4});
    tail = t.rows(2, 3);
  }
  for (int64_t i = 0; i < 4; ++i) EXPECT_EQ(tail[i], static_cast<float>(8 + i));
}

TEST(TensorRows, RefusesRangesOutsideTheTensor) {
  const Tensor t = counting({3, 4});
  for (auto [b, e] : {std::pair<int64_t, int64_t>{-1, 2}, {2, 1}, {0, 4}}) {
    try {
      t.rows(b, e);
      FAIL() << "rows(" << b << ", " << e << ") did not throw";
    } catch (const Error& err) {
      EXPECT_NE(std::string(err.what()).find("[3, 4]"), std::string::npos) << err.what();
    }
  }
  EXPECT_THROW(t.leading(4), Error);
}

}  // namespace
}  // namespace nmt
