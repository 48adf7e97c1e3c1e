// nmt generate: continuations of prompts sampled from a language model (lm/generate.h), one
// output line per prompt and sample: the prompt and its continuation, detokenized together.
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "lm/generate.h"
#include "tokenization/corpus.h"

namespace nmt::cli {
namespace {

CommandSpec generate_spec() {
  CommandSpec spec;
  spec.name = "generate";
  spec.usage =
      "nmt generate -m LM [--prompt TEXT | -i PROMPTS] [-n K] [--sampling greedy|full|topk K|topp P] [options]";
  spec.summary =
      "Generates text with a language model (nmt train --type lm or lm-transformer): for each prompt (--prompt,\n"
      "each line of -i, or one empty prompt without either) K continuations (-n), each until </s> or\n"
      "--max-length pieces, printed one a line after their prompt. The same --seed gives the same lines.";
  po::options_description g("Generation options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("model,m", po::value<std::string>()->required(), "language model file")
      ("prompt", po::value<std::string>(), "one prompt to continue")
      ("input,i", po::value<std::string>(), "prompts, one a line, plain or gzip ('-' = stdin)")
      ("output,o", po::value<std::string>()->default_value("-"), "output file ('-' = stdout)")
      ("samples,n", po::value<int>()->default_value(1), "continuations per prompt, one output line each")
      ("max-length", po::value<int>()->default_value(100), "pieces generated at most (</s> not counted)")
      ("sampling", po::value<std::vector<std::string>>()->multitoken()->default_value({"greedy"}, "greedy"),
       "greedy (the most probable piece), full (from the whole distribution), topk K (from the K most probable), topp P (from the most probable pieces that together reach P)")
      ("temperature", po::value<float>()->default_value(1.0f), "divide the logits by T before sampling (0: greedy)")
      ("seed", po::value<uint64_t>()->default_value(1), "random seed: the same seed gives the same samples")
      ("no-spm-decode", po::bool_switch(), "print SentencePiece pieces separated by spaces instead of detokenized text")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("generate: ", what, " (see nmt generate --help)")); }

GenerateOptions generate_options(const po::variables_map& vm) {
  GenerateOptions o;
  parse_sampling(get<std::vector<std::string>>(vm, "sampling"), o);
  o.samples = get<int>(vm, "samples");
  o.max_length = get<int>(vm, "max-length");
  o.temperature = get<float>(vm, "temperature");
  o.seed = get<uint64_t>(vm, "seed");
  return o;
}

std::vector<std::string> prompts(const po::variables_map& vm) {
  if (vm.count("prompt")) return {get<std::string>(vm, "prompt")};
  if (!vm.count("input")) return {""};
  const std::string path = get<std::string>(vm, "input");
  std::vector<std::string> lines = read_lines(path);
  if (lines.empty()) throw InputError(cat(path == "-" ? "<stdin>" : path, ": the file is empty: no prompts"));
  return lines;
}

std::string text_of(const Vocab& vocab, const std::vector<int32_t>& ids, bool pieces) {
  if (!pieces) return vocab.decode(ids);
  std::string out;
  for (const std::string& p : vocab.pieces(ids)) out += (out.empty() ? "" : " ") + p;
  return out;
}

}  // namespace

int generate_command(const Args& args) {
  const auto parsed = parse(generate_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  if (vm.count("prompt") && vm.count("input")) throw bad("give --prompt TEXT or --input FILE, not both");
  const GenerateOptions options = generate_options(vm);
  options.validate();  // before the model is loaded: a bad value costs nothing
  const int threads = get<int>(vm, "cpu-threads");
  if (threads < 0) throw bad(cat("--cpu-threads must be >= 0, got ", threads));
  Context::get().set_threads(threads);

  const LoadedLm lm = load_lm(get<std::string>(vm, "model"));
  const std::vector<std::string> lines = prompts(vm);
  const std::string out_path = get<std::string>(vm, "output");
  std::ofstream file;
  if (out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) throw InputError(cat(out_path, ": cannot write: ", std::strerror(errno)));
  }
  std::ostream& out = out_path == "-" ? std::cout : file;
  const bool pieces = get<bool>(vm, "no-spm-decode");
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<int32_t> prompt = lm.vocab->encode(lines[i]);
    for (std::vector<int32_t> continuation : generate(*lm.model, prompt, i, options)) {
      continuation.insert(continuation.begin(), prompt.begin(), prompt.end());
      out << text_of(*lm.vocab, continuation, pieces) << "\n";
    }
    out.flush();
  }
  if (!out) throw InputError(cat(out_path == "-" ? "<stdout>" : out_path, ": write error"));
  return 0;
}

}  // namespace nmt::cli
