#pragma once
// A renderer-neutral description of one chart: what to draw, in data coordinates, with colours
// already chosen. The GUI draws a Figure with ImDrawList and the exporter with cairo, so a
// panel and its exported PNG/SVG/PDF show exactly the same thing. Nothing here knows pixels,
// fonts or themes: renderers pick those (text and axis colours follow the renderer's theme).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::plot {

struct Color {
  float r = 0, g = 0, b = 0, a = 1;  // 0..1, straight (not premultiplied) alpha

  static Color from_rgb(uint32_t rgb, float alpha = 1);  // 0xRRGGBB
  Color with_alpha(float alpha) const { return {r, g, b, alpha}; }
  // Relative luminance (sRGB, WCAG definition), for choosing black or white text on a fill.
  double luminance() const;
  bool operator==(const Color&) const = default;
};

// Linear interpolation in sRGB between a and b (t in 0..1).
Color mix(const Color& a, const Color& b, double t);

// The expert colour shared by every view: Okabe–Ito (without black) then Paul Tol's "muted"
// set, 16 colour-blind-safe colours; beyond 16 experts the set repeats in lighter and darker
// variants (distinguishable side by side, but no longer safe for every reader).
Color expert_color(int expert);

struct Tick {
  double value = 0;
  std::string label;
};

struct Axis {
  std::string label;
  double min = 0, max = 1;
  std::vector<Tick> ticks;
  bool reversed = false;  // true: min at the top (y) or right (x); heatmap rows read downwards
  bool grid = false;      // draw grid lines at the ticks
};

// A rectangle from (x0, y0) to (x1, y1) in data coordinates: a bar or a heatmap cell.
// `row`/`column` say what it stands for (e.g. token, expert) so that a renderer can report
// which one the pointer is on; -1 when not meaningful.
struct Rect {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  Color fill;
  double value = 0;       // the number the colour or height stands for
  std::string text;       // drawn inside when it fits (may be empty)
  std::string tooltip;    // shown on hover (may be empty)
  bool outlined = false;  // emphasised: drawn with a strong outline (e.g. top-k choice)
  bool crossed = false;   // struck out with a cross (e.g. a choice dropped for capacity)
  int row = -1, column = -1;
};

struct Line {
  std::vector<double> xs, ys;  // same length, data coordinates
  std::optional<Color> color;  // empty: the renderer's text colour
  float width = 1.5f;          // in units of the renderer's thin line
  bool dashed = false;
  bool markers = false;  // a dot at every point
  std::string label;     // for the legend (may be empty)
};

enum class Anchor { Center, Left, Right, Above, Below };

struct Annotation {
  double x = 0, y = 0;  // data coordinates
  std::string text;
  Anchor anchor = Anchor::Center;
  std::optional<Color> color;  // empty: the renderer's text colour
};

struct LegendEntry {
  std::string label;
  std::optional<Color> color;  // empty: the renderer's text colour
  bool line = false;           // a line sample instead of a filled square
  bool dashed = false;
  bool outlined = false;  // the square drawn as an outlined Rect is (no fill without a colour)
  bool crossed = false;   // the square struck out as a crossed Rect is
};

// A continuous colour scale (heatmaps): value -> colour by piecewise-linear stops.
struct ColorScale {
  std::string label;
  double min = 0, max = 1;
  std::vector<Color> stops;  // evenly spaced from min to max, at least 2
  std::vector<Tick> ticks;
  Color at(double value) const;
};

// Viridis (perceptually uniform, colour-blind-safe), the default heatmap scale.
ColorScale viridis_scale(double min, double max, std::string label);

struct Figure {
  std::string title;
  std::vector<std::string> notes;  // short lines under the title (figures, units, caveats)
  Axis x, y;
  std::vector<Rect> bars;   // drawn first
  std::vector<Rect> cells;  // heatmap cells, drawn with the bars
  std::vector<Line> lines;  // drawn over bars and cells
  std::vector<Annotation> annotations;
  std::vector<LegendEntry> legend;
  std::optional<ColorScale> color_scale;
  // Cell text is a secondary detail: renderers may drop it where cells are small.
  bool cell_text_optional = true;
};

// About `target` round ticks (1, 2, 5 x 10^k) covering [min, max], labelled with as few
// digits as tell them apart.
std::vector<Tick> nice_ticks(double min, double max, int target = 5);
// The upper end of the axis nice_ticks would choose for data reaching `max` (at least max).
double nice_ceiling(double max);
// Ticks at i + 0.5 for categories 0..n-1 with the given labels.
std::vector<Tick> category_ticks(const std::vector<std::string>& labels);

// A number with `digits` decimals, trailing zeros kept (e.g. "0.50").
std::string format_number(double value, int digits);

}  // namespace moe::plot
