#include "cli/commands.h"

int main(int argc, char** argv) { return nmt::cli::run(argc, argv); }
