// What benchmarks and logs report about the machine and the process.
#pragma once

#include <string>

namespace nmt {

std::string cpu_model();  // "model name" of /proc/cpuinfo, or "unknown CPU"
int logical_cpus();       // processors listed in /proc/cpuinfo
double peak_rss_mib();    // peak resident memory of this process (VmHWM), MiB

}  // namespace nmt
