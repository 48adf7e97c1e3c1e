#include "training/bench.h"

#include <dlfcn.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "core/allocator.h"
#include "core/context.h"
#include "core/error.h"
#include "core/format.h"
#include "core/graph.h"
#include "core/system.h"
#include "io/json.h"
#include "model/model.h"
#include "ops/bf16.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/reduce.h"
#include "ops/rnn.h"
#include "training/batcher.h"
#include "training/corpus.h"
#include "training/distributed.h"
#include "training/optimizer.h"
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

// The machine, oneDNN and the settings of the run, into the report.
void describe_run(BenchTrainReport& r, const BenchTrainOptions& o, const std::string& type, int64_t parameters) {
  r.cpu = cpu_model();
  r.threads = Context::get().threads();
  r.onednn_version = cat(dnnl_version()->major, ".", dnnl_version()->minor, ".", dnnl_version()->patch);
  r.onednn_isa = onednn_isa_name();
  r.primitives_cached = Context::get().cache_size();
  r.model = type;
  r.parameters = parameters;
  r.mini_batch_words = o.train.mini_batch_words;
  r.warmup = o.warmup;
  r.steps = o.steps;
  r.bf16 = o.train.bf16;
  r.bf16_emulated = o.train.bf16 && bf16_support() != Bf16Support::native;
}

}  // namespace

void BenchTrainOptions::validate() const {
  if (train.model.is_language_model())
    throw OptionError(cat("type must be a translation model's for bench train, got '", train.model.type,
                          "' (nmt train logs a language model's tokens/s)"));
  train.validate_updates();
  if (warmup < 0) throw OptionError(cat("warmup must be >= 0, got ", warmup));
  if (steps < 1) throw OptionError(cat("steps must be >= 1, got ", steps));
}

BenchTrainReport bench_train(const BenchTrainOptions& o) {
  o.validate();
  const TrainOptions& t = o.train;
  check_bf16_support(t.bf16);
  Vocab src_vocab = Vocab::load(t.vocabs[0]);
  Vocab trg_vocab = Vocab::load(t.vocabs[1]);
  ParallelCorpus corpus =
      load_parallel_corpus(t.train_sets[0], t.train_sets[1], src_vocab, trg_vocab, t.max_length, true);
  ModelConfig config = t.model;
  config.src_vocab_size = src_vocab.size();
  config.trg_vocab_size = trg_vocab.size();
  if (t.vocabs[0] != t.vocabs[1]) config.tied_embeddings_all = false;
  Model model(config, t.seed);
  Adam adam(model.params(), t.adam);
  // Under mpirun each rank runs its share of every batch (training/distributed.h) and its
  // own dropout stream.
  Distributed world;
  Rng rng(t.seed + static_cast<uint64_t>(world.rank()));
  Batcher batcher(corpus, t.mini_batch_words, t.maxi_batch, t.seed,
                  batch_sort_for(t.maxi_batch_sort, t.model.enc_type));
  std::vector<std::vector<int32_t>> batches;
  for (int i = 0; i < o.warmup + o.steps; ++i) batches.push_back(batcher.next());
  trace_memory("before training");

  using Clock = std::chrono::steady_clock;
  double allreduce_seconds = 0;
  auto update = [&](const std::vector<int32_t>& idx, int64_t& tokens) {
    model.params().zero_grads();
    std::vector<int64_t> trg_tokens;
    for (int32_t i : idx) {
      tokens += static_cast<int64_t>(corpus.src[i].size() + corpus.trg[i].size() + 1);
      trg_tokens.push_back(static_cast<int64_t>(corpus.trg[i].size()) + 1);
    }
    const std::vector<int32_t> share = split_by_tokens(idx, trg_tokens, world.rank(), world.size());
    std::vector<std::vector<int32_t>> s, tr;
    for (int32_t i : share) {
      s.push_back(corpus.src[i]);
      tr.push_back(corpus.trg[i]);
    }
    Bf16Scope bf16(t.bf16, &model.params());
    if (!share.empty()) {
      int64_t words = 0;  // the whole batch's target tokens, </s> included
      for (int64_t n : trg_tokens) words += n;
      TargetBatch trg = TargetBatch::from(tr);
      RnnRecomputeScope recompute(t.rnn_recompute);
      Var losses = model.token_losses(SourceBatch::from(s), trg, t.label_smoothing, true, rng);
      Tape::current().backward(scale(sum(losses), 1.0f / static_cast<float>(words)));
    }
    if (world.parallel()) {
      const auto started = Clock::now();
      world.sum(model.params().grads(), model.params().size());
      allreduce_seconds += std::chrono::duration<double>(Clock::now() - started).count();
    }
    adam.step(t.learn_rate, clip_scale(grad_norm(model.params()), t.clip_norm));
  };
  BenchTrainReport r;
  double flops[2] = {0, 0};
  for (int pass = 0; pass < 2; ++pass) {
    BenchPass& p = pass == 0 ? r.first : r.steady;
    int64_t unused = 0;
    if (pass == 0)
      for (int i = 0; i < o.warmup; ++i) update(batches[i], unused);
    allreduce_seconds = 0;
    auto start = Clock::now();
    const double flops_before = matmul_flops_counted();
    const size_t system_before = pool_bytes_from_system();
    for (int i = o.warmup; i < o.warmup + o.steps; ++i) update(batches[i], p.tokens);
    p.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    p.allreduce_seconds = allreduce_seconds;
    flops[pass] = matmul_flops_counted() - flops_before;
    p.pool_mib_per_update = (pool_bytes_from_system() - system_before) / 1048576.0 / o.steps;
    trace_memory(pass == 0 ? "after pass 1" : "after pass 2");
    if (world.root())
      std::cerr << "pass " << pass + 1 << ": " << o.steps << " updates, " << p.tokens << " src+trg tokens in "
                << p.seconds << " s\n";
  }
  pool_trace_report();
  describe_run(r, o, config.type, model.params().num_params());
  r.rank = world.rank();
  r.processes = world.size();
  r.mflop_per_token = flops[1] / static_cast<double>(r.steady.tokens) / 1e6;
  r.gflops = flops[1] / r.steady.seconds / 1e9;
  r.matmul_peak_gflops = measure_matmul_peak_gflops();
  // The ceiling of bfloat16 products is the bfloat16 matmul's.
  if (t.bf16) r.bf16_matmul_peak_gflops = measure_matmul_gflops(Precision::bf16, 2048, 1024, 1024, false);
  r.peak_rss_mib = peak_rss_mib();
  r.tensors_mib = pool_peak_bytes_in_use() / 1048576.0;
  return r;
}

std::string bench_train_text(const BenchTrainReport& r) {
  std::string out = printf_string("machine: %s, %d threads, oneDNN %s at %s\n", r.cpu.c_str(), r.threads,
                                  r.onednn_version.c_str(), r.onednn_isa.c_str());
  out += printf_string("primitives cached: %zu\n", r.primitives_cached);
  out += printf_string("model: %s, %lld parameters, mini-batch-words %lld, products in %s\n", r.model.c_str(),
                       static_cast<long long>(r.parameters), static_cast<long long>(r.mini_batch_words),
                       !r.bf16           ? "float32"
                       : r.bf16_emulated ? "bfloat16 (emulated: no native support on this CPU)"
                                         : "bfloat16");
  out += printf_string(
      "matrix products: %.2f MFLOP per src+trg token, %.1f GFLOP/s in the steady pass = %.0f%% of a "
      "2048x1024x1024 oneDNN matmul's %.1f GFLOP/s on the same threads",
      r.mflop_per_token, r.gflops, 100.0 * r.gflops / r.matmul_peak_gflops, r.matmul_peak_gflops);
  if (r.bf16)
    out += printf_string(" (fp32), %.0f%% of its %.1f GFLOP/s in bfloat16",
                         100.0 * r.gflops / r.bf16_matmul_peak_gflops, r.bf16_matmul_peak_gflops);
  out += "\n";
  out += printf_string(
      "tensor pool: %.1f MiB per update taken from the system in the steady pass (blocks the cache "
      "could not serve; %.1f MiB in the first pass)\n",
      r.steady.pool_mib_per_update, r.first.pool_mib_per_update);
  out += printf_string(
      "bench train %s: first pass %.0f tok/s (includes building primitives), steady %.0f src+trg "
      "tok/s, peak RSS %.0f MiB (tensors %.0f MiB), %d threads%s\n",
      r.model.c_str(), r.first.tok_per_s(), r.steady.tok_per_s(), r.peak_rss_mib, r.tensors_mib, r.threads,
      r.processes > 1
          ? printf_string(" in each of %d processes (MPI); the gradient allreduce took %.1f%% of the steady "
                          "pass (%.2f ms an update)",
                          r.processes, 100.0 * r.steady.allreduce_seconds / r.steady.seconds,
                          1e3 * r.steady.allreduce_seconds / r.steps)
                .c_str()
          : "");
  return out;
}

std::string bench_train_json(const BenchTrainReport& r) {
  JsonObject j;
  j.set("bench", "train").set("model", r.model).set("parameters", r.parameters);
  j.set("mini_batch_words", r.mini_batch_words).set("warmup", r.warmup).set("steps", r.steps);
  j.set("precision", r.bf16 ? "bfloat16" : "float32").set("bf16_emulated", r.bf16_emulated);
  j.set("threads", r.threads).set("processes", r.processes);
  j.set("allreduce_fraction", r.steady.allreduce_seconds / r.steady.seconds);
  j.set("cpu", r.cpu).set("onednn_version", r.onednn_version);
  j.set("onednn_isa", r.onednn_isa).set("primitives_cached", r.primitives_cached);
  j.set("first_pass_tokens", r.first.tokens).set("first_pass_seconds", r.first.seconds);
  j.set("first_pass_tok_per_s", r.first.tok_per_s());
  j.set("steady_tokens", r.steady.tokens).set("steady_seconds", r.steady.seconds);
  j.set("steady_tok_per_s", r.steady.tok_per_s());
  j.set("peak_rss_mib", r.peak_rss_mib).set("tensors_mib", r.tensors_mib);
  j.set("pool_mib_per_update_first_pass", r.first.pool_mib_per_update);
  j.set("pool_mib_per_update_steady", r.steady.pool_mib_per_update);
  j.set("mflop_per_token", r.mflop_per_token).set("gflops", r.gflops);
  j.set("matmul_peak_gflops", r.matmul_peak_gflops).set("matmul_peak_fraction", r.gflops / r.matmul_peak_gflops);
  if (r.bf16)
    j.set("bf16_matmul_peak_gflops", r.bf16_matmul_peak_gflops)
        .set("bf16_matmul_peak_fraction", r.gflops / r.bf16_matmul_peak_gflops);
  else
    j.set_null("bf16_matmul_peak_gflops").set_null("bf16_matmul_peak_fraction");
  return j.str() + "\n";
}

}  // namespace nmt
