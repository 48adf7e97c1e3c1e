// Option parsing shared by every subcommand (Boost.Program_options).
//
// A subcommand declares its options in groups, one per concern (model, training,
// validation, ...). parse() adds the common group (--help, --config, --dump-config),
// reads an optional config file of `key = value` lines, lets the command line override
// it, then the spec's presets below both, and turns unknown options or bad values into UsageError (exit code 2).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace nmt::cli {

namespace po = boost::program_options;

struct CommandSpec {
  std::string name;     // "train"
  std::string usage;    // "nmt train --train-sets SRC TRG ... [options]"
  std::string summary;  // one paragraph shown by --help
  std::vector<po::options_description> groups;
  po::positional_options_description positional;
  // Optional: config-file text of options read below the command line and the config file
  // (a --task recipe), given what those two set; empty text adds nothing.
  std::function<std::string(const po::variables_map&)> presets;
};

// Returns the merged options, or nullopt when --help or --dump-config was handled
// (already printed on stdout; the caller returns 0).
std::optional<po::variables_map> parse(const CommandSpec& spec, const std::vector<std::string>& args);

// Every option that has a value, as `key = value` lines (the format --config reads).
std::string dump_config(const po::variables_map& vm);

// Convenience accessors.
template <typename T>
T get(const po::variables_map& vm, const std::string& key) {
  return vm[key].as<T>();
}
inline bool has(const po::variables_map& vm, const std::string& key) { return vm.count(key) && !vm[key].defaulted(); }

}  // namespace nmt::cli
