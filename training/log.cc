#include "training/log.h"

#include <unistd.h>

#include <ctime>
#include <iostream>

#include "core/error.h"

namespace nmt {
namespace {
std::string timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "[%Y-%m-%d %H:%M:%S] ", std::localtime(&t));
  return buf;
}
}  // namespace

TrainLog::TrainLog(const std::string& file, bool enabled) : enabled_(enabled), tty_(enabled && isatty(STDERR_FILENO)) {
  if (enabled && !file.empty()) {
    file_.open(file, std::ios::app);
    if (!file_) throw InputError(cat(file, ": cannot open log file for writing"));
  }
}

void TrainLog::line(const std::string& text) {
  if (!enabled_) return;
  const std::string l = timestamp() + text;
  if (progress_shown_) std::cerr << "\r\033[K";
  progress_shown_ = false;
  std::cerr << l << std::endl;
  if (file_) file_ << l << std::endl;
}

void TrainLog::progress(const std::string& text) {
  if (!tty_) return;
  std::cerr << "\r\033[K" << text << std::flush;
  progress_shown_ = true;
}

}  // namespace nmt
