#include "training/bench.h"

#include <dlfcn.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "core/allocator.h"
#include "core/context.h"
#include "core/system.h"
#include "core/error.h"
#include "ops/flops.h"
#include "core/graph.h"
#include "ops/bf16.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/rnn.h"
#include "training/optimizer.h"
#include "model/model.h"
#include "training/batcher.h"
#include "training/corpus.h"
#include "training/trainer.h"

namespace nmt {
namespace {

// NMT_POOL_TRACE diagnostics: resident memory now, and tcmalloc's view when linked.
void trace_memory(const char* when) {
  if (!std::getenv("NMT_POOL_TRACE")) return;
  std::ifstream status("/proc/self/status");
  std::string line, rss;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss = line.substr(6);
  std::fprintf(stderr, "memory %s: RSS%s, pool held %.1f MiB", when, rss.c_str(), pool_bytes_held() / 1048576.0);
  using Get = int (*)(const char*, size_t*);
  if (auto get = reinterpret_cast<Get>(dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"))) {
    for (const char* p : {"generic.current_allocated_bytes", "generic.heap_size", "tcmalloc.pageheap_free_bytes",
                          "tcmalloc.pageheap_unmapped_bytes"}) {
      size_t v = 0;
      if (get(p, &v)) std::fprintf(stderr, ", %s %.1f MiB", p, v / 1048576.0);
    }
  }
  std::fprintf(stderr, "\n");
}

}  // namespace

void BenchTrainOptions::validate() const {
  train.validate_updates();
  if (warmup < 0) throw OptionError(cat("warmup must be >= 0, got ", warmup));
  if (steps < 1) throw OptionError(cat("steps must be >= 1, got ", steps));
}

int bench_train(const BenchTrainOptions& o) {
  o.validate();
  const TrainOptions& t = o.train;
  Vocab src_vocab = Vocab::load(t.vocabs[0]);
  Vocab trg_vocab = Vocab::load(t.vocabs[1]);
  ParallelCorpus corpus = load_parallel_corpus(t.train_sets[0], t.train_sets[1], src_vocab, trg_vocab,
                                               t.max_length, true);
  ModelConfig config = t.model;
  config.src_vocab_size = src_vocab.size();
  config.trg_vocab_size = trg_vocab.size();
  if (t.vocabs[0] != t.vocabs[1]) config.tied_embeddings_all = false;
  Model model(config, t.seed);
  Adam adam(model.params(), t.adam);
  Rng rng(t.seed);
  Batcher batcher(corpus, t.mini_batch_words, t.maxi_batch, t.seed, batch_sort_for(t.maxi_batch_sort, t.model.enc_type));
  std::vector<std::vector<int32_t>> batches;
  for (int i = 0; i < o.warmup + o.steps; ++i) batches.push_back(batcher.next());
  trace_memory("before training");

  auto update = [&](const std::vector<int32_t>& idx, int64_t& tokens) {
    model.params().zero_grads();
    std::vector<std::vector<int32_t>> s, tr;
    for (int32_t i : idx) {
      s.push_back(corpus.src[i]);
      tr.push_back(corpus.trg[i]);
      tokens += static_cast<int64_t>(corpus.src[i].size() + corpus.trg[i].size() + 1);
    }
    TargetBatch trg = TargetBatch::from(tr);
    RnnRecomputeScope recompute(t.rnn_recompute);
    Bf16Scope bf16(t.bf16, &model.params());
    Var losses = model.token_losses(SourceBatch::from(s), trg, t.label_smoothing, true, rng);
    Tape::current().backward(scale(sum(losses), 1.0f / static_cast<float>(trg.tokens)));
    clip_grad_norm(model.params(), t.clip_norm);
    adam.step(t.learn_rate);
  };
  using Clock = std::chrono::steady_clock;
  double seconds[2] = {0, 0}, flops[2] = {0, 0}, system_mib[2] = {0, 0};
  int64_t tokens[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    int64_t unused = 0;
    if (pass == 0)
      for (int i = 0; i < o.warmup; ++i) update(batches[i], unused);
    auto start = Clock::now();
    const double flops_before = matmul_flops_counted();
    const size_t system_before = pool_bytes_from_system();
    for (int i = o.warmup; i < o.warmup + o.steps; ++i) update(batches[i], tokens[pass]);
    seconds[pass] = std::chrono::duration<double>(Clock::now() - start).count();
    flops[pass] = matmul_flops_counted() - flops_before;
    system_mib[pass] = (pool_bytes_from_system() - system_before) / 1048576.0 / o.steps;
    trace_memory(pass == 0 ? "after pass 1" : "after pass 2");
    std::cerr << "pass " << pass + 1 << ": " << o.steps << " updates, " << tokens[pass] << " src+trg tokens in "
              << seconds[pass] << " s\n";
  }
  pool_trace_report();
  std::printf("machine: %s, %d threads, oneDNN %d.%d.%d at %s\n", cpu_model().c_str(), Context::get().threads(),
              dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, onednn_isa_name());
  std::printf("primitives cached: %zu\n", Context::get().cache_size());
  std::printf("model: %s, %lld parameters, mini-batch-words %lld, products in %s\n", config.type.c_str(),
              static_cast<long long>(model.params().num_params()), static_cast<long long>(t.mini_batch_words),
              t.bf16 ? (bf16_support() == Bf16Support::native ? "bfloat16" : "bfloat16 (emulated: no native support on this CPU)")
                     : "float32");
  const double reached = flops[1] / seconds[1] / 1e9, peak = measure_matmul_peak_gflops();
  std::printf("matrix products: %.2f MFLOP per src+trg token, %.1f GFLOP/s in the steady pass = %.0f%% of a "
              "2048x1024x1024 oneDNN matmul's %.1f GFLOP/s on the same threads",
              flops[1] / static_cast<double>(tokens[1]) / 1e6, reached, 100.0 * reached / peak, peak);
  if (t.bf16) {  // the ceiling of bfloat16 products is the bfloat16 matmul's
    const double peak16 = measure_matmul_gflops(Precision::bf16, 2048, 1024, 1024, false);
    std::printf(" (fp32), %.0f%% of its %.1f GFLOP/s in bfloat16", 100.0 * reached / peak16, peak16);
  }
  std::printf("\n");
  std::printf("tensor pool: %.1f MiB per update taken from the system in the steady pass (blocks the cache could "
              "not serve; %.1f MiB in the first pass)\n",
              system_mib[1], system_mib[0]);
  std::printf("bench train %s: first pass %.0f tok/s (includes building primitives), steady %.0f src+trg tok/s, "
              "peak RSS %.0f MiB (tensors %.0f MiB), %d threads\n",
              config.type.c_str(), tokens[0] / seconds[0], tokens[1] / seconds[1], peak_rss_mib(),
              pool_peak_bytes_in_use() / 1048576.0,
              Context::get().threads());
  return 0;
}

}  // namespace nmt
