// Training budgets and frequencies with units, as Marian writes them:
//   e epochs, u updates, t target tokens, m wall-clock minutes
// `--after 10e,20000u` stops at whichever comes first; `--valid-freq 500u` validates
// every 500 updates. A bare number means updates.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nmt {

struct Progress {
  int64_t epochs = 0;  // completed epochs
  int64_t updates = 0;
  int64_t tokens = 0;  // target tokens trained on
  double minutes = 0;  // training wall-clock time, across resumes
};

struct Amount {
  char unit = 'u';  // e, u, t, m
  double value = 0;
  double of(const Progress& p) const;  // p's count in this unit
};

// "10e,20000u" -> {10 e, 20000 u}; "0" or "" -> none. Throws OptionError naming `option`
// (the key: after, valid-freq, ...).
std::vector<Amount> parse_amounts(const std::string& spec, const std::string& option);

// True when any budget is reached.
bool reached(const std::vector<Amount>& budget, const Progress& p);
// True when `now` has crossed a multiple of `freq` that `before` had not.
bool crossed(const Amount& freq, const Progress& before, const Progress& now);

}  // namespace nmt
