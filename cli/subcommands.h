// One function per subcommand, each in its own file cli/<name>_command.cc. Each takes
// the arguments after the subcommand's name and returns the exit code; errors are
// thrown (core/error.h) and reported once by cli::run.
#pragma once

#include <string>
#include <vector>

namespace nmt::cli {

using Args = std::vector<std::string>;

struct Subcommand {
  const char* name;
  const char* summary;
  int (*main)(const Args& args);
};

// The table of subcommands, in the order `nmt --help` lists them.
const std::vector<Subcommand>& subcommands();

int train_command(const Args& args);
int bench_command(const Args& args);

int vocab_command(const Args& args);
int eval_command(const Args& args);
int translate_command(const Args& args);
int score_command(const Args& args);
int shortlist_command(const Args& args);
int average_command(const Args& args);
int generate_command(const Args& args);
int lm_probe_command(const Args& args);
int serve_command(const Args& args);

}  // namespace nmt::cli
