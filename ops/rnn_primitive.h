// The oneDNN side of rnn_layer (ops/rnn.h) for ONE dense sub-batch, in which every
// sentence has the same length T: the cached forward/backward primitives, the parameter
// layout handling, and the forward/backward kernels on Tensors. Lengths, gathering and
// the tape live in rnn.cc.
#pragma once

#include <utility>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "ops/dnnl_util.h"
#include "ops/rnn.h"

namespace nmt {

// How the primitives are built.
//   training:      forward_training (keeps a workspace) + the backward primitive,
//                  else forward_inference.
//   plain_weights: the forward reads the parameters in their plain ldigo layout (no
//                  reorder) and the backward writes plain gradients (no scratch); used in
//                  fp32 and for single steps (T = 1: decoding). Otherwise weights and their
//                  gradients use tag::any. In fp32 oneDNN 2.6 picks ldigo with padded rows
//                  (2,064 floats for 2,048: a copy and a summing reorder a call), and the
//                  plain layout trains as fast with less memory (no padded copies).
//                  The backward's own weights are tag::any either way (oneDNN 2.6 has no
//                  plain option there).
//   bf16:          bfloat16 primitives (fp32 accumulation), under a Bf16Scope on a CPU with
//                  native bf16: inputs, hidden states, outputs and weights in bfloat16; the
//                  bias, the LSTM cell state and every gradient in fp32 (oneDNN 2.6's only
//                  bf16 RNN configuration). For a 512-wide LSTM at 32 x 35 positions the
//                  training workspace is about 33 MB instead of 45 and the backward's
//                  scratchpad about 2 MB instead of 47.
struct RnnMode {
  bool training;
  bool plain_weights;
  bool bf16 = false;
};

// Whether rnn_layer runs the bf16 primitives here: a Bf16Scope is on (ops/bf16.h) and oneDNN
// has native bf16 kernels (emulated bf16 is slower than fp32, ops/bf16.h).
bool rnn_bf16_active();

struct RnnPrimitives {
  dnnl::primitive_desc fwd_pd;
  dnnl::primitive fwd;
  dnnl::primitive_desc bwd_pd;  // training only
  dnnl::primitive bwd;
};

// Built once per (cell, direction, T, N, I, H, mode) and cached in the Context.
const RnnPrimitives& rnn_primitives(const RnnLayerSpec& spec, int64_t T, int64_t N, RnnMode mode);

// Plain memory descriptors of the parameters, with oneDNN's layer axis (of size 1).
dnnl::memory::desc rnn_weights_layer_md(const RnnLayerSpec& spec);
dnnl::memory::desc rnn_weights_iter_md(const RnnLayerSpec& spec);
dnnl::memory::desc rnn_bias_md(const RnnLayerSpec& spec);

// Where the backward primitive writes a parameter's gradient. oneDNN's RNN backward
// ACCUMULATES into its diff weights / diff bias. When the primitive's layout is the plain
// one, it accumulates straight into `grad` (+=, as the house rule wants); otherwise into a
// scratch buffer in its layout, zeroed on creation, which finish() adds into `grad` with a
// summing reorder. grad == nullptr: the gradient is not wanted (scratch, discarded).
class RnnParamGrad {
 public:
  RnnParamGrad(Tensor* grad, const dnnl::memory::desc& plain_md) : grad_(grad), plain_md_(plain_md) {}
  dnnl::memory get(const dnnl::memory::desc& want);
  void finish();

 private:
  Tensor* grad_;
  dnnl::memory::desc plain_md_;
  std::vector<std::pair<dnnl::memory::desc, Tensor>> scratch_;
};

// Tensors of one dense sub-batch, all plain row-major. D = directions.
struct RnnDenseIO {
  Tensor x;          // [T, N, I]
  Tensor h0, c0;     // [D, N, H]; c0 for LSTM only
  Tensor y;          // [T, N, D*H]   written by the forward
  Tensor h_last;     // [D, N, H]     written by the forward
  Tensor c_last;     // [D, N, H]     written by the forward (LSTM)
  Tensor workspace;  // training: allocated by the forward, read by the backward
  // bf16 mode: the bfloat16 copies of x, h0, y and h_last that the primitives read and
  // write (y and h_last are converted to fp32 after the forward); kept for the backward,
  // which then needs neither x nor y (the caller may let them go).
  Tensor x16, h0_16, y16, h_last16;
};

struct RnnDenseGrads {
  Tensor dy, dh_last, dc_last;  // inputs: [T, N, D*H], [D, N, H], [D, N, H] (LSTM)
  Tensor dx, dh0, dc0;          // outputs, OVERWRITTEN: [T, N, I], [D, N, H], [D, N, H] (LSTM)
};

void rnn_dense_forward(const RnnLayerSpec& spec, RnnMode mode, ParamLayouts& w_layer, ParamLayouts& w_iter,
                       ParamLayouts& bias, RnnDenseIO& io);
// Needs the io of a training forward run with the same mode. Accumulates (+=) the parameter gradients.
void rnn_dense_backward(const RnnLayerSpec& spec, RnnMode mode, ParamLayouts& w_layer, ParamLayouts& w_iter,
                        ParamLayouts& bias, const RnnDenseIO& io, RnnDenseGrads& g, RnnParamGrad& dw_layer,
                        RnnParamGrad& dw_iter, RnnParamGrad& dbias);

}  // namespace nmt
