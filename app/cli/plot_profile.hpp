#pragma once
// `moescope-cli plot --profile P --kind KIND`: figures of a corpus profile (no model is run).
// Pooled kinds (load, heatmap, coactivation, transitions, domains) draw what they draw for
// prompts, from the profile's counts; the metric kinds (cache, repetition, vocabulary,
// consistency, reap, esft) exist only for profiles.
#include <optional>
#include <string>

#include "figure_output.hpp"

namespace moescope::cli {

// The kinds only a profile can draw.
bool is_profile_kind(const std::string& kind);

struct ProfilePlotRequest {
  std::string profile_path;
  std::string kind;
  std::optional<int> layer;  // per-layer kinds: this model layer, else one file per MoE layer
  bool gate_mass = false;    // load: gate mass instead of token counts
  bool normalize = false;    // transitions: rows as P(next expert | expert)
};
void plot_profile(const ProfilePlotRequest& request, const FigureOutputArgs& output);

}  // namespace moescope::cli
