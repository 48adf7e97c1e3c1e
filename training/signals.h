// Stopping training by a signal: the handlers only set flags; the training loop sees them
// after the current update, saves a checkpoint and exits cleanly. Without mpirun: SIGINT and
// SIGTERM. Under mpirun (`distributed`) also:
//  - SIGUSR1, which mpirun forwards to every process at once;
//  - the start of mpirun's teardown. Sent SIGINT or SIGTERM, Open MPI 4.1's mpirun forwards
//    neither: it sends its processes SIGCONT, then SIGTERM odls_base_sigkill_timeout seconds
//    later (1 by default) and SIGKILL as long again after that. The SIGCONT is the first
//    word of it and leaves twice the time the SIGTERM would. A SIGCONT from the parent
//    (mpirun, or its daemon on another node) is taken as that teardown unless it resumes a
//    stop: mpirun turns a SIGTSTP (Ctrl-Z) into SIGSTOP for its processes and forwards the
//    SIGCONT that continues it. A stopped process's threads all stand still, so a thread
//    that stamps the clock every 20 ms tells them apart: a stamp older than half a second,
//    or a gap of that length the stamper saw less than half a second ago, means the process
//    was stopped. A SIGCONT from anybody else (a shell, a batch system resuming a suspended
//    job) is not a teardown either.
#pragma once

#include <string>

namespace nmt {

void install_stop_handlers(bool distributed = false);
bool stop_requested();
// True when mpirun's teardown asked to stop (see above): the processes then have until its
// SIGKILL to save and leave, and MPI_Finalize would wait for a mpirun that no longer answers.
bool mpirun_ending();
// What asked this process to stop, for the log: "signal 15 (SIGTERM)", "mpirun is ending
// the job ...", or "" when nothing did.
std::string stop_reason();

}  // namespace nmt
