#include "translate/ensemble.h"

#include <cmath>

#include "core/error.h"

namespace nmt {

void check_weights(const std::vector<float>& weights, size_t members) {
  if (weights.size() != members)
    throw OptionError(cat("weights must have one value per model, got ", weights.size(), " for ", members,
                          members == 1 ? " model" : " models"));
  for (float w : weights)
    if (!std::isfinite(w)) throw OptionError(cat("weights must be finite numbers, got ", w));
}

Ensemble::Ensemble(std::vector<std::unique_ptr<Member>> members, std::vector<float> weights)
    : members_(std::move(members)), weights_(std::move(weights)) {
  check_weights(weights_, members_.size());
  if (members_.empty()) throw InputError("an ensemble needs at least one model");
  for (size_t m = 1; m < members_.size(); ++m)
    if (members_[m]->target_vocab_size() != members_[0]->target_vocab_size())
      throw InputError(cat("ensemble member ", m + 1, " has a target vocabulary of ", members_[m]->target_vocab_size(),
                           " pieces, the first member one of ", members_[0]->target_vocab_size(),
                           ": members must share the target vocabulary"));
  primary_ = members_.size();
  for (size_t m = 0; m < members_.size() && primary_ == members_.size(); ++m)
    if (members_[m]->reads_source()) primary_ = m;
  if (primary_ == members_.size()) throw InputError("an ensemble needs a member that reads the source");
}

Ensemble Ensemble::of(Model& model) {
  std::vector<std::unique_ptr<Member>> members;
  members.push_back(std::make_unique<ModelMember>(model));
  return Ensemble(std::move(members), {1.0f});
}

MemberSources LoadedEnsemble::encode_source(const std::string& line) const {
  MemberSources ids;
  for (size_t m = 0; m < models.size(); ++m)
    ids.push_back(ensemble->member(m).reads_source() ? models[m].src_vocab->encode(line) : std::vector<int32_t>());
  return ids;
}

LoadedEnsemble load_ensemble(const std::vector<std::string>& paths, std::vector<float> weights,
                             const MemberLoader& load_lm) {
  if (weights.empty()) weights.assign(paths.size(), 1.0f);
  check_weights(weights, paths.size());
  if (paths.empty()) throw InputError("an ensemble needs at least one model");
  LoadedEnsemble e;
  e.paths = paths;
  std::vector<std::unique_ptr<Member>> members;
  for (const std::string& path : paths) {
    const ModelFile file = load_model_file(path);
    if (load_lm && is_language_model_file(file)) {
      LoadedModel vocab_only;
      members.push_back(load_lm(file, path, vocab_only.trg_vocab));
      e.models.push_back(std::move(vocab_only));
    } else {
      e.models.push_back(model_from_file(file, path));
      members.push_back(std::make_unique<ModelMember>(*e.models.back().model));
    }
    const Vocab& first = *e.models[0].trg_vocab;
    const Vocab& trg = *e.models.back().trg_vocab;
    if (trg.serialized() != first.serialized())
      throw InputError(cat(path, ": its target vocabulary (", trg.size(), " pieces) differs from that of ", paths[0],
                           " (", first.size(), " pieces): the models of an ensemble must share the target vocabulary"));
  }
  size_t reader = 0;
  while (reader < members.size() && !members[reader]->reads_source()) ++reader;
  if (reader == members.size())
    throw InputError(
        cat(paths[0], " is a ", members[0]->kind(), ": it reads no source; translation and forced ",
            "decoding need a translation model among the models (a language model can join one: ", "shallow fusion)"));
  e.ensemble = std::make_unique<Ensemble>(std::move(members), std::move(weights));
  return e;
}

}  // namespace nmt
