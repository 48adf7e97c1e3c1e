// The `nmt` command: one binary, one subcommand per task.
#pragma once

namespace nmt::cli {

// Dispatches argv[1] to its subcommand; catches every error once, prints it on
// stderr and returns the exit code (0 ok, 1 bad input or failure, 2 bad usage: a bad
// command line, or an option value the library refuses with OptionError).
int run(int argc, char** argv);

}  // namespace nmt::cli
