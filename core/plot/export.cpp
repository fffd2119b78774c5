// The figure exporter. One layout routine (draw_figure below) follows the GUI's ImDrawList
// renderer step by step and draws through a small Canvas interface with two implementations:
// cairo surfaces for PNG and PDF, and a direct SVG writer. Cairo's own SVG surface (1.16) turns
// every glyph into an outline, so labels could no longer be searched, selected or edited; the
// SVG writer keeps them as <text> and tags bars and cells with their row and column. Text is
// measured with cairo for every format, so all three lay out the same way.
#include "moe/plot/export.hpp"

#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <vector>

#include "cairo_text.hpp"
#include "moe/atomic_file.hpp"
#include "moe/error.hpp"

namespace moe::plot {

namespace {

constexpr const char* kSvgFontFamily = "'DejaVu Sans', Verdana, Arial, sans-serif";

struct Palette {
  Color text, dim_text, axis, grid, background;
};

Palette palette_for(ExportTheme theme) {
  // The GUI's figure_style() colours for the same theme.
  if (theme == ExportTheme::Dark) {
    return {Color::from_rgb(0xEBEBEB), Color::from_rgb(0xAFB2B9), Color::from_rgb(0x8C8C91),
            Color{1, 1, 1, 28.0f / 255}, Color::from_rgb(0x131417)};
  }
  return {Color::from_rgb(0x141414), Color::from_rgb(0x505050), Color::from_rgb(0x5A5A5A),
          Color{0, 0, 0, 28.0f / 255}, Color::from_rgb(0xFFFFFF)};
}

// Invalid UTF-8 would put a cairo context into an error state and make SVG unreadable: such
// bytes become U+FFFD, and control characters (not allowed in XML) become spaces.
std::string clean_text(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = byte(i);
    size_t length = 0;
    uint32_t code = 0;
    if (lead < 0x80) {
      out += (lead < 0x20 || lead == 0x7F) ? ' ' : static_cast<char>(lead);
      ++i;
      continue;
    }
    if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code = lead & 0x07;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (byte(i + k) & 0xC0) == 0x80;
      code = (code << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    valid = valid && code >= kMinimum[length] && code <= 0x10FFFF &&
            !(code >= 0xD800 && code <= 0xDFFF) && code != 0xFFFE && code != 0xFFFF;
    if (valid) {
      out.append(text, i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Cuts text to `max_bytes` on a UTF-8 boundary and adds an ellipsis (as the GUI does).
std::string shorten(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "\xE2\x80\xA6";
}

using detail::CairoText;
using detail::Font;

enum class TextAlign { Left, Center, Right };

// Text measurement on a 1x1 surface, shared by every format (the SVG layout included).
class Metrics {
public:
  Metrics()
      : surface_(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1)),
        cr_(cairo_create(surface_)),
        text_(std::make_unique<CairoText>(cr_)) {}
  ~Metrics() {
    text_.reset();
    cairo_destroy(cr_);
    cairo_surface_destroy(surface_);
  }
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  double width(const std::string& text, const Font& font) { return text_->width(text, font); }
  double ascent(const Font& font) { return text_->ascent(font); }
  double line_height(const Font& font) { return text_->line_height(font); }

private:
  cairo_surface_t* surface_;
  cairo_t* cr_;
  std::unique_ptr<CairoText> text_;
};

// What the layout draws with, in points from the top-left corner.
class Canvas {
public:
  virtual ~Canvas() = default;
  // `kind`: "bar" or "cell" for the figure's rectangles (tagged in SVG), nullptr otherwise.
  virtual void fill_rect(double x0, double y0, double x1, double y1, const Color& color,
                         const char* kind = nullptr, int row = -1, int column = -1) = 0;
  virtual void stroke_rect(double x0, double y0, double x1, double y1, const Color& color,
                           double width) = 0;
  virtual void line(double x0, double y0, double x1, double y1, const Color& color, double width,
                    double dash = 0, double gap = 0) = 0;
  virtual void polyline(const std::vector<std::pair<double, double>>& points, const Color& color,
                        double width, double dash, double gap) = 0;
  virtual void circle(double x, double y, double radius, const Color& color) = 0;
  // `baseline_y` is the baseline; `x` the left, centre or right end as `align` says. A non-zero
  // `angle_degrees` rotates about (x, baseline_y), counter-clockwise for positive values.
  virtual void text(double x, double baseline_y, const std::string& text, const Color& color,
                    const Font& font, TextAlign align, double angle_degrees = 0) = 0;
  // A vertical gradient through `stops`, the first at the bottom.
  virtual void vertical_gradient(double x0, double y0, double x1, double y1,
                                 const std::vector<Color>& stops) = 0;
};

// ---- cairo (PNG, PDF) ----

class CairoCanvas final : public Canvas {
public:
  CairoCanvas(cairo_t* cr, Metrics& metrics, bool crisp_fills)
      : cr_(cr), metrics_(metrics), text_(cr), crisp_fills_(crisp_fills) {
    cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
  }

  void fill_rect(double x0, double y0, double x1, double y1, const Color& color, const char*, int,
                 int) override {
    set_color(color);
    // Heatmap cells meet edge to edge: without antialiasing no seams show between them.
    if (crisp_fills_) cairo_set_antialias(cr_, CAIRO_ANTIALIAS_NONE);
    cairo_rectangle(cr_, x0, y0, x1 - x0, y1 - y0);
    cairo_fill(cr_);
    cairo_set_antialias(cr_, CAIRO_ANTIALIAS_DEFAULT);
  }
  void stroke_rect(double x0, double y0, double x1, double y1, const Color& color,
                   double width) override {
    set_color(color);
    cairo_set_line_width(cr_, width);
    cairo_set_dash(cr_, nullptr, 0, 0);
    cairo_rectangle(cr_, x0, y0, x1 - x0, y1 - y0);
    cairo_stroke(cr_);
  }
  void line(double x0, double y0, double x1, double y1, const Color& color, double width,
            double dash, double gap) override {
    polyline({{x0, y0}, {x1, y1}}, color, width, dash, gap);
  }
  void polyline(const std::vector<std::pair<double, double>>& points, const Color& color,
                double width, double dash, double gap) override {
    if (points.size() < 2) return;
    set_color(color);
    cairo_set_line_width(cr_, width);
    if (dash > 0) {
      const double pattern[2] = {dash, gap};
      cairo_set_dash(cr_, pattern, 2, 0);
      cairo_set_line_cap(cr_, CAIRO_LINE_CAP_BUTT);
    } else {
      cairo_set_dash(cr_, nullptr, 0, 0);
      cairo_set_line_cap(cr_, CAIRO_LINE_CAP_ROUND);
    }
    cairo_move_to(cr_, points[0].first, points[0].second);
    for (size_t i = 1; i < points.size(); ++i)
      cairo_line_to(cr_, points[i].first, points[i].second);
    cairo_stroke(cr_);
    cairo_set_dash(cr_, nullptr, 0, 0);
    cairo_set_line_cap(cr_, CAIRO_LINE_CAP_BUTT);
  }
  void circle(double x, double y, double radius, const Color& color) override {
    set_color(color);
    cairo_new_sub_path(cr_);
    cairo_arc(cr_, x, y, radius, 0, 2 * M_PI);
    cairo_fill(cr_);
  }
  void text(double x, double baseline_y, const std::string& text, const Color& color,
            const Font& font, TextAlign align, double angle_degrees) override {
    if (text.empty()) return;
    const double width = metrics_.width(text, font);
    const double shift = align == TextAlign::Left     ? 0
                         : align == TextAlign::Center ? width / 2
                                                      : width;
    set_color(color);
    cairo_save(cr_);
    cairo_translate(cr_, x, baseline_y);
    if (angle_degrees != 0) cairo_rotate(cr_, -angle_degrees * M_PI / 180);
    cairo_move_to(cr_, -shift, 0);
    missing_glyphs_ += text_.show(text, font);
    cairo_restore(cr_);
  }
  void vertical_gradient(double x0, double y0, double x1, double y1,
                         const std::vector<Color>& stops) override {
    if (stops.empty()) return;
    cairo_pattern_t* pattern = cairo_pattern_create_linear(0, y1, 0, y0);
    for (size_t i = 0; i < stops.size(); ++i) {
      const double offset =
          stops.size() > 1 ? static_cast<double>(i) / static_cast<double>(stops.size() - 1) : 0;
      cairo_pattern_add_color_stop_rgba(pattern, offset, stops[i].r, stops[i].g, stops[i].b,
                                        stops[i].a);
    }
    cairo_set_source(cr_, pattern);
    cairo_rectangle(cr_, x0, y0, x1 - x0, y1 - y0);
    cairo_fill(cr_);
    cairo_pattern_destroy(pattern);
  }

  int missing_glyphs() const { return missing_glyphs_; }

private:
  void set_color(const Color& color) {
    cairo_set_source_rgba(cr_, color.r, color.g, color.b, color.a);
  }

  cairo_t* cr_;
  Metrics& metrics_;
  CairoText text_;
  bool crisp_fills_;
  int missing_glyphs_ = 0;
};

// ---- SVG ----

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", value);
  std::string text = buffer;
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

std::string svg_color(const Color& color) {
  char buffer[8];
  const auto channel = [](float c) {
    return static_cast<int>(std::lround(std::clamp(c, 0.0f, 1.0f) * 255));
  };
  std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", channel(color.r), channel(color.g),
                channel(color.b));
  return buffer;
}

// fill="#rrggbb" plus fill-opacity when not opaque (attribute is "fill" or "stroke").
std::string svg_paint(const char* attribute, const Color& color) {
  std::string out = std::string(attribute) + "=\"" + svg_color(color) + "\"";
  if (color.a < 0.999f)
    out += std::string(" ") + attribute + "-opacity=\"" + number(color.a) + "\"";
  return out;
}

class SvgCanvas final : public Canvas {
public:
  SvgCanvas(double width, double height, const std::string& title) {
    out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << number(width)
         << "pt\" height=\"" << number(height) << "pt\" viewBox=\"0 0 " << number(width) << ' '
         << number(height) << "\">\n";
    if (!title.empty()) out_ << "<title>" << xml_escape(title) << "</title>\n";
    out_ << "<g font-family=\"" << kSvgFontFamily << "\">\n";
  }
  std::string finish() {
    out_ << "</g>\n</svg>\n";
    return out_.str();
  }

  void fill_rect(double x0, double y0, double x1, double y1, const Color& color, const char* kind,
                 int row, int column) override {
    out_ << "<rect";
    if (kind) {
      out_ << " class=\"" << kind << "\"";
      if (row >= 0) out_ << " data-row=\"" << row << "\"";
      if (column >= 0) out_ << " data-column=\"" << column << "\"";
    }
    out_ << " x=\"" << number(x0) << "\" y=\"" << number(y0) << "\" width=\"" << number(x1 - x0)
         << "\" height=\"" << number(y1 - y0) << "\" " << svg_paint("fill", color);
    if (kind && std::string(kind) == "cell") out_ << " shape-rendering=\"crispEdges\"";
    out_ << "/>\n";
  }
  void stroke_rect(double x0, double y0, double x1, double y1, const Color& color,
                   double width) override {
    out_ << "<rect x=\"" << number(x0) << "\" y=\"" << number(y0) << "\" width=\""
         << number(x1 - x0) << "\" height=\"" << number(y1 - y0) << "\" fill=\"none\" "
         << svg_paint("stroke", color) << " stroke-width=\"" << number(width) << "\"/>\n";
  }
  void line(double x0, double y0, double x1, double y1, const Color& color, double width,
            double dash, double gap) override {
    polyline({{x0, y0}, {x1, y1}}, color, width, dash, gap);
  }
  void polyline(const std::vector<std::pair<double, double>>& points, const Color& color,
                double width, double dash, double gap) override {
    if (points.size() < 2) return;
    out_ << "<polyline points=\"";
    for (size_t i = 0; i < points.size(); ++i)
      out_ << (i ? " " : "") << number(points[i].first) << ',' << number(points[i].second);
    out_ << "\" fill=\"none\" " << svg_paint("stroke", color) << " stroke-width=\"" << number(width)
         << "\" stroke-linejoin=\"round\"";
    if (dash > 0) {
      out_ << " stroke-dasharray=\"" << number(dash) << ' ' << number(gap) << "\"";
    } else {
      out_ << " stroke-linecap=\"round\"";
    }
    out_ << "/>\n";
  }
  void circle(double x, double y, double radius, const Color& color) override {
    out_ << "<circle cx=\"" << number(x) << "\" cy=\"" << number(y) << "\" r=\"" << number(radius)
         << "\" " << svg_paint("fill", color) << "/>\n";
  }
  void text(double x, double baseline_y, const std::string& text, const Color& color,
            const Font& font, TextAlign align, double angle_degrees) override {
    if (text.empty()) return;
    out_ << "<text x=\"" << number(x) << "\" y=\"" << number(baseline_y) << "\" font-size=\""
         << number(font.size) << "\"";
    if (font.bold) out_ << " font-weight=\"bold\"";
    if (align == TextAlign::Center) out_ << " text-anchor=\"middle\"";
    if (align == TextAlign::Right) out_ << " text-anchor=\"end\"";
    if (angle_degrees != 0)
      out_ << " transform=\"rotate(" << number(-angle_degrees) << ' ' << number(x) << ' '
           << number(baseline_y) << ")\"";
    out_ << ' ' << svg_paint("fill", color) << " xml:space=\"preserve\">" << xml_escape(text)
         << "</text>\n";
  }
  void vertical_gradient(double x0, double y0, double x1, double y1,
                         const std::vector<Color>& stops) override {
    const std::string id = "scale" + std::to_string(gradients_++);
    out_ << "<defs><linearGradient id=\"" << id << "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
    for (size_t i = 0; i < stops.size(); ++i) {
      const double offset =
          stops.size() > 1 ? static_cast<double>(i) / static_cast<double>(stops.size() - 1) : 0;
      out_ << "<stop offset=\"" << number(offset) << "\" stop-color=\"" << svg_color(stops[i])
           << "\"/>";
    }
    out_ << "</linearGradient></defs>\n<rect x=\"" << number(x0) << "\" y=\"" << number(y0)
         << "\" width=\"" << number(x1 - x0) << "\" height=\"" << number(y1 - y0)
         << "\" fill=\"url(#" << id << ")\"/>\n";
  }

private:
  std::ostringstream out_;
  int gradients_ = 0;
};

// ---- layout (mirrors app/gui/figure_view.cpp) ----

struct Mapping {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;  // plot rectangle
  const Axis* x = nullptr;
  const Axis* y = nullptr;

  double px(double value) const {
    const double span = x->max - x->min;
    const double t = span != 0 ? (value - x->min) / span : 0;
    return x->reversed ? max_x - t * (max_x - min_x) : min_x + t * (max_x - min_x);
  }
  double py(double value) const {
    const double span = y->max - y->min;
    const double t = span != 0 ? (value - y->min) / span : 0;
    return y->reversed ? min_y + t * (max_y - min_y) : max_y - t * (max_y - min_y);
  }
  void rect(const Rect& r, double& x0, double& y0, double& x1, double& y1) const {
    const double a = px(r.x0), b = px(r.x1), c = py(r.y0), d = py(r.y1);
    x0 = std::min(a, b);
    x1 = std::max(a, b);
    y0 = std::min(c, d);
    y1 = std::max(c, d);
  }
};

Color text_color_on(const Color& fill, const Color& background) {
  const Color composed = mix(background.with_alpha(1), fill.with_alpha(1), fill.a);
  const double luminance = composed.luminance();
  return (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) ? Color{0, 0, 0, 1}
                                                               : Color{1, 1, 1, 1};
}

class Layout {
public:
  Layout(Canvas& canvas, Metrics& metrics, const Palette& palette, double font_pt)
      : canvas_(canvas), metrics_(metrics), palette_(palette) {
    body_.size = font_pt;
    title_.size = font_pt * 1.25;
    title_.bold = true;
    line_height_ = metrics_.line_height(body_);
    ascent_ = metrics_.ascent(body_);
  }

  void draw(const Figure& figure, double width, double height);

private:
  double text_width(const std::string& text) { return metrics_.width(text, body_); }
  // Text with its top at `top`, like ImDrawList::AddText.
  void put(double x, double top, const std::string& text, const Color& color,
           TextAlign align = TextAlign::Left) {
    canvas_.text(x, top + ascent_, text, color, body_, align);
  }
  double wrapped(double x, double top, const std::string& text, const Color& color, double width,
                 const Font& font);
  double legend(const Figure& figure, double x, double top, double width);
  void rects(const std::vector<Rect>& rects, bool cells, const Mapping& map);

  Canvas& canvas_;
  Metrics& metrics_;
  Palette palette_;
  Font body_, title_;
  double line_height_ = 12, ascent_ = 9;
};

// Word-wraps `text` to `width`; returns the height used.
double Layout::wrapped(double x, double top, const std::string& text, const Color& color,
                       double width, const Font& font) {
  const double line_height = metrics_.line_height(font);
  const double ascent = metrics_.ascent(font);
  // Words split at single spaces, so that runs of spaces (used to separate figures in notes)
  // survive on a line; a wrapped line starts at its first word.
  std::vector<std::string> words;
  for (size_t start = 0;;) {
    const size_t space = text.find(' ', start);
    words.push_back(
        text.substr(start, space == std::string::npos ? std::string::npos : space - start));
    if (space == std::string::npos) break;
    start = space + 1;
  }
  double y = top;
  std::string line;
  bool line_started = false;
  const auto flush = [&] {
    canvas_.text(x, y + ascent, line, color, font, TextAlign::Left);
    y += line_height + 1;
    line.clear();
    line_started = false;
  };
  for (const std::string& word : words) {
    if (!line_started) {
      if (word.empty()) continue;
      line = word;
      line_started = true;
      continue;
    }
    const std::string candidate = line + " " + word;
    if (!word.empty() && metrics_.width(candidate, font) > width) {
      flush();
      line = word;
      line_started = true;
    } else {
      line = candidate;
    }
  }
  if (line_started) flush();
  return y - top;
}

double Layout::legend(const Figure& figure, double origin_x, double top, double width) {
  if (figure.legend.empty()) return 0;
  const double sample = line_height_ * 0.8;
  const double gap = line_height_;
  const double dash = line_height_ * 7 / 16, dash_gap = line_height_ * 5 / 16;
  double x = origin_x, y = top;
  for (const LegendEntry& entry : figure.legend) {
    const std::string label = clean_text(entry.label);
    const double entry_width = sample + 6 + text_width(label);
    if (x > origin_x && x + entry_width > origin_x + width) {
      x = origin_x;
      y += line_height_ + 2;
    }
    const Color color = entry.color.value_or(palette_.text);
    const double middle = y + line_height_ / 2;
    if (entry.line) {
      canvas_.line(x, middle, x + sample * 1.6, middle, color, entry.dashed ? 1.5 : 2,
                   entry.dashed ? dash : 0, dash_gap);
      x += sample * 1.6 + 6;
    } else {
      canvas_.fill_rect(x, middle - sample / 2, x + sample, middle + sample / 2, color);
      canvas_.stroke_rect(x, middle - sample / 2, x + sample, middle + sample / 2, palette_.text,
                          0.75);
      x += sample + 6;
    }
    put(x, y, label, palette_.dim_text);
    x += text_width(label) + gap;
  }
  return y + line_height_ - top;
}

void Layout::rects(const std::vector<Rect>& rects, bool cells, const Mapping& map) {
  for (const Rect& r : rects) {
    double x0, y0, x1, y1;
    map.rect(r, x0, y0, x1, y1);
    canvas_.fill_rect(x0, y0, x1, y1, r.fill, cells ? "cell" : "bar", r.row, r.column);
    if (r.text.empty()) continue;
    const std::string text = clean_text(r.text);
    const double width = text_width(text);
    if (cells) {
      if (width + 4 <= x1 - x0 && line_height_ <= y1 - y0) {
        put((x0 + x1) / 2, (y0 + y1 - line_height_) / 2, text,
            text_color_on(r.fill, palette_.background), TextAlign::Center);
      }
    } else if (width <= (x1 - x0) * 1.3) {
      put((x0 + x1) / 2, y0 - line_height_ - 1, text, palette_.dim_text, TextAlign::Center);
    }
  }
  for (const Rect& r : rects) {
    if (!r.outlined) continue;
    double x0, y0, x1, y1;
    map.rect(r, x0, y0, x1, y1);
    const double thickness = std::clamp(std::min(x1 - x0, y1 - y0) / 8, 0.75, 2.0);
    canvas_.stroke_rect(x0 + thickness / 2, y0 + thickness / 2, x1 - thickness / 2,
                        y1 - thickness / 2, palette_.text, thickness);
  }
}

void Layout::draw(const Figure& figure, double width, double height) {
  canvas_.fill_rect(0, 0, width, height, palette_.background);
  const double pad = std::round(line_height_ * 0.6);
  double top = pad;
  const double text_space = width - 2 * pad;
  if (!figure.title.empty())
    top += wrapped(pad, top, clean_text(figure.title), palette_.text, text_space, title_) + 2;
  for (const std::string& note : figure.notes)
    top += wrapped(pad, top, clean_text(note), palette_.dim_text, text_space, body_);
  top += legend(figure, pad, top + 2, width - 2 * pad);
  top += pad;

  constexpr size_t kMaxTickBytes = 18;
  const auto tick_label = [&](const Tick& tick) {
    return shorten(clean_text(tick.label), kMaxTickBytes);
  };
  double y_label_width = 0;
  for (const Tick& tick : figure.y.ticks)
    y_label_width = std::max(y_label_width, text_width(tick_label(tick)));
  if (!figure.y.label.empty()) {
    put(pad, top, clean_text(figure.y.label), palette_.dim_text);
    top += line_height_ + 2;
  }
  double scale_width = 0;
  const bool has_scale = figure.color_scale && figure.color_scale->stops.size() >= 2;
  if (has_scale) {
    double tick_width = 0;
    for (const Tick& tick : figure.color_scale->ticks)
      tick_width = std::max(tick_width, text_width(clean_text(tick.label)));
    scale_width = line_height_ + 6 + tick_width + 2 * pad;
    if (!figure.color_scale->label.empty()) scale_width += line_height_ + 4;
  }
  Mapping map;
  map.x = &figure.x;
  map.y = &figure.y;
  map.min_x = pad + y_label_width + 6;
  map.min_y = top + line_height_ * 0.5;
  const double bottom_reserved = (figure.x.ticks.empty() ? 0 : line_height_ + 4) +
                                 (figure.x.label.empty() ? 0 : line_height_ + 2) + pad;
  map.max_x = width - pad - scale_width;
  map.max_y = height - bottom_reserved;
  if (map.max_x - map.min_x < 10 || map.max_y - map.min_y < 10) {
    throw Error("the figure \"" + figure.title + "\" does not fit in " + number(width) + " x " +
                number(height) + " points: make the image larger or the text smaller");
  }

  // Grid and y ticks (labels thinned out where rows are closer than a line of text).
  const double row_pitch =
      figure.y.ticks.size() > 1
          ? std::abs(map.py(figure.y.ticks[1].value) - map.py(figure.y.ticks[0].value))
          : line_height_;
  const size_t y_stride =
      static_cast<size_t>(std::max(1.0, std::ceil(line_height_ / std::max(row_pitch, 0.5))));
  for (size_t i = 0; i < figure.y.ticks.size(); ++i) {
    const Tick& tick = figure.y.ticks[i];
    const double y = map.py(tick.value);
    if (figure.y.grid) canvas_.line(map.min_x, y, map.max_x, y, palette_.grid, 0.75);
    if (i % y_stride != 0) continue;
    canvas_.line(map.min_x - 4, y, map.min_x, y, palette_.axis, 0.75);
    put(map.min_x - 6, y - line_height_ / 2, tick_label(tick), palette_.dim_text, TextAlign::Right);
  }

  rects(figure.cells, true, map);
  rects(figure.bars, false, map);

  const double dash = line_height_ * 7 / 16, dash_gap = line_height_ * 5 / 16;
  for (const Line& line : figure.lines) {
    const Color color = line.color.value_or(palette_.text);
    const double thickness = line.width * std::max(0.75, line_height_ / 14);
    std::vector<std::pair<double, double>> points;
    for (size_t i = 0; i < line.xs.size() && i < line.ys.size(); ++i)
      points.emplace_back(map.px(line.xs[i]), map.py(line.ys[i]));
    canvas_.polyline(points, color, thickness, line.dashed ? dash : 0, dash_gap);
    if (line.markers) {
      for (const auto& [x, y] : points) canvas_.circle(x, y, thickness * 1.3, color);
    }
  }

  for (const Annotation& note : figure.annotations) {
    const std::string text = clean_text(note.text);
    const Color color = note.color.value_or(palette_.text);
    const double x = map.px(note.x), y = map.py(note.y);
    switch (note.anchor) {
      case Anchor::Center:
        put(x, y - line_height_ / 2, text, color, TextAlign::Center);
        break;
      case Anchor::Left:
        put(x + 4, y - line_height_ / 2, text, color, TextAlign::Left);
        break;
      case Anchor::Right:
        put(x - 4, y - line_height_ / 2, text, color, TextAlign::Right);
        break;
      case Anchor::Above:
        put(x, y - line_height_ - 2, text, color, TextAlign::Center);
        break;
      case Anchor::Below:
        put(x, y + 2, text, color, TextAlign::Center);
        break;
    }
  }

  // Axes and x ticks (labels thinned out where they would overlap).
  canvas_.line(map.min_x, map.min_y, map.min_x, map.max_y, palette_.axis, 0.75);
  canvas_.line(map.min_x, map.max_y, map.max_x, map.max_y, palette_.axis, 0.75);
  double widest = 0;
  for (const Tick& tick : figure.x.ticks) widest = std::max(widest, text_width(tick_label(tick)));
  const double x_pitch =
      figure.x.ticks.size() > 1
          ? std::abs(map.px(figure.x.ticks[1].value) - map.px(figure.x.ticks[0].value))
          : widest + 8;
  const size_t x_stride =
      static_cast<size_t>(std::max(1.0, std::ceil((widest + 8) / std::max(x_pitch, 1.0))));
  for (size_t i = 0; i < figure.x.ticks.size(); i += x_stride) {
    const Tick& tick = figure.x.ticks[i];
    const double x = map.px(tick.value);
    canvas_.line(x, map.max_y, x, map.max_y + 4, palette_.axis, 0.75);
    put(x, map.max_y + 4, tick_label(tick), palette_.dim_text, TextAlign::Center);
  }
  if (!figure.x.label.empty()) {
    put((map.min_x + map.max_x) / 2, map.max_y + 4 + line_height_ + 2, clean_text(figure.x.label),
        palette_.dim_text, TextAlign::Center);
  }

  // Colour scale: a vertical gradient beside the plot, ticks on its right, then its label.
  if (has_scale) {
    const ColorScale& scale = *figure.color_scale;
    const double x0 = map.max_x + pad * 2, x1 = x0 + line_height_;
    const double y_top = std::max(map.min_y, pad), y_bottom = std::min(map.max_y, height - pad);
    canvas_.vertical_gradient(x0, y_top, x1, y_bottom, scale.stops);
    canvas_.stroke_rect(x0, y_top, x1, y_bottom, palette_.axis, 0.75);
    double tick_width = 0;
    for (const Tick& tick : scale.ticks) {
      if (scale.max <= scale.min) break;
      const double t = (tick.value - scale.min) / (scale.max - scale.min);
      const double y = y_bottom - t * (y_bottom - y_top);
      const std::string label = clean_text(tick.label);
      canvas_.line(x1, y, x1 + 3, y, palette_.axis, 0.75);
      put(x1 + 5, y - line_height_ / 2, label, palette_.dim_text);
      tick_width = std::max(tick_width, text_width(label));
    }
    if (!scale.label.empty()) {
      // Reads upwards, centred on the bar.
      canvas_.text(x1 + 5 + tick_width + 4 + ascent_, (y_top + y_bottom) / 2,
                   clean_text(scale.label), palette_.dim_text, body_, TextAlign::Center, 90);
    }
  }
}

// ---- files ----

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

void check_cairo(cairo_status_t status, const std::filesystem::path& path) {
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error("cannot write " + path.string() + ": cairo: " + cairo_status_to_string(status));
}

}  // namespace

ExportFormat parse_export_format(const std::string& name) {
  std::string key = lower(name);
  if (!key.empty() && key.front() == '.') key.erase(0, 1);
  if (key == "png") return ExportFormat::Png;
  if (key == "svg") return ExportFormat::Svg;
  if (key == "pdf") return ExportFormat::Pdf;
  throw Error("unknown image format '" + name + "' (formats: png, svg, pdf)");
}

ExportFormat export_format_for(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  if (extension.empty()) {
    throw Error("cannot tell the image format of " + path.string() +
                ": give the file a .png, .svg or .pdf extension or name the format");
  }
  try {
    return parse_export_format(extension);
  } catch (const Error&) {
    throw Error("unknown image format '" + extension + "' for " + path.string() +
                " (formats: png, svg, pdf)");
  }
}

const char* export_format_name(ExportFormat format) {
  switch (format) {
    case ExportFormat::Png:
      return "png";
    case ExportFormat::Svg:
      return "svg";
    case ExportFormat::Pdf:
      return "pdf";
  }
  return "png";
}

ExportTheme parse_export_theme(const std::string& name) {
  const std::string key = lower(name);
  if (key == "light") return ExportTheme::Light;
  if (key == "dark") return ExportTheme::Dark;
  throw Error("unknown theme '" + name + "' (themes: light, dark)");
}

ExportOptions resolve_export_options(const std::filesystem::path& path, ExportOptions options) {
  if (!options.format) options.format = export_format_for(path);
  const bool png = *options.format == ExportFormat::Png;
  if (!(options.dpi >= 36 && options.dpi <= 1200))
    throw Error("the resolution must be between 36 and 1200 dpi (got " + number(options.dpi) + ")");
  if (options.width == 0) options.width = png ? 1600 : 576;
  if (options.height == 0) options.height = png ? 1000 : 360;
  const double limit = png ? 16384 : 14400;  // pixels; points (200 inches, PDF's page limit)
  const char* unit = png ? "pixels" : "points";
  for (const double size : {options.width, options.height}) {
    if (!(size >= 32 && size <= limit)) {
      throw Error("the image size must be between 32 and " + number(limit) + " " + unit + " (got " +
                  number(options.width) + " x " + number(options.height) + ")");
    }
  }
  if (!(options.font_pt >= 4 && options.font_pt <= 72))
    throw Error("the font size must be between 4 and 72 points (got " + number(options.font_pt) +
                ")");
  return options;
}

ExportReport export_figure(const Figure& figure, const std::filesystem::path& path,
                           const ExportOptions& requested) {
  const ExportOptions options = resolve_export_options(path, requested);
  ExportReport report;
  const Palette palette = palette_for(options.theme);
  Metrics metrics;
  std::string bytes;

  switch (*options.format) {
    case ExportFormat::Png: {
      const int width_px = static_cast<int>(std::lround(options.width));
      const int height_px = static_cast<int>(std::lround(options.height));
      const double scale = options.dpi / 72;
      cairo_surface_t* surface =
          cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width_px, height_px);
      cairo_t* cr = cairo_create(surface);
      cairo_scale(cr, scale, scale);
      std::exception_ptr failure;
      try {
        CairoCanvas canvas(cr, metrics, /*crisp_fills=*/true);
        Layout(canvas, metrics, palette, options.font_pt)
            .draw(figure, width_px / scale, height_px / scale);
        report.characters_without_font = canvas.missing_glyphs();
      } catch (...) {
        failure = std::current_exception();
      }
      const cairo_status_t status = cairo_status(cr);
      cairo_destroy(cr);
      cairo_surface_flush(surface);
      const cairo_status_t write_status =
          failure || status != CAIRO_STATUS_SUCCESS
              ? status
              : cairo_surface_write_to_png_stream(surface, append_to_string, &bytes);
      cairo_surface_destroy(surface);
      if (failure) std::rethrow_exception(failure);
      check_cairo(status, path);
      check_cairo(write_status, path);
      break;
    }
    case ExportFormat::Pdf: {
      cairo_surface_t* surface = cairo_pdf_surface_create_for_stream(append_to_string, &bytes,
                                                                     options.width, options.height);
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE,
                                     clean_text(figure.title).c_str());
      cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "moescope");
      cairo_t* cr = cairo_create(surface);
      std::exception_ptr failure;
      try {
        CairoCanvas canvas(cr, metrics, /*crisp_fills=*/false);
        Layout(canvas, metrics, palette, options.font_pt)
            .draw(figure, options.width, options.height);
        report.characters_without_font = canvas.missing_glyphs();
      } catch (...) {
        failure = std::current_exception();
      }
      const cairo_status_t status = cairo_status(cr);
      cairo_destroy(cr);
      cairo_surface_finish(surface);
      const cairo_status_t finish_status = cairo_surface_status(surface);
      cairo_surface_destroy(surface);
      if (failure) std::rethrow_exception(failure);
      check_cairo(status, path);
      check_cairo(finish_status, path);
      break;
    }
    case ExportFormat::Svg: {
      SvgCanvas canvas(options.width, options.height, clean_text(figure.title));
      Layout(canvas, metrics, palette, options.font_pt).draw(figure, options.width, options.height);
      bytes = canvas.finish();
      break;
    }
  }
  write_file_atomically(path, bytes);
  return report;
}

std::string missing_font_note(const ExportReport& report) {
  if (report.characters_without_font == 0) return "";
  return std::to_string(report.characters_without_font) +
         " characters have no installed font and show as boxes; install a font that covers "
         "them (for Chinese, Japanese and Korean: fonts-noto-cjk or fonts-wqy-microhei)";
}

}  // namespace moe::plot
