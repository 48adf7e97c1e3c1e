// Small helpers shared by the oneDNN op wrappers (matmul, linear, eltwise, softmax,
// layer norm): exact cache-key pieces, running a primitive on the context stream, and
// turning oneDNN's exceptions into nmt::Error that names the op and its shapes.
#pragma once

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/context.h"
#include "core/error.h"
#include "core/tensor.h"

namespace nmt {

// Exact cache-key text for a float (its bit pattern), so 0.1f and 0.1000001f differ.
std::string key_float(float v);

// Builds a primitive descriptor (or anything else) with `make`, rethrowing a
// dnnl::error as nmt::Error prefixed by `what` (the op and its shapes).
template <typename F>
auto dnnl_build(const std::string& what, F&& make) -> decltype(make()) {
  try {
    return make();
  } catch (const dnnl::error& e) {
    throw Error(cat(what, ": oneDNN: ", e.what()));
  }
}

// A primitive and its descriptor, as the primitive cache holds them.
template <typename Prim>
struct CachedPrimitive {
  typename Prim::primitive_desc pd;
  Prim prim;
};

// The primitive built by make_pd() (its descriptor) on first use of `key` in the calling
// thread's cache (core/context.h), replayed afterwards: the forward/backward pattern of the
// ops. A backward's make_pd asks for its forward's CachedPrimitive (by its own key) for the
// hint. A oneDNN error while building becomes nmt::Error prefixed by `what`.
template <typename Prim, typename MakePd>
CachedPrimitive<Prim>& cached_primitive(const std::string& key, const std::string& what, MakePd&& make_pd) {
  return Context::get().cached<CachedPrimitive<Prim>>(key, [&] {
    return dnnl_build(what, [&] {
      typename Prim::primitive_desc pd = make_pd();
      return CachedPrimitive<Prim>{pd, Prim(pd)};
    });
  });
}

// Attributes every nmt primitive is built with: scratchpad_mode::user. In oneDNN's default
// (library) mode most primitives allocate their own scratchpad when they are created and hold
// it as long as they live, so a cache of primitives would pin one scratchpad per cached shape.
// In user mode the scratchpad is lent from the tensor pool for one execution (dnnl_execute)
// and reused by the next.
dnnl::primitive_attr nmt_attr();

// Executes `prim` on the context stream with `args` and waits for it; a primitive that needs
// a scratchpad gets one from the pool for this execution.
void dnnl_execute(const dnnl::primitive& prim, std::unordered_map<int, dnnl::memory> args);

// An uninitialised pool tensor large enough to hold memory of descriptor `md` (any layout).
Tensor buffer_for(const dnnl::memory::desc& md);

// dst += src, same number of elements (for backward primitives that cannot accumulate:
// they write into a scratch tensor that is then added).
void add_to(Tensor& dst, const Tensor& src);

// A parameter handed to primitives in the layout each asks for: the plain buffer itself
// when layouts agree, else a reordered copy, made on first request and reused for every
// later request of the same layout (RNN weights for the length groups of one rnn_layer
// call; linear weights for a whole translation, ops/linear_packed.h).
class ParamLayouts {
 public:
  ParamLayouts(const Tensor& plain, const dnnl::memory::desc& plain_md) : plain_(plain), plain_md_(plain_md) {}
  dnnl::memory get(const dnnl::memory::desc& want);
  // Reordered copies held (the plain layout needs none).
  size_t copies() const { return copies_.size(); }

 private:
  Tensor plain_;
  dnnl::memory::desc plain_md_;
  std::vector<std::pair<dnnl::memory::desc, Tensor>> copies_;
};

}  // namespace nmt
