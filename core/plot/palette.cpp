#include "moe/plot/palette.hpp"

#include <algorithm>

namespace moe::plot {

Palette light_palette() {
  return {Color::from_rgb(0x141414), Color::from_rgb(0x505050), Color::from_rgb(0x5A5A5A),
          Color{0, 0, 0, 28.0f / 255}, Color::from_rgb(0xFFFFFF)};
}

Palette dark_palette() {
  return {Color::from_rgb(0xEBEBEB), Color::from_rgb(0xAFB2B9), Color::from_rgb(0x8C8C91),
          Color{1, 1, 1, 28.0f / 255}, Color::from_rgb(0x131417)};
}

Color text_color_on(const Color& fill, const Color& background) {
  const Color composed = mix(background.with_alpha(1), fill.with_alpha(1), fill.a);
  // Contrast against black (L + 0.05) / 0.05 versus against white 1.05 / (L + 0.05).
  const double luminance = composed.luminance();
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? Color{0, 0, 0, 1}
                                                               : Color{1, 1, 1, 1};
}

double contrast_ratio(const Color& a, const Color& b) {
  const double la = a.luminance(), lb = b.luminance();
  return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

Color muted_bar_color(const Color& fill, const Palette& palette) {
  const Color background = palette.background.with_alpha(1);
  const Color composed = mix(background, fill.with_alpha(1), fill.a);
  // Towards the text colour in small steps: the first that stands out enough.
  for (int step = 0; step <= 20; ++step) {
    const Color moved = mix(composed, palette.text.with_alpha(1), step / 20.0);
    if (contrast_ratio(moved, background) >= kMutedBarContrast) return moved;
  }
  return palette.text.with_alpha(1);
}

}  // namespace moe::plot
