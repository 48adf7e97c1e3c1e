// Models trained by an earlier nmt still load and translate as they did: three tiny models
// (bottleneck GRU, attention LSTM, transformer) trained on a synthetic reversal task, with
// the outputs they gave when they were made (tests/data/regression/make.sh). `nmt translate`
// must give those lines byte for byte (greedy and beam 5, fp32; they are the same on every ISA),
// and `nmt score` the same scores to their printed precision. A change of the model format,
// of a layer's arithmetic or of the search shows here.
#include <gtest/gtest.h>

#include <string>

#include "synthetic.h"

namespace nmt {
namespace {

using testing::RunResult;

const std::string kDir = std::string(NMT_SOURCE_DIR) + "/tests/data/regression/";

class CliRegression : public ::testing::TestWithParam<std::string> {
 protected:
  RunResult nmt(const std::string& args) { return testing::run_nmt(dir_, args); }
  std::string model() const { return "-m '" + kDir + GetParam() + ".bin' --cpu-threads 2"; }
  testing::TempDir dir_{"nmt_regression"};
};

TEST_P(CliRegression, TranslatesAsWhenItWasMade) {
  for (const auto& [search, expected] :
       {std::pair<std::string, std::string>{"-b 1", ".greedy.txt"}, {"-b 5", ".beam5.txt"}}) {
    const RunResult r = nmt("translate " + model() + " " + search + " -i '" + kDir + "input.txt'");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, testing::slurp(kDir + GetParam() + expected)) << GetParam() << " " << search;
  }
}

TEST_P(CliRegression, ScoresAsWhenItWasMade) {
  const RunResult r = nmt("score " + model() + " -t '" + kDir + "input.txt' '" + kDir + "reference.txt'");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto got = testing::split_lines(r.out),
             want = testing::split_lines(testing::slurp(kDir + GetParam() + ".scores.txt"));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {  // "TOTAL AVERAGE" to 4 decimals: one unit of rounding apart at most
    EXPECT_NEAR(std::stod(got[i]), std::stod(want[i]), 1.01e-4) << GetParam() << " line " << i + 1;
    EXPECT_NEAR(std::stod(got[i].substr(got[i].find(' '))), std::stod(want[i].substr(want[i].find(' '))), 1.01e-4)
        << GetParam() << " line " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, CliRegression, ::testing::Values("bottleneck", "attention", "transformer"));

}  // namespace
}  // namespace nmt
