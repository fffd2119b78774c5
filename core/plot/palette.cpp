#include "moe/plot/palette.hpp"

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

}  // namespace moe::plot
