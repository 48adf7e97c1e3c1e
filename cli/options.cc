#include "cli/options.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "core/error.h"

namespace nmt::cli {
namespace {

std::string value_str(const boost::any& v) {
  std::ostringstream os;
  if (auto p = boost::any_cast<std::string>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<int>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<int64_t>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<size_t>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<float>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<double>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<bool>(&v)) {
    os << (*p ? "true" : "false");
  } else if (auto p = boost::any_cast<std::vector<std::string>>(&v)) {
    for (size_t i = 0; i < p->size(); ++i) os << (i ? " " : "") << (*p)[i];
  } else if (auto p = boost::any_cast<uint64_t>(&v)) {
    os << *p;
  } else if (auto p = boost::any_cast<std::vector<float>>(&v)) {
    for (size_t i = 0; i < p->size(); ++i) os << (i ? " " : "") << (*p)[i];
  } else if (auto p = boost::any_cast<std::vector<int>>(&v)) {
    for (size_t i = 0; i < p->size(); ++i) os << (i ? " " : "") << (*p)[i];
  } else {
    os << "?";
  }
  return os.str();
}

po::options_description common_group() {
  po::options_description g("General options");
  // One option a line, as a table:
  // clang-format off
  g.add_options()
      ("help,h", "print this help and exit")
      ("config,c", po::value<std::string>(), "read options from a config file of `key = value` lines; "
                                             "command-line options override it")
      ("dump-config", "print the merged configuration (config file + command line) and exit");
  // clang-format on
  return g;
}

}  // namespace

std::string dump_config(const po::variables_map& vm) {
  std::ostringstream os;
  for (const auto& [key, value] : vm) {
    if (key == "config" || key == "dump-config" || key == "help" || value.empty()) continue;
    // Multi-value options get one line per value: the form --config reads back.
    if (auto v = boost::any_cast<std::vector<std::string>>(&value.value())) {
      for (const auto& item : *v) os << key << " = " << item << "\n";
    } else if (auto f = boost::any_cast<std::vector<float>>(&value.value())) {
      for (float item : *f) os << key << " = " << item << "\n";
    } else if (auto n = boost::any_cast<std::vector<int>>(&value.value())) {
      for (int item : *n) os << key << " = " << item << "\n";
    } else {
      os << key << " = " << value_str(value.value()) << "\n";
    }
  }
  return os.str();
}

std::optional<po::variables_map> parse(const CommandSpec& spec, const std::vector<std::string>& args) {
  po::options_description all;
  all.add(common_group());
  for (const auto& g : spec.groups) all.add(g);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(all).positional(spec.positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: " << spec.usage << "\n\n" << spec.summary << "\n\n" << all << "\n";
      return std::nullopt;
    }
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw InputError(cat(path, ": cannot open config file"));
      // Only options of this subcommand are allowed in its config file: a typo is an error.
      po::store(po::parse_config_file(in, all, false), vm);
    }
    if (spec.presets) {  // stored last: what the command line or the config file set wins
      std::istringstream presets(spec.presets(vm));
      po::store(po::parse_config_file(presets, all, false), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(cat(spec.name, ": ", e.what(), " (see nmt ", spec.name, " --help)"));
  }
  if (vm.count("dump-config")) {
    std::cout << dump_config(vm);
    return std::nullopt;
  }
  return vm;
}

}  // namespace nmt::cli
