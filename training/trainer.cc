#include "training/trainer.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>

#include "core/allocator.h"
#include "core/context.h"
#include "core/error.h"
#include "core/graph.h"
#include "core/params.h"
#include "core/random.h"
#include "core/system.h"
#include "io/atomic_file.h"
#include "io/model_file.h"
#include "ops/bf16.h"
#include "ops/elementwise.h"
#include "ops/flops.h"
#include "ops/reduce.h"
#include "ops/rnn.h"
#include "training/batcher.h"
#include "training/distributed.h"
#include "training/iteration_models.h"
#include "training/lm_objective.h"
#include "training/log.h"
#include "training/schedule.h"
#include "training/signals.h"
#include "training/smoothing.h"
#include "training/translation_objective.h"
#include "training/validator.h"

namespace nmt {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

// valid-translation-output: PATTERN with {U} and {E} replaced by the update and the
// epoch (as Marian).
void write_validation_translations(const std::string& pattern, const std::vector<std::string>& lines, int64_t updates,
                                   int64_t epoch) {
  std::string path = pattern;
  for (const auto& [key, value] : {std::pair<std::string, int64_t>{"{U}", updates}, {"{E}", epoch}})
    for (size_t at = path.find(key); at != std::string::npos; at = path.find(key, at))
      path.replace(at, key.size(), std::to_string(value));
  std::string text;
  for (const std::string& l : lines) text.append(l).push_back('\n');
  write_file_atomically(path, text, "the validation translations");
}

// Everything about a training run that a checkpoint restores.
struct TrainState {
  Progress progress;
  BatchPosition position;
  std::map<std::string, double> best;  // metric -> best value
  int stalls = 0;                      // validations without improvement of the first metric
  int64_t validations = 0;
  int divergent = 0;  // non-finite updates in a row (max-divergence)
  int ranks = 1;      // processes that trained it (informative: a checkpoint resumes on any number)
};

const std::string kCkptPrefix = "train.";
const std::string kSmoothingTensor = "smoothing.average";

void put_state(ModelFile& f, const TrainState& s, const Rng& rng) {
  auto& c = f.config;
  c[kCkptPrefix + "epochs"] = std::to_string(s.progress.epochs);
  c[kCkptPrefix + "updates"] = std::to_string(s.progress.updates);
  c[kCkptPrefix + "tokens"] = std::to_string(s.progress.tokens);
  c[kCkptPrefix + "minutes"] = fixed(s.progress.minutes, 9);
  c[kCkptPrefix + "epoch"] = std::to_string(s.position.epoch);
  c[kCkptPrefix + "batch"] = std::to_string(s.position.index);
  c[kCkptPrefix + "stalls"] = std::to_string(s.stalls);
  c[kCkptPrefix + "validations"] = std::to_string(s.validations);
  c[kCkptPrefix + "divergent"] = std::to_string(s.divergent);
  c[kCkptPrefix + "ranks"] = std::to_string(s.ranks);
  // Full precision: a resumed run must compare new validation results against exactly
  // the best values the uninterrupted run would hold.
  for (const auto& [metric, value] : s.best) {
    std::ostringstream os;
    os << std::setprecision(std::numeric_limits<double>::max_digits10) << value;
    c[kCkptPrefix + "best." + metric] = os.str();
  }
  f.blobs["train.rng"] = rng.state();
}

TrainState get_state(const ModelFile& f, const std::string& path) {
  auto num = [&](const std::string& key) -> std::string {
    auto it = f.config.find(kCkptPrefix + key);
    if (it == f.config.end()) throw InputError(cat(path, ": checkpoint has no ", key));
    return it->second;
  };
  TrainState s;
  s.progress.epochs = std::stoll(num("epochs"));
  s.progress.updates = std::stoll(num("updates"));
  s.progress.tokens = std::stoll(num("tokens"));
  s.progress.minutes = std::stod(num("minutes"));
  s.position.epoch = std::stoll(num("epoch"));
  s.position.index = std::stoll(num("batch"));
  s.stalls = std::stoi(num("stalls"));
  s.validations = std::stoll(num("validations"));
  s.divergent = std::stoi(num("divergent"));
  if (f.config.count(kCkptPrefix + "ranks")) s.ranks = std::stoi(num("ranks"));
  for (const auto& [key, value] : f.config)
    if (key.rfind(kCkptPrefix + "best.", 0) == 0) s.best[key.substr(kCkptPrefix.size() + 5)] = std::stod(value);
  return s;
}

// The schedule's amounts, parsed from the options (TrainOptions::validate has checked them).
struct Schedule {
  std::vector<Amount> budget;                // after
  std::vector<Amount> valid, save, display;  // at most one amount each
};

Schedule schedule_of(const TrainOptions& o) {
  Schedule s;
  s.budget = parse_amounts(o.after, "after");
  s.valid = parse_amounts(o.valid_freq, "valid-freq");
  s.save = parse_amounts(o.save_freq.empty() ? o.valid_freq : o.save_freq, "save-freq");
  s.display = parse_amounts(o.disp_freq, "disp-freq");
  return s;
}

// True when `freq` (empty: never) has a multiple between the two progress points.
bool due(const std::vector<Amount>& freq, const Progress& before, const Progress& now) {
  return !freq.empty() && crossed(freq[0], before, now);
}

class Trainer {
 public:
  Trainer(const TrainOptions& o, const Distributed& world, std::unique_ptr<TrainingObjective> objective)
      : o_(o), world_(world), log_(o.log_file, world.root()), rng_(o.seed), objective_(std::move(objective)) {}
  int run();
  // True after a stop that mpirun's teardown asked for: the processes leave without
  // MPI_Finalize, which would wait for a mpirun that no longer answers until its SIGKILL.
  bool mpirun_ending() const { return mpirun_ending_; }

 private:
  void check_output_directory() const;
  ModelFile read_checkpoint() const;
  void resume_from_checkpoint();
  void start_new_model();
  void log_setup();
  bool stalled() const {
    return objective_->validates() && o_.early_stopping > 0 && state_.stalls >= o_.early_stopping;
  }
  // A signal asked to stop: in a distributed run, on any rank by the last update.
  bool stopping() const { return world_.parallel() ? stop_agreed_ : stop_requested(); }
  // After a stop by a signal, every process waits until rank 0 has written the checkpoint:
  // one that left earlier would cut mpirun's teardown short (it stops waiting when a
  // process exits and kills the others at once).
  void leave_together();
  // Runs updates until the budget is spent or validation stops early; false when a signal
  // stopped training (the checkpoint is saved).
  bool train_until_done(const Schedule& schedule);
  // Displays, validates and saves as the update that moved progress from `before` is due
  // to; true when its validation stopped training early.
  bool after_update(const Schedule& schedule, const Progress& before, Clock::time_point& disp_started);
  void save_checkpoint();
  // counted = false: the validation at the end of a run that had none. It is logged and
  // may write MODEL.best-*, but leaves the training state (validation count, best values,
  // stalls) alone, so that a run stopped by its budget and resumed with a larger one
  // validates and stops early exactly as one uninterrupted run would.
  void validate(bool counted = true);
  void run_validation(bool counted);  // rank 0's part of validate()
  bool step();                        // one update; false when it was skipped (non-finite)
  // Forward and backward of this rank's share of one mini-batch (all of it in one process);
  // adds its loss to *loss_sum.
  void forward_backward(const TrainBatch& batch, int64_t words, Rng& rng, double* loss_sum);
  void display(double seconds);

  const TrainOptions& o_;
  const Distributed& world_;
  TrainLog log_;
  Rng rng_;                                       // dropout
  std::unique_ptr<TrainingObjective> objective_;  // the model, its data, batches, loss and validation
  std::unique_ptr<Adam> adam_;
  std::unique_ptr<ExponentialSmoothing> smoothing_;  // null without exponential smoothing
  TrainState state_;
  std::string ckpt_path_;
  // since the last display
  double disp_loss_ = 0;
  double disp_flops_ = 0;  // matrix products' FLOPs (ops/flops.h), forward and backward
  int64_t disp_tokens_ = 0, disp_src_tokens_ = 0, disp_sentences_ = 0, disp_updates_ = 0;
  float last_norm_ = 0, last_lr_ = 0;
  bool stop_agreed_ = false;
  bool mpirun_ending_ = false;  // agreed: mpirun's teardown asked to stop (training/signals.h)
};

int Trainer::run() {
  check_output_directory();
  const Schedule schedule = schedule_of(o_);
  objective_->read_data(log_);
  ckpt_path_ = o_.model_path + ".ckpt";
  int64_t resume = world_.root() && fs::exists(ckpt_path_);
  world_.broadcast(&resume, 1);
  if (resume)
    resume_from_checkpoint();
  else
    start_new_model();
  // Every rank starts from rank 0's parameters (its initialisation or its checkpoint).
  ParamStore& params = objective_->params();
  world_.broadcast(params.values(), params.size());
  state_.ranks = world_.size();
  objective_->start_batches(state_.position, log_);
  log_setup();
  if (!train_until_done(schedule)) return 0;
  if (objective_->validates() && state_.validations == 0) validate(false);
  save_checkpoint();
  log_.line(cat("training finished: ", state_.progress.updates, " updates, ", state_.progress.epochs, " epochs, ",
                fixed(state_.progress.minutes, 2), " minutes; peak memory ", fixed(peak_rss_mib(), 0), " MiB"));
  pool_trace_report();  // the tensors in use at the peak, with NMT_POOL_TRACE set
  return 0;
}

// The validation translations' file is refused before training when its directory is
// missing: finding out at the first validation would waste the updates before it.
void Trainer::check_output_directory() const {
  if (o_.valid_translation_output.empty() || !world_.root()) return;  // rank 0 writes it
  const fs::path dir = fs::path(o_.valid_translation_output).parent_path();
  if (!dir.empty() && !fs::is_directory(dir))
    throw InputError(cat("valid-translation-output ", o_.valid_translation_output, ": no directory ", dir.string()));
}

// The checkpoint as rank 0 reads it; the other ranks get its bytes, so that only rank 0
// needs the file.
ModelFile Trainer::read_checkpoint() const {
  if (!world_.parallel()) return load_model_file(ckpt_path_);
  std::string bytes;
  if (world_.root()) {
    std::ifstream in(ckpt_path_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in) throw InputError(cat(ckpt_path_, ": cannot read the checkpoint"));
  }
  world_.broadcast(bytes);
  return model_file_from_bytes(bytes.data(), bytes.size(), ckpt_path_);
}

// The checkpoint's model, optimizer, smoothing and training state; its model configuration
// wins over the options given now.
void Trainer::resume_from_checkpoint() {
  ModelFile f = read_checkpoint();
  objective_->load_checkpoint(f, ckpt_path_);
  adam_ = std::make_unique<Adam>(objective_->params(), o_.adam);
  // Checkpoints before put_adam_state kept the step count as train.adam-steps.
  if (!f.config.count("adam.steps") && f.config.count(kCkptPrefix + "adam-steps"))
    f.config["adam.steps"] = f.config.at(kCkptPrefix + "adam-steps");
  try {
    get_adam_state(f, *adam_);
  } catch (const InputError& e) {
    throw InputError(cat(ckpt_path_, ": ", e.what()));
  }
  state_ = get_state(f, ckpt_path_);
  rng_.set_state(f.blobs.at("train.rng"));
  if (o_.exponential_smoothing > 0) {
    smoothing_ = std::make_unique<ExponentialSmoothing>(objective_->params(), o_.exponential_smoothing);
    if (const Tensor* avg = f.find_tensor(kSmoothingTensor))
      smoothing_->average().copy_from(*avg);
    else
      log_.line(cat(ckpt_path_, " has no smoothed parameters (trained without exponential-smoothing): ",
                    "the average starts from the current parameters"));
  }
  log_.line(cat("resuming from ", ckpt_path_, ": epoch ", state_.position.epoch, ", update ", state_.progress.updates,
                " (its model configuration is used; model options given now are ignored)"));
  if (state_.ranks != world_.size())
    log_.line(cat("the checkpoint was written by ", state_.ranks, " processes, this run has ", world_.size(),
                  ": the same batches, split differently across processes"));
}

void Trainer::start_new_model() {
  objective_->new_model(log_);
  adam_ = std::make_unique<Adam>(objective_->params(), o_.adam);
  if (o_.exponential_smoothing > 0)
    smoothing_ = std::make_unique<ExponentialSmoothing>(objective_->params(), o_.exponential_smoothing);
}

void Trainer::log_setup() {
  std::ostringstream os;
  for (const auto& [k, v] : objective_->config()) os << " " << k << "=" << v;
  log_.line(cat("model:", os.str()));
  if (world_.parallel())
    log_.line(cat("data-parallel training on ", world_.size(), " processes (MPI), ", Context::get().threads(),
                  " threads each: every update's batch is split across them by target tokens"));
  log_.line(cat("parameters: ", objective_->params().size(), " floats; ", Context::get().threads(), " threads; ",
                objective_->batches_in_epoch(), " batches an epoch",
                o_.rnn_recompute ? "; RNN workspaces recomputed in the backward (rnn-recompute)" : ""));
  if (o_.bf16)
    log_.line(
        cat("matrix products in bfloat16 with fp32 accumulation (precision bfloat16); weights, gradients and "
            "Adam in fp32",
            bf16_support() == Bf16Support::native
                ? ""
                : "; warning: this CPU has no native bfloat16 products, so they are emulated and slower than fp32"));
}

bool Trainer::train_until_done(const Schedule& schedule) {
  install_stop_handlers(world_.parallel());
  const auto started = Clock::now();
  const double minutes_before = state_.progress.minutes;
  auto disp_started = Clock::now();
  // Rerunning a command whose training already stopped early must not train on.
  if (stalled()) {
    log_.line(cat("early stopping: ", o_.valid_metrics[0], " did not improve for ", state_.stalls,
                  " validations (training had already stopped)"));
    return true;
  }
  while (!reached(schedule.budget, state_.progress)) {
    if (stopping()) {
      const std::string reason = stop_reason();
      log_.line(cat(reason.empty() ? "another process was signalled" : reason,
                    ": saving checkpoint and stopping; run the same command to resume"));
      save_checkpoint();
      leave_together();
      return false;
    }
    const Progress before = state_.progress;
    step();
    state_.progress.minutes = minutes_before + std::chrono::duration<double>(Clock::now() - started).count() / 60.0;
    world_.broadcast(&state_.progress.minutes, 1);  // rank 0's clock decides a budget in minutes
    if (after_update(schedule, before, disp_started)) break;
  }
  return true;
}

void Trainer::leave_together() {
  if (!world_.parallel()) return;
  world_.barrier();
  if (!world_.root())
    std::fprintf(stderr, "nmt: process %d of %d stopped with the others after update %lld; process 0 saved\n",
                 world_.rank(), world_.size(), static_cast<long long>(state_.progress.updates));
}

bool Trainer::after_update(const Schedule& schedule, const Progress& before, Clock::time_point& disp_started) {
  const Progress& now = state_.progress;
  if (due(schedule.display, before, now)) {
    display(std::chrono::duration<double>(Clock::now() - disp_started).count());
    disp_started = Clock::now();
  }
  const bool validated = objective_->validates() && due(schedule.valid, before, now);
  if (validated) validate();
  if (due(schedule.save, before, now)) save_checkpoint();
  if (!validated || !stalled()) return false;
  log_.line(cat("early stopping: ", o_.valid_metrics[0], " did not improve for ", state_.stalls, " validations"));
  return true;
}

// In a distributed run each rank takes its share of the batch, split by target tokens; the
// loss stays a mean over the whole update's target tokens, so that the ranks' summed
// gradients are the one-process gradient.
void Trainer::forward_backward(const TrainBatch& batch, int64_t words, Rng& rng, double* loss_sum) {
  std::unique_ptr<TrainBatch> share;
  if (world_.parallel()) {
    const std::vector<int64_t> tokens = objective_->sentence_tokens(batch);
    std::vector<int32_t> positions(tokens.size());
    for (size_t i = 0; i < positions.size(); ++i) positions[i] = static_cast<int32_t>(i);
    positions = split_by_tokens(positions, tokens, world_.rank(), world_.size());
    if (positions.empty()) return;  // a batch of fewer sentences than ranks
    share = objective_->part(batch, positions);
  }
  RnnRecomputeScope recompute(o_.rnn_recompute);
  Var losses = objective_->losses(share ? *share : batch, o_.label_smoothing, rng);
  Var loss = scale(sum(losses), 1.0f / static_cast<float>(words));  // mean over the update's target tokens
  *loss_sum += static_cast<double>(loss->value[0]) * static_cast<double>(words);
  Tape::current().backward(loss);
}

bool Trainer::step() {
  ParamStore& params = objective_->params();
  params.zero_grads();
  std::vector<std::unique_ptr<TrainBatch>> batches;
  int64_t words = 0;
  for (int d = 0; d < o_.optimizer_delay; ++d) {
    bool new_epoch = false;
    batches.push_back(objective_->next_batch(&new_epoch));
    words += batches.back()->target_tokens;
    if (new_epoch) ++state_.progress.epochs;
  }
  // Each process of a distributed run drops its own units: its dropout generator is keyed
  // by the run's generator, drawn once an update on every rank (so they stay in step), and
  // its rank.
  std::optional<Rng> rank_rng;
  if (world_.parallel()) rank_rng.emplace(rng_.next_u64() + static_cast<uint64_t>(world_.rank()));
  double loss_sum = 0;
  int64_t src_tokens = 0, sentences = 0;
  // The parameters stay as they are until adam_->step below: their bfloat16 copy is made once.
  Bf16Scope bf16(o_.bf16, &params);
  const double flops_before = matmul_flops_counted();
  for (const auto& batch : batches) {
    src_tokens += batch->source_tokens;
    sentences += batch->sentences;
    forward_backward(*batch, words, rank_rng ? *rank_rng : rng_, &loss_sum);
  }
  disp_flops_ += matmul_flops_counted() - flops_before;  // this process's; validation's are not counted
  if (world_.parallel()) {
    double shared[3] = {loss_sum, stop_requested() ? 1.0 : 0.0, nmt::mpirun_ending() ? 1.0 : 0.0};
    world_.sum(shared, 3);
    loss_sum = shared[0];
    stop_agreed_ = shared[1] > 0;
    mpirun_ending_ = shared[2] > 0;
    world_.sum(params.grads(), params.size());  // every rank then takes the same Adam step
  }
  // A skipped batch is consumed (retrying it would diverge again) but its tokens are not
  // counted as trained: --after Nt counts the tokens updates were made from.
  state_.position = objective_->position();
  const float norm = grad_norm(params);
  if (!std::isfinite(loss_sum) || !std::isfinite(norm)) {
    objective_->skipped_update();
    ++state_.divergent;
    log_.line(cat("update ", state_.progress.updates + 1, ": non-finite loss or gradient (loss ", loss_sum,
                  "); update skipped (", state_.divergent, " in a row)"));
    if (state_.divergent >= o_.max_divergence)
      throw Error(cat("training diverged: ", state_.divergent, " updates in a row had a non-finite loss or gradient; ",
                      "the last good checkpoint is ", ckpt_path_, " (try a lower learn-rate or clip-norm)"));
    return false;
  }
  state_.divergent = 0;
  state_.progress.tokens += words;
  last_norm_ = norm;
  last_lr_ = lr_at(state_.progress.updates + 1, o_.learn_rate, o_.lr_warmup, o_.lr_decay_inv_sqrt);
  adam_->step(last_lr_, clip_scale(norm, o_.clip_norm));
  if (smoothing_) smoothing_->update(state_.progress.updates);
  ++state_.progress.updates;
  disp_loss_ += loss_sum;
  disp_tokens_ += words;
  disp_src_tokens_ += src_tokens;
  disp_sentences_ += sentences;
  ++disp_updates_;
  log_.progress(cat("ep ", state_.position.epoch, " up ", state_.progress.updates, " loss ",
                    fixed(loss_sum / static_cast<double>(words), 3)));
  return true;
}

void Trainer::display(double seconds) {
  if (disp_updates_ == 0) return;
  const double ce = disp_loss_ / static_cast<double>(disp_tokens_);
  log_.line(cat("Ep. ", state_.position.epoch, " : Up. ", state_.progress.updates, " : Sen. ", disp_sentences_,
                " : Tok. ", state_.progress.tokens, " : Cost ", fixed(ce, 4), " : PPL ", fixed(std::exp(ce), 2),
                " : L.r. ", std::scientific, std::setprecision(3), last_lr_, " : gNorm ", fixed(last_norm_, 3), " : ",
                fixed(static_cast<double>(disp_tokens_ + disp_src_tokens_) / seconds, 0), " tok/s (src+trg",
                world_.parallel() ? cat(", ", world_.size(), " processes") : "", ") : ", std::defaultfloat,
                std::setprecision(3), disp_flops_ / seconds / 1e9, " GFLOP/s products",
                world_.parallel() ? " (this process)" : "", " : ", fixed(state_.progress.minutes, 2), " min : mem ",
                fixed(pool_bytes_held() / 1048576.0, 0), " MiB held, peak RSS ", fixed(peak_rss_mib(), 0), " MiB"));
  disp_loss_ = disp_flops_ = 0;
  disp_tokens_ = disp_src_tokens_ = disp_sentences_ = disp_updates_ = 0;
}

void Trainer::validate(bool counted) {
  if (world_.root()) run_validation(counted);
  // Early stopping is decided on every rank with rank 0's validation results.
  int64_t shared[2] = {state_.stalls, state_.validations};
  world_.broadcast(shared, 2);
  state_.stalls = static_cast<int>(shared[0]);
  state_.validations = shared[1];
}

void Trainer::run_validation(bool counted) {
  auto started = Clock::now();
  SmoothedParams smoothed(smoothing_.get());  // validate and save the best models with the average
  std::vector<std::string> metrics = o_.valid_metrics;
  std::vector<std::string> translations;
  const bool write_translations = !o_.valid_translation_output.empty();
  std::map<std::string, double> r = objective_->validate(metrics, write_translations ? &translations : nullptr);
  if (write_translations)
    write_validation_translations(o_.valid_translation_output, translations, state_.progress.updates,
                                  state_.position.epoch);
  TrainState uncounted = state_;
  TrainState& state = counted ? state_ : uncounted;  // what this validation updates
  ++state.validations;
  std::ostringstream os;
  bool first_improved = false;
  for (size_t i = 0; i < metrics.size(); ++i) {
    const std::string& m = metrics[i];
    const double v = r.at(m);
    auto it = state.best.find(m);
    const bool better = it == state.best.end() || (Validator::higher_is_better(m) ? v > it->second : v < it->second);
    if (better) {
      state.best[m] = v;
      save_model_file(o_.model_path + ".best-" + m, objective_->model_file());
      if (i == 0) first_improved = true;
    }
    os << " : " << m << " " << fixed(v, m == "bleu" ? 2 : 4) << (better ? " (new best)" : "");
  }
  state.stalls = first_improved ? 0 : state.stalls + 1;
  if (o_.keep_checkpoints > 0) {  // the validated (smoothed) model, for checkpoint averaging
    save_model_file(iteration_model_path(o_.model_path, state.progress.updates), objective_->model_file());
    keep_last_iteration_models(o_.model_path, o_.keep_checkpoints);
  }
  const std::string seconds = fixed(std::chrono::duration<double>(Clock::now() - started).count(), 1);
  if (counted)
    log_.line(cat("Validation ", state.validations, " at Ep. ", state.position.epoch, " Up. ", state.progress.updates,
                  os.str(), " : stalled ", state.stalls, " times : ", seconds, "s : ", fixed(state.progress.minutes, 2),
                  " min"));
  else
    log_.line(cat("Validation at the end of training (not counted for early stopping) at Ep. ", state.position.epoch,
                  " Up. ", state.progress.updates, os.str(), " : ", seconds, "s"));
}

void Trainer::save_checkpoint() {
  if (!world_.root()) return;
  if (smoothing_) {  // the model file gets the average, the checkpoint the raw parameters and the average
    SmoothedParams smoothed(smoothing_.get());
    save_model_file(o_.model_path, objective_->model_file());
  }
  ModelFile f = objective_->model_file();
  if (!smoothing_) save_model_file(o_.model_path, f);
  put_adam_state(f, *adam_);
  if (smoothing_) f.tensors.emplace_back(kSmoothingTensor, smoothing_->average());
  put_state(f, state_, rng_);
  objective_->put_checkpoint_state(f);
  save_model_file(ckpt_path_, f);
}

}  // namespace

bool bf16_precision(const std::vector<std::string>& values) {
  if (values.empty() || values.size() > 2)
    throw OptionError(
        cat("precision must be one or two types (forward/backward, then optimizer), got ", values.size()));
  if (values.size() == 2 && values[1] != "float32")
    throw OptionError(
        cat("precision's optimizer type must be float32 (master weights, gradients and Adam stay fp32), "
            "got '",
            values[1], "'"));
  const std::string& t = values[0];
  if (t == "float32") return false;
  if (t == "bfloat16" || t == "bf16") return true;
  throw OptionError(cat("precision must be float32 or bfloat16, got '", t, "'"));
}

void check_bf16_support(bool bf16) {
  if (bf16 && bf16_support() == Bf16Support::none)
    throw OptionError(cat("precision must be float32 on this CPU, oneDNN at ", onednn_isa_name(),
                          " (bfloat16 matmuls need AVX-512 in oneDNN 2.6), got bfloat16"));
}

BatchSort batch_sort_for(const std::string& requested, const std::string& enc_type) {
  if (requested.empty()) return enc_type == "transformer" ? BatchSort::kLonger : BatchSort::kSource;
  return parse_batch_sort(requested);
}

namespace {

// The options' `key = value` lines that every rank must share: all but cpu-threads, which
// is each rank's own.
std::map<std::string, std::string> agreed_options(const std::string& text) {
  std::map<std::string, std::string> items;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find(" = ");
    const std::string key = line.substr(0, eq);
    if (key != "cpu-threads") items["option " + key] = eq == std::string::npos ? "" : line.substr(eq + 3);
  }
  return items;
}

// Translation takes two files (source and target), a language model one.
void check_files(const char* key, const std::vector<std::string>& files, bool language_model) {
  if (language_model && files.size() != 1)
    throw OptionError(cat(key, " must be 1 file (the text) for a language model, got ", files.size()));
  if (!language_model && files.size() != 2)
    throw OptionError(cat(key, " must be 2 files (SRC TRG), got ", files.size()));
}

void check_at_least(const char* key, int64_t value, int64_t least) {
  if (value < least) throw OptionError(cat(key, " must be >= ", least, ", got ", value));
}

// A frequency is one amount ("500u"); parse_amounts checks the amounts themselves.
void check_frequency(const char* key, const std::string& spec) {
  if (parse_amounts(spec, key).size() > 1)
    throw OptionError(cat(key, " must be one amount (like 500u), got '", spec, "'"));
}

}  // namespace

void TrainOptions::validate_updates() const {
  const bool lm = model.is_language_model();
  check_files("train-sets", train_sets, lm);
  check_files("vocabs", vocabs, lm);
  model.validate();
  check_at_least("mini-batch-words", mini_batch_words, 1);
  check_at_least("maxi-batch", maxi_batch, 1);
  batch_sort_for(maxi_batch_sort, model.enc_type);
  check_at_least("optimizer-delay", optimizer_delay, 1);
  if (!(label_smoothing >= 0 && label_smoothing < 1))
    throw OptionError(cat("label-smoothing must be in [0, 1), got ", label_smoothing));
  if (!(learn_rate >= 0) || !std::isfinite(learn_rate))
    throw OptionError(cat("learn-rate must be a finite number >= 0, got ", learn_rate));
  check_at_least("lr-warmup", lr_warmup, 0);
  if (!(clip_norm >= 0)) throw OptionError(cat("clip-norm must be >= 0 (0: off), got ", clip_norm));
  check_bf16_support(bf16);
}

void TrainOptions::validate() const {
  validate_updates();
  const bool lm = model.is_language_model();
  if (!valid_sets.empty()) check_files("valid-sets", valid_sets, lm);
  if (model_path.empty()) throw OptionError("model must be a file name, got an empty one");
  // Subword sampling is the trainer's (bench train reads the most probable segmentation).
  if (lm && !sentencepiece_alphas.empty())
    throw OptionError(cat("sentencepiece-alphas applies to translation models, got ", vec_str(sentencepiece_alphas),
                          " for a language model"));
  if (sentencepiece_alphas.size() > 2)
    throw OptionError(
        cat("sentencepiece-alphas must be 1 or 2 values (SRC [TRG]), got ", vec_str(sentencepiece_alphas)));
  for (float a : sentencepiece_alphas)
    if (!(a >= 0 && a <= 1))
      throw OptionError(cat("sentencepiece-alphas must be in [0, 1] (0: off), got ", vec_str(sentencepiece_alphas)));
  if (!(rdrop_alpha >= 0) || !std::isfinite(rdrop_alpha))
    throw OptionError(cat("rdrop-alpha must be a finite number >= 0 (0: off), got ", rdrop_alpha));
  if (lm && rdrop_alpha > 0)
    throw OptionError(cat("rdrop-alpha applies to translation models, got ", rdrop_alpha, " for a language model"));
  if (!(exponential_smoothing >= 0 && exponential_smoothing <= 1))
    throw OptionError(cat("exponential-smoothing must be in [0, 1] (0: off), got ", exponential_smoothing));
  check_at_least("max-divergence", max_divergence, 1);
  check_at_least("keep-checkpoints", keep_checkpoints, 0);
  parse_amounts(after, "after");
  check_frequency("valid-freq", valid_freq);
  check_frequency("save-freq", save_freq);
  check_frequency("disp-freq", disp_freq);
  check_at_least("valid-mini-batch", valid_mini_batch, 1);
  check_at_least("valid-max-sentences", valid_max_sentences, 0);
  check_at_least("early-stopping", early_stopping, 0);
  if (valid_metrics.empty())
    throw OptionError("valid-metrics must name at least one of ce, perplexity, bleu, got none");
  for (const std::string& m : valid_metrics)
    if (m != "ce" && m != "perplexity" && (m != "bleu" || lm))
      throw OptionError(cat("valid-metrics must be among ce, perplexity", lm ? " for a language model" : ", bleu",
                            ", got '", m, "'"));
  if (!valid_translation_output.empty() && lm)
    throw OptionError(
        cat("valid-translation-output must be empty for a language model, got '", valid_translation_output, "'"));
  if (!valid_translation_output.empty() && valid_sets.empty())
    throw OptionError(
        cat("valid-translation-output must be empty without valid-sets, got '", valid_translation_output, "'"));
}

int train(const TrainOptions& options) {
  options.validate();  // before any vocabulary is trained or corpus read: a typo costs nothing
  Distributed world;
  world.check_agreement(agreed_options(options.options_text));
  std::unique_ptr<TrainingObjective> objective =
      options.model.is_language_model() ? make_lm_objective(options) : make_translation_objective(options, world);
  // A language model's batches are not split across processes (see TrainingObjective).
  if (world.parallel() && !objective->splits_batches())
    throw OptionError(cat("language models train in one process (mpirun -np 1), got ", world.size(), " processes"));
  Trainer t(options, world, std::move(objective));
  const int code = t.run();
  if (t.mpirun_ending()) world.leave_without_finalize();
  return code;
}

}  // namespace nmt
