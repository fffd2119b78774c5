#include "moe/plot/live_training_figures.hpp"

#include <algorithm>
#include <cmath>

#include "moe/plot/routing_figures.hpp"
#include "moe/plot/training_figures.hpp"

namespace moe::plot {

namespace {

int n_layers(const ExpertLoadHistory& history) {
  return history.counts.empty() ? 0 : static_cast<int>(history.counts.back().size());
}

int n_experts(const ExpertLoadHistory& history) {
  if (history.counts.empty() || history.counts.back().empty()) return 0;
  return static_cast<int>(history.counts.back()[0].size());
}

// Share of each expert in `counts` (zeros when there are none).
std::vector<double> shares(const std::vector<int64_t>& counts) {
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::vector<double> result(counts.size(), 0.0);
  for (size_t e = 0; e < counts.size() && total > 0; ++e)
    result[e] = static_cast<double>(counts[e]) / static_cast<double>(total);
  return result;
}

void step_axis(Figure& figure, int64_t last_step) {
  figure.x.label = "step";
  figure.x.min = 0;
  const double end = nice_ceiling(static_cast<double>(std::max<int64_t>(last_step, 1)));
  figure.x.ticks = nice_ticks(0, end, 6);
  figure.x.max = end * 1.04;
}

}  // namespace

Figure live_expert_share_figure(const ExpertLoadHistory& history, int layer, int smooth_window) {
  Figure figure;
  const int n_expert = n_experts(history);
  figure.title = "Expert load over training, layer " + std::to_string(layer);
  figure.y.label = "share of assignments";
  figure.y.min = 0;
  figure.y.max = 1;
  figure.y.ticks = nice_ticks(0, 1, 5);
  figure.y.grid = true;
  if (history.steps.empty() || layer < 0 || layer >= n_layers(history) || n_expert == 0) {
    step_axis(figure, 1);
    figure.notes.push_back("no training steps yet");
    return figure;
  }
  step_axis(figure, history.steps.back());
  const double even = 1.0 / n_expert;
  figure.notes.push_back("each line an expert, mean of " + std::to_string(smooth_window) +
                         " steps; even load is 1/" + std::to_string(n_expert) + " = " +
                         format_number(even, 3) + " (dashed)");
  Line reference;
  reference.xs = {0, figure.x.max};
  reference.ys = {even, even};
  reference.dashed = true;
  reference.width = 1;
  figure.lines.push_back(reference);

  std::vector<double> xs;
  std::vector<std::vector<double>> per_expert(static_cast<size_t>(n_expert));
  for (size_t i = 0; i < history.steps.size(); ++i) {
    xs.push_back(static_cast<double>(history.steps[i]));
    const auto& layers = history.counts[i];
    const std::vector<double> s = static_cast<size_t>(layer) < layers.size()
                                      ? shares(layers[static_cast<size_t>(layer)])
                                      : std::vector<double>();
    for (int e = 0; e < n_expert; ++e) {
      per_expert[static_cast<size_t>(e)].push_back(
          static_cast<size_t>(e) < s.size() ? s[static_cast<size_t>(e)] : std::nan(""));
    }
  }
  double top = 0;
  for (int e = 0; e < n_expert; ++e) {
    Line line;
    line.xs = xs;
    line.ys = running_mean(per_expert[static_cast<size_t>(e)], smooth_window);
    line.color = expert_color(e);
    line.width = 2;
    line.label = expert_label(e);
    if (!line.ys.empty() && std::isfinite(line.ys.back())) top = std::max(top, line.ys.back());
    figure.legend.push_back({line.label, line.color, true, false});
    figure.lines.push_back(std::move(line));
  }
  figure.notes.push_back("busiest expert now: " + format_number(100 * top, 1) + " % of the load");
  return figure;
}

Figure live_layer_share_figure(const ExpertLoadHistory& history, int recent_steps) {
  Figure figure;
  const int n_layer = n_layers(history), n_expert = n_experts(history);
  figure.title =
      "Expert load per layer, last " + std::to_string(std::max(recent_steps, 1)) + " steps";
  std::vector<std::string> expert_names, layer_names;
  for (int e = 0; e < n_expert; ++e) expert_names.push_back(expert_label(e));
  for (int l = 0; l < n_layer; ++l) layer_names.push_back("L" + std::to_string(l));
  figure.x.label = "expert";
  figure.x.min = 0;
  figure.x.max = std::max(n_expert, 1);
  figure.x.ticks = category_ticks(expert_names);
  figure.y.label = "layer";
  figure.y.min = 0;
  figure.y.max = std::max(n_layer, 1);
  figure.y.ticks = category_ticks(layer_names);
  figure.y.reversed = true;
  if (history.counts.empty() || n_expert == 0) {
    figure.notes.push_back("no training steps yet");
    return figure;
  }
  figure.notes.push_back("share of each layer's routing assignments; even load is 1/" +
                         std::to_string(n_expert) + " = " + format_number(1.0 / n_expert, 3));
  const size_t first =
      history.counts.size() -
      std::min(history.counts.size(), static_cast<size_t>(std::max(recent_steps, 1)));
  std::vector<std::vector<int64_t>> sum(static_cast<size_t>(n_layer),
                                        std::vector<int64_t>(static_cast<size_t>(n_expert)));
  for (size_t i = first; i < history.counts.size(); ++i) {
    for (size_t l = 0; l < sum.size() && l < history.counts[i].size(); ++l) {
      for (size_t e = 0; e < sum[l].size() && e < history.counts[i][l].size(); ++e)
        sum[l][e] += history.counts[i][l][e];
    }
  }
  // One fixed scale for every run, so that a balanced run and a collapsed one compare: from 0 to
  // the most an expert can take, 1/top-k (each token picks top-k different experts). A scale
  // per run made the largest cell of a balanced run as bright as a collapsed expert.
  const double max_share = history.top_k > 0 ? 1.0 / history.top_k : 1.0;
  figure.color_scale = viridis_scale(0, max_share, "share");
  for (int l = 0; l < n_layer; ++l) {
    const std::vector<double> s = shares(sum[static_cast<size_t>(l)]);
    for (int e = 0; e < n_expert; ++e) {
      const double share = s[static_cast<size_t>(e)];
      Rect cell;
      cell.x0 = e;
      cell.x1 = e + 1;
      cell.y0 = l;
      cell.y1 = l + 1;
      cell.value = share;
      cell.fill = figure.color_scale->at(share);
      cell.text = format_number(100 * share, 0) + "%";
      cell.tooltip = expert_label(e) + " at layer " + std::to_string(l) + ": " +
                     format_number(100 * share, 1) + " % of the assignments";
      cell.row = l;
      cell.column = e;
      figure.cells.push_back(std::move(cell));
    }
  }
  return figure;
}

Figure live_specialization_figure(const std::vector<int64_t>& steps,
                                  const std::vector<std::vector<double>>& mi_bits, int n_domains) {
  Figure figure;
  figure.title = "Domain specialization: I(domain; top-1 expert)";
  const double ceiling = n_domains > 1 ? std::log2(static_cast<double>(n_domains)) : 1;
  figure.y.label = "bits";
  figure.y.min = 0;
  double max_value = 0.1;
  for (const auto& row : mi_bits)
    for (double v : row)
      if (std::isfinite(v)) max_value = std::max(max_value, v);
  figure.y.max = nice_ceiling(max_value * 1.05);
  figure.y.ticks = nice_ticks(0, figure.y.max, 5);
  figure.y.grid = true;
  step_axis(figure, steps.empty() ? 1 : steps.back());
  if (steps.empty()) {
    figure.notes.push_back("not measured yet");
    return figure;
  }
  figure.notes.push_back("per layer, on held-out text of " + std::to_string(n_domains) +
                         " domains; 0 = the expert says nothing about the domain, at most " +
                         format_number(ceiling, 2) + " bits");
  const size_t n_layer = mi_bits.empty() ? 0 : mi_bits.back().size();
  for (size_t l = 0; l < n_layer; ++l) {
    Line line;
    for (size_t i = 0; i < steps.size() && i < mi_bits.size(); ++i) {
      if (l >= mi_bits[i].size() || !std::isfinite(mi_bits[i][l])) continue;
      line.xs.push_back(static_cast<double>(steps[i]));
      line.ys.push_back(mi_bits[i][l]);
    }
    line.color = expert_color(static_cast<int>(l) + 8);  // not the expert colours of the load
    line.width = 2;
    line.label = "layer " + std::to_string(l);
    figure.legend.push_back({line.label, line.color, true, false});
    figure.lines.push_back(std::move(line));
  }
  return figure;
}

}  // namespace moe::plot
