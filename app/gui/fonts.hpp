#pragma once
// Fonts from Debian's font packages: DejaVu Sans (Latin with accents, Greek, Cyrillic, arrows,
// maths) and, when installed, a CJK font merged in for the common Chinese/Japanese characters.
#include <string>

namespace moescope::gui {

struct FontReport {
  std::string main_font;  // path, or "ImGui built-in" when no Debian font was found
  std::string cjk_font;   // path, or empty
};

// Replaces ImGui's font atlas with fonts at `size_pixels`. Call between frames; the renderer's
// font texture must be rebuilt afterwards.
FontReport build_fonts(float size_pixels, bool with_cjk);

}  // namespace moescope::gui
