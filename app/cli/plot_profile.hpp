#pragma once
// `moescope-cli plot --profile P --kind cache|repetition`: figures of a corpus profile's
// metrics (no model is run).
#include <optional>
#include <string>

#include "figure_output.hpp"

namespace moescope::cli {

// The kinds drawn from a profile.
bool is_profile_kind(const std::string& kind);
// Writes the figure of `kind` from the profile at `profile_path`; cache: at model layer `layer`
// (default: every MoE layer, one file each with an -L<layer> suffix).
void plot_profile(const std::string& profile_path, const std::string& kind,
                  std::optional<int> layer, const FigureOutputArgs& output);

}  // namespace moescope::cli
