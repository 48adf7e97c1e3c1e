// The models a server has loaded, each under a name: `name=path`, or the file's stem
// ("runs/att.bin" is "att"). Each is an ensemble of one model (translate/ensemble.h), with
// its own copy of the server's shortlist when one is given.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "translate/ensemble.h"
#include "translate/shortlist.h"

namespace nmt::serve {

struct ServedModel {
  std::string name, path;
  LoadedEnsemble loaded;
  std::unique_ptr<Shortlist> shortlist;  // null: the whole target vocabulary
  bool has_attention() const { return loaded.ensemble->member(0).has_attention(); }
};

// "name=path" -> {name, path}; a plain path is named by its stem. OptionError (key model)
// for an empty name or path.
std::pair<std::string, std::string> model_name_and_path(const std::string& spec);

class ModelSet {
 public:
  // Loads every `specs` entry (model_name_and_path) and, when `shortlist_path` is not empty,
  // that shortlist for each (it must fit each model's vocabularies). OptionError for a name
  // given twice, InputError for a file that cannot be read.
  ModelSet(const std::vector<std::string>& specs, const std::string& shortlist_path);

  const std::vector<std::unique_ptr<ServedModel>>& all() const { return models_; }
  // The model called `name`, or null; an empty name is the only model when there is one.
  const ServedModel* find(const std::string& name) const;

 private:
  std::vector<std::unique_ptr<ServedModel>> models_;
};

}  // namespace nmt::serve
