#include "model/average.h"

#include <set>

#include "core/error.h"

namespace nmt {

void check_same_model(const LoadedModel& a, const std::string& path_a, const LoadedModel& b,
                      const std::string& path_b) {
  const auto ca = a.model->config().to_map(), cb = b.model->config().to_map();
  std::set<std::string> keys;
  for (const auto& [k, v] : ca) keys.insert(k);
  for (const auto& [k, v] : cb) keys.insert(k);
  for (const std::string& k : keys) {
    const auto ia = ca.find(k), ib = cb.find(k);
    const std::string va = ia == ca.end() ? "<unset>" : ia->second, vb = ib == cb.end() ? "<unset>" : ib->second;
    if (va != vb)
      throw InputError(
          cat(path_b, ": ", k, " is ", vb, " but ", path_a, " has ", va, ": the models' configurations differ"));
  }
  if (a.src_vocab->serialized() != b.src_vocab->serialized())
    throw InputError(cat(path_b, ": its source vocabulary differs from ", path_a, "'s"));
  if (a.trg_vocab->serialized() != b.trg_vocab->serialized())
    throw InputError(cat(path_b, ": its target vocabulary differs from ", path_a, "'s"));
}

LoadedModel average_models(std::vector<LoadedModel> models, const std::vector<std::string>& paths) {
  if (models.empty() || models.size() != paths.size())
    throw Error(cat("average_models: ", models.size(), " models with ", paths.size(), " paths"));
  for (size_t i = 1; i < models.size(); ++i) check_same_model(models[0], paths[0], models[i], paths[i]);
  ParamStore& out = models[0].model->params();
  std::vector<double> sum(static_cast<size_t>(out.size()), 0.0);
  for (const LoadedModel& m : models) {
    const float* v = m.model->params().values();
    for (size_t k = 0; k < sum.size(); ++k) sum[k] += v[k];
  }
  const double n = static_cast<double>(models.size());
  for (size_t k = 0; k < sum.size(); ++k) out.values()[k] = static_cast<float>(sum[k] / n);
  return std::move(models[0]);
}

}  // namespace nmt
