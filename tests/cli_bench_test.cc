// The benchmarks through the command a user runs: `nmt bench matmul`, `nmt bench translate`
// and `nmt bench train` print their figures, as text or with --json as one JSON object that a
// strict reader accepts, and reject bad arguments with exit code 2.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "cli_helpers.h"
#include "json_check.h"
#include "ops/bf16.h"
#include "ops/flops.h"

namespace nmt {
namespace {

using testing::Json;

class CliBenchTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() { set_up_models("nmt_cli_bench", 5, {"attention"}, 3); }

  // stdout of `nmt ARGS --json` as JSON: one object and nothing else; fails the test otherwise.
  // The run itself goes to *run when given.
  static Json json_of(const std::string& args, testing::RunResult* run = nullptr) {
    const testing::RunResult r = nmt(args + " --json");
    if (run) *run = r;
    EXPECT_EQ(r.code, 0) << args << "\n" << r.err;
    try {
      const Json j = testing::JsonReader::parse(r.out);
      EXPECT_EQ(j.kind, Json::object) << r.out;
      return j;
    } catch (const std::exception& e) {
      ADD_FAILURE() << args << ": " << e.what() << "\n" << r.out;
      return Json();
    }
  }
  // A number member that is finite and positive.
  static double positive(const Json& j, const std::string& key) {
    const Json& v = j[key];
    EXPECT_EQ(v.kind, Json::number) << key;
    EXPECT_TRUE(std::isfinite(v.n) && v.n > 0) << key << " = " << v.n;
    return v.n;
  }
  static std::string train_args() {
    return "bench train --type attention --train-sets '" + path("corpus.txt") + "' '" + path("corpus.txt") +
           "' --vocabs '" + path("vocab.spm") + "' '" + path("vocab.spm") +
           "' --dim-emb 8 --dim-rnn 16 --dim-att 8 --mini-batch-words 100 --warmup 1 --steps 3 --cpu-threads 1";
  }
};

TEST_F(CliBenchTest, MatmulPrintsEveryPrecision) {
  const testing::RunResult r = nmt("bench matmul --shape 64 48 80 --cpu-threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  // bf16 below AVX-512 is reported as unavailable, not an error.
  const std::string bf16 = bf16_support() == Bf16Support::none ? "bf16: not available" : "bf16";
  for (const std::string& p : {std::string("f32 "), bf16, std::string("s8  ")}) {
    const std::regex line(
        "matmul 64x48x80 " + p +
        (p == "bf16: not available"
             ? std::string(" \\(oneDNN has no bf16 matmul at ") + onednn_isa_name() + "\\)"
             : std::string(": +[0-9.]+ GFLOP/s \\([0-9.]+x f32\\), +[0-9.]+ with the input conversion")));
    EXPECT_TRUE(std::regex_search(r.out, line)) << p << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("1 threads"), std::string::npos) << r.out;
  EXPECT_EQ(nmt("bench matmul --shape 64 48").code, 2);
  EXPECT_EQ(nmt("bench matmul --shape 64 0 8").code, 1);
  EXPECT_EQ(nmt("bench nonsense").code, 2);
}

// --precisions measures only those given; without f32 there is no base, so no ratios.
TEST_F(CliBenchTest, MatmulMeasuresThePrecisionsAsked) {
  testing::RunResult r = nmt("bench matmul --shape 64 48 80 --cpu-threads 1 --precisions s8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(
      r.out, std::regex("^matmul 64x48x80 s8  : +[0-9.]+ GFLOP/s, +[0-9.]+ with the input conversion\n1 threads\n$")))
      << r.out;
  r = nmt("bench matmul --shape 64 48 80 --cpu-threads 1 --precisions s8 f32 s8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("^matmul 64x48x80 f32 : [^\n]*\nmatmul 64x48x80 s8  : +[0-9.]+ "
                                                  "GFLOP/s \\([0-9.]+x f32\\)[^\n]*\n1 threads\n$")))
      << r.out;
  const Json j = json_of("bench matmul --shape 64 48 80 --cpu-threads 1 --precisions s8");
  EXPECT_FALSE(j.has("f32"));
  EXPECT_FALSE(j.has("bf16"));
  EXPECT_GT(j["s8"]["gflops"].n, 0);
  EXPECT_FALSE(j["s8"].has("speedup_vs_f32"));
  r = nmt("bench matmul --precisions fp16");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--precisions takes f32, bf16 or s8, got 'fp16'"), std::string::npos) << r.err;
}

TEST_F(CliBenchTest, TranslatePrintsGreedyAndBeamSpeeds) {
  write("in.txt", testing::join_lines(testing::make_text(20, 9)));
  const testing::RunResult r = nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("greedy: +[0-9.]+ s +[0-9.]+ sentences/s"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("beam 5: +[0-9.]+ s +[0-9.]+ sentences/s"))) << r.out;
  EXPECT_NE(r.out.find("20 sentences"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gemm-type float32"), std::string::npos) << r.out;
  const testing::RunResult q = nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --gemm-type int8");
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_NE(q.out.find("gemm-type int8"), std::string::npos) << q.out;
  EXPECT_NE(r.out.find("one worker"), std::string::npos) << r.out;  // model_arg() gives one thread
  const testing::RunResult w =
      nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --mini-batch 4 --workers 2");
  ASSERT_EQ(w.code, 0) << w.err;
  EXPECT_NE(w.out.find("2 workers of 1 thread(s)"), std::string::npos) << w.out;
  EXPECT_TRUE(std::regex_search(w.out, std::regex("beam 5: +[0-9.]+ s +[0-9.]+ sentences/s"))) << w.out;
  const std::string corpus = "'" + path("corpus.txt") + "'";
  ASSERT_EQ(
      nmt("shortlist -t " + corpus + " " + corpus + " -m '" + path("attention.bin") + "' -o '" + path("lex.txt") + "'")
          .code,
      0);
  const testing::RunResult s =
      nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --shortlist '" + path("lex.txt") + "'");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("shortlist " + path("lex.txt")), std::string::npos) << s.out;
  EXPECT_TRUE(std::regex_search(s.out, std::regex("beam 5: +[0-9.]+ s +[0-9.]+ sentences/s"))) << s.out;
  EXPECT_NE(
      nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --shortlist '" + path("no.txt") + "'").code,
      0);
  EXPECT_EQ(nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --workers -2").code, 2);
  EXPECT_EQ(nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --gemm-type half").code, 2);
  EXPECT_NE(nmt("bench translate " + model_arg() + " -i '" + path("missing.txt") + "'").code, 0);
}

TEST_F(CliBenchTest, MatmulJsonHasEveryPrecision) {
  const Json j = json_of("bench matmul --shape 64 48 80 --cpu-threads 1");
  ASSERT_EQ(j.kind, Json::object);
  EXPECT_EQ(j["bench"].s, "matmul");
  EXPECT_EQ(j["m"].n, 64);
  EXPECT_EQ(j["n"].n, 48);
  EXPECT_EQ(j["k"].n, 80);
  EXPECT_EQ(j["threads"].n, 1);
  EXPECT_EQ(j["onednn_isa"].s, onednn_isa_name());
  for (Precision p : {Precision::f32, Precision::bf16, Precision::s8}) {
    const Json& e = j[precision_name(p)];
    ASSERT_EQ(e["available"].kind, Json::boolean) << precision_name(p);
    EXPECT_EQ(e["available"].b, matmul_available(p)) << precision_name(p);
    if (!e["available"].b) {
      EXPECT_FALSE(e.has("gflops"));
      EXPECT_NE(e["reason"].s.find(onednn_isa_name()), std::string::npos) << e["reason"].s;
      continue;
    }
    const double gflops = positive(e, "gflops"), conv = positive(e, "gflops_with_conversion");
    EXPECT_NEAR(positive(e, "speedup_vs_f32"), gflops / j["f32"]["gflops"].n, 1e-9);
    EXPECT_NEAR(positive(e, "speedup_with_conversion_vs_f32"), conv / j["f32"]["gflops"].n, 1e-9);
  }
  EXPECT_EQ(j["f32"]["gflops"].n, j["f32"]["gflops_with_conversion"].n);  // nothing to convert in f32
  EXPECT_EQ(j["bf16"]["available"].b, bf16_support() != Bf16Support::none);
}

TEST_F(CliBenchTest, TranslateJsonHasGreedyAndBeamFigures) {
  write("in_json.txt", testing::join_lines(testing::make_text(20, 9)) + "\n");  // one empty line: not a sentence
  testing::RunResult run;
  const Json j = json_of("bench translate " + model_arg() + " -i '" + path("in_json.txt") + "'", &run);
  ASSERT_EQ(j.kind, Json::object);
  EXPECT_TRUE(std::regex_search(run.err, std::regex("greedy: +[0-9.]+ s +[0-9.]+ sentences/s")))
      << run.err;  // the text, on stderr
  EXPECT_EQ(j["bench"].s, "translate");
  EXPECT_EQ(j["sentences"].n, 20);
  EXPECT_GE(positive(j, "source_pieces"), 20);
  EXPECT_EQ(j["mini_batch"].n, 64);
  EXPECT_EQ(j["gemm_type"].s, "float32");
  EXPECT_EQ(j["int8_weight_bits"].kind, Json::null);
  EXPECT_EQ(j["shortlist"].kind, Json::null);
  EXPECT_EQ(j["model"].s, path("attention.bin"));
  EXPECT_EQ(j["model_type"].s, "attention");
  EXPECT_EQ(j["input"].s, path("in_json.txt"));
  EXPECT_EQ(j["threads"].n, 1);
  EXPECT_EQ(j["workers"].n, 1);
  EXPECT_EQ(j["threads_per_worker"].n, 1);
  EXPECT_EQ(j["onednn_isa"].s, onednn_isa_name());
  EXPECT_FALSE(j["cpu"].s.empty());
  positive(j, "logical_cpus");
  for (const char* search : {"greedy", "beam5"}) {
    const Json& s = j[search];
    const double seconds = positive(s, "seconds");
    EXPECT_NEAR(positive(s, "sentences_per_s"), 20 / seconds, 1e-6 * 20 / seconds) << search;
    EXPECT_GE(positive(s, "target_tokens"), 20) << search;  // at least </s> for each sentence
    EXPECT_NEAR(positive(s, "target_tokens_per_s"), s["target_tokens"].n / seconds,
                1e-6 * s["target_tokens"].n / seconds);
  }
  EXPECT_GE(positive(j, "peak_rss_mib"), positive(j, "tensors_mib"));
  const Json q = json_of("bench translate " + model_arg() + " -i '" + path("in_json.txt") +
                         "' --gemm-type int8 --mini-batch 4 --workers 2");
  ASSERT_EQ(q.kind, Json::object);
  EXPECT_EQ(q["gemm_type"].s, "int8");
  EXPECT_TRUE(q["int8_weight_bits"].n == 7 || q["int8_weight_bits"].n == 8) << q["int8_weight_bits"].n;
  EXPECT_EQ(q["workers"].n, 2);
  EXPECT_EQ(q["mini_batch"].n, 4);
  EXPECT_EQ(q["greedy"]["target_tokens"].kind, Json::number);
}

TEST_F(CliBenchTest, TrainPrintsPassesAndJsonHasTheSameFigures) {
  const testing::RunResult r = nmt(train_args());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("model: attention, [0-9]+ parameters, mini-batch-words 100, "
                                                  "products in float32\n")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("bench train attention: first pass [0-9]+ tok/s \\(includes building "
                                                  "primitives\\), steady [0-9]+ src\\+trg tok/s, peak RSS [0-9]+ MiB "
                                                  "\\(tensors [0-9]+ MiB\\), 1 threads\n$")))
      << r.out;
  const Json j = json_of(train_args());
  ASSERT_EQ(j.kind, Json::object);
  EXPECT_EQ(j["bench"].s, "train");
  EXPECT_EQ(j["model"].s, "attention");
  EXPECT_EQ(j["precision"].s, "float32");
  EXPECT_FALSE(j["bf16_emulated"].b);
  EXPECT_EQ(j["threads"].n, 1);
  EXPECT_EQ(j["warmup"].n, 1);
  EXPECT_EQ(j["steps"].n, 3);
  EXPECT_EQ(j["mini_batch_words"].n, 100);
  EXPECT_EQ(j["onednn_isa"].s, onednn_isa_name());
  EXPECT_TRUE(std::regex_match(j["onednn_version"].s, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+"))) << j["onednn_version"].s;
  EXPECT_FALSE(j["cpu"].s.empty());
  positive(j, "parameters");
  positive(j, "primitives_cached");
  // Both passes run the same mini-batches.
  EXPECT_EQ(positive(j, "first_pass_tokens"), positive(j, "steady_tokens"));
  EXPECT_NEAR(positive(j, "steady_tok_per_s"), j["steady_tokens"].n / positive(j, "steady_seconds"),
              1e-6 * j["steady_tok_per_s"].n);
  EXPECT_NEAR(positive(j, "first_pass_tok_per_s"), j["first_pass_tokens"].n / positive(j, "first_pass_seconds"),
              1e-6 * j["first_pass_tok_per_s"].n);
  EXPECT_GE(positive(j, "peak_rss_mib"), positive(j, "tensors_mib"));
  EXPECT_GE(j["pool_mib_per_update_steady"].n, 0);
  EXPECT_GE(j["pool_mib_per_update_first_pass"].n, 0);
  positive(j, "mflop_per_token");
  EXPECT_NEAR(positive(j, "matmul_peak_fraction"), positive(j, "gflops") / positive(j, "matmul_peak_gflops"), 1e-9);
  EXPECT_EQ(j["bf16_matmul_peak_gflops"].kind, Json::null);
  EXPECT_EQ(j["bf16_matmul_peak_fraction"].kind, Json::null);
  if (bf16_support() == Bf16Support::none) return;  // bfloat16 training needs AVX-512
  const Json b = json_of(train_args() + " --precision bfloat16");
  ASSERT_EQ(b.kind, Json::object);
  EXPECT_EQ(b["precision"].s, "bfloat16");
  EXPECT_EQ(b["bf16_emulated"].b, bf16_support() == Bf16Support::emulated);
  EXPECT_NEAR(positive(b, "bf16_matmul_peak_fraction"), positive(b, "gflops") / positive(b, "bf16_matmul_peak_gflops"),
              1e-9);
}

}  // namespace
}  // namespace nmt
