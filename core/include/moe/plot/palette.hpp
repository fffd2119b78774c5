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

// The WCAG contrast ratio of two opaque colours (1: the same luminance, 21: black on white).
double contrast_ratio(const Color& a, const Color& b);

// The smallest contrast a muted bar keeps with the background.
constexpr double kMutedBarContrast = 1.6;

// A translucent (muted) bar's colour as drawn on the palette's background, made opaque; where
// that would nearly vanish (a dark expert colour on the dark theme), moved towards the text
// colour until it contrasts by kMutedBarContrast. Muting keeps each expert's hue either way.
Color muted_bar_color(const Color& fill, const Palette& palette);

}  // namespace moe::plot
