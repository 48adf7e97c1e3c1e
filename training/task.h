// Named recipes (Marian's --task): each fills model and training options by their keys, as a
// config file would, so that a recipe recorded in docs/quality.md is one name to type. Options
// given explicitly (command line or config file) win over a task's.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace nmt {

struct Task {
  std::string name;     // "transformer-tiny"
  std::string summary;  // one line: what it is and where it comes from
  // (key, value) pairs in the form of a config file's `key = value` lines.
  std::vector<std::pair<std::string, std::string>> options;
};

// Every task, in the order `nmt train --help` lists them: the three reference configurations
// (bottleneck, attention, transformer: the same as their `type`), then the best recipes.
const std::vector<Task>& tasks();

// The task called `name`; OptionError listing the known ones otherwise.
const Task& find_task(const std::string& name);

// The task's options as config-file lines ("key = value\n" each).
std::string task_config(const Task& task);

}  // namespace nmt
