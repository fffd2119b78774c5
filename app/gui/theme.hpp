#pragma once
// Dark and light looks, scaled for the font size (a projector wants large text and wide
// margins alike).
#include "figure_view.hpp"
#include "settings.hpp"

namespace moescope::gui {

// Resets ImGui's style to the theme, then scales every size by `scale` (font size / 16).
void apply_theme(Theme theme, float scale);
// Text, axis and background colours for figures, matching the theme.
FigureStyle figure_style(Theme theme);

}  // namespace moescope::gui
