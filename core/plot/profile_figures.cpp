#include "moe/plot/profile_figures.hpp"

#include <string>

namespace moe::plot {

namespace {

void share_axis(Axis& axis, const std::string& label) {
  axis.label = label;
  axis.min = 0;
  axis.max = 1;
  axis.ticks = nice_ticks(0, 1, 6);
  axis.grid = true;
}

Line series(std::vector<double> xs, std::vector<double> ys, Color color, const std::string& label) {
  Line line;
  line.xs = std::move(xs);
  line.ys = std::move(ys);
  line.color = color;
  line.width = 2;
  line.markers = true;
  line.label = label;
  return line;
}

}  // namespace

Figure expert_cache_figure(const ProfileLayerMetrics& layer, int top_k) {
  Figure figure;
  figure.title = "Expert cache hit rate, layer " + std::to_string(layer.layer);
  figure.notes.push_back("each token requests its top-" + std::to_string(top_k) +
                         " experts; the cache starts empty at each document");
  std::vector<double> sizes(layer.cache.sizes.begin(), layer.cache.sizes.end());
  figure.x.label = "cache size (experts)";
  figure.x.min = 0.5;
  figure.x.max = static_cast<double>(sizes.size()) + 0.5;
  figure.x.ticks = nice_ticks(1, std::max<double>(static_cast<double>(sizes.size()), 1), 8);
  share_axis(figure.y, "hit rate");
  const Color lru = expert_color(0), belady = expert_color(2);
  figure.lines.push_back(series(sizes, layer.cache.lru, lru, "LRU"));
  figure.lines.push_back(series(sizes, layer.cache.belady, belady, "Belady (optimal)"));
  figure.legend.push_back({"LRU", lru, true});
  figure.legend.push_back({"Belady (optimal)", belady, true});
  return figure;
}

Figure repetition_figure(const ProfileMetrics& metrics) {
  Figure figure;
  figure.title = "Consecutive-token repetition (Mixtral, Table 5)";
  figure.notes.push_back("dashed: the same chance if each token's experts were drawn at random");
  std::vector<std::string> labels;
  const Color same = expert_color(0), meet = expert_color(2);
  const double n = static_cast<double>(metrics.layers.size());
  for (size_t i = 0; i < metrics.layers.size(); ++i) {
    const ProfileLayerMetrics& layer = metrics.layers[i];
    labels.push_back("L");
    labels.back() += std::to_string(layer.layer);  // not "L" + ...: GCC 12 warns (-Wrestrict)
    const double x = static_cast<double>(i);
    const auto bar = [&](double x0, double value, Color fill, const std::string& what) {
      Rect rect;
      rect.x0 = x0;
      rect.x1 = x0 + 0.4;
      rect.y1 = value;
      rect.fill = fill;
      rect.value = value;
      rect.tooltip = what + " = " + format_number(value, 3);
      rect.column = static_cast<int>(i);
      return rect;
    };
    const Rect first = bar(x + 0.1, layer.repetition.same_top1, same, "P(same top-1)");
    const Rect second = bar(x + 0.5, layer.repetition.sets_intersect, meet, "P(top-k sets meet)");
    figure.bars.push_back(first);
    figure.bars.push_back(second);
  }
  if (!metrics.layers.empty()) {
    const Repetition& baseline = metrics.layers.front().repetition;
    for (const auto& [value, color] : {std::pair{baseline.random_same_top1, same},
                                       std::pair{baseline.random_sets_intersect, meet}}) {
      Line line;
      line.xs = {0, n};
      line.ys = {value, value};
      line.color = color;
      line.dashed = true;
      figure.lines.push_back(line);
    }
  }
  figure.x.label = "MoE layer";
  figure.x.min = 0;
  figure.x.max = std::max(n, 1.0);
  figure.x.ticks = category_ticks(labels);
  share_axis(figure.y, "probability");
  figure.legend.push_back({"same top-1 expert", same});
  figure.legend.push_back({"top-k sets share an expert", meet});
  return figure;
}

}  // namespace moe::plot
