// The tape's memory behaviour: values no backward needs are freed as soon as the model
// code lets go of them, values a backward saved survive until it ran, and a whole
// step (forward + backward) gives back every buffer it took.
#include <gtest/gtest.h>

#include "core/allocator.h"
#include "core/graph.h"
#include "gradcheck.h"
#include "ops/elementwise.h"
#include "ops/eltwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"

namespace nmt {
using testing::random_tensor;

TEST(TapeMemory, UnsavedIntermediateValueIsDroppedWithItsLastVar) {
  Var x = leaf(Tensor::full({2, 3}, 1.0f), true);
  Var y = scale(x, 2.0f);  // scale's backward needs no value
  NodeRef yn = y.node();
  Var z = scale(y, 3.0f);
  y.reset();
  EXPECT_TRUE(yn->value.empty());               // storage dropped...
  EXPECT_EQ(yn->value.shape(), (Shape{2, 3}));  // ...shape kept for its gradient
  Tape::current().backward(sum(z));
  EXPECT_EQ(x->grad.to_vector(), std::vector<float>(6, 6.0f));
}

TEST(TapeMemory, SavedValueSurvivesUntilItsBackward) {
  const Tensor a = random_tensor({3, 4}, 1), w = random_tensor({4, 2}, 2);
  auto grads = [&](bool drop) {
    Var xa = leaf(a.clone(), true), xw = leaf(w.clone(), true);
    Var h = tanh(xa);  // saved by tanh's backward (its output) and by matmul's (an operand)
    NodeRef hn = h.node();
    Var out = sum(matmul(h, xw));
    if (drop) {
      const size_t in_use = pool_bytes_in_use();
      h.reset();
      EXPECT_TRUE(hn->value.empty());          // the Node let go of it...
      EXPECT_EQ(pool_bytes_in_use(), in_use);  // ...but the closures that need it keep the buffer
    }
    Tape::current().backward(out);
    return std::make_pair(xa->grad.to_vector(), xw->grad.to_vector());
  };
  EXPECT_EQ(grads(true), grads(false));
}

TEST(TapeMemory, VarHandlesCountCopiesAndMoves) {
  Var x = leaf(Tensor::full({4}, 1.0f), true);
  Var y = scale(x, 2.0f);
  NodeRef yn = y.node();
  Var sink = scale(y, 1.0f);  // keeps y's Node on the tape
  {
    Var copy = y;
    Var moved = std::move(copy);
    y = nullptr;
    EXPECT_FALSE(yn->value.empty());  // `moved` still holds it
  }
  EXPECT_TRUE(yn->value.empty());
  Tape::current().clear();
}

TEST(TapeMemory, StepReturnsEveryBufferItTook) {
  // Parameters with their gradients allocated before the step, as the parameter arena does.
  Var w1 = param_leaf(random_tensor({8, 16}, 3), Tensor::zeros({8, 16}));
  Var w2 = param_leaf(random_tensor({16, 4}, 4), Tensor::zeros({16, 4}));
  const Tensor input = random_tensor({5, 8}, 5);
  const size_t before = pool_bytes_in_use();
  {
    Var x = leaf(input);
    Var h = relu(matmul(x, w1));
    Var loss = sum(mul(matmul(h, w2), matmul(h, w2)));
    h.reset();
    Tape::current().backward(loss);
  }
  EXPECT_EQ(Tape::current().size(), 0u);
  EXPECT_EQ(pool_bytes_in_use(), before);
}

}  // namespace nmt
