// Training log lines: on stderr, and in --log FILE when given. A live progress line
// (overwritten in place) is shown only when stderr is a terminal. A disabled log (ranks
// other than 0 of a distributed run) writes nothing.
#pragma once

#include <fstream>
#include <string>

namespace nmt {

class TrainLog {
 public:
  explicit TrainLog(const std::string& file = "", bool enabled = true);
  void line(const std::string& text);      // "[2026-11-24 07:00:00] text"
  void progress(const std::string& text);  // terminal only, overwritten by the next line

 private:
  std::ofstream file_;
  bool enabled_;
  bool tty_;
  bool progress_shown_ = false;
};

}  // namespace nmt
