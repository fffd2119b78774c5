#include "moe/plot/comparison_figures.hpp"

#include <algorithm>
#include <cmath>

#include "moe/plot/routing_figures.hpp"

namespace moe::plot {

namespace {

std::string points(double share_difference) {
  std::string text = format_number(100.0 * share_difference, 1) + " pp";
  return share_difference > 0 ? "+" + text : text;
}

// A label short enough for a title: the first 40 characters, newlines as spaces.
std::string short_label(const std::string& text) {
  std::string label;
  size_t characters = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80 && ++characters > 40) return label + "…";
    label += (c == '\n' || c == '\r') ? ' ' : static_cast<char>(c);
  }
  return label;
}

}  // namespace

ColorScale diverging_scale(double max_abs, std::string label) {
  ColorScale scale;
  scale.label = std::move(label);
  const double limit = max_abs > 0 ? max_abs : 1e-9;
  scale.min = -limit;
  scale.max = limit;
  for (uint32_t rgb : {0x2166AC, 0x67A9CF, 0xD1E5F0, 0xF7F7F7, 0xFDDBC7, 0xEF8A62, 0xB2182B})
    scale.stops.push_back(Color::from_rgb(rgb));
  scale.ticks = nice_ticks(-limit, limit, 5);
  return scale;
}

Figure load_difference_figure(const LoadComparison& comparison, const std::string& label_a,
                              const std::string& label_b) {
  Figure figure;
  const int n_expert =
      comparison.difference.empty() ? 0 : static_cast<int>(comparison.difference[0].size());
  figure.title =
      "Load difference: \"" + short_label(label_b) + "\" minus \"" + short_label(label_a) + "\"";
  figure.notes.push_back(
      "share of each layer's routing slots per expert, B - A in percentage "
      "points; red: B uses the expert more, blue: A does (" +
      std::to_string(comparison.tokens_a) + " and " + std::to_string(comparison.tokens_b) +
      " tokens)");
  figure.x.label = "expert";
  figure.x.min = 0;
  figure.x.max = n_expert;
  std::vector<std::string> experts, layers;
  for (int e = 0; e < n_expert; ++e) experts.push_back(expert_label(e));
  for (int layer : comparison.layers) layers.push_back("L" + std::to_string(layer));
  figure.x.ticks = category_ticks(experts);
  figure.y.label = "layer";
  figure.y.min = 0;
  figure.y.max = static_cast<double>(layers.size());
  figure.y.ticks = category_ticks(layers);
  figure.y.reversed = true;
  figure.color_scale = diverging_scale(100.0 * comparison.max_abs_difference,
                                       "B - A, percentage points of the layer's slots");
  // Enough decimals that the largest difference does not read as 0 (close checkpoints differ by
  // tenths of a point).
  const double largest = 100.0 * comparison.max_abs_difference;
  const int decimals = largest >= 10 ? 0 : largest >= 1 ? 1 : 2;
  for (size_t m = 0; m < comparison.difference.size(); ++m) {
    for (int e = 0; e < n_expert; ++e) {
      const auto column = static_cast<size_t>(e);
      const double difference = comparison.difference[m][column];
      Rect cell;
      cell.x0 = e;
      cell.x1 = e + 1;
      cell.y0 = static_cast<double>(m);
      cell.y1 = static_cast<double>(m) + 1;
      cell.value = 100.0 * difference;
      cell.fill = figure.color_scale->at(cell.value);
      cell.row = static_cast<int>(m);
      cell.column = e;
      cell.text = format_number(100.0 * difference, decimals);
      cell.tooltip = expert_label(e) + " at layer " + std::to_string(comparison.layers[m]) +
                     "\nA: " + format_number(100.0 * comparison.share_a[m][column], 1) +
                     "%  B: " + format_number(100.0 * comparison.share_b[m][column], 1) +
                     "%\nB - A: " + points(difference);
      figure.cells.push_back(std::move(cell));
    }
  }
  return figure;
}

}  // namespace moe::plot
