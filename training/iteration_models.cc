#include "training/iteration_models.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include "core/error.h"

namespace nmt {

namespace fs = std::filesystem;

std::string iteration_model_path(const std::string& model_path, int64_t update) {
  return cat(model_path, ".iter", update);
}

std::vector<int64_t> iteration_models(const std::string& model_path) {
  const fs::path path(model_path);
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  const std::string prefix = path.filename().string() + ".iter";
  std::vector<int64_t> updates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.size() > 18 ||
        !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
      continue;
    updates.push_back(std::stoll(digits));
  }
  std::sort(updates.begin(), updates.end());
  return updates;
}

void keep_last_iteration_models(const std::string& model_path, int keep) {
  const std::vector<int64_t> updates = iteration_models(model_path);
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 0)) < updates.size(); ++i) {
    std::error_code ec;
    fs::remove(iteration_model_path(model_path, updates[i]), ec);
    if (ec) throw InputError(cat(iteration_model_path(model_path, updates[i]), ": cannot delete: ", ec.message()));
  }
}

}  // namespace nmt
