#pragma once
// The training worker of the Train tab: its own thread owns a moe::train::LiveTraining (a tiny
// MoE trained on the bundled corpus sample) and is the only thread that touches it. The UI
// posts requests (start, pause, step, reset with new knobs, export) that never block, and reads
// the latest TrainSnapshot, immutable and shared through std::shared_ptr<const TrainSnapshot>,
// as with the inference worker (worker.hpp).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "moe/live_training.hpp"

namespace moescope::gui {

struct TrainSnapshot {
  uint64_t version = 0;  // increases with every publish
  uint64_t run = 0;      // increases with every reset (a new model from step 0)
  bool ready = false;    // the sample is tokenized and a model exists
  bool running = false;  // stepping until paused
  std::string error;     // why there is no model (missing sample or tokenizer), or empty
  moe::train::LiveTrainingKnobs knobs;  // of the current run
  moe::train::LiveTrainingShape shape;
  std::vector<std::string> domains;
  int64_t train_tokens = 0, val_tokens = 0;  // in the sample
  int64_t n_parameters = 0;
  int64_t steps_done = 0;
  std::vector<moe::train::LiveStep> steps;
  std::vector<moe::train::LiveSpecialization> specializations;
  double seconds_per_step = 0;  // mean of the last steps
  // The last export: its serial increases with every finished export (path empty on failure).
  uint64_t export_serial = 0;
  std::string export_path;
  std::string export_error;
};

class TrainWorker {
public:
  // Starts the thread, which tokenizes <sample_dir> with the tokenizer of `tokenizer_model`
  // and builds a model with default knobs (paused at step 0).
  TrainWorker(std::filesystem::path sample_dir, std::filesystem::path tokenizer_model,
              int n_threads = 0);
  ~TrainWorker();  // finishes the current step, then joins
  TrainWorker(const TrainWorker&) = delete;
  TrainWorker& operator=(const TrainWorker&) = delete;

  void start();  // step until pause()
  void pause();
  void step(int n = 1);  // n more steps (while paused)
  // A fresh model from step 0 with these knobs (invalid knobs: the snapshot's error says why
  // and the current run stays). Keeps the running/paused state.
  void reset(moe::train::LiveTrainingKnobs knobs);
  // Writes the current weights to `path` (GGUF); the snapshot's export_* fields tell the result.
  void export_model(std::filesystem::path path);

  std::shared_ptr<const TrainSnapshot> snapshot() const;
  // For tests and the scripted mode: blocks until at least `steps` steps are done in the
  // current run (or an error, or the timeout). True when reached.
  bool wait_steps(int64_t steps, std::chrono::milliseconds timeout) const;
  // For tests and the scripted mode: blocks until nothing is queued (export, reset, steps).
  bool wait_idle(std::chrono::milliseconds timeout) const;

private:
  void run();
  bool publish(bool force);  // false when skipped (published less than an interval ago)
  bool has_work() const;     // under mutex_

  std::filesystem::path sample_dir_, tokenizer_model_;
  int n_threads_ = 0;
  // Touched by the worker thread only.
  std::shared_ptr<const moe::train::LiveTrainingData> data_;
  std::unique_ptr<moe::train::LiveTraining> training_;
  std::chrono::steady_clock::time_point last_publish_;

  mutable std::mutex mutex_;
  mutable std::condition_variable wake_, published_;
  bool running_ = false;
  int steps_requested_ = 0;
  std::optional<moe::train::LiveTrainingKnobs> pending_reset_;
  std::optional<std::filesystem::path> pending_export_;
  bool busy_ = true;  // loading, or working on a request
  bool quit_ = false;
  uint64_t version_ = 0, run_ = 0, export_serial_ = 0;
  std::string error_;
  std::string export_path_, export_error_;
  std::shared_ptr<const TrainSnapshot> snapshot_;
  std::thread thread_;
};

}  // namespace moescope::gui
