#include "moe/plot/aggregate_figures.hpp"

#include <algorithm>
#include <cmath>

#include "moe/chosen_experts.hpp"
#include "moe/plot/routing_figures.hpp"

namespace moe::plot {

Figure layer_balance_figure(const RoutingStats& stats, int n_expert) {
  Figure figure;
  const size_t n_layers = stats.layers.size();
  figure.title = "Load balance per MoE layer (" + token_count(stats.n_tokens) + ")";
  figure.notes.push_back(
      "more even routing: lower CV and max/mean, aux loss nearer 1, entropy / ln E nearer 1");
  std::vector<std::string> labels;
  for (const LayerLoad& load : stats.layers) {
    std::string label = "L";  // not "L" + to_string(): GCC 12 warns wrongly (-Wrestrict) there
    label += std::to_string(load.layer);
    labels.push_back(std::move(label));
  }
  figure.x.label = "layer";
  figure.x.min = 0;
  figure.x.max = static_cast<double>(n_layers);
  figure.x.ticks = category_ticks(labels);

  const double max_entropy = n_expert > 1 ? std::log(static_cast<double>(n_expert)) : 1;
  struct Series {
    const char* label;
    double (*value)(const LayerLoad&, double);
    Color color;
    bool dashed;
    bool needs_scores;  // the router's probabilities (a server's trace has none)
  };
  const Series series[] = {
      {"CV of token counts", [](const LayerLoad& l, double) { return l.cv; },
       Color::from_rgb(0xD55E00), false, false},
      {"max / mean", [](const LayerLoad& l, double) { return l.max_over_mean; },
       Color::from_rgb(0x0072B2), false, false},
      {"Switch aux loss", [](const LayerLoad& l, double) { return l.switch_aux_loss; },
       Color::from_rgb(0x009E73), false, true},
      {"router entropy / ln E", [](const LayerLoad& l, double e) { return l.mean_entropy / e; },
       Color::from_rgb(0xCC79A7), true, true},
  };
  double max_value = 1;
  // One token has no balance to show: a note instead of the curves.
  const std::string too_few = too_few_tokens_note(stats);
  if (!too_few.empty()) figure.notes = {too_few};
  // Without router scores (a server's trace) the Switch loss and entropy are not measured.
  if (too_few.empty() && !stats.scores_known)
    figure.notes.push_back(std::string("no Switch aux loss or router entropy: ") +
                           kChosenExpertsOnlyNote);
  for (const Series& s : series) {
    if (!too_few.empty()) break;
    if (!stats.scores_known && s.needs_scores) continue;
    Line line;
    line.label = s.label;
    line.color = s.color;
    line.dashed = s.dashed;
    line.markers = true;
    line.width = 2;
    for (size_t m = 0; m < n_layers; ++m) {
      const double value = s.value(stats.layers[m], max_entropy);
      line.xs.push_back(static_cast<double>(m) + 0.5);
      line.ys.push_back(value);
      max_value = std::max(max_value, value);
    }
    figure.legend.push_back({line.label, line.color, true, line.dashed});
    figure.lines.push_back(std::move(line));
  }
  figure.y.label = "value";
  figure.y.min = 0;
  figure.y.max = nice_ceiling(max_value * 1.05);
  figure.y.ticks = nice_ticks(0, figure.y.max, 5);
  figure.y.grid = true;
  add_interventions_note(figure, stats.interventions);
  return figure;
}

Figure domain_expert_figure(const std::vector<DomainStats>& domains, int moe_index, int top_k) {
  Figure figure;
  int n_expert = 0;
  int layer = -1;
  for (const DomainStats& domain : domains) {
    if (moe_index >= 0 && moe_index < static_cast<int>(domain.stats.layers.size())) {
      const LayerLoad& load = domain.stats.layers[static_cast<size_t>(moe_index)];
      n_expert = std::max(n_expert, static_cast<int>(load.token_counts.size()));
      layer = load.layer;
    }
  }
  if (layer < 0 || n_expert == 0) {
    figure.title = "Experts per domain: no MoE layer";
    return figure;
  }
  figure.title = "Experts per domain at layer " + std::to_string(layer);
  figure.notes.push_back(
      "share of each domain's routing decisions that went to the expert "
      "(rows sum to 100%); uniform routing gives 1/E = " +
      format_number(100.0 / n_expert, 1) + "%");
  std::vector<std::string> expert_names, domain_names;
  for (int e = 0; e < n_expert; ++e) expert_names.push_back(expert_label(e));
  for (const DomainStats& domain : domains)
    domain_names.push_back(domain.domain + " (" + std::to_string(domain.stats.n_tokens) + ")");
  figure.x.label = "expert";
  figure.x.min = 0;
  figure.x.max = n_expert;
  figure.x.ticks = category_ticks(expert_names);
  figure.y.label = "domain (tokens)";
  figure.y.min = 0;
  figure.y.max = static_cast<double>(domains.size());
  figure.y.ticks = category_ticks(domain_names);
  figure.y.reversed = true;

  std::vector<std::vector<double>> shares(domains.size(),
                                          std::vector<double>(static_cast<size_t>(n_expert), 0));
  double max_share = 0;
  for (size_t d = 0; d < domains.size(); ++d) {
    const RoutingStats& stats = domains[d].stats;
    if (moe_index >= static_cast<int>(stats.layers.size()) || stats.n_tokens == 0) continue;
    const LayerLoad& load = stats.layers[static_cast<size_t>(moe_index)];
    const double decisions = static_cast<double>(stats.n_tokens) * std::max(1, top_k);
    for (size_t e = 0; e < load.token_counts.size() && e < shares[d].size(); ++e) {
      shares[d][e] = static_cast<double>(load.token_counts[e]) / decisions;
      max_share = std::max(max_share, shares[d][e]);
    }
  }
  // The cells speak in percent, so does the colour bar.
  figure.color_scale = viridis_scale(0, std::max(max_share, 1e-9), "share of routing decisions");
  figure.color_scale->ticks.clear();
  for (const Tick& tick : nice_ticks(0, 100 * figure.color_scale->max, 4))
    figure.color_scale->ticks.push_back({tick.value / 100, tick.label + "%"});
  for (size_t d = 0; d < domains.size(); ++d) {
    for (int e = 0; e < n_expert; ++e) {
      const double share = shares[d][static_cast<size_t>(e)];
      Rect cell;
      cell.x0 = e;
      cell.x1 = e + 1;
      cell.y0 = static_cast<double>(d);
      cell.y1 = static_cast<double>(d) + 1;
      cell.value = share;
      cell.fill = figure.color_scale->at(share);
      cell.row = static_cast<int>(d);
      cell.column = e;
      cell.text = format_number(100 * share, 0) + "%";
      cell.tooltip = domains[d].domain + ": " + expert_label(e) + " took " +
                     format_number(100 * share, 1) + "% of the routing decisions at layer " +
                     std::to_string(layer);
      figure.cells.push_back(std::move(cell));
    }
  }
  add_interventions_note(figure, domains.front().stats.interventions);
  return figure;
}

}  // namespace moe::plot
