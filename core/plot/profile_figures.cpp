#include "moe/plot/profile_figures.hpp"

#include <algorithm>
#include <functional>
#include <optional>
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

Rect bar(double x0, double width, double value, Color fill, const std::string& tooltip, int column) {
  Rect rect;
  rect.x0 = x0;
  rect.x1 = x0 + width;
  rect.y1 = value;
  rect.fill = fill;
  rect.value = value;
  rect.tooltip = tooltip;
  rect.column = column;
  return rect;
}

// A dashed horizontal line across the plot; no colour: the text colour (a baseline, not a series).
Line level(double x_max, double value, std::optional<Color> color) {
  Line line;
  line.xs = {0, x_max};
  line.ys = {value, value};
  line.color = color;
  line.dashed = true;
  return line;
}

std::string layer_label(int layer) {
  std::string label = "L";
  label += std::to_string(layer);  // not "L" + ...: GCC 12 warns (-Wrestrict)
  return label;
}

// One series of per-layer bars.
struct LayerSeries {
  std::function<double(const ProfileLayerMetrics&)> value;
  Color color;
  std::string name;
};

// Bars of per-layer values, the series side by side in each layer's slot; x = MoE layer.
void layer_bars(Figure& figure, const ProfileMetrics& metrics, const std::vector<LayerSeries>& series) {
  std::vector<std::string> labels;
  const double width = (series.size() > 1 ? 0.8 : 0.6) / static_cast<double>(series.size());
  const double left = 0.5 - width * static_cast<double>(series.size()) / 2;
  for (size_t i = 0; i < metrics.layers.size(); ++i) {
    const ProfileLayerMetrics& layer = metrics.layers[i];
    labels.push_back(layer_label(layer.layer));
    for (size_t j = 0; j < series.size(); ++j) {
      const double value = series[j].value(layer);
      figure.bars.push_back(bar(static_cast<double>(i) + left + width * static_cast<double>(j), width,
                                value, series[j].color,
                                series[j].name + " = " + format_number(value, 3), static_cast<int>(i)));
    }
  }
  figure.x.label = "MoE layer";
  figure.x.min = 0;
  figure.x.max = std::max(static_cast<double>(metrics.layers.size()), 1.0);
  figure.x.ticks = category_ticks(labels);
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
  const Color same = expert_color(0), meet = expert_color(2);
  layer_bars(figure, metrics,
             {{[](const ProfileLayerMetrics& l) { return l.repetition.same_top1; }, same,
               "P(same top-1)"},
              {[](const ProfileLayerMetrics& l) { return l.repetition.sets_intersect; }, meet,
               "P(top-k sets meet)"}});
  if (!metrics.layers.empty()) {
    const Repetition& baseline = metrics.layers.front().repetition;
    const double n = static_cast<double>(metrics.layers.size());
    figure.lines.push_back(level(n, baseline.random_same_top1, same));
    figure.lines.push_back(level(n, baseline.random_sets_intersect, meet));
  }
  share_axis(figure.y, "probability");
  figure.legend.push_back({"same top-1 expert", same});
  figure.legend.push_back({"top-k sets share an expert", meet});
  return figure;
}

Figure vocabulary_figure(const ProfileMetrics& metrics, int top_k, int n_expert) {
  Figure figure;
  figure.title = "Vocabulary specialization (OLMoE, section 5.4)";
  figure.notes.push_back("per token id seen at least " + std::to_string(kVocabularyMinOccurrences) +
                         " times: the share of its occurrences sent to its most used expert, "
                         "averaged over ids; dashed: uniform routing, k/E");
  const Color input = expert_color(0), next = expert_color(2), predicted = expert_color(4);
  std::vector<LayerSeries> series = {
      {[](const ProfileLayerMetrics& l) { return l.vocabulary_by_input.mean_share; }, input,
       "by the input token"},
      {[](const ProfileLayerMetrics& l) { return l.vocabulary_by_next.mean_share; }, next,
       "by the text's next token"}};
  // Profiles made before the predicted-token table have none: two series then.
  const bool has_predicted =
      std::any_of(metrics.layers.begin(), metrics.layers.end(),
                  [](const ProfileLayerMetrics& l) { return l.vocabulary_by_predicted.token_ids > 0; });
  if (has_predicted) {
    series.push_back({[](const ProfileLayerMetrics& l) { return l.vocabulary_by_predicted.mean_share; },
                      predicted, "by the predicted next token"});
  }
  layer_bars(figure, metrics, series);
  figure.lines.push_back(level(figure.x.max, static_cast<double>(top_k) / n_expert, std::nullopt));
  share_axis(figure.y, "share of the id's occurrences");
  for (const LayerSeries& s : series) figure.legend.push_back({"keyed " + s.name, s.color});
  return figure;
}

Figure consistency_figure(const ProfileMetrics& metrics) {
  Figure figure;
  figure.title = "Cross-layer consistency of the first choice";
  figure.notes.push_back("normalized mutual information between a token's top-1 expert at this "
                         "MoE layer and at the next: 0 independent, 1 one decides the other");
  ProfileMetrics pairs = metrics;
  if (!pairs.layers.empty()) pairs.layers.pop_back();  // the last layer has no next one
  layer_bars(figure, pairs,
             {{[](const ProfileLayerMetrics& l) { return l.next_layer_nmi; }, expert_color(0),
               "NMI to the next layer"}});
  figure.x.label = "from MoE layer (to the next)";
  share_axis(figure.y, "NMI");
  return figure;
}

Figure reap_figure(const ProfileLayerMetrics& layer) {
  Figure figure;
  figure.title = "REAP saliency, layer " + std::to_string(layer.layer);
  figure.notes.push_back("mean over the tokens routed to the expert of gate weight x |expert "
                         "output| (Lasby et al. 2025): low bars are the first to prune");
  std::vector<std::string> labels;
  double top = 0;
  for (size_t e = 0; e < layer.reap_saliency.size(); ++e) {
    const double value = layer.reap_saliency[e];
    top = std::max(top, value);
    labels.push_back("E");
    labels.back() += std::to_string(e);  // not "E" + ...: GCC 12 warns (-Wrestrict)
    figure.bars.push_back(bar(static_cast<double>(e) + 0.15, 0.7, value, expert_color(static_cast<int>(e)),
                              "expert " + std::to_string(e) + ": " + format_number(value, 3),
                              static_cast<int>(e)));
  }
  figure.x.label = "expert";
  figure.x.min = 0;
  figure.x.max = std::max(static_cast<double>(labels.size()), 1.0);
  figure.x.ticks = category_ticks(labels);
  figure.y.label = "saliency";
  figure.y.min = 0;
  figure.y.max = nice_ceiling(top > 0 ? top : 1);
  figure.y.ticks = nice_ticks(0, figure.y.max, 6);
  figure.y.grid = true;
  return figure;
}

Figure esft_figure(const ProfileMetrics& metrics, int n_expert) {
  Figure figure;
  figure.title = "Experts a layer needs (ESFT)";
  figure.notes.push_back("the fewest experts that carry " +
                         format_number(100 * metrics.esft_share, 0) +
                         "% of the layer's gate mass; dashed: all " + std::to_string(n_expert) +
                         " experts");
  layer_bars(figure, metrics,
             {{[](const ProfileLayerMetrics& l) {
                 return static_cast<double>(l.esft_set.experts.size());
               },
               expert_color(0), "experts"}});
  figure.lines.push_back(level(figure.x.max, n_expert, std::nullopt));
  figure.y.label = "experts";
  figure.y.min = 0;
  figure.y.max = n_expert;
  figure.y.ticks = nice_ticks(0, n_expert, 6);
  figure.y.grid = true;
  return figure;
}

}  // namespace moe::plot
