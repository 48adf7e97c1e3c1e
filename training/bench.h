// `nmt bench train`: training throughput and memory, measured.
//
// Runs full updates (forward, backward, clipping, Adam) of the configured model on
// `steps` mini-batches of the corpus (under mpirun, each process its share of each, by
// target tokens, and the gradients summed across them: the tokens are all processes'), twice over the same batches: the
// first pass includes building oneDNN primitives for each new batch shape, the second is the steady state (as in every
// epoch after the first). Reports source+target tokens/s for both, the peak resident memory and the thread count, as
// text (the last line sums it up) or as one JSON object with the same figures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "training/trainer.h"

namespace nmt {

struct BenchTrainOptions {
  TrainOptions train;  // model, data, batching, optimiser
  int warmup = 5;      // updates before timing starts (first pass)
  int steps = 40;      // timed updates per pass

  // Throws OptionError naming the first option that breaks its rule (those of
  // TrainOptions::validate_updates, warmup and steps). bench_train calls it.
  void validate() const;
};

// One timed pass over the `steps` mini-batches.
struct BenchPass {
  int64_t tokens = 0;  // source + target tokens (</s> included)
  double seconds = 0;
  double pool_mib_per_update = 0;  // tensor pool memory taken from the system per update
  double allreduce_seconds = 0;    // summing the gradients across processes (mpirun only)
  double tok_per_s() const { return tokens / seconds; }
};

// Every figure of a bench train run. Rates over zero seconds are inf or NaN; the JSON
// report writes them as null.
struct BenchTrainReport {
  std::string cpu, onednn_version, onednn_isa;
  int threads = 0;              // per process
  int rank = 0, processes = 1;  // under mpirun: this process's rank, and how many train together
  size_t primitives_cached = 0;
  std::string model;  // the model type
  int64_t parameters = 0, mini_batch_words = 0;
  int warmup = 0, steps = 0;
  bool bf16 = false, bf16_emulated = false;  // products in bfloat16; emulated: no native support
  BenchPass first, steady;                   // first pass (builds primitives), second pass (steady state)
  double mflop_per_token = 0;                // matrix-product MFLOP per source+target token
  double gflops = 0;                         // matrix-product GFLOP/s in the steady pass
  double matmul_peak_gflops = 0;             // a 2048x1024x1024 fp32 oneDNN matmul on the same threads
  double bf16_matmul_peak_gflops = 0;        // the same matmul in bfloat16 (bf16 runs only)
  double peak_rss_mib = 0, tensors_mib = 0;  // peak resident memory; peak tensor pool in use
};

BenchTrainReport bench_train(const BenchTrainOptions& options);

// The human-readable report; its last line is "bench train MODEL: first pass ... threads".
std::string bench_train_text(const BenchTrainReport& report);
// The same figures as one JSON object on one line, keys in snake_case: bench ("train"), model,
// parameters, mini_batch_words, warmup, steps, precision ("float32" | "bfloat16"), bf16_emulated,
// threads, processes, allreduce_fraction (of the steady pass), cpu, onednn_version, onednn_isa, primitives_cached,
// first_pass_{tokens,seconds,tok_per_s}, steady_{tokens,seconds,tok_per_s}, peak_rss_mib, tensors_mib,
// pool_mib_per_update_{first_pass,steady}, mflop_per_token, gflops, matmul_peak_gflops, matmul_peak_fraction, and
// bf16_matmul_peak_gflops and bf16_matmul_peak_fraction (null unless precision is bfloat16).
std::string bench_train_json(const BenchTrainReport& report);

}  // namespace nmt
