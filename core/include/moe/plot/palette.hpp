#pragma once
// The colours a figure is drawn with that the Figure itself leaves to the renderer: text, axes,
// grid and background, for the light and dark themes. The app's figure views and the exported
// files use the same palettes, so a figure looks alike on screen and on paper.
#include "moe/plot/figure.hpp"

namespace moe::plot {

struct Palette {
  Color text, dim_text, axis, grid, background;
};

Palette light_palette();
Palette dark_palette();

// Black or white, whichever contrasts more (WCAG) with `fill` drawn over `background`.
Color text_color_on(const Color& fill, const Color& background);

}  // namespace moe::plot
