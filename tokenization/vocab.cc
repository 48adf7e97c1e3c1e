#include "tokenization/vocab.h"

#include <fcntl.h>
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "core/error.h"
#include "io/atomic_file.h"
#include "tokenization/corpus.h"

namespace nmt {
namespace {

// SentencePiece splits the EM steps over this many threads, each summing the
// expectations of a fixed, strided share of the sentences, then adds the shares in
// thread order. So the result is deterministic for a given thread count but changes
// with it (Multi30k en+de, 8k unigram: the same pieces for 1, 2, 4 and 16 threads, but
// scores differing in the last float bits, and the count is stored in the model). The
// count is therefore a constant, never the machine's core count, so that a seed gives
// the same file on every machine. The EM is only part of the work (about 4-5 s of CPU
// for Multi30k whatever the count), so 4 threads cost little on 2 cores and help on more.
constexpr int kTrainThreads = 4;

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string parent_dir(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Fails early, before a long training, when the model could not be written.
void check_writable(const std::string& path) {
  const std::string dir = parent_dir(path);
  if (::access(dir.c_str(), W_OK) != 0)
    throw InputError(cat(path, ": cannot write the vocabulary: directory ", dir, ": ", std::strerror(errno)));
}

// Feeds the sampled sentences to SentencePiece, freeing each once it has been copied.
class VectorIterator : public sentencepiece::SentenceIterator {
 public:
  explicit VectorIterator(std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override { std::string().swap(lines_[i_++]); }
  const std::string& value() const override { return lines_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  std::vector<std::string>& lines_;
  size_t i_ = 0;
};

// Reads all inputs, keeping a uniform sample (reservoir sampling, in corpus order) of at
// most max_sentences non-empty lines. The sample depends only on the seed.
std::vector<std::string> read_sample(const VocabTrainOptions& o, VocabTrainStats& stats) {
  std::mt19937_64 rng(o.seed);
  std::vector<std::pair<int64_t, std::string>> sample;
  int64_t k = 0;  // non-empty lines so far
  for (const auto& path : o.inputs) {
    LineReader in(path);
    VocabTrainStats::File f{in.display_name()};
    for (std::string line; in.next(line);) {
      ++f.lines;
      if (line.empty()) {
        ++f.empty_lines;
        continue;
      }
      if (k < o.max_sentences) {
        sample.emplace_back(k, std::move(line));
      } else {
        const uint64_t j = rng() % static_cast<uint64_t>(k + 1);
        if (j < static_cast<uint64_t>(o.max_sentences)) sample[j] = {k, std::move(line)};
      }
      ++k;
    }
    if (o.log) o.log(cat("read ", f.path, ": ", f.lines, " lines (", f.empty_lines, " empty)"));
    stats.files.push_back(std::move(f));
  }
  stats.sentences = k;
  std::sort(sample.begin(), sample.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> lines;
  lines.reserve(sample.size());
  for (auto& s : sample) lines.push_back(std::move(s.second));
  stats.sentences_used = static_cast<int64_t>(lines.size());
  return lines;
}

std::string float_str(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void VocabTrainOptions::validate() const {
  if (inputs.empty()) throw OptionError("train-sets must name at least one corpus file, got none");
  if (model_path.empty()) throw OptionError("output must be a file name, got an empty one");
  if (vocab_size < 8) throw OptionError(cat("vocab-size must be >= 8, got ", vocab_size));
  if (model_type != "unigram" && model_type != "bpe")
    throw OptionError(cat("model-type must be unigram or bpe, got '", model_type, "'"));
  if (!(character_coverage >= 0.98f && character_coverage <= 1.0f))
    throw OptionError(cat("character-coverage must be in [0.98, 1], got ", character_coverage));
  if (max_sentences < 1) throw OptionError(cat("max-sentences must be >= 1, got ", max_sentences));
}

VocabTrainStats train_vocab(const VocabTrainOptions& o) {
  o.validate();
  check_writable(o.model_path);
  VocabTrainStats stats;

  auto t0 = Clock::now();
  std::vector<std::string> lines = read_sample(o, stats);
  stats.read_seconds = seconds_since(t0);
  if (lines.empty())
    throw InputError(cat("vocabulary training: the input files have no non-empty lines: ", vec_str(o.inputs)));
  if (o.log) {
    o.log(cat("training a ", o.model_type, " vocabulary of ", o.vocab_size, " pieces on ", stats.sentences_used,
              stats.sentences_used < stats.sentences ? cat(" sentences sampled from ", stats.sentences)
                                                     : std::string(" sentences")));
  }

  const std::unordered_map<std::string, std::string> args = {
      {"model_type", o.model_type},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"character_coverage", float_str(o.character_coverage)},
      {"input_sentence_size", "0"},  // sampled above
      {"num_threads", std::to_string(kTrainThreads)},
      {"pad_id", std::to_string(Vocab::kPad)},
      {"unk_id", std::to_string(Vocab::kUnk)},
      {"bos_id", std::to_string(Vocab::kBos)},
      {"eos_id", std::to_string(Vocab::kEos)},
      {"pad_piece", "<pad>"},
      {"unk_piece", "<unk>"},
      {"bos_piece", "<s>"},
      {"eos_piece", "</s>"},
      {"normalization_rule_name", "nmt_nfkc"},
      {"minloglevel", "1"},  // SentencePiece's own progress log is very chatty; keep its warnings
  };
  // SentencePiece ignores the seed 0xFFFFFFFF (its "use random_device" marker).
  uint32_t spm_seed = static_cast<uint32_t>(o.seed ^ (o.seed >> 32));
  if (spm_seed == 0xFFFFFFFFu) spm_seed = 0xFFFFFFFEu;
  sentencepiece::SetRandomGeneratorSeed(spm_seed);

  t0 = Clock::now();
  VectorIterator it(lines);
  std::string serialized;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &serialized);
  if (!status.ok()) {
    // Drop SentencePiece's "./src/file.cc(123) [condition] " prefix: the rest is the message.
    std::string msg = status.message();
    const size_t end_of_prefix = msg.rfind("] ");
    if (msg.rfind("./src/", 0) == 0 && end_of_prefix != std::string::npos) msg = msg.substr(end_of_prefix + 2);
    throw InputError(cat("vocabulary training on ", vec_str(o.inputs), " failed: ", msg));
  }
  stats.train_seconds = seconds_since(t0);

  Vocab::from_bytes(serialized, o.model_path);  // checks the special ids
  write_file_atomically(o.model_path, serialized, "the vocabulary");
  stats.model_bytes = serialized.size();
  return stats;
}

struct Vocab::Impl {
  sentencepiece::SentencePieceProcessor sp;
  std::string bytes;
};

Vocab Vocab::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(cat(path, ": cannot open the vocabulary: ", std::strerror(errno)));
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) throw InputError(cat(path, ": cannot read the vocabulary"));
  return from_bytes(os.str(), path);
}

Vocab Vocab::from_bytes(const std::string& serialized, const std::string& name) {
  auto impl = std::make_shared<Impl>();
  impl->bytes = serialized;
  const auto status = impl->sp.LoadFromSerializedProto(impl->bytes);
  if (!status.ok()) throw InputError(cat(name, ": not a SentencePiece model (", status.message(), ")"));
  const auto& sp = impl->sp;
  if (sp.pad_id() != kPad || sp.unk_id() != kUnk || sp.bos_id() != kBos || sp.eos_id() != kEos)
    throw InputError(cat(name, ": SentencePiece model has pad/unk/bos/eos ids ", sp.pad_id(), "/", sp.unk_id(), "/",
                         sp.bos_id(), "/", sp.eos_id(), ", expected 0/1/2/3 (train it with `nmt vocab`)"));
  return Vocab(std::move(impl));
}

const Vocab::Impl& Vocab::impl() const {
  if (!impl_) throw Error("vocabulary: used before one was loaded");
  return *impl_;
}

const std::string& Vocab::serialized() const {
  static const std::string none;
  return impl_ ? impl_->bytes : none;
}

int Vocab::size() const { return impl_ ? impl_->sp.GetPieceSize() : 0; }

void Vocab::check_ids(const std::vector<int32_t>& ids) const {
  const int n = size();
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= n)
      throw Error(cat("vocabulary: id ", ids[i], " at position ", i, " is not in [0, ", n, ")"));
}

std::vector<int32_t> Vocab::encode(const std::string& text) const {
  std::vector<int> ids;
  const auto status = impl().sp.Encode(text, &ids);
  if (!status.ok()) throw Error(cat("vocabulary: cannot encode '", text, "': ", status.message()));
  return std::vector<int32_t>(ids.begin(), ids.end());
}

// SentencePiece draws its samples from a generator of its own, one per thread, seeded when a
// thread first samples with the library's global seed. So the lines are sampled on a new
// thread, after setting that seed (under a lock: the seed is global): the same seed gives
// the same samples whatever ran before.
std::vector<std::vector<int32_t>> Vocab::sample(const std::vector<std::string>& lines, float alpha,
                                                uint64_t seed) const {
  static std::mutex global_seed;
  std::lock_guard<std::mutex> lock(global_seed);
  uint32_t spm_seed = static_cast<uint32_t>(seed ^ (seed >> 32));
  if (spm_seed == 0xFFFFFFFFu) spm_seed = 0xFFFFFFFEu;  // SentencePiece's "use random_device" marker
  sentencepiece::SetRandomGeneratorSeed(spm_seed);
  std::vector<std::vector<int32_t>> out(lines.size());
  std::string failed;
  std::thread sampler([&] {
    std::vector<int> ids;
    for (size_t i = 0; i < lines.size() && failed.empty(); ++i) {
      const auto status = impl().sp.SampleEncode(lines[i], -1, alpha, &ids);
      if (!status.ok())
        failed = cat("vocabulary: cannot sample a segmentation of '", lines[i], "': ", status.message());
      out[i].assign(ids.begin(), ids.end());
    }
  });
  sampler.join();
  if (!failed.empty()) throw Error(failed);
  return out;
}

std::string Vocab::decode(const std::vector<int32_t>& ids) const {
  check_ids(ids);
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int32_t id : ids)
    if (id != kPad && id != kBos && id != kEos) kept.push_back(id);
  std::string text;
  const auto status = impl().sp.Decode(kept, &text);
  if (!status.ok()) throw Error(cat("vocabulary: cannot decode ", vec_str(ids), ": ", status.message()));
  return text;
}

std::vector<std::string> Vocab::pieces(const std::vector<int32_t>& ids) const {
  check_ids(ids);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int32_t id : ids) out.push_back(impl().sp.IdToPiece(id));
  return out;
}

}  // namespace nmt
