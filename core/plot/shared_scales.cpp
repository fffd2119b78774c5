#include "moe/plot/shared_scales.hpp"

#include <optional>

namespace moe::plot {

namespace {

// A y axis that measures values (bars, lines) rather than listing categories (heatmap rows).
bool has_value_axis(const Figure& figure) { return !figure.y.reversed && figure.cells.empty(); }

}  // namespace

void share_scales(const std::vector<Figure*>& figures) {
  const Figure* tallest = nullptr;
  const Figure* brightest = nullptr;
  for (const Figure* figure : figures) {
    if (!figure) continue;
    if (has_value_axis(*figure) && (!tallest || figure->y.max > tallest->y.max)) tallest = figure;
    if (figure->color_scale &&
        (!brightest || figure->color_scale->max > brightest->color_scale->max))
      brightest = figure;
  }
  // Copies first: `tallest` and `brightest` point into the figures being changed.
  const std::optional<Axis> y = tallest ? std::optional<Axis>(tallest->y) : std::nullopt;
  const std::optional<ColorScale> scale = brightest ? brightest->color_scale : std::nullopt;
  for (Figure* figure : figures) {
    if (!figure) continue;
    if (y && has_value_axis(*figure)) figure->y = *y;
    if (scale && figure->color_scale) {
      // Cells coloured otherwise (a diagonal left grey) keep their colour.
      const ColorScale own = *figure->color_scale;
      for (Rect& cell : figure->cells) {
        if (cell.fill == own.at(cell.value)) cell.fill = scale->at(cell.value);
      }
      figure->color_scale = scale;
    }
  }
}

}  // namespace moe::plot
