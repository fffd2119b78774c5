#pragma once
// Text for the cairo exporter (PNG, PDF), laid out by Pango. Pango picks a fallback font per
// character through fontconfig, so CJK token labels and domain names render as glyphs instead
// of empty boxes, which cairo's own "toy" text API cannot do. Private to core/plot.
#include <cairo.h>

#include <string>

typedef struct _PangoLayout PangoLayout;

namespace moe::plot::detail {

struct Font {
  bool bold = false;
  double size = 10;  // points (cairo user units)
};

// One Pango layout bound to a cairo context. Metrics are unhinted with unrounded glyph
// positions, so a PNG at any dpi, a PDF and the SVG layout measure the same text alike.
// `text` must be valid UTF-8 (the exporter cleans it first).
class CairoText {
public:
  explicit CairoText(cairo_t* cr);
  ~CairoText();
  CairoText(const CairoText&) = delete;
  CairoText& operator=(const CairoText&) = delete;

  double width(const std::string& text, const Font& font);
  // Of the font itself (not of one string), so lines of different text align alike.
  double ascent(const Font& font);
  double line_height(const Font& font);
  // Draws with the left end of the baseline at cairo's current point. Returns how many
  // characters no installed font has a glyph for (drawn as boxes).
  int show(const std::string& text, const Font& font);

private:
  void set(const std::string& text, const Font& font);

  cairo_t* cr_;
  PangoLayout* layout_;
};

}  // namespace moe::plot::detail
