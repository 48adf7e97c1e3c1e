#include "training/schedule.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace nmt {

double Amount::of(const Progress& p) const {
  switch (unit) {
    case 'e':
      return static_cast<double>(p.epochs);
    case 't':
      return static_cast<double>(p.tokens);
    case 'm':
      return p.minutes;
    default:
      return static_cast<double>(p.updates);
  }
}

std::vector<Amount> parse_amounts(const std::string& spec, const std::string& option) {
  std::vector<Amount> out;
  std::stringstream ss(spec);
  std::string part;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) continue;
    Amount a;
    char last = part.back();
    std::string number = part;
    if (std::string("eutm").find(last) != std::string::npos) {
      a.unit = last;
      number.pop_back();
    } else if (!std::isdigit(static_cast<unsigned char>(last))) {
      throw OptionError(cat(option,
                            " must be amounts like 10e or 10e,500u (units e epochs, u updates, t target tokens, ",
                            "m minutes), got '", spec, "': unknown unit '", last, "'"));
    }
    size_t used = 0;
    try {
      a.value = std::stod(number, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != number.size() || a.value < 0 || number.empty())
      throw OptionError(cat(option, " must be amounts like 10e or 10e,500u, got '", spec, "': '", part,
                            "' is not a number >= 0 with a unit"));
    if (a.value > 0) out.push_back(a);
  }
  return out;
}

bool reached(const std::vector<Amount>& budget, const Progress& p) {
  for (const Amount& a : budget)
    if (a.of(p) >= a.value) return true;
  return false;
}

bool crossed(const Amount& freq, const Progress& before, const Progress& now) {
  if (freq.value <= 0) return false;
  return std::floor(freq.of(now) / freq.value) > std::floor(freq.of(before) / freq.value);
}

}  // namespace nmt
