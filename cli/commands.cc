#include "cli/commands.h"

#include <iostream>
#include <string>

#include "core/error.h"

namespace nmt::cli {

int run(int argc, char** argv) {
  try {
    if (argc < 2) throw UsageError("usage: nmt SUBCOMMAND [options]; see nmt --help");
    std::string sub = argv[1];
    throw UsageError(cat("unknown subcommand '", sub, "'"));
  } catch (const UsageError& e) {
    std::cerr << "nmt: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "nmt: error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace nmt::cli
