// The language models (lm/language_model.h) on tiny random weights:
//  - stream mode: a text cut into windows with the state carried gives the same loss as the
//    uncut text in one window (RNN cells), and a transformer's windows stand alone;
//  - scoring (lm/score.h: logits, log-softmax) equals the training loss (the fused output
//    layer and cross-entropy) on the same text, line by line, in both modes;
//  - decoding one step at a time gives the teacher-forced logits;
//  - the probe's state gradients (state_gradient_norms) against central finite differences,
//    and the gradient of the Transformer LM layer (causal) through its Var ops;
//  - the embeddings' initialisation (the peer's);
//  - the model file: saved and loaded back it scores the same; translation and language
//    model files are each refused by the other's loader with a message naming the file.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "core/error.h"
#include "gradcheck.h"
#include "lm/language_model.h"
#include "lm/rnn_lm.h"
#include "lm/score.h"
#include "lm/text.h"
#include "lm/transformer_lm.h"
#include "synthetic.h"
#include "transformer_helpers.h"

namespace nmt {
namespace {

constexpr int64_t kVocab = 20;

// A tiny language model: 2 layers (depth), embeddings of 8, RNN states of 12 (so the tied
// output layer needs the projection), no dropout; weights scaled by `scale`.
std::unique_ptr<LanguageModel> tiny_lm(const std::string& type, const std::string& cell, const std::string& mode,
                                       uint64_t seed, float scale = 1.0f, int depth = 2, bool tied = true) {
  ModelConfig c = ModelConfig::preset(type);
  if (!cell.empty()) c.cell = cell;
  c.dec_depth = depth;
  c.dim_emb = 8;
  c.dim_rnn = 12;
  c.dropout = c.transformer_dropout = 0;
  c.transformer_heads = 2;
  c.transformer_dim_ffn = 16;
  c.tied_embeddings = tied;
  c.lm_mode = mode;
  c.bptt = 7;
  c.trg_vocab_size = kVocab;
  auto m = make_language_model(c, seed);
  for (int64_t i = 0; i < m->params().size(); ++i) m->params().values()[i] *= scale;
  return m;
}

LmText text_of(const std::vector<int>& lengths, uint32_t seed) {
  LmText t;
  t.lines = testing::random_ids(lengths, kVocab, seed);
  return t;
}

// The summed loss of `windows`, read in order with one state carried through them.
double carried_loss(LanguageModel& m, const StreamWindows& windows) {
  NoGradScope no_grad;
  Rng unused(0);
  const std::unique_ptr<LmState> state = m.start(windows.rows());
  double sum = 0;
  for (int64_t w = 0; w < windows.windows(); ++w) {
    const Var losses = m.token_losses(windows.window(w), state.get(), 0.0f, false, unused);
    for (int64_t i = 0; i < losses->value.numel(); ++i) sum += losses->value[i];
  }
  return sum;
}

TEST(LanguageModel, CarriedStateAcrossWindowsEqualsTheUncutText) {
  const LmText text = text_of({9, 0, 14, 5, 21, 3, 11}, 7);
  const LmStream stream = make_stream(text.lines);
  ASSERT_EQ(stream.size(), text.pieces());
  for (const std::string cell : {"rnn", "lstm", "gru"}) {
    const auto m = tiny_lm("lm", cell, "stream", 3);
    for (int64_t rows : {1, 3}) {
      const int64_t length = stream.size() / rows;
      const double uncut = carried_loss(*m, StreamWindows(stream, rows, length));
      const double cut = carried_loss(*m, StreamWindows(stream, rows, 7));
      EXPECT_NEAR(cut, uncut, 1e-5 * std::fabs(uncut)) << cell << ", " << rows << " rows";
      EXPECT_EQ(StreamWindows(stream, rows, 7).windows(), (length + 6) / 7);
    }
  }
  // A transformer carries nothing: a state passed in changes no loss.
  const auto t = tiny_lm("lm-transformer", "", "stream", 3);
  const StreamWindows windows(stream, 2, 7);
  Rng unused(0);
  NoGradScope no_grad;
  const std::unique_ptr<LmState> state = t->start(2);
  const Tensor with = t->token_losses(windows.window(1), state.get(), 0.0f, false, unused)->value;
  const Tensor without = t->token_losses(windows.window(1), nullptr, 0.0f, false, unused)->value;
  for (int64_t i = 0; i < with.numel(); ++i) EXPECT_EQ(with[i], without[i]);
}

// The stream's rows are contiguous segments, the last positions left out.
TEST(LanguageModel, StreamRowsAreSegmentsOfTheStream) {
  const LmText text = text_of({4, 6, 2}, 1);
  const LmStream s = make_stream(text.lines);
  ASSERT_EQ(s.size(), 15);
  EXPECT_EQ(std::vector<int32_t>(s.target.begin(), s.target.begin() + 4), text.lines[0]);
  EXPECT_EQ(s.target[4], Vocab::kEos);
  EXPECT_EQ(s.target[5], text.lines[1][0]);
  EXPECT_EQ(s.target[14], Vocab::kEos);
  const StreamWindows w(s, 2, 3);  // 2 rows of 7, one position left out
  EXPECT_EQ(w.left_out(), 1);
  EXPECT_EQ(w.windows(), 3);
  // Each position reads the piece before it; the stream's first reads </s>, as if a line had ended.
  const TargetBatch first = w.window(0);
  EXPECT_EQ(first.input,
            (std::vector<int32_t>{Vocab::kEos, s.target[0], s.target[1], s.target[6], s.target[7], s.target[8]}));
  EXPECT_EQ(first.output,
            (std::vector<int32_t>{s.target[0], s.target[1], s.target[2], s.target[7], s.target[8], s.target[9]}));
  const TargetBatch last = w.window(2);
  ASSERT_EQ(last.length, 1);
  EXPECT_EQ(last.input[0], s.target[5]);
  EXPECT_EQ(last.output[1], s.target[13]);
}

// Scoring (logits, then log-softmax) equals the training loss (fused output layer and
// cross-entropy, no label smoothing, no dropout) on the same text, line by line.
TEST(LanguageModel, ScoringEqualsTheTrainingLoss) {
  LmText text = text_of({6, 1, 0, 12, 7, 7, 3}, 5);
  text.words = 10;
  for (const std::string type : {"lm", "lm-transformer"})
    for (const std::string mode : {"sentence", "stream"}) {
      const auto m = tiny_lm(type, "lstm", mode, 11, 2.0f);
      LmScoreOptions opt;
      opt.mini_batch = 3;
      const LmScores s = score_text(*m, text, opt);
      ASSERT_EQ(s.lines.size(), text.lines.size());
      ASSERT_EQ(s.pieces, 43);
      NoGradScope no_grad;
      Rng unused(0);
      std::vector<double> loss(text.lines.size(), 0.0);
      if (mode == "sentence") {
        for (size_t i = 0; i < text.lines.size(); ++i) {
          const Var l =
              m->token_losses(sentence_batch(text.lines, {static_cast<int32_t>(i)}), nullptr, 0, false, unused);
          for (int64_t k = 0; k < l->value.numel(); ++k) loss[i] += l->value[k];
        }
      } else {
        const LmStream stream = make_stream(text.lines);
        std::vector<size_t> line_of;  // of each stream position
        for (size_t i = 0; i < text.lines.size(); ++i) line_of.insert(line_of.end(), text.lines[i].size() + 1, i);
        const StreamWindows windows(stream, 1, m->config().bptt);
        const std::unique_ptr<LmState> state = m->start(1);
        for (int64_t w = 0; w < windows.windows(); ++w) {
          const Var l = m->token_losses(windows.window(w), state.get(), 0, false, unused);
          for (int64_t t = 0; t < l->value.numel(); ++t) loss[line_of[windows.position(w, 0, t)]] += l->value[t];
        }
      }
      double total = 0;
      for (size_t i = 0; i < loss.size(); ++i) {
        EXPECT_NEAR(-s.lines[i].log_prob, loss[i], 1e-4 * (1 + loss[i])) << type << " " << mode << " line " << i;
        EXPECT_EQ(s.lines[i].tokens, static_cast<int>(text.lines[i].size()) + 1);
        total += loss[i];
      }
      EXPECT_NEAR(s.piece_perplexity(), std::exp(total / 43), 1e-4 * s.piece_perplexity());
      EXPECT_NEAR(s.word_perplexity(), std::exp(total / 10), 1e-4 * s.word_perplexity());
    }
}

// Decoding one step at a time gives the logits of the teacher-forced pass.
TEST(LanguageModel, StepsEqualTeacherForcing) {
  const LmText text = text_of({9}, 2);
  for (const std::string type : {"lm", "lm-transformer"})
    for (const std::string cell : {"rnn", "lstm", "gru"}) {
      const auto m = tiny_lm(type, cell, "sentence", 4, 2.0f);
      const TargetBatch b = sentence_batch(text.lines, {0});
      const Tensor full = m->logits(b, nullptr)->value;  // [T, V]
      const std::unique_ptr<LmState> state = m->start(1);
      for (int64_t t = 0; t < b.length; ++t) {
        const Tensor step = m->step(*state, {b.input[t]})->value;
        ASSERT_EQ(step.shape(), (Shape{1, kVocab}));
        for (int64_t v = 0; v < kVocab; ++v)
          EXPECT_NEAR(step[v], full[t * kVocab + v], 1e-4) << type << " " << cell << " t " << t;
      }
      if (type == "lm-transformer") break;  // no cells
    }
}

// J as a function of one input of the probe: the loss at the last of `inputs`.
float last_loss(LanguageModel& m, const std::vector<int32_t>& inputs, int32_t target, LmState* state) {
  NoGradScope no_grad;
  Rng unused(0);
  TargetBatch b;
  b.batch = 1;
  b.length = static_cast<int64_t>(inputs.size());
  b.input = inputs;
  b.output.assign(inputs.size(), 0);
  b.output.back() = target;
  b.lengths = {static_cast<int>(b.length)};
  b.tokens = 1;
  return m.token_losses(b, state, 0.0f, false, unused)->value[b.length - 1];
}

// An RNN's probe at the window's first input (k = W - 1), the norm of dJ/dh(0), against
// central differences of J in the state after that input, which the rest of the window
// starts from (one layer: the state is then exactly what the probe perturbs).
TEST(LanguageModel, RnnStateGradientsMatchFiniteDifferences) {
  const std::vector<int32_t> inputs{2, 7, 11, 5, 9};
  const int32_t target = 13;
  const int64_t W = static_cast<int64_t>(inputs.size());
  for (const std::string cell : {"rnn", "lstm", "gru"}) {
    const auto m = tiny_lm("lm", cell, "sentence", 21, 1.5f, 1);
    const Tensor norms = m->state_gradient_norms(inputs, 1, W, {target}, *m->start(1));
    for (int64_t i = 0; i < m->params().size(); ++i) ASSERT_EQ(m->params().grads()[i], 0.0f);
    std::unique_ptr<LmState> after_first = m->start(1);
    m->step(*after_first, {inputs[0]});
    const std::vector<int32_t> rest(inputs.begin() + 1, inputs.end());
    Tensor& h = *after_first->carried()[0];  // [1, 1, H]
    double sq = 0;
    for (int64_t j = 0; j < h.numel(); ++j) {
      const float orig = h[j], eps = 1e-2f;
      h[j] = orig + eps;
      std::unique_ptr<LmState> plus = m->stack({after_first.get()});
      h[j] = orig - eps;
      std::unique_ptr<LmState> minus = m->stack({after_first.get()});
      h[j] = orig;
      const double g =
          (static_cast<double>(last_loss(*m, rest, target, plus.get())) - last_loss(*m, rest, target, minus.get())) /
          (2 * eps);
      sq += g * g;
    }
    EXPECT_NEAR(norms[0], std::sqrt(sq), 2e-3 + 2e-2 * std::sqrt(sq)) << cell;
    EXPECT_GT(norms[W - 1], 0.0f) << cell;
  }
}

// A transformer's probe at every input w, the norm of dJ/dx(w) (x: embedding plus position),
// against central differences in the embedding row of the piece read there: each piece is
// read once, and x(w) = sqrt(d) E[piece] + P(w), so dJ/dE[piece] = sqrt(d) dJ/dx(w). The
// output layer has its own weights here, so that E enters J only through the inputs.
TEST(LanguageModel, TransformerStateGradientsMatchFiniteDifferences) {
  const std::vector<int32_t> inputs{2, 7, 11, 5, 9};
  const int32_t target = 13;
  const int64_t W = static_cast<int64_t>(inputs.size()), d = 8;
  const auto m = tiny_lm("lm-transformer", "", "sentence", 8, 1.0f, 2, /*tied=*/false);
  const Tensor norms = m->state_gradient_norms(inputs, 1, W, {target}, *m->start(1));
  Tensor table = m->params().get("embeddings.trg")->value;
  for (int64_t w = 0; w < W; ++w) {
    double sq = 0;
    for (int64_t j = 0; j < d; ++j) {
      float& e = table[inputs[w] * d + j];
      const float orig = e, eps = 1e-2f;
      e = orig + eps;
      const double plus = last_loss(*m, inputs, target, nullptr);
      e = orig - eps;
      const double minus = last_loss(*m, inputs, target, nullptr);
      e = orig;
      const double g = (plus - minus) / (2 * eps) / std::sqrt(static_cast<double>(d));
      sq += g * g;
    }
    EXPECT_NEAR(norms[w], std::sqrt(sq), 2e-3 + 2e-2 * std::sqrt(sq)) << "input " << w;
  }
}

// The transformer layer under a causal mask (the language model's) through its Var ops,
// pre-norm and post-norm; and causality: no output depends on a later input.
using ParamShapes = testing::ParamRecorder;

TransformerConfig tiny_layer(NormPlacement norm) {
  TransformerConfig c;
  c.layers = 1;
  c.dim = 8;
  c.heads = 2;
  c.dim_ffn = 16;
  c.norm = norm;
  c.dropout = c.dropout_attention = 0.f;
  return c;
}

TEST(TransformerLayer, CausalGradientPreAndPostNorm) {
  for (NormPlacement norm : {NormPlacement::Pre, NormPlacement::Post}) {
    const TransformerConfig c = tiny_layer(norm);
    ParamShapes p;
    TransformerLayer(p.recorder(), "l", c);
    std::vector<Tensor> inputs{testing::random_tensor({2, 4, 8}, 3)};
    for (Tensor& t : p.values(300)) inputs.push_back(t);
    testing::expect_gradients_match(
        [&](const std::vector<Var>& x) {
          TransformerLayer layer(testing::from_vars(x, 1), "l", c);
          Rng rng(1);
          return layer(x[0], Tensor(), /*causal=*/true, true, rng);
        },
        inputs);
  }
}

TEST(TransformerLayer, CausalNoPositionSeesALaterOne) {
  const TransformerConfig c = tiny_layer(NormPlacement::Pre);
  ParamShapes p;
  TransformerLayer(p.recorder(), "l", c);
  std::vector<Var> params;
  for (Tensor& t : p.values(9)) params.push_back(leaf(t));
  TransformerLayer layer(testing::from_vars(params, 0), "l", c);
  NoGradScope no_grad;
  Rng rng(1);
  Tensor x = testing::random_tensor({1, 5, 8}, 4);
  const Tensor before = layer(leaf(x.clone()), Tensor(), true, false, rng)->value;
  for (int64_t j = 0; j < 8; ++j) x[3 * 8 + j] += 1.0f;  // position 3 changes
  const Tensor after = layer(leaf(x), Tensor(), true, false, rng)->value;
  for (int64_t i = 0; i < 3 * 8; ++i) EXPECT_EQ(before[i], after[i]) << i;
  EXPECT_NE(before[3 * 8], after[3 * 8]);
}

// The embeddings (tied to the output layer) start as the peer's (torch_lm.py): uniform in +-0.1
// for the RNN LMs (a tanh RNN LM stalls with N(0, 1/dim-emb)), N(0, 1/dim-emb) for the
// Transformer LM. 64-wide rows: 1,216 draws besides the zeroed padding row.
TEST(LanguageModel, EmbeddingsStartAsThePeers) {
  for (const std::string type : {"lm", "lm-transformer"}) {
    SCOPED_TRACE(type);
    ModelConfig c = ModelConfig::preset(type);
    c.dim_emb = c.dim_rnn = 64;
    c.trg_vocab_size = kVocab;
    auto m = make_language_model(c, 5);
    const Tensor& e = m->params().get("embeddings.trg")->value;
    double sum2 = 0, most = 0;
    for (int64_t i = c.dim_emb; i < e.numel(); ++i) {
      sum2 += double(e[i]) * e[i];
      most = std::max(most, std::fabs(double(e[i])));
    }
    const double std = std::sqrt(sum2 / double(e.numel() - c.dim_emb));
    const double want = type == "lm" ? 0.1 / std::sqrt(3.0) : 1.0 / std::sqrt(64.0);
    EXPECT_NEAR(std, want, 0.1 * want);
    if (type == "lm")
      EXPECT_LE(most, 0.1);
    else
      EXPECT_GT(most, 0.25);  // a normal's tail: 2 sigma
  }
}

TEST(LanguageModel, ModelFileRoundTripAndRefusals) {
  testing::TempDir dir("nmt_lm_file");
  testing::write_lines(dir.path("text.txt"), testing::make_text(200, 3));
  VocabTrainOptions vo;
  vo.inputs = {dir.path("text.txt")};
  vo.model_path = dir.path("v.spm");
  vo.vocab_size = 24;
  train_vocab(vo);
  const Vocab vocab = Vocab::load(dir.path("v.spm"));
  ModelConfig c = ModelConfig::preset("lm");
  c.dim_emb = c.dim_rnn = 8;
  c.trg_vocab_size = vocab.size();
  const auto m = make_language_model(c, 3);
  save_lm(dir.path("lm.bin"), *m, vocab);
  const LoadedLm loaded = load_lm(dir.path("lm.bin"));
  EXPECT_EQ(loaded.model->config().to_map(), m->config().to_map());
  const LmText text = encode_lm_text("t", {"kalo mine", "su"}, vocab);
  EXPECT_EQ(score_text(*loaded.model, text, {}).log_prob, score_text(*m, text, {}).log_prob);
  try {
    load_model(dir.path("lm.bin"));
    ADD_FAILURE() << "a translation model's loader read a language model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path("lm.bin") + " is a language model (type lm)"), std::string::npos)
        << e.what();
  }
  save_model(dir.path("att.bin"), *testing::tiny_random_model("attention", vocab.size(), 1, 1.0f), vocab, vocab);
  try {
    load_lm(dir.path("att.bin"));
    ADD_FAILURE() << "the language model's loader read a translation model";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path("att.bin") + " is a translation model (type attention)"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace nmt
