#include "moe/plot/routing_figures.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "moe/chosen_experts.hpp"

namespace moe::plot {

namespace {

constexpr int kMaxLabelledBars = 24;  // gate-weight labels above bars up to this many experts

std::vector<std::string> expert_labels(int n_expert) {
  std::vector<std::string> labels;
  for (int e = 0; e < n_expert; ++e) labels.push_back(expert_label(e));
  return labels;
}

std::string percent(double share) { return format_number(100.0 * share, 0) + "%"; }

// Categorical expert axis along x.
Axis expert_axis(int n_expert, std::string label = "expert") {
  Axis axis;
  axis.label = std::move(label);
  axis.min = 0;
  axis.max = n_expert;
  axis.ticks = category_ticks(expert_labels(n_expert));
  return axis;
}

// Categorical axis read downwards (row 0 at the top), as heatmap rows are.
Axis row_axis(const std::vector<std::string>& labels, std::string label) {
  Axis axis;
  axis.label = std::move(label);
  axis.min = 0;
  axis.max = static_cast<double>(labels.size());
  axis.ticks = category_ticks(labels);
  axis.reversed = true;
  return axis;
}

Axis value_axis(double max_value, std::string label) {
  Axis axis;
  axis.label = std::move(label);
  axis.min = 0;
  axis.max = nice_ceiling(max_value);
  axis.ticks = nice_ticks(0, axis.max, 5);
  axis.grid = true;
  return axis;
}

std::vector<std::string> layer_labels(const RoutingStats& stats) {
  std::vector<std::string> labels;
  for (const LayerLoad& load : stats.layers) labels.push_back("L" + std::to_string(load.layer));
  return labels;
}

Rect cell_at(int row, int column, double value, Color fill) {
  Rect cell;
  cell.x0 = column;
  cell.x1 = column + 1;
  cell.y0 = row;
  cell.y1 = row + 1;
  cell.value = value;
  cell.fill = fill;
  cell.row = row;
  cell.column = column;
  return cell;
}

// A closed outline around rows [row, row + 1) spanning columns [0, n_columns).
Line row_frame(int row, int n_columns) {
  Line frame;
  frame.xs = {0, static_cast<double>(n_columns), static_cast<double>(n_columns), 0, 0};
  frame.ys = {static_cast<double>(row), static_cast<double>(row), row + 1.0, row + 1.0,
              static_cast<double>(row)};
  frame.width = 2.5f;
  return frame;
}

constexpr const char* kDroppedTooltip = "chosen but dropped: the expert was full (capacity)";

bool was_dropped(const RoutingRecord& record, int expert) {
  return std::find(record.dropped.begin(), record.dropped.end(), expert) != record.dropped.end();
}

int64_t max_off_diagonal(const std::vector<int64_t>& matrix, size_t n) {
  int64_t max_value = 0;
  for (size_t a = 0; a < n; ++a) {
    for (size_t b = 0; b < n; ++b) {
      if (a != b) max_value = std::max(max_value, matrix[a * n + b]);
    }
  }
  return max_value;
}

}  // namespace

void add_interventions_note(Figure& figure, const RoutingInterventions& interventions) {
  if (!interventions.empty())
    figure.notes.push_back("routing interventions: " + interventions.describe());
}

std::string expert_label(int expert) { return "E" + std::to_string(expert); }

std::string token_count(int64_t n) { return std::to_string(n) + (n == 1 ? " token" : " tokens"); }

std::string too_few_tokens_note(const RoutingStats& stats) {
  if (stats.n_tokens >= 2) return "";
  return stats.n_tokens == 1
             ? "only one token (an empty prompt routes the BOS token alone): balance figures "
               "need a prompt"
             : "no tokens: balance figures need a prompt";
}

LegendEntry dropped_legend_entry() {
  LegendEntry entry{"dropped for capacity (crossed)", std::nullopt};
  entry.crossed = true;
  return entry;
}

Figure expert_load_figure(const RoutingStats& stats, int moe_index, LoadMeasure measure) {
  Figure figure;
  if (moe_index < 0 || moe_index >= static_cast<int>(stats.layers.size())) {
    figure.title = "Expert load: no MoE layer";
    return figure;
  }
  const LayerLoad& load = stats.layers[static_cast<size_t>(moe_index)];
  const int n_expert = static_cast<int>(load.token_counts.size());
  const bool counts = measure == LoadMeasure::TokenCount;
  std::vector<double> values(static_cast<size_t>(n_expert));
  for (int e = 0; e < n_expert; ++e) {
    const auto index = static_cast<size_t>(e);
    values[index] = counts ? static_cast<double>(load.token_counts[index])
                           : (index < load.gate_mass.size() ? load.gate_mass[index] : 0);
  }
  const double total = std::accumulate(values.begin(), values.end(), 0.0);
  const double uniform = n_expert > 0 ? total / n_expert : 0;
  const double max_value = values.empty() ? 0 : *std::max_element(values.begin(), values.end());

  figure.title = "Expert load at layer " + std::to_string(load.layer) + " (" +
                 token_count(stats.n_tokens) + ")";
  const std::string too_few = too_few_tokens_note(stats);
  if (!too_few.empty()) {
    figure.notes.push_back(too_few);
  } else if (!stats.scores_known) {  // the Switch loss needs the router's probabilities (a
    // server's trace and a corpus profile have none)
    figure.notes.push_back("CV " + format_number(load.cv, 2) + "   max/mean " +
                           format_number(load.max_over_mean, 2) + "   unused " +
                           percent(load.unused_share));
  } else {
    figure.notes.push_back("CV " + format_number(load.cv, 2) + "   max/mean " +
                           format_number(load.max_over_mean, 2) + "   Switch aux loss " +
                           format_number(load.switch_aux_loss, 3) + " (1 = balanced)   unused " +
                           percent(load.unused_share));
  }
  // A server's trace has no gate weights (a corpus profile keeps their sums).
  if (!stats.scores_known && !counts && total == 0) figure.notes.push_back(kChosenExpertsOnlyNote);
  figure.x = expert_axis(n_expert);
  figure.y = value_axis(std::max(max_value, uniform) * 1.08,
                        counts ? "tokens routed (top-k hits)" : "gate mass (sum of weights)");
  for (int e = 0; e < n_expert; ++e) {
    const auto index = static_cast<size_t>(e);
    Rect bar;
    bar.x0 = e + 0.12;
    bar.x1 = e + 0.88;
    bar.y0 = 0;
    bar.y1 = values[index];
    bar.value = values[index];
    bar.fill = expert_color(e);
    bar.column = e;
    bar.text = counts ? std::to_string(load.token_counts[index]) : format_number(values[index], 1);
    bar.tooltip = expert_label(e) + " at layer " + std::to_string(load.layer) + "\n" +
                  std::to_string(load.token_counts[index]) + " tokens chose it\n";
    if (index < load.gate_mass.size()) {
      bar.tooltip += "gate mass " + format_number(load.gate_mass[index], 3) + "\n";
    }
    if (index < load.mean_prob.size()) {
      bar.tooltip += "mean router score " + format_number(load.mean_prob[index], 3) + "\n";
    }
    if (uniform > 0) bar.tooltip += format_number(values[index] / uniform, 2) + " x uniform";
    figure.bars.push_back(std::move(bar));
  }
  Line reference;
  reference.xs = {0, static_cast<double>(n_expert)};
  reference.ys = {uniform, uniform};
  reference.dashed = true;
  // As many digits as the line's height needs (a count of 0.25 is not "0.2").
  reference.label =
      "uniform load (" + format_number(uniform, counts && uniform >= 10 ? 1 : 2) + ")";
  figure.lines.push_back(reference);
  figure.legend.push_back({reference.label, std::nullopt, true, true});
  add_interventions_note(figure, stats.interventions);
  return figure;
}

Figure load_heatmap_figure(const RoutingStats& stats, int top_k) {
  Figure figure;
  const int n_expert =
      stats.layers.empty() ? 0 : static_cast<int>(stats.layers[0].token_counts.size());
  figure.title = "Utilization: layer x expert (" + token_count(stats.n_tokens) + ")";
  if (n_expert > 0) {
    figure.notes.push_back(
        "share of tokens that chose each expert; uniform routing gives top-k / E = " +
        format_number(static_cast<double>(top_k) / n_expert, 2) + " everywhere");
  }
  const std::string too_few = too_few_tokens_note(stats);
  if (!too_few.empty()) figure.notes.push_back(too_few);
  figure.x = expert_axis(n_expert);
  figure.y = row_axis(layer_labels(stats), "layer");
  double max_share = 0;
  for (const LayerLoad& load : stats.layers) {
    for (int64_t count : load.token_counts) {
      if (stats.n_tokens > 0)
        max_share = std::max(max_share, static_cast<double>(count) / stats.n_tokens);
    }
  }
  figure.color_scale = viridis_scale(0, std::max(max_share, 1e-9), "share of tokens");
  for (size_t m = 0; m < stats.layers.size(); ++m) {
    const LayerLoad& load = stats.layers[m];
    for (int e = 0; e < n_expert; ++e) {
      const int64_t count = load.token_counts[static_cast<size_t>(e)];
      const double share = stats.n_tokens > 0 ? static_cast<double>(count) / stats.n_tokens : 0;
      Rect cell = cell_at(static_cast<int>(m), e, share, figure.color_scale->at(share));
      cell.text = format_number(share, 2);  // the share the colour shows; counts in the tooltip
      cell.tooltip = expert_label(e) + " at layer " + std::to_string(load.layer) + "\n" +
                     std::to_string(count) + " of " + std::to_string(stats.n_tokens) + " tokens (" +
                     percent(share) + ")";
      figure.cells.push_back(std::move(cell));
    }
  }
  add_interventions_note(figure, stats.interventions);
  return figure;
}

Figure router_scores_figure(const RoutingTrace& trace, int token, int layer,
                            const std::string& token_label) {
  Figure figure;
  const int n_expert = trace.n_expert();
  if (token < 0 || token >= trace.n_tokens() || !trace.has(token, layer)) {
    figure.title = "Router scores: no token selected";
    figure.x = expert_axis(n_expert);
    figure.y = value_axis(1, "router probability");
    return figure;
  }
  const RoutingRecord& record = trace.at(token, layer);
  figure.title = "Router scores for \"" + token_label + "\" (token " + std::to_string(token) +
                 ") at layer " + std::to_string(layer);
  if (trace.chosen_experts_only()) {  // no scores to draw: say which experts were chosen
    std::string chosen = "chosen:";
    for (int32_t expert : record.experts) chosen += " " + expert_label(expert);
    figure.notes.push_back(chosen);
    figure.notes.push_back(kChosenExpertsOnlyNote);
    figure.x = expert_axis(n_expert);
    figure.y = value_axis(1, "router probability");
    return figure;
  }
  std::string chosen = "top-" + std::to_string(record.experts.size()) + " gate weights:";
  for (size_t j = 0; j < record.experts.size(); ++j) {
    chosen += " " + expert_label(record.experts[j]) + " " + format_number(record.weights[j], 3);
  }
  figure.notes.push_back(chosen);
  figure.notes.push_back("router entropy " + format_number(entropy_nats(record.probs), 2) +
                         " nats (uniform: " + format_number(std::log(std::max(n_expert, 1)), 2) +
                         ")");
  const double max_prob =
      record.probs.empty() ? 0 : *std::max_element(record.probs.begin(), record.probs.end());
  figure.x = expert_axis(n_expert);
  figure.y =
      value_axis(std::max(max_prob * 1.15, 1.0 / std::max(n_expert, 1)), "router probability");
  for (int e = 0; e < n_expert && e < static_cast<int>(record.probs.size()); ++e) {
    const auto rank_it = std::find(record.experts.begin(), record.experts.end(), e);
    const bool is_chosen = rank_it != record.experts.end();
    const auto rank = static_cast<size_t>(rank_it - record.experts.begin());
    Rect bar;
    bar.x0 = e + 0.12;
    bar.x1 = e + 0.88;
    bar.y1 = record.probs[static_cast<size_t>(e)];
    bar.value = bar.y1;
    bar.fill = is_chosen ? expert_color(e) : expert_color(e).with_alpha(0.35f);
    bar.outlined = is_chosen;
    bar.crossed = was_dropped(record, e);
    bar.column = e;
    bar.tooltip = expert_label(e) + "\nlogit " +
                  format_number(record.logits[static_cast<size_t>(e)], 3) + "\nprobability " +
                  format_number(bar.y1, 4);
    if (bar.crossed) bar.tooltip += "\n" + std::string(kDroppedTooltip);
    if (is_chosen) {
      bar.tooltip += "\nchosen #" + std::to_string(rank + 1) + ", gate weight " +
                     format_number(record.weights[rank], 4);
      // With many experts neighbouring labels would overlap; the subtitle lists every weight.
      if (n_expert <= kMaxLabelledBars) {
        figure.annotations.push_back({e + 0.5, bar.y1,
                                      "w " + format_number(record.weights[rank], 2), Anchor::Above,
                                      std::nullopt});
      }
    }
    figure.bars.push_back(std::move(bar));
  }
  const double uniform = 1.0 / std::max(n_expert, 1);
  Line reference;
  reference.xs = {0, static_cast<double>(n_expert)};
  reference.ys = {uniform, uniform};
  reference.dashed = true;
  reference.label = "uniform 1/E";
  figure.lines.push_back(reference);
  // Chosen bars keep their experts' colours: the swatch shows the outline that marks them.
  LegendEntry chosen_entry{"chosen (top-k, outlined)", std::nullopt};
  chosen_entry.outlined = true;
  figure.legend.push_back(chosen_entry);
  if (!record.dropped.empty()) figure.legend.push_back(dropped_legend_entry());
  figure.legend.push_back({reference.label, std::nullopt, true, true});
  add_interventions_note(figure, trace.interventions());
  return figure;
}

Figure router_heatmap_figure(const RoutingTrace& trace, int layer,
                             const std::vector<std::string>& token_labels, int selected_token,
                             const std::vector<int>& word_of) {
  Figure figure;
  const int n_expert = trace.n_expert();
  const int n_tokens = std::min(trace.n_tokens(), static_cast<int>(token_labels.size()));
  figure.title = "Router probabilities, tokens x experts, layer " + std::to_string(layer);
  figure.notes.push_back(trace.chosen_experts_only()
                             ? "the top-k experts each token was sent to, #rank in the source's "
                               "order (" +
                                   std::string(kChosenExpertsOnlyNote) + ")"
                             : "outlined: the top-k experts each token was sent to");
  figure.x = expert_axis(n_expert);
  std::vector<std::string> rows(token_labels.begin(), token_labels.begin() + n_tokens);
  const bool words = static_cast<int>(word_of.size()) >= n_tokens;
  if (words) {
    figure.notes.push_back("words: a word's pieces keep their own rows, framed together");
    const auto same_word = [&](int a, int b) {
      return b >= 0 && b < n_tokens && word_of[static_cast<size_t>(a)] == word_of[static_cast<size_t>(b)];
    };
    for (int t = 0; t < n_tokens; ++t) {
      if (same_word(t, t - 1)) {
        rows[static_cast<size_t>(t)] = "+" + token_labels[static_cast<size_t>(t)];
        continue;
      }
      int end = t + 1;
      while (same_word(t, end)) ++end;
      if (end == t + 1) continue;
      std::string word;
      for (int u = t; u < end; ++u) word += token_labels[static_cast<size_t>(u)];
      rows[static_cast<size_t>(t)] = word;
      Line frame = row_frame(t, n_expert);
      for (double& y : frame.ys) y = y > t ? end : t;
      frame.width = 1.5f;
      figure.lines.push_back(std::move(frame));
    }
  }
  figure.y = row_axis(rows, "token");
  if (!trace.chosen_experts_only()) figure.color_scale = viridis_scale(0, 1, "router probability");
  bool any_dropped = false;
  for (int t = 0; t < n_tokens; ++t) {
    if (!trace.has(t, layer)) continue;
    const RoutingRecord& record = trace.at(t, layer);
    for (size_t rank = 0; trace.chosen_experts_only() && rank < record.experts.size(); ++rank) {
      const int e = record.experts[rank];
      Rect cell = cell_at(t, e, 1, expert_color(e).with_alpha(0.85f));
      cell.outlined = true;
      cell.text = "#" + std::to_string(rank + 1);
      cell.tooltip = "\"" + token_labels[static_cast<size_t>(t)] + "\" (token " +
                     std::to_string(t) + ") -> " + expert_label(e) + ": chosen #" +
                     std::to_string(rank + 1);
      figure.cells.push_back(std::move(cell));
    }
    for (int e = 0; e < n_expert && e < static_cast<int>(record.probs.size()); ++e) {
      const double prob = record.probs[static_cast<size_t>(e)];
      Rect cell = cell_at(t, e, prob, figure.color_scale->at(prob));
      const auto rank_it = std::find(record.experts.begin(), record.experts.end(), e);
      cell.outlined = rank_it != record.experts.end();
      cell.crossed = was_dropped(record, e);
      any_dropped |= cell.crossed;
      cell.text = format_number(prob, 2);
      cell.tooltip = "\"" + token_labels[static_cast<size_t>(t)] + "\" (token " +
                     std::to_string(t) + ") -> " + expert_label(e) + "\nprobability " +
                     format_number(prob, 4);
      if (cell.crossed) cell.tooltip += "\n" + std::string(kDroppedTooltip);
      if (cell.outlined) {
        const auto rank = static_cast<size_t>(rank_it - record.experts.begin());
        cell.tooltip += "\nchosen #" + std::to_string(rank + 1) + ", gate weight " +
                        format_number(record.weights[rank], 4);
      }
      figure.cells.push_back(std::move(cell));
    }
  }
  if (selected_token >= 0 && selected_token < n_tokens) {
    figure.lines.push_back(row_frame(selected_token, n_expert));
  }
  if (any_dropped) figure.legend.push_back(dropped_legend_entry());
  add_interventions_note(figure, trace.interventions());
  return figure;
}

Figure token_path_figure(const RoutingTrace& trace, int token, const std::string& token_label) {
  Figure figure;
  const int n_expert = trace.n_expert();
  std::vector<std::string> layers;
  for (int layer : trace.moe_layers()) layers.push_back("L" + std::to_string(layer));
  figure.x = expert_axis(n_expert);
  figure.y = row_axis(layers, "layer");
  if (token < 0 || token >= trace.n_tokens()) {
    figure.title = "Token path: no token selected";
    return figure;
  }
  figure.title =
      "Path of \"" + token_label + "\" (token " + std::to_string(token) + ") through the experts";
  figure.notes.push_back(
      trace.chosen_experts_only()
          ? "coloured: chosen experts, #rank in the source's order (" +
                std::string(kChosenExpertsOnlyNote) + ")"
          : "coloured: chosen experts, intensity = gate weight; grey: router probability of the "
            "others");
  Line path;
  path.width = 2.5f;
  path.markers = true;
  path.label = "top-1 expert per layer";
  const Color grey = Color::from_rgb(0x8C8C8C);
  bool any_dropped = false;
  const auto& moe_layers = trace.moe_layers();
  for (size_t m = 0; m < moe_layers.size(); ++m) {
    const int layer = moe_layers[m];
    if (!trace.has(token, layer)) continue;
    const RoutingRecord& record = trace.at(token, layer);
    // Without scores (a server's trace) only the chosen experts have cells.
    for (size_t rank = 0; trace.chosen_experts_only() && rank < record.experts.size(); ++rank) {
      const int e = record.experts[rank];
      Rect cell = cell_at(static_cast<int>(m), e, 1, expert_color(e).with_alpha(0.85f));
      cell.outlined = true;
      cell.text = "#" + std::to_string(rank + 1);
      cell.tooltip = expert_label(e) + " at layer " + std::to_string(layer) + ": chosen #" +
                     std::to_string(rank + 1);
      figure.cells.push_back(std::move(cell));
    }
    for (int e = 0; e < n_expert && e < static_cast<int>(record.probs.size()); ++e) {
      const double prob = record.probs[static_cast<size_t>(e)];
      const auto rank_it = std::find(record.experts.begin(), record.experts.end(), e);
      const bool is_chosen = rank_it != record.experts.end();
      Rect cell;
      if (is_chosen) {
        const auto rank = static_cast<size_t>(rank_it - record.experts.begin());
        const double weight = record.weights[rank];
        cell = cell_at(static_cast<int>(m), e, weight,
                       expert_color(e).with_alpha(
                           static_cast<float>(0.25 + 0.75 * std::clamp(weight, 0.0, 1.0))));
        cell.outlined = true;
        cell.text = format_number(weight, 2);
        cell.tooltip = expert_label(e) + " at layer " + std::to_string(layer) + ": chosen #" +
                       std::to_string(rank + 1) + "\ngate weight " + format_number(weight, 4) +
                       "\nprobability " + format_number(prob, 4);
      } else {
        cell = cell_at(static_cast<int>(m), e, 0,
                       grey.with_alpha(static_cast<float>(0.08 + 0.6 * prob)));
        cell.crossed = was_dropped(record, e);
        any_dropped |= cell.crossed;
        cell.tooltip = expert_label(e) + " at layer " + std::to_string(layer) +
                       (cell.crossed ? ": " + std::string(kDroppedTooltip) : ": not chosen") +
                       "\nprobability " + format_number(prob, 4);
      }
      figure.cells.push_back(std::move(cell));
    }
    if (!record.experts.empty()) {
      path.xs.push_back(record.experts[0] + 0.5);
      path.ys.push_back(static_cast<double>(m) + 0.5);
    }
  }
  if (path.xs.size() >= 2) {
    figure.lines.push_back(path);
    figure.legend.push_back({path.label, std::nullopt, true, false});
  }
  if (any_dropped) figure.legend.push_back(dropped_legend_entry());
  add_interventions_note(figure, trace.interventions());
  return figure;
}

Figure coactivation_figure(const RoutingStats& stats, int moe_index) {
  Figure figure;
  if (moe_index < 0 || moe_index >= static_cast<int>(stats.coactivation.size())) {
    figure.title = "Co-activation: no MoE layer";
    return figure;
  }
  const auto m = static_cast<size_t>(moe_index);
  const int n_expert = static_cast<int>(stats.layers[m].token_counts.size());
  const auto n = static_cast<size_t>(n_expert);
  const std::vector<int64_t>& matrix = stats.coactivation[m];
  figure.title = "Co-activation at layer " + std::to_string(stats.layers[m].layer) + " (" +
                 token_count(stats.n_tokens) + ")";
  figure.notes.push_back(
      "cell (a, b): tokens that chose both a and b; diagonal (grey): tokens that chose a");
  figure.x = expert_axis(n_expert);
  std::vector<std::string> labels;
  for (int e = 0; e < n_expert; ++e) labels.push_back(expert_label(e));
  figure.y = row_axis(labels, "expert");
  const double max_value = std::max<double>(1, static_cast<double>(max_off_diagonal(matrix, n)));
  figure.color_scale = viridis_scale(0, max_value, "tokens choosing both");
  for (int a = 0; a < n_expert; ++a) {
    for (int b = 0; b < n_expert; ++b) {
      const int64_t count = matrix[static_cast<size_t>(a) * n + static_cast<size_t>(b)];
      const bool diagonal = a == b;
      Rect cell = cell_at(a, b, static_cast<double>(count),
                          diagonal ? Color::from_rgb(0x9A9A9A)
                                   : figure.color_scale->at(static_cast<double>(count)));
      cell.text = std::to_string(count);
      cell.tooltip = diagonal ? expert_label(a) + " chosen by " + std::to_string(count) + " tokens"
                              : expert_label(a) + " and " + expert_label(b) +
                                    " together: " + std::to_string(count) + " tokens";
      figure.cells.push_back(std::move(cell));
    }
  }
  add_interventions_note(figure, stats.interventions);
  return figure;
}

Figure transitions_figure(const RoutingStats& stats, int moe_index, bool normalize_rows) {
  Figure figure;
  if (moe_index < 0 || moe_index >= static_cast<int>(stats.transitions.size())) {
    figure.title = "Transitions: needs two MoE layers";
    return figure;
  }
  const auto m = static_cast<size_t>(moe_index);
  const int n_expert = static_cast<int>(stats.layers[m].token_counts.size());
  const auto n = static_cast<size_t>(n_expert);
  const std::vector<int64_t>& matrix = stats.transitions[m];
  const int from_layer = stats.layers[m].layer;
  const int to_layer = stats.layers[m + 1].layer;
  figure.title = "Transitions from layer " + std::to_string(from_layer) + " to layer " +
                 std::to_string(to_layer) + " (" + token_count(stats.n_tokens) + ")";
  figure.notes.push_back(normalize_rows ? "row a: where tokens that chose a at layer " +
                                              std::to_string(from_layer) + " go next, P(b | a)"
                                        : "cell (a, b): tokens that chose a at layer " +
                                              std::to_string(from_layer) + " and b at layer " +
                                              std::to_string(to_layer));
  figure.x = expert_axis(n_expert, "expert at layer " + std::to_string(to_layer));
  std::vector<std::string> labels;
  for (int e = 0; e < n_expert; ++e) labels.push_back(expert_label(e));
  figure.y = row_axis(labels, "expert at layer " + std::to_string(from_layer));
  std::vector<double> values(matrix.size());
  double max_value = 0;
  for (size_t a = 0; a < n; ++a) {
    double row_total = 0;
    for (size_t b = 0; b < n; ++b) row_total += static_cast<double>(matrix[a * n + b]);
    for (size_t b = 0; b < n; ++b) {
      const double count = static_cast<double>(matrix[a * n + b]);
      values[a * n + b] = normalize_rows ? (row_total > 0 ? count / row_total : 0) : count;
      max_value = std::max(max_value, values[a * n + b]);
    }
  }
  figure.color_scale = viridis_scale(0, normalize_rows ? 1.0 : std::max(1.0, max_value),
                                     normalize_rows ? "P(next expert | expert)" : "tokens");
  for (int a = 0; a < n_expert; ++a) {
    for (int b = 0; b < n_expert; ++b) {
      const size_t index = static_cast<size_t>(a) * n + static_cast<size_t>(b);
      Rect cell = cell_at(a, b, values[index], figure.color_scale->at(values[index]));
      cell.text = normalize_rows ? format_number(values[index], 2) : std::to_string(matrix[index]);
      cell.tooltip = expert_label(a) + " at layer " + std::to_string(from_layer) + " -> " +
                     expert_label(b) + " at layer " + std::to_string(to_layer) + "\n" +
                     std::to_string(matrix[index]) + " tokens" +
                     (normalize_rows ? "\nP = " + format_number(values[index], 3) : "");
      figure.cells.push_back(std::move(cell));
    }
  }
  add_interventions_note(figure, stats.interventions);
  return figure;
}

}  // namespace moe::plot
