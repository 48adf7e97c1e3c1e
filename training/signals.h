// SIGINT / SIGTERM during training: the handler only sets a flag; the training loop
// sees it after the current update, saves a checkpoint and exits cleanly. A distributed run
// also stops on SIGUSR1, which mpirun forwards to every rank at once (Open MPI's mpirun
// sends its ranks SIGTERM only odls_base_sigkill_timeout seconds after its own SIGTERM or
// SIGINT, and SIGKILL as long again later; docs/distributed.md).
#pragma once

namespace nmt {

void install_stop_handlers(bool usr1 = false);
bool stop_requested();
int stop_signal();  // the signal that asked to stop (0: none)

}  // namespace nmt
