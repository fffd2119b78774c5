#include "svg_canvas.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "figure_text.hpp"

namespace moe::plot::detail {

namespace {

constexpr const char* kSvgFontFamily = "'DejaVu Sans', Verdana, Arial, sans-serif";

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

std::string number(double value) { return compact_number(value); }

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

std::string box_attributes(const Box& box) {
  return "x=\"" + number(box.x0) + "\" y=\"" + number(box.y0) + "\" width=\"" +
         number(box.width()) + "\" height=\"" + number(box.height()) + "\"";
}

}  // namespace

SvgCanvas::SvgCanvas(double width, double height, const std::string& title, CairoMetrics& metrics)
    : FileCanvas(metrics) {
  out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << number(width)
       << "pt\" height=\"" << number(height) << "pt\" viewBox=\"0 0 " << number(width) << ' '
       << number(height) << "\">\n";
  if (!title.empty()) out_ << "<title>" << xml_escape(title) << "</title>\n";
  out_ << "<g font-family=\"" << kSvgFontFamily << "\">\n";
}

std::string SvgCanvas::finish() {
  out_ << "</g>\n</svg>\n";
  return out_.str();
}

void SvgCanvas::fill(const FillRect& rect) {
  out_ << "<rect";
  if (rect.mark != Mark::None) {
    out_ << " class=\"" << (rect.mark == Mark::Cell ? "cell" : "bar") << "\"";
    if (rect.row >= 0) out_ << " data-row=\"" << rect.row << "\"";
    if (rect.column >= 0) out_ << " data-column=\"" << rect.column << "\"";
  }
  out_ << ' ' << box_attributes(rect.box) << ' ' << svg_paint("fill", rect.color);
  if (rect.mark == Mark::Cell) out_ << " shape-rendering=\"crispEdges\"";
  out_ << "/>\n";
}

void SvgCanvas::stroke(const StrokeRect& rect) {
  out_ << "<rect " << box_attributes(rect.box) << " fill=\"none\" "
       << svg_paint("stroke", rect.color) << " stroke-width=\"" << number(rect.width) << "\"/>\n";
}

void SvgCanvas::polyline(const Polyline& line) {
  if (line.points.size() < 2) return;
  out_ << "<polyline points=\"";
  for (size_t i = 0; i < line.points.size(); ++i)
    out_ << (i ? " " : "") << number(line.points[i].x) << ',' << number(line.points[i].y);
  out_ << "\" fill=\"none\" " << svg_paint("stroke", line.color) << " stroke-width=\""
       << number(line.width) << "\" stroke-linejoin=\"round\"";
  if (line.dash > 0) {
    out_ << " stroke-dasharray=\"" << number(line.dash) << ' ' << number(line.gap) << "\"";
  } else {
    out_ << " stroke-linecap=\"round\"";
  }
  out_ << "/>\n";
}

void SvgCanvas::circle(const Circle& circle) {
  out_ << "<circle cx=\"" << number(circle.center.x) << "\" cy=\"" << number(circle.center.y)
       << "\" r=\"" << number(circle.radius) << "\" " << svg_paint("fill", circle.color) << "/>\n";
}

void SvgCanvas::text(const TextRun& run) {
  if (run.text.empty()) return;
  const Font font = metrics_.font(run.style);
  // SVG places text by its baseline; the run's `at` is on the line's top edge.
  out_ << "<text x=\"" << number(run.at.x) << "\" y=\""
       << number(run.at.y + metrics_.ascent(run.style)) << "\" font-size=\"" << number(font.size)
       << "\"";
  if (font.bold) out_ << " font-weight=\"bold\"";
  if (run.align == TextAlign::Center) out_ << " text-anchor=\"middle\"";
  if (run.align == TextAlign::Right) out_ << " text-anchor=\"end\"";
  if (run.angle_degrees != 0) {
    out_ << " transform=\"rotate(" << number(-run.angle_degrees) << ' ' << number(run.at.x) << ' '
         << number(run.at.y) << ")\"";
  }
  out_ << ' ' << svg_paint("fill", run.color) << " xml:space=\"preserve\">" << xml_escape(run.text)
       << "</text>\n";
}

void SvgCanvas::gradient(const Gradient& gradient) {
  const std::string id = "scale" + std::to_string(gradients_++);
  out_ << "<defs><linearGradient id=\"" << id << "\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  const std::vector<Color>& stops = gradient.stops;
  for (size_t i = 0; i < stops.size(); ++i) {
    const double offset =
        stops.size() > 1 ? static_cast<double>(i) / static_cast<double>(stops.size() - 1) : 0;
    out_ << "<stop offset=\"" << number(offset) << "\" stop-color=\"" << svg_color(stops[i])
         << "\"/>";
  }
  out_ << "</linearGradient></defs>\n<rect " << box_attributes(gradient.box) << " fill=\"url(#"
       << id << ")\"/>\n";
}

}  // namespace moe::plot::detail
