// The benchmarks through the command a user runs: `nmt bench matmul` and
// `nmt bench translate` print their figures and reject bad arguments with exit code 2.
#include <gtest/gtest.h>

#include <regex>

#include "cli_helpers.h"
#include "ops/bf16.h"

namespace nmt {
namespace {

class CliBenchTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() { set_up_models("nmt_cli_bench", 5, {"attention"}, 3); }
};

TEST_F(CliBenchTest, MatmulPrintsEveryPrecision) {
  const testing::RunResult r = nmt("bench matmul --shape 64 48 80 --cpu-threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  // bf16 below AVX-512 is reported as unavailable, not an error.
  const std::string bf16 = bf16_support() == Bf16Support::none ? "bf16: not available" : "bf16";
  for (const std::string& p : {std::string("f32 "), bf16, std::string("s8  ")}) {
    const std::regex line("matmul 64x48x80 " + p +
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
  ASSERT_EQ(nmt("shortlist -t " + corpus + " " + corpus + " -m '" + path("attention.bin") + "' -o '" + path("lex.txt") + "'").code, 0);
  const testing::RunResult s =
      nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --shortlist '" + path("lex.txt") + "'");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_NE(s.out.find("shortlist " + path("lex.txt")), std::string::npos) << s.out;
  EXPECT_TRUE(std::regex_search(s.out, std::regex("beam 5: +[0-9.]+ s +[0-9.]+ sentences/s"))) << s.out;
  EXPECT_NE(nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --shortlist '" + path("no.txt") + "'").code, 0);
  EXPECT_EQ(nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --workers -2").code, 2);
  EXPECT_EQ(nmt("bench translate " + model_arg() + " -i '" + path("in.txt") + "' --gemm-type half").code, 2);
  EXPECT_NE(nmt("bench translate " + model_arg() + " -i '" + path("missing.txt") + "'").code, 0);
}

}  // namespace
}  // namespace nmt
