#pragma once
// The live training run behind the Train tab: a tiny MoE trained on the bundled corpus sample
// (train_worker.hpp) with the knobs that decide between expert collapse and balanced load. The
// app owns it, so it keeps going while other tabs are shown; the Train view and the scripted
// mode drive it through these functions.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "moe/live_training.hpp"
#include "train_worker.hpp"

namespace moescope::gui {

struct TrainingRun {
  std::filesystem::path assets_dir;     // assets/train/sample and assets/models/*.gguf
  std::unique_ptr<TrainWorker> worker;  // started the first time it is needed
  moe::train::LiveTrainingKnobs knobs;  // as edited; applied by reset_training
  uint64_t opened_export = 0;           // the export serial last handed to the inference worker
  bool open_after_export = false;
};

void ensure_train_worker(TrainingRun& run);
// "NAME VALUE" with NAME one of experts, top-k, balance, z-loss, lr, seed; the error or empty.
std::string set_train_knob(TrainingRun& run, const std::string& name_value);
void reset_training(TrainingRun& run);  // a new run with the edited knobs
// Asks for steps until the run has done `steps` in all (first call) and then tells whether it
// has (or the training reported an error, returned in `error`).
bool train_to_step(TrainingRun& run, int64_t steps, bool first_call, std::string& error);

}  // namespace moescope::gui
