#include "train_worker.hpp"

#include <exception>

namespace moescope::gui {

namespace {
constexpr auto kPublishInterval = std::chrono::milliseconds(100);
constexpr size_t kTimingWindow = 10;  // steps averaged for seconds_per_step
}  // namespace

TrainWorker::TrainWorker(std::filesystem::path sample_dir, std::filesystem::path tokenizer_model,
                         int n_threads)
    : sample_dir_(std::move(sample_dir)),
      tokenizer_model_(std::move(tokenizer_model)),
      n_threads_(n_threads),
      snapshot_(std::make_shared<const TrainSnapshot>()) {
  thread_ = std::thread([this] { run(); });
}

TrainWorker::~TrainWorker() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void TrainWorker::start() {
  {
    std::lock_guard lock(mutex_);
    running_ = true;
  }
  wake_.notify_all();
}

void TrainWorker::pause() {
  std::lock_guard lock(mutex_);
  running_ = false;
  steps_requested_ = 0;
}

void TrainWorker::step(int n) {
  {
    std::lock_guard lock(mutex_);
    steps_requested_ += std::max(n, 0);
  }
  wake_.notify_all();
}

void TrainWorker::reset(moe::train::LiveTrainingKnobs knobs) {
  {
    std::lock_guard lock(mutex_);
    pending_reset_ = knobs;
    steps_requested_ = 0;
  }
  wake_.notify_all();
}

void TrainWorker::export_model(std::filesystem::path path) {
  {
    std::lock_guard lock(mutex_);
    pending_export_ = std::move(path);
  }
  wake_.notify_all();
}

std::shared_ptr<const TrainSnapshot> TrainWorker::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

bool TrainWorker::wait_steps(int64_t steps, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return published_.wait_for(lock, timeout, [&] {
    return snapshot_->steps_done >= steps || !snapshot_->error.empty();
  }) && snapshot_->steps_done >= steps;
}

bool TrainWorker::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return published_.wait_for(lock, timeout, [&] { return !busy_ && !has_work(); });
}

bool TrainWorker::has_work() const {
  return pending_reset_ || pending_export_ ||
         (snapshot_->ready && (running_ || steps_requested_ > 0));
}

bool TrainWorker::publish(bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_publish_ < kPublishInterval) return false;
  last_publish_ = now;
  auto snapshot = std::make_shared<TrainSnapshot>();
  if (training_) {
    snapshot->ready = true;
    snapshot->knobs = training_->knobs();
    snapshot->shape = training_->shape();
    snapshot->domains = data_->domains;
    snapshot->train_tokens = data_->train_tokens;
    snapshot->val_tokens = data_->val_tokens;
    snapshot->n_parameters = static_cast<int64_t>(training_->parameters().total);
    snapshot->steps_done = training_->steps_done();
    snapshot->steps = training_->steps();
    snapshot->specializations = training_->specializations();
    const size_t n = std::min(kTimingWindow, snapshot->steps.size());
    for (size_t i = snapshot->steps.size() - n; i < snapshot->steps.size(); ++i)
      snapshot->seconds_per_step += snapshot->steps[i].seconds / static_cast<double>(n);
  }
  std::lock_guard lock(mutex_);
  snapshot->version = ++version_;
  snapshot->run = run_;
  snapshot->running = running_;
  snapshot->error = error_;
  snapshot->export_serial = export_serial_;
  snapshot->export_path = export_path_;
  snapshot->export_error = export_error_;
  snapshot_ = std::move(snapshot);
  published_.notify_all();
  return true;
}

void TrainWorker::run() {
  try {
    data_ = moe::train::load_live_training_data(sample_dir_, tokenizer_model_, n_threads_);
    training_ = std::make_unique<moe::train::LiveTraining>(
        data_, moe::train::LiveTrainingKnobs{}, moe::train::LiveTrainingShape{}, n_threads_);
  } catch (const std::exception& error) {
    std::lock_guard lock(mutex_);
    error_ = std::string("cannot prepare the training data: ") + error.what();
  }
  publish(true);
  bool dirty = false;  // steps done since the last publish
  for (;;) {
    std::optional<moe::train::LiveTrainingKnobs> reset;
    std::optional<std::filesystem::path> export_path;
    bool take_step = false;
    {
      std::unique_lock lock(mutex_);
      if (!has_work()) {
        if (dirty || snapshot_->running != running_) {  // also: paused since the last publish
          lock.unlock();
          publish(true);
          dirty = false;
          lock.lock();
        }
        busy_ = false;
        published_.notify_all();
        wake_.wait(lock, [&] { return quit_ || has_work(); });
      }
      if (quit_) return;
      busy_ = true;
      reset.swap(pending_reset_);
      export_path.swap(pending_export_);
      if (!reset && !export_path && snapshot_->ready && (running_ || steps_requested_ > 0)) {
        take_step = true;
        if (!running_) --steps_requested_;
      }
    }
    if (reset) {
      std::string error;
      try {
        if (!data_) {
          data_ = moe::train::load_live_training_data(sample_dir_, tokenizer_model_, n_threads_);
        }
        auto fresh = std::make_unique<moe::train::LiveTraining>(
            data_, *reset, moe::train::LiveTrainingShape{}, n_threads_);
        training_ = std::move(fresh);
      } catch (const std::exception& e) {
        error = e.what();
      }
      {
        std::lock_guard lock(mutex_);
        if (error.empty()) ++run_;
        error_ = error;
      }
      publish(true);
      dirty = false;
    }
    if (export_path) {
      std::string error;
      try {
        if (!training_) throw std::runtime_error("there is no model to export yet");
        training_->export_gguf(*export_path);  // creates the folder
      } catch (const std::exception& e) {
        error = e.what();
      }
      {
        std::lock_guard lock(mutex_);
        ++export_serial_;
        export_path_ = error.empty() ? export_path->string() : std::string();
        export_error_ = error;
      }
      publish(true);
      dirty = false;
    }
    if (take_step) {
      try {
        training_->step();
        dirty = !publish(false);
      } catch (const std::exception& e) {
        {
          std::lock_guard lock(mutex_);
          error_ = std::string("training step failed: ") + e.what();
          running_ = false;
          steps_requested_ = 0;
        }
        publish(true);
        dirty = false;
      }
    }
  }
}

}  // namespace moescope::gui
