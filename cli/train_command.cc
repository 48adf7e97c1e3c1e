#include <iostream>

#include "cli/model_options.h"
#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "training/task.h"
#include "training/trainer.h"

namespace nmt::cli {
namespace {

// "  NAME  summary\n      --key value ..." for every task, its options wrapped at 100 columns.
std::string task_list() {
  std::string text;
  for (const Task& t : tasks()) {
    if (!text.empty()) text += "\n";
    text += "  " + t.name + std::string(t.name.size() < 22 ? 22 - t.name.size() : 1, ' ') + t.summary + "\n     ";
    size_t column = 5;
    for (const auto& [key, value] : t.options) {
      const std::string option = " --" + key + " " + value;
      if (column + option.size() > 100) {
        text += "\n     ";
        column = 5;
      }
      text += option;
      column += option.size();
    }
  }
  return text;
}

CommandSpec train_spec() {
  CommandSpec spec;
  spec.name = "train";
  spec.usage =
      "nmt train --train-sets SRC TRG --vocabs V.spm V.spm --model model.bin [options]\n"
      "       nmt train --type lm|lm-transformer --train-sets TEXT --vocabs V.spm --model lm.bin [options]";
  spec.summary =
      "Trains a translation model, or a language model on one text. Vocabulary files that do not exist are "
      "trained on the training sets first (one joint vocabulary when both --vocabs paths are the same). Running "
      "the same command again resumes from MODEL.ckpt.\n\n"
      "Tasks (--task NAME fills the options listed; options given explicitly win):\n" +
      task_list();
  po::options_description task("Task options");
  // One option a line, as a table:
  // clang-format off
  task.add_options()
      ("task", po::value<std::string>(), "a named recipe (listed above) that fills model and training options");
  // clang-format on
  spec.presets = [](const po::variables_map& vm) {
    return vm.count("task") ? task_config(find_task(vm["task"].as<std::string>())) : std::string();
  };
  po::options_description data("Data options");
  // One option a line, as a table:
  // clang-format off
  data.add_options()
      ("train-sets,t", po::value<std::vector<std::string>>()->multitoken()->required(), "SRC TRG training files (plain or .gz); TEXT for a language model")
      ("valid-sets", po::value<std::vector<std::string>>()->multitoken(), "SRC TRG validation files; TEXT for a language model")
      ("vocabs,v", po::value<std::vector<std::string>>()->multitoken()->required(), "SRC TRG SentencePiece models; one for a language model")
      ("vocab-size", po::value<int>()->default_value(8000), "pieces of a vocabulary trained here")
      ("model,m", po::value<std::string>()->required(), "model file to write")
      ("max-length", po::value<int>()->default_value(100), "drop training pairs with a side longer than this (pieces); language models: lines, in sentence mode")
      ("sentencepiece-alphas", po::value<std::vector<float>>()->multitoken(), "subword regularisation: SRC [TRG] alpha; each epoch encodes the training pairs with segmentations sampled from the vocabulary (unigram: probabilities raised to alpha, e.g. 0.1; BPE: merge dropout) (default 0: the most probable)");
  // clang-format on
  po::options_description training("Training options");
  // One option a line, as a table:
  // clang-format off
  training.add_options()
      ("mini-batch-words", po::value<int64_t>()->default_value(2000), "target tokens per mini-batch")
      ("maxi-batch", po::value<int>()->default_value(100), "mini-batches read and sorted by length together")
      ("maxi-batch-sort", po::value<std::string>(),
       "sort a maxi-batch by: src (source, then target length), trg, max (the longer side; least padding) (default: max for a transformer encoder, src for an RNN)")
      ("label-smoothing", po::value<float>(), "label smoothing epsilon (default 0.1; 0 for language models)")
      ("rdrop-alpha", po::value<float>()->default_value(0.f), "R-Drop: train each pair twice under two dropout masks, with this weight on the symmetric KL between the two output distributions (0: off; translation models)")
      ("learn-rate,l", po::value<float>(), "learning rate (default 1e-3; 7e-4 for transformer)")
      ("lr-warmup", po::value<int64_t>(), "linear warm-up updates (default 0; 800 for transformer)")
      ("lr-decay-inv-sqrt", po::value<bool>(), "decay with the inverse square root of the update after warm-up (default: transformer only)")
      ("clip-norm", po::value<float>()->default_value(1.0f), "clip the global gradient norm (0: off)")
      ("optimizer-delay", po::value<int>()->default_value(1), "accumulate gradients over N mini-batches per update")
      ("exponential-smoothing", po::value<float>()->default_value(0.f)->implicit_value(1e-4f, "1e-4"),
       "validate and save a running average of the parameters, decay max(F, 1-(u+1)/(u+10)) at update u (0: off; alone: 1e-4)")
      ("rnn-recompute", po::bool_switch(),
       "keep no RNN training workspaces from the forward: rebuild each layer's in the backward (less memory, one more RNN forward)")
      ("precision", po::value<std::vector<std::string>>()->multitoken(),
       "number type of the matrix products in the forward and backward pass: float32 (default) or bfloat16 "
       "(fp32 accumulation; weights, gradients and Adam stay float32), optionally followed by the optimizer's: float32")
      ("optimizer-params", po::value<std::vector<float>>()->multitoken(), "Adam beta1 beta2 eps (default 0.9 0.98 1e-9)")
      ("seed", po::value<uint64_t>()->default_value(1), "random seed (initialisation, dropout, shuffling)")
      ("after,e", po::value<std::string>()->default_value("10e"), "stop after: e epochs, u updates, t target tokens, m minutes; e.g. 30m or 10e,20000u")
      ("disp-freq", po::value<std::string>()->default_value("100u"), "log every N (units as --after)")
      ("save-freq", po::value<std::string>()->default_value(""), "checkpoint every N (default: with validation)")
      ("max-divergence", po::value<int>()->default_value(10), "stop after N non-finite updates in a row")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)");
  // clang-format on
  po::options_description valid("Validation options");
  // One option a line, as a table:
  // clang-format off
  valid.add_options()
      ("valid-freq", po::value<std::string>()->default_value("1e"), "validate every N (units as --after)")
      ("valid-metrics", po::value<std::vector<std::string>>()->multitoken(), "ce, perplexity, bleu (default perplexity bleu; perplexity for language models); the first decides early stopping")
      ("early-stopping", po::value<int>()->default_value(10), "stop after N validations without improvement (0: never)")
      ("valid-mini-batch", po::value<int>()->default_value(64), "sentences per validation batch")
      ("valid-translation-output", po::value<std::string>()->default_value(""), "write the validation translations (greedy) to this file; {U} and {E} become the update and the epoch")
      ("valid-max-sentences", po::value<int64_t>()->default_value(0), "translate at most N validation sentences for BLEU (0: all)")
      ("keep-checkpoints", po::value<int>()->default_value(0), "keep the last N validated models as MODEL.iter{U}, U the update, for nmt average (0: none)");
  // clang-format on
  po::options_description out("Output options");
  // One option a line, as a table:
  // clang-format off
  out.add_options()
      ("log", po::value<std::string>()->default_value(""), "also write the log to this file");
  // clang-format on
  for (const auto& g : {task, data, model_options(), training, valid, out}) spec.groups.push_back(g);
  return spec;
}

// The library's options as given on the command line, with the defaults that depend on
// the model (transformer or RNN); their rules are the library's (TrainOptions::validate).
TrainOptions train_options(const po::variables_map& vm) {
  TrainOptions o;
  o.train_sets = get<std::vector<std::string>>(vm, "train-sets");
  if (vm.count("valid-sets")) o.valid_sets = get<std::vector<std::string>>(vm, "valid-sets");
  o.vocabs = get<std::vector<std::string>>(vm, "vocabs");
  o.vocab_size = get<int>(vm, "vocab-size");
  o.model_path = get<std::string>(vm, "model");
  o.max_length = get<int>(vm, "max-length");
  if (vm.count("sentencepiece-alphas")) o.sentencepiece_alphas = get<std::vector<float>>(vm, "sentencepiece-alphas");
  o.model = model_config_from(vm);
  const bool transformer = o.model.dec_type == "transformer";
  o.mini_batch_words = get<int64_t>(vm, "mini-batch-words");
  o.maxi_batch = get<int>(vm, "maxi-batch");
  if (vm.count("maxi-batch-sort")) o.maxi_batch_sort = get<std::string>(vm, "maxi-batch-sort");
  const bool lm = o.model.is_language_model();
  o.label_smoothing = vm.count("label-smoothing") ? get<float>(vm, "label-smoothing") : (lm ? 0.0f : 0.1f);
  o.rdrop_alpha = get<float>(vm, "rdrop-alpha");
  o.learn_rate = vm.count("learn-rate") ? get<float>(vm, "learn-rate") : (transformer ? 7e-4f : 1e-3f);
  o.lr_warmup = vm.count("lr-warmup") ? get<int64_t>(vm, "lr-warmup") : (transformer ? 800 : 0);
  o.lr_decay_inv_sqrt = vm.count("lr-decay-inv-sqrt") ? get<bool>(vm, "lr-decay-inv-sqrt") : transformer;
  o.clip_norm = get<float>(vm, "clip-norm");
  o.optimizer_delay = get<int>(vm, "optimizer-delay");
  o.exponential_smoothing = get<float>(vm, "exponential-smoothing");
  o.rnn_recompute = get<bool>(vm, "rnn-recompute");
  if (vm.count("precision")) o.bf16 = bf16_precision(get<std::vector<std::string>>(vm, "precision"));
  if (vm.count("optimizer-params")) {
    auto p = get<std::vector<float>>(vm, "optimizer-params");
    if (p.size() != 3) throw UsageError(cat("--optimizer-params takes 3 values (beta1 beta2 eps), got ", p.size()));
    o.adam = AdamConfig{p[0], p[1], p[2]};
  }
  o.seed = get<uint64_t>(vm, "seed");
  o.after = get<std::string>(vm, "after");
  o.disp_freq = get<std::string>(vm, "disp-freq");
  o.save_freq = get<std::string>(vm, "save-freq");
  o.max_divergence = get<int>(vm, "max-divergence");
  o.valid_freq = get<std::string>(vm, "valid-freq");
  if (vm.count("valid-metrics"))
    o.valid_metrics = get<std::vector<std::string>>(vm, "valid-metrics");
  else if (lm)
    o.valid_metrics = {"perplexity"};
  o.early_stopping = get<int>(vm, "early-stopping");
  o.valid_mini_batch = get<int>(vm, "valid-mini-batch");
  o.valid_max_sentences = get<int64_t>(vm, "valid-max-sentences");
  o.valid_translation_output = get<std::string>(vm, "valid-translation-output");
  o.keep_checkpoints = get<int>(vm, "keep-checkpoints");
  o.log_file = get<std::string>(vm, "log");
  o.options_text = dump_config(vm);
  return o;
}

}  // namespace

int train_command(const Args& args) {
  const auto vm = parse(train_spec(), args);
  if (!vm) return 0;
  const TrainOptions options = train_options(*vm);
  Context::get().set_threads(get<int>(*vm, "cpu-threads"));
  return nmt::train(options);
}

}  // namespace nmt::cli
