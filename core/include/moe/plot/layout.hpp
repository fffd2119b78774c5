#pragma once
// The one figure layout engine. It turns a plot::Figure into primitives on a canvas (title and
// notes, legend, y label, ticks, bars and cells, lines, annotations, axes, colour scale) and
// says where each bar, cell, line point and legend entry ended up. The app's figure views and
// the PNG/SVG/PDF exporter both draw what it returns, so screen and file agree by construction;
// only the text metrics (each canvas measures in its own font) and the options below differ.
#include <cstddef>
#include <optional>
#include <vector>

#include "moe/plot/canvas.hpp"
#include "moe/plot/figure.hpp"
#include "moe/plot/palette.hpp"

namespace moe::plot {

struct LayoutOptions {
  Palette palette = light_palette();
  double thin_line = 0.75;   // axes, ticks, grid: one pixel on screen, 0.75 pt on paper
  double margin = 0.6;       // around the figure, in line heights (screen panels pad themselves)
  double title_reserve = 0;  // width kept free right of the title (the app's Export button)
  // Paper columns: tighter legend rows, and a legend of several rows goes beside the plot.
  bool compact = false;
  // Bars and cells outside this box (canvas units) are left out: a tall heatmap scrolled in
  // the app lays out only what shows. Empty: everything.
  std::optional<Box> visible;
};

enum class HitKind { Bar, Cell, Point, LegendEntry };

// Where one thing of the figure was drawn. `index` is into the figure's bars, cells, lines or
// legend; for a point, `point` is its index in the line.
struct HitRegion {
  HitKind kind = HitKind::Bar;
  Box box;
  size_t index = 0;
  size_t point = 0;
  bool operator==(const HitRegion&) const = default;
};

struct FigureLayout {
  double width = 0, height = 0;
  // False when the plot area would be too small to show anything: then only the header (title,
  // notes, legend) was laid out.
  bool fits = true;
  // True when the canvas was too small for the whole header: the notes (then the legend) were
  // left out so that the plot keeps at least four lines of text in height.
  bool notes_dropped = false, legend_dropped = false;
  Box plot;                           // the plot area inside the axes
  std::vector<Primitive> primitives;  // in drawing order
  std::vector<HitRegion> hits;        // in drawing order

  // The region drawn last (on top) at `p`, or nullptr.
  const HitRegion* hit_at(Point p) const;
  // The bar or cell at `p` (under any line point drawn over it), or nullptr.
  const HitRegion* mark_at(Point p) const;
};

// Lays out `figure` on a width x height canvas, measuring text with `metrics`.
FigureLayout lay_out_figure(const Figure& figure, double width, double height, TextMetrics& metrics,
                            const LayoutOptions& options);

}  // namespace moe::plot
