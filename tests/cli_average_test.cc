// Checkpoint averaging through the built binary: `nmt average` writes the element-wise mean of
// models of one configuration and vocabularies and refuses others (naming the difference), and
// `nmt train --keep-checkpoints N` keeps exactly the last N validated models as MODEL.iter{U}.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "model/model.h"
#include "training/iteration_models.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;
using testing::contains_text;
using Result = testing::RunResult;

// A tiny attention model (8 wide) with random weights; dim_rnn and the vocabularies may vary.
void save_tiny(const std::string& path, const Vocab& src, const Vocab& trg, uint64_t seed, int64_t dim_rnn = 8) {
  ModelConfig c = ModelConfig::preset("attention");
  c.dim_emb = c.dim_att = 8;
  c.dim_rnn = dim_rnn;
  c.dropout = 0;
  c.tied_embeddings_all = false;
  c.src_vocab_size = src.size();
  c.trg_vocab_size = trg.size();
  Model m(c, seed);
  save_model(path, m, src, trg);
}

class CliAverageTest : public testing::TinyModelTest {
 protected:
  static void SetUpTestSuite() {
    set_up_models("nmt_cli_average", 11, {"attention"}, 1);
    // A second vocabulary of the same size, trained on other text.
    write("other.txt", testing::join_lines(testing::make_text(300, 99)));
    VocabTrainOptions vo;
    vo.inputs = {path("other.txt")};
    vo.model_path = path("other.spm");
    vo.vocab_size = 24;
    train_vocab(vo);
    other_ = std::make_unique<Vocab>(Vocab::load(path("other.spm")));
    for (uint64_t seed : {1, 2, 3}) save_tiny(path("m" + std::to_string(seed) + ".bin"), *vocab_, *vocab_, seed);
    save_tiny(path("wide.bin"), *vocab_, *vocab_, 4, 16);
    save_tiny(path("other_src.bin"), *other_, *vocab_, 5);
    save_tiny(path("other_trg.bin"), *vocab_, *other_, 6);
  }
  static inline std::unique_ptr<Vocab> other_;
};

TEST_F(CliAverageTest, AverageIsTheElementwiseMean) {
  const Result r = nmt("average -m '" + path("m1.bin") + "' '" + path("m2.bin") + "' '" + path("m3.bin") + "' -o '" +
                       path("avg.bin") + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  const LoadedModel avg = load_model(path("avg.bin"));
  std::vector<LoadedModel> in;
  for (const char* name : {"m1.bin", "m2.bin", "m3.bin"}) in.push_back(load_model(path(name)));
  EXPECT_EQ(avg.model->config().to_map(), in[0].model->config().to_map());
  EXPECT_EQ(avg.src_vocab->serialized(), vocab_->serialized());
  EXPECT_EQ(avg.trg_vocab->serialized(), vocab_->serialized());
  const ParamStore& p = avg.model->params();
  ASSERT_EQ(p.size(), in[0].model->params().size());
  int64_t differing = 0;
  for (int64_t k = 0; k < p.size(); ++k) {
    double sum = 0;
    for (const LoadedModel& m : in) sum += m.model->params().values()[k];
    const float mean = static_cast<float>(sum / 3.0);
    EXPECT_EQ(p.values()[k], mean) << "element " << k;
    differing += in[0].model->params().values()[k] != in[1].model->params().values()[k];
  }
  EXPECT_GT(differing, p.size() / 2);  // the models really differ
  // The averaged model translates.
  const Result t =
      nmt("translate -m '" + path("avg.bin") + "' --cpu-threads 1 < '" + write("in.txt", "ka lo mi\n") + "'");
  EXPECT_EQ(t.code, 0) << t.err;
}

TEST_F(CliAverageTest, ModelsThatDifferAreRefusedNamingTheDifference) {
  struct Case {
    const char* other;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"wide.bin", path("wide.bin") + ": dim-rnn is 16 but " + path("m1.bin") + " has 8"},
      {"other_src.bin", path("other_src.bin") + ": its source vocabulary differs from " + path("m1.bin")},
      {"other_trg.bin", path("other_trg.bin") + ": its target vocabulary differs from " + path("m1.bin")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.other);
    const std::string out = path(std::string("refused-") + c.other);
    const Result r =
        nmt("average -m '" + path("m1.bin") + "' '" + path("m2.bin") + "' '" + path(c.other) + "' -o '" + out + "'");
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_TRUE(contains_text(r.err, c.message)) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  const Result usage = nmt("average -o '" + path("x.bin") + "'");
  EXPECT_EQ(usage.code, 2) << usage.err;
}

// Training on the reversal task, validating every 2 updates.
class CliKeepCheckpointsTest : public testing::FileTest {
 protected:
  void SetUp() override {
    open_dir("nmt_cli_keep");
    const auto pairs = testing::reversal_pairs(100, 3, 8, 1);
    testing::write_lines(path("t.src"), pairs.src);
    testing::write_lines(path("t.trg"), pairs.trg);
    const auto valid = testing::reversal_pairs(10, 3, 8, 2);
    testing::write_lines(path("v.src"), valid.src);
    testing::write_lines(path("v.trg"), valid.trg);
  }
  void TearDown() override { close_dir(); }
  Result train(const std::string& extra) {
    return nmt("train -t '" + path("t.src") + "' '" + path("t.trg") + "' --valid-sets '" + path("v.src") + "' '" +
               path("v.trg") + "' -v '" + path("v.spm") + "' '" + path("v.spm") + "' --vocab-size 37 -m '" +
               path("model.bin") +
               "' --dim-emb 8 --dim-rnn 8 --dim-att 8 --mini-batch-words 60 --valid-freq 2u --valid-metrics "
               "perplexity --cpu-threads 1 " +
               extra);
  }
};

TEST_F(CliKeepCheckpointsTest, KeepsExactlyTheLastN) {
  const std::string model = path("model.bin");
  Result r = train("--after 10u --keep-checkpoints 3 --exponential-smoothing");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(iteration_models(model), (std::vector<int64_t>{6, 8, 10}));
  // The last one is the model validated at the end: the model file itself (smoothed, as it).
  const LoadedModel last = load_model(iteration_model_path(model, 10)), saved = load_model(model);
  const ParamStore &a = last.model->params(), &b = saved.model->params();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(std::equal(a.values(), a.values() + a.size(), b.values()));
  // Resumed, it goes on keeping the last 3 (of the updates before and after the resume).
  r = train("--after 14u --keep-checkpoints 3 --exponential-smoothing");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(iteration_models(model), (std::vector<int64_t>{10, 12, 14}));
  for (int64_t u : {10, 12, 14}) EXPECT_TRUE(fs::exists(iteration_model_path(model, u)));
  // They average.
  r = nmt("average -m '" + iteration_model_path(model, 10) + "' '" + iteration_model_path(model, 12) + "' '" +
          iteration_model_path(model, 14) + "' -o '" + path("avg.bin") + "'");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST_F(CliKeepCheckpointsTest, NoneByDefaultAndNegativeRefused) {
  Result r = train("--after 4u");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(iteration_models(path("model.bin")).empty());
  r = train("--after 6u --keep-checkpoints -1");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_TRUE(contains_text(r.err, "keep-checkpoints must be >= 0, got -1")) << r.err;
}

}  // namespace
}  // namespace nmt
