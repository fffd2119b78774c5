#include "cairo_canvas.hpp"

#include <cmath>

namespace moe::plot::detail {

CairoMetrics::CairoMetrics(double font_pt)
    : font_pt_(font_pt),
      surface_(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)),
      cr_(cairo_create(surface_)),
      text_(std::make_unique<CairoText>(cr_)) {}

CairoMetrics::~CairoMetrics() {
  text_.reset();
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

Font CairoMetrics::font(TextStyle style) const {
  if (style == TextStyle::Title) return {true, font_pt_ * 1.25};
  return {false, font_pt_};
}

double CairoMetrics::text_width(const std::string& text, TextStyle style) {
  return text_->width(text, font(style));
}
double CairoMetrics::ascent(TextStyle style) { return text_->ascent(font(style)); }
double CairoMetrics::line_height(TextStyle style) { return text_->line_height(font(style)); }

CairoCanvas::CairoCanvas(cairo_t* cr, CairoMetrics& metrics, bool crisp_fills)
    : FileCanvas(metrics), cr_(cr), text_(cr), crisp_fills_(crisp_fills) {
  cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
}

void CairoCanvas::set_color(const Color& color) {
  cairo_set_source_rgba(cr_, color.r, color.g, color.b, color.a);
}

void CairoCanvas::fill(const FillRect& rect) {
  set_color(rect.color);
  if (crisp_fills_) cairo_set_antialias(cr_, CAIRO_ANTIALIAS_NONE);
  cairo_rectangle(cr_, rect.box.x0, rect.box.y0, rect.box.width(), rect.box.height());
  cairo_fill(cr_);
  cairo_set_antialias(cr_, CAIRO_ANTIALIAS_DEFAULT);
}

void CairoCanvas::stroke(const StrokeRect& rect) {
  set_color(rect.color);
  cairo_set_line_width(cr_, rect.width);
  cairo_set_dash(cr_, nullptr, 0, 0);
  cairo_rectangle(cr_, rect.box.x0, rect.box.y0, rect.box.width(), rect.box.height());
  cairo_stroke(cr_);
}

void CairoCanvas::polyline(const Polyline& line) {
  if (line.points.size() < 2) return;
  set_color(line.color);
  cairo_set_line_width(cr_, line.width);
  if (line.dash > 0) {
    const double pattern[2] = {line.dash, line.gap};
    cairo_set_dash(cr_, pattern, 2, 0);
    cairo_set_line_cap(cr_, CAIRO_LINE_CAP_BUTT);
  } else {
    cairo_set_dash(cr_, nullptr, 0, 0);
    cairo_set_line_cap(cr_, CAIRO_LINE_CAP_ROUND);
  }
  cairo_move_to(cr_, line.points[0].x, line.points[0].y);
  for (size_t i = 1; i < line.points.size(); ++i)
    cairo_line_to(cr_, line.points[i].x, line.points[i].y);
  cairo_stroke(cr_);
  cairo_set_dash(cr_, nullptr, 0, 0);
  cairo_set_line_cap(cr_, CAIRO_LINE_CAP_BUTT);
}

void CairoCanvas::circle(const Circle& circle) {
  set_color(circle.color);
  cairo_new_sub_path(cr_);
  cairo_arc(cr_, circle.center.x, circle.center.y, circle.radius, 0, 2 * M_PI);
  cairo_fill(cr_);
}

void CairoCanvas::text(const TextRun& run) {
  if (run.text.empty()) return;
  const double width = metrics_.text_width(run.text, run.style);
  const double shift = run.align == TextAlign::Left     ? 0
                       : run.align == TextAlign::Center ? width / 2
                                                        : width;
  set_color(run.color);
  cairo_save(cr_);
  cairo_translate(cr_, run.at.x, run.at.y);
  if (run.angle_degrees != 0) cairo_rotate(cr_, -run.angle_degrees * M_PI / 180);
  cairo_move_to(cr_, -shift, metrics_.ascent(run.style));
  missing_glyphs_ += text_.show(run.text, metrics_.font(run.style));
  cairo_restore(cr_);
}

void CairoCanvas::gradient(const Gradient& gradient) {
  const std::vector<Color>& stops = gradient.stops;
  if (stops.empty()) return;
  const Box& box = gradient.box;
  cairo_pattern_t* pattern = cairo_pattern_create_linear(0, box.y1, 0, box.y0);
  for (size_t i = 0; i < stops.size(); ++i) {
    const double offset =
        stops.size() > 1 ? static_cast<double>(i) / static_cast<double>(stops.size() - 1) : 0;
    cairo_pattern_add_color_stop_rgba(pattern, offset, stops[i].r, stops[i].g, stops[i].b,
                                      stops[i].a);
  }
  cairo_set_source(cr_, pattern);
  cairo_rectangle(cr_, box.x0, box.y0, box.width(), box.height());
  cairo_fill(cr_);
  cairo_pattern_destroy(pattern);
}

}  // namespace moe::plot::detail
