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

namespace {

// The model, optimizer and data of the benchmark's updates.
struct BenchRun {
  const TrainOptions& t;
  ParallelCorpus& corpus;
  Model& model;
  Adam& adam;
  Rng& rng;

  // One full update on the pairs `idx`, as nmt train makes it (without delay or smoothing);
  // adds their source and target tokens (</s> included) to `tokens`.
  void update(const std::vector<int32_t>& idx, int64_t& tokens) {
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
  }
};

struct PassStats {
  double seconds = 0, flops = 0;
  double system_mib = 0;  // taken from the system by the tensor pool, per update
  int64_t tokens = 0;     // source + target
};

// The timed updates of one pass over `batches`.
PassStats timed_pass(BenchRun& run, const std::vector<std::vector<int32_t>>& batches) {
  using Clock = std::chrono::steady_clock;
  PassStats p;
  const auto start = Clock::now();
  const double flops_before = matmul_flops_counted();
  const size_t system_before = pool_bytes_from_system();
  for (const auto& batch : batches) run.update(batch, p.tokens);
  p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  p.flops = matmul_flops_counted() - flops_before;
  p.system_mib = (pool_bytes_from_system() - system_before) / 1048576.0 / static_cast<double>(batches.size());
  return p;
}

void print_report(const TrainOptions& t, const ModelConfig& config, Model& model, const PassStats pass[2]) {
  std::printf("machine: %s, %d threads, oneDNN %d.%d.%d at %s\n", cpu_model().c_str(), Context::get().threads(),
              dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, onednn_isa_name());
  std::printf("primitives cached: %zu\n", Context::get().cache_size());
  std::printf("model: %s, %lld parameters, mini-batch-words %lld, products in %s\n", config.type.c_str(),
              static_cast<long long>(model.params().num_params()), static_cast<long long>(t.mini_batch_words),
              t.bf16 ? (bf16_support() == Bf16Support::native ? "bfloat16" : "bfloat16 (emulated: no native support on this CPU)")
                     : "float32");
  const double reached = pass[1].flops / pass[1].seconds / 1e9, peak = measure_matmul_peak_gflops();
  std::printf("matrix products: %.2f MFLOP per src+trg token, %.1f GFLOP/s in the steady pass = %.0f%% of a "
              "2048x1024x1024 oneDNN matmul's %.1f GFLOP/s on the same threads",
              pass[1].flops / static_cast<double>(pass[1].tokens) / 1e6, reached, 100.0 * reached / peak, peak);
  if (t.bf16) {  // the ceiling of bfloat16 products is the bfloat16 matmul's
    const double peak16 = measure_matmul_gflops(Precision::bf16, 2048, 1024, 1024, false);
    std::printf(" (fp32), %.0f%% of its %.1f GFLOP/s in bfloat16", 100.0 * reached / peak16, peak16);
  }
  std::printf("\n");
  std::printf("tensor pool: %.1f MiB per update taken from the system in the steady pass (blocks the cache could "
              "not serve; %.1f MiB in the first pass)\n",
              pass[1].system_mib, pass[0].system_mib);
  std::printf("bench train %s: first pass %.0f tok/s (includes building primitives), steady %.0f src+trg tok/s, "
              "peak RSS %.0f MiB (tensors %.0f MiB), %d threads\n",
              config.type.c_str(), pass[0].tokens / pass[0].seconds, pass[1].tokens / pass[1].seconds, peak_rss_mib(),
              pool_peak_bytes_in_use() / 1048576.0, Context::get().threads());
}

}  // namespace

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
  std::vector<std::vector<int32_t>> warmup, timed;
  for (int i = 0; i < o.warmup; ++i) warmup.push_back(batcher.next());
  for (int i = 0; i < o.steps; ++i) timed.push_back(batcher.next());
  trace_memory("before training");

  BenchRun run{t, corpus, model, adam, rng};
  PassStats pass[2];
  for (int p = 0; p < 2; ++p) {
    int64_t unused = 0;
    if (p == 0)
      for (const auto& batch : warmup) run.update(batch, unused);
    pass[p] = timed_pass(run, timed);
    trace_memory(p == 0 ? "after pass 1" : "after pass 2");
    std::cerr << "pass " << p + 1 << ": " << o.steps << " updates, " << pass[p].tokens << " src+trg tokens in "
              << pass[p].seconds << " s\n";
  }
  pool_trace_report();
  print_report(t, config, model, pass);
  return 0;
}

}  // namespace nmt
