// The option groups that set up translation, shared by nmt translate and nmt serve, so that
// both take the same flags with the same defaults and a server answers as translate does.
#pragma once

#include <memory>
#include <string>

#include "cli/options.h"
#include "core/worker_pool.h"
#include "translate/shortlist.h"
#include "translate/translator.h"

namespace nmt::cli {

// "Translation options": max-input-length, mini-batch, cpu-threads, workers, gemm-type, shortlist.
po::options_description translation_options_group();
// "Search options": beam-size, normalize, max-length-factor, max-length-offset, allow-unk.
po::options_description search_options_group();

// The library's options from both groups (one hypothesis, no alignments); their rules are
// the library's (TranslateOptions::validate).
TranslateOptions translation_options(const po::variables_map& vm);

// Sets the caller's OpenMP threads (--cpu-threads) and makes the workers (--workers) of
// `command` ("translate"); null for a single worker.
std::unique_ptr<WorkerPool> set_up_threads(const po::variables_map& vm, const std::string& command);

}  // namespace nmt::cli
