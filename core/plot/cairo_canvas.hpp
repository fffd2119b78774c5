#pragma once
// The cairo canvas (PNG and PDF files) and the text metrics every file format lays out with.
// Private to core/plot.
#include <cairo.h>

#include <memory>

#include "cairo_text.hpp"
#include "moe/plot/canvas.hpp"

namespace moe::plot::detail {

// Text measured with Pango on a 1x1 surface: body text at `font_pt` points, titles bold and a
// quarter larger. Shared by PNG, PDF and SVG, so that all three lay out the same way.
class CairoMetrics final : public TextMetrics {
public:
  explicit CairoMetrics(double font_pt);
  ~CairoMetrics() override;
  CairoMetrics(const CairoMetrics&) = delete;
  CairoMetrics& operator=(const CairoMetrics&) = delete;

  Font font(TextStyle style) const;
  double text_width(const std::string& text, TextStyle style) override;
  double ascent(TextStyle style) override;
  double line_height(TextStyle style) override;

private:
  double font_pt_;
  cairo_surface_t* surface_;
  cairo_t* cr_;
  std::unique_ptr<CairoText> text_;
};

// A canvas for a file: it measures text with the shared cairo metrics.
class FileCanvas : public Canvas {
public:
  explicit FileCanvas(CairoMetrics& metrics) : metrics_(metrics) {}
  double text_width(const std::string& text, TextStyle style) override {
    return metrics_.text_width(text, style);
  }
  double ascent(TextStyle style) override { return metrics_.ascent(style); }
  double line_height(TextStyle style) override { return metrics_.line_height(style); }

protected:
  CairoMetrics& metrics_;
};

class CairoCanvas final : public FileCanvas {
public:
  // `crisp_fills`: no antialiasing on filled rectangles, so that heatmap cells meeting edge to
  // edge show no seams (for pixels; a PDF viewer antialiases on its own terms).
  CairoCanvas(cairo_t* cr, CairoMetrics& metrics, bool crisp_fills);

  void fill(const FillRect& rect) override;
  void stroke(const StrokeRect& rect) override;
  void polyline(const Polyline& line) override;
  void circle(const Circle& circle) override;
  void text(const TextRun& run) override;
  void gradient(const Gradient& gradient) override;

  // Characters drawn so far that no installed font has a glyph for (they show as boxes).
  int missing_glyphs() const { return missing_glyphs_; }

private:
  void set_color(const Color& color);

  cairo_t* cr_;
  CairoText text_;
  bool crisp_fills_;
  int missing_glyphs_ = 0;
};

}  // namespace moe::plot::detail
