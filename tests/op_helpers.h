// Shared checks of the core tests (tests/core_*_test.cc): that a call throws an nmt::Error
// whose message names the offending values, and that repeated calls of a oneDNN-backed
// op reuse the primitives Context caches instead of building new ones.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <initializer_list>
#include <string>

#include "core/context.h"
#include "core/error.h"
#include "core/graph.h"
#include "gradcheck.h"

namespace nmt::testing {

// f() must throw an E (nmt::Error unless named, e.g. expect_error_containing<InputError>)
// whose message contains every one of `texts`.
template <typename E = Error, typename F, typename... Texts>
void expect_error_containing(F f, const Texts&... texts) {
  static_assert(sizeof...(texts) > 0, "name at least one text the message must contain");
  const std::initializer_list<std::string> wanted = {std::string(texts)...};
  try {
    f();
    std::string all;
    for (const std::string& text : wanted) all += " '" + text + "'";
    ADD_FAILURE() << "no exception, expected one mentioning" << all;
  } catch (const E& e) {
    const std::string message = e.what();
    for (const std::string& text : wanted) EXPECT_NE(message.find(text), std::string::npos) << message;
  }
}

// The stored shape of a [r, c] matrix operand (batch dims `lead` first) that a product reads
// transposed when t: [..., c, r], else [..., r, c].
inline Shape stored_shape(bool t, Shape lead, int64_t r, int64_t c) {
  lead.push_back(t ? c : r);
  lead.push_back(t ? r : c);
  return lead;
}

// Runs `forward` (which applies some ops to fresh leaves and returns their output) and
// the backward pass from that output three times: the first run may add primitives to
// Context's cache, the next two must find all of theirs there.
inline void expect_cache_reused(const std::function<Var()>& forward) {
  auto step = [&] {
    Tape::current().clear();
    Var y = forward();
    Tape::current().backward(y, random_tensor(y->value.shape(), 7));
  };
  auto& ctx = Context::get();
  const size_t before = ctx.cache_size();
  step();
  const size_t after_first = ctx.cache_size();
  EXPECT_GT(after_first, before);
  step();
  step();
  EXPECT_EQ(ctx.cache_size(), after_first);
}

}  // namespace nmt::testing
