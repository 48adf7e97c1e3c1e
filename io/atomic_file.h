// Writing a file so that a reader (or a crash) never sees it half-written: the bytes go to
// a temporary file beside it, which is synced and then renamed over the path.
#pragma once

#include <string>

namespace nmt {

// Throws nmt::InputError "PATH: cannot write WHAT: reason" on failure, leaving no
// temporary file behind and any previous PATH intact.
void write_file_atomically(const std::string& path, const std::string& bytes, const std::string& what);

}  // namespace nmt
