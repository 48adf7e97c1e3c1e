#include "serve/models.h"

#include <filesystem>

#include "core/error.h"

namespace nmt::serve {

std::pair<std::string, std::string> model_name_and_path(const std::string& spec) {
  const size_t eq = spec.find('=');
  // A '=' after a '/' belongs to a file name, not to a name.
  if (eq != std::string::npos && spec.substr(0, eq).find('/') == std::string::npos) {
    const std::string name = spec.substr(0, eq), path = spec.substr(eq + 1);
    if (name.empty() || path.empty()) throw OptionError(cat("model must be PATH or NAME=PATH, got '", spec, "'"));
    return {name, path};
  }
  if (spec.empty()) throw OptionError("model must be PATH or NAME=PATH, got ''");
  return {std::filesystem::path(spec).stem().string(), spec};
}

ModelSet::ModelSet(const std::vector<std::string>& specs, const std::string& shortlist_path) {
  std::vector<std::pair<std::string, std::string>> named;
  for (const std::string& spec : specs) {
    named.push_back(model_name_and_path(spec));
    for (size_t i = 0; i + 1 < named.size(); ++i)
      if (named[i].first == named.back().first)
        throw OptionError(cat("model names must differ, got '", named.back().first, "' for ", named[i].second, " and ",
                              named.back().second, " (name them: NAME=PATH)"));
  }
  for (const auto& [name, path] : named) {
    auto m = std::make_unique<ServedModel>();
    m->name = name;
    m->path = path;
    m->loaded = load_ensemble({path}, {});
    if (!shortlist_path.empty())
      m->shortlist = std::make_unique<Shortlist>(
          Shortlist::load_for(shortlist_path, m->loaded.src_vocab().size(), m->loaded.trg_vocab().size()));
    models_.push_back(std::move(m));
  }
}

const ServedModel* ModelSet::find(const std::string& name) const {
  if (name.empty()) return models_.size() == 1 ? models_[0].get() : nullptr;
  for (const auto& m : models_)
    if (m->name == name) return m.get();
  return nullptr;
}

}  // namespace nmt::serve
