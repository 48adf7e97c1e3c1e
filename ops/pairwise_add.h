// out[n, t, s, :] = q[n, t, :] + k[n, s, :]: every query paired with every key, the
// inner sum of additive (Bahdanau / MLP) attention before its tanh.
#pragma once

#include "core/graph.h"

namespace nmt {

void pairwise_add_forward(const Tensor& q /*[N,T,A]*/, const Tensor& k /*[N,S,A]*/, Tensor& out /*[N,T,S,A]*/);
// dq[n,t,:] += sum_s dout[n,t,s,:]; dk[n,s,:] += sum_t dout[n,t,s,:]
void pairwise_add_backward(const Tensor& dout, Tensor* dq, Tensor* dk);

Var pairwise_add(const Var& q, const Var& k);

}  // namespace nmt
