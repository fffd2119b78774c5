#pragma once
// An SVG writer as a canvas. Cairo's own SVG surface (1.16) turns every glyph into an outline,
// so labels could no longer be searched, selected or edited; this one keeps them as <text> and
// tags bars and cells with their row and column. It measures text with the metrics it is given
// (cairo's, so that SVG lays out like PNG and PDF). Private to core/plot.
#include <sstream>
#include <string>

#include "cairo_canvas.hpp"
#include "moe/plot/canvas.hpp"

namespace moe::plot::detail {

class SvgCanvas final : public FileCanvas {
public:
  // `width` x `height` points; `title` (clean UTF-8) becomes the document's <title>.
  SvgCanvas(double width, double height, const std::string& title, CairoMetrics& metrics);

  void fill(const FillRect& rect) override;
  void stroke(const StrokeRect& rect) override;
  void polyline(const Polyline& line) override;
  void circle(const Circle& circle) override;
  void text(const TextRun& run) override;
  void gradient(const Gradient& gradient) override;

  // Closes the document and returns it.
  std::string finish();

private:
  std::ostringstream out_;
  int gradients_ = 0;
};

}  // namespace moe::plot::detail
