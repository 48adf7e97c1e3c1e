// nmt lm-probe: the vanishing gradient and the context a language model uses, measured on a
// text (lm/probe.h). Prints a tab-separated table (comment lines start with #):
//   section   k       value                        positions
//   gradient  0..K    mean ||dJ(t)/dh(t-k)||       positions averaged
//   context   k       perplexity, last k inputs    positions
//   context   whole   perplexity, whole context    positions
// scripts/lm-probe-report turns tables of several models into charts.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/options.h"
#include "cli/subcommands.h"
#include "core/context.h"
#include "core/error.h"
#include "core/format.h"
#include "lm/probe.h"

namespace nmt::cli {
namespace {

CommandSpec probe_spec() {
  CommandSpec spec;
  spec.name = "lm-probe";
  spec.usage = "nmt lm-probe -m LM -i TEXT [--max-distance K] [--context-lengths K...] [options]";
  spec.summary =
      "Measures on a text how a language model's gradient fades with distance, the norm of dJ(t)/dh(t-k) for\n"
      "k = 0..K averaged over positions t (J(t) = -log p of the piece at t, h(s) the state after reading input s:\n"
      "an RNN's hidden states, a transformer's input to its first layer), and the perplexity when the model\n"
      "reads only the last k inputs. Prints a tab-separated table; scripts/lm-probe-report draws the charts.";
  po::options_description g("Probe options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("model,m", po::value<std::string>()->required(), "language model file")
      ("input,i", po::value<std::string>()->required(), "text, plain or gzip ('-' = stdin)")
      ("output,o", po::value<std::string>()->default_value("-"), "output file ('-' = stdout)")
      ("max-distance", po::value<int>()->default_value(50), "K: gradient norms for k = 0..K")
      ("context-lengths", po::value<std::vector<int>>()->multitoken()->default_value({1, 2, 4, 8, 16, 32, 64}, "1 2 4 8 16 32 64"),
       "perplexity with the context cut to each of these lengths")
      ("positions", po::value<int64_t>()->default_value(1000), "probe at most this many positions, evenly spread over the text")
      ("cpu-threads", po::value<int>()->default_value(0), "threads (0: all cores)");
  // clang-format on
  spec.groups.push_back(g);
  return spec;
}

UsageError bad(const std::string& what) { return UsageError(cat("lm-probe: ", what, " (see nmt lm-probe --help)")); }

std::string describe(const ModelConfig& c) {
  const bool rnn = c.dec_type == "rnn";
  return cat("type ", c.type, ", ", rnn ? (c.cell == "rnn" ? "tanh" : c.cell) + " RNN" : "transformer", ", ",
             c.dec_depth, c.dec_depth == 1 ? " layer of " : " layers of ", rnn ? c.dim_rnn : c.dim_emb, ", ", c.lm_mode,
             " mode", c.lm_mode == "stream" ? cat(", bptt ", c.bptt) : "");
}

std::string table(const ProbeReport& r, const ProbeOptions& o, const std::string& head) {
  std::string out = head;
  out += printf_string(
      "# %lld of %lld positions probed; perplexity per piece with the whole context %.4f (every "
      "position), %.4f (the probed ones)\n",
      static_cast<long long>(r.positions), static_cast<long long>(r.text_positions), r.text_perplexity, r.perplexity);
  out += "section\tk\tvalue\tpositions\n";
  for (size_t k = 0; k < r.gradient_norm.size(); ++k)
    out += printf_string("gradient\t%zu\t%.6e\t%lld\n", k, r.gradient_norm[k],
                         static_cast<long long>(r.gradient_positions[k]));
  for (size_t i = 0; i < o.context_lengths.size(); ++i)
    out += printf_string("context\t%d\t%.4f\t%lld\n", o.context_lengths[i], r.context_perplexity[i],
                         static_cast<long long>(r.positions));
  out += printf_string("context\twhole\t%.4f\t%lld\n", r.perplexity, static_cast<long long>(r.positions));
  return out;
}

}  // namespace

int lm_probe_command(const Args& args) {
  const auto parsed = parse(probe_spec(), args);
  if (!parsed) return 0;
  const po::variables_map& vm = *parsed;
  ProbeOptions o;
  o.max_distance = get<int>(vm, "max-distance");
  o.context_lengths = get<std::vector<int>>(vm, "context-lengths");
  o.positions = get<int64_t>(vm, "positions");
  o.validate();  // before the model is loaded: a bad value costs nothing
  const int threads = get<int>(vm, "cpu-threads");
  if (threads < 0) throw bad(cat("--cpu-threads must be >= 0, got ", threads));
  Context::get().set_threads(threads);

  const std::string model_path = get<std::string>(vm, "model"), text_path = get<std::string>(vm, "input");
  const LoadedLm lm = load_lm(model_path);
  const ProbeReport r = probe(*lm.model, read_lm_text(text_path, *lm.vocab), o);
  const std::string text =
      table(r, o, cat("# nmt lm-probe: ", model_path, " (", describe(lm.model->config()), ") on ", text_path, "\n"));
  const std::string out_path = get<std::string>(vm, "output");
  if (out_path == "-") {
    std::cout << text << std::flush;
    if (!std::cout) throw InputError("<stdout>: write error");
    return 0;
  }
  std::ofstream file(out_path, std::ios::binary | std::ios::trunc);
  if (!(file << text)) throw InputError(cat(out_path, ": cannot write: ", std::strerror(errno)));
  return 0;
}

}  // namespace nmt::cli
