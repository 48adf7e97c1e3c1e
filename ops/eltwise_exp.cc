#include "ops/eltwise_exp.h"

#include "core/context.h"
#include "ops/dnnl_util.h"

namespace nmt {

void exp_inplace(Tensor& x) {
  struct Prim {
    dnnl::eltwise_forward prim;
  };
  const Shape flat{x.numel()};
  auto& ctx = Context::get();
  auto& p = ctx.cached<Prim>("exp_inplace" + key_dims(flat), [&] {
    const auto md = plain_md(flat);
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_exp, md, 0.f, 0.f);
    return Prim{dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, nmt_attr(), ctx.engine()))};
  });
  dnnl::memory m = as_memory(x, plain_md(flat));
  dnnl_execute(p.prim, {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
}

}  // namespace nmt
