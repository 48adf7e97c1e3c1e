#include "training/task.h"

#include "core/error.h"

namespace nmt {

const std::vector<Task>& tasks() {
  // The recipes of docs/quality.md ("One hour of training"), each with exactly the options
  // listed there beyond its type's defaults (the corpus, budget and validation settings of
  // those runs are not part of a recipe).
  static const std::vector<Task> all = {
      {"bottleneck", "the reference bottleneck RNN (the same as --type bottleneck)", {{"type", "bottleneck"}}},
      {"attention", "the reference attention RNN (the same as --type attention)", {{"type", "attention"}}},
      {"transformer", "the reference transformer (the same as --type transformer)", {{"type", "transformer"}}},
      {"bottleneck-short",
       "the bottleneck RNN with a bidirectional encoder and learning rate 0.003, for budgets of several hundred "
       "updates (the main job trains 650)",
       {{"type", "bottleneck"}, {"enc-bidirectional", "true"}, {"learn-rate", "0.003"}}},
      {"attention-short",
       "the reference attention RNN with learning rate 0.003 after a 100-update warm-up: it learns to align within "
       "400 updates (the main job)",
       {{"type", "attention"}, {"learn-rate", "0.003"}, {"lr-warmup", "100"}}},
      {"transformer-short",
       "the reference transformer with a 200-update warm-up, for budgets of several hundred updates (the main job "
       "trains 650)",
       {{"type", "transformer"}, {"lr-warmup", "200"}}},
      {"attention-smoothed",
       "the attention RNN with dropout 0.3 and exponential smoothing (39.5 BLEU on Multi30k in an hour)",
       {{"type", "attention"}, {"dropout", "0.3"}, {"exponential-smoothing", "0.0001"}}},
      {"attention-sampled",
       "attention-smoothed with subword sampling (alpha 0.3): the attention RNN with the best validation BLEU in an "
       "hour (Multi30k: 40.7 on val, 39.7 on test)",
       {{"type", "attention"},
        {"dropout", "0.3"},
        {"exponential-smoothing", "0.0001"},
        {"sentencepiece-alphas", "0.3"}}},
      {"transformer-smoothed",
       "the reference transformer with dropout 0.3 and exponential smoothing (39.0-40.0 BLEU in an hour)",
       {{"type", "transformer"}, {"transformer-dropout", "0.3"}, {"exponential-smoothing", "0.0001"}}},
      {"transformer-tiny",
       "Wu et al.'s Transformer-Tiny with exponential smoothing (40.3 BLEU on Multi30k in an hour)",
       {{"type", "transformer"},
        {"dim-emb", "128"},
        {"transformer-dim-ffn", "256"},
        {"enc-depth", "4"},
        {"dec-depth", "4"},
        {"transformer-norm", "post"},
        {"transformer-dropout", "0.3"},
        {"transformer-dropout-attention", "0"},
        {"learn-rate", "0.005"},
        {"lr-warmup", "2000"},
        {"mini-batch-words", "4000"},
        {"exponential-smoothing", "0.0001"}}},
  };
  return all;
}

const Task& find_task(const std::string& name) {
  std::string known;
  for (const Task& t : tasks()) {
    if (t.name == name) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  throw OptionError(cat("task must be one of ", known, ", got '", name, "'"));
}

std::string task_config(const Task& task) {
  std::string text;
  for (const auto& [key, value] : task.options) text += key + " = " + value + "\n";
  return text;
}

}  // namespace nmt
