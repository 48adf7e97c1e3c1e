// SIGINT / SIGTERM during training: the handler only sets a flag; the training loop
// sees it after the current update, saves a checkpoint and exits cleanly.
#pragma once

namespace nmt {

void install_stop_handlers();
bool stop_requested();
int stop_signal();  // the signal that asked to stop (0: none)

}  // namespace nmt
