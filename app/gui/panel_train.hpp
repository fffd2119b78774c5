#pragma once
// The Train tab: trains a tiny MoE live on the bundled corpus sample (train_worker.hpp), with
// the knobs that decide between expert collapse and balanced load, and opens the model being
// trained in the other views on request.
#include <filesystem>
#include <memory>
#include <string>

#include "moe/live_training.hpp"
#include "panels.hpp"
#include "train_worker.hpp"

namespace moescope::gui {

struct TrainPanelState {
  std::filesystem::path assets_dir;     // assets/train/sample and assets/models/*.gguf
  std::unique_ptr<TrainWorker> worker;  // started the first time the tab is shown
  moe::train::LiveTrainingKnobs knobs;  // as edited; applied by Reset
  int layer = -1;  // of the expert-share figure; -1: the last (collapse shows there first)
  uint64_t opened_export = 0;  // the export serial last handed to the inference worker
  bool open_after_export = false;
  FigureCache loss, balance, share, heatmap, specialization;
};
void draw_train_panel(ViewContext& view, TrainPanelState& state);

// The scripted mode's Train commands (script.hpp).
void ensure_train_worker(TrainPanelState& state);
// "NAME VALUE" with NAME one of experts, top-k, balance, z-loss, lr, seed; the error or empty.
std::string set_train_knob(TrainPanelState& state, const std::string& name_value);
void reset_training(TrainPanelState& state);  // a new run with the edited knobs
// Asks for steps until the run has done `steps` in all (first call) and then tells whether it
// has (or the training reported an error, returned in `error`).
bool train_to_step(TrainPanelState& state, int64_t steps, bool first_call, std::string& error);

}  // namespace moescope::gui
