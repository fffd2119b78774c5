#include "training_run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

namespace moescope::gui {

void ensure_train_worker(TrainingRun& run) {
  if (run.worker) return;
  // The first bundled model's 4k-token tokenizer: the default model's 24k vocabulary would make
  // the output layer, and so every live step, several times slower.
  run.worker =
      std::make_unique<TrainWorker>(run.assets_dir / "train" / "sample",
                                    run.assets_dir / "models" / "v1" / "moescope-moe-tiny.gguf");
}

void reset_training(TrainingRun& run) {
  ensure_train_worker(run);
  run.worker->reset(run.knobs);
}

std::string set_train_knob(TrainingRun& run, const std::string& name_value) {
  const auto gap = name_value.find_first_of(" \t");
  if (gap == std::string::npos) return "train-knob needs NAME VALUE";
  const std::string name = name_value.substr(0, gap);
  const std::string text = name_value.substr(name_value.find_first_not_of(" \t", gap));
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || !std::isfinite(value))
    return "train-knob " + name + ": '" + text + "' is not a number";
  moe::train::LiveTrainingKnobs knobs = run.knobs;
  if (name == "experts") {
    knobs.n_expert = static_cast<int>(value);
  } else if (name == "top-k") {
    knobs.top_k = static_cast<int>(value);
  } else if (name == "balance") {
    knobs.load_balance = value;
  } else if (name == "z-loss") {
    knobs.z_loss = value;
  } else if (name == "lr") {
    knobs.lr = value;
  } else if (name == "seed") {
    knobs.seed = static_cast<uint64_t>(std::max(value, 0.0));
  } else {
    return "train-knob: unknown knob '" + name + "' (experts, top-k, balance, z-loss, lr, seed)";
  }
  try {
    knobs.validate();
  } catch (const std::exception& error) {
    return "train-knob " + name + ": " + error.what();
  }
  run.knobs = knobs;
  return {};
}

bool train_to_step(TrainingRun& run, int64_t steps, bool first_call, std::string& error) {
  ensure_train_worker(run);
  TrainWorker& worker = *run.worker;
  if (first_call) {
    // Let a pending reset or the first data preparation finish, then ask for the rest.
    worker.wait_idle(std::chrono::seconds(30));
    const std::shared_ptr<const TrainSnapshot> snapshot = worker.snapshot();
    if (snapshot->steps_done < steps) worker.step(static_cast<int>(steps - snapshot->steps_done));
  }
  const std::shared_ptr<const TrainSnapshot> snapshot = worker.snapshot();
  if (!snapshot->error.empty()) {
    error = snapshot->error;
    return true;
  }
  return snapshot->steps_done >= steps && worker.wait_idle(std::chrono::milliseconds(0));
}

}  // namespace moescope::gui
