// An ensemble: members (translate/member.h) whose next-token log-probabilities are added,
// weighted, at every step of search and scoring: log p(y | ...) = sum_m w_m log p_m(y | ...),
// not renormalised (as Marian's ensembles), so a forced-decoding score is the weighted sum of
// the members' scores. Every member has the same target vocabulary; each reads the source
// through its own source vocabulary (a member that reads no source, a target-side language
// model, can join with its own weight: shallow fusion).
//
// One model is an ensemble of one member of weight 1, whose log-probabilities are used as
// they are: translating or scoring with it is exactly translating or scoring with the model.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/model_file.h"
#include "model/model.h"
#include "translate/member.h"

namespace nmt {

// One sentence's source ids as each member reads them: ids[m] for member m (empty for a
// member that reads no source), without </s>.
using MemberSources = std::vector<std::vector<int32_t>>;

// Throws OptionError (key weights) unless there is one finite weight per member.
void check_weights(const std::vector<float>& weights, size_t members);

class Ensemble {
 public:
  // Throws OptionError (check_weights) and InputError when the members' target vocabulary
  // sizes differ or none reads the source.
  Ensemble(std::vector<std::unique_ptr<Member>> members, std::vector<float> weights);
  // `model` alone, weight 1 (the model must outlive the ensemble).
  static Ensemble of(Model& model);

  size_t size() const { return members_.size(); }
  Member& member(size_t m) const { return *members_[m]; }
  float weight(size_t m) const { return weights_[m]; }
  // One member of weight 1: its log-probabilities are the ensemble's, unchanged.
  bool single() const { return members_.size() == 1 && weights_[0] == 1.0f; }
  // The first member that reads the source: a shortlist's vocabulary comes from its source
  // ids, and alignments are its attention weights.
  size_t primary() const { return primary_; }
  int64_t target_vocab_size() const { return members_[0]->target_vocab_size(); }

 private:
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<float> weights_;
  size_t primary_ = 0;
};

// Model files read as an ensemble, with their vocabularies.
struct LoadedEnsemble {
  std::vector<std::string> paths;
  // The members' models, in order; a member that reads no source (made by a MemberLoader)
  // has only its target vocabulary here, and owns its model itself.
  std::vector<LoadedModel> models;
  std::unique_ptr<Ensemble> ensemble;

  const Vocab& src_vocab() const { return *models[ensemble->primary()].src_vocab; }  // the primary member's
  const Vocab& trg_vocab() const { return *models[0].trg_vocab; }
  // `line` in each member's source vocabulary.
  MemberSources encode_source(const std::string& line) const;
};

// Makes the member of a model file that holds a language model (is_language_model_file), and
// sets `trg_vocab` to the vocabulary it predicts. Given by the library that has such models
// (lm/fusion.h), so that this one needs no knowledge of them.
using MemberLoader = std::function<std::unique_ptr<Member>(const ModelFile& file, const std::string& path,
                                                           std::shared_ptr<Vocab>& trg_vocab)>;

// Reads the model files at `paths` (weights: one per model; empty: all 1), language models
// through `load_lm` (none: a language model's file is refused by name). Throws OptionError
// for bad weights before reading anything, InputError naming both files when a model's target
// vocabulary differs from the first model's, and InputError naming the file when no model
// reads the source.
LoadedEnsemble load_ensemble(const std::vector<std::string>& paths, std::vector<float> weights,
                             const MemberLoader& load_lm = nullptr);

}  // namespace nmt
