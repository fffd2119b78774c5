#pragma once
// Figures of what the router did, built from a RoutingTrace and its RoutingStats. The GUI
// panels show these and the exporter writes them; neither computes anything of its own.
#include <cstdint>
#include <string>
#include <vector>

#include "moe/plot/figure.hpp"
#include "moe/routing.hpp"
#include "moe/routing_stats.hpp"

namespace moe::plot {

// Adds "routing interventions: <describe()>" to the figure's notes when there are any, so no
// figure silently shows a modified model. Every figure below does it for its trace or stats.
void add_interventions_note(Figure& figure, const RoutingInterventions& interventions);

// "E0", "E1", ... as used on every expert axis.
std::string expert_label(int expert);

// "1 token", "12 tokens".
std::string token_count(int64_t n);

// What balance figures say instead of their numbers when the stats hold fewer than two tokens
// (an empty prompt routes the BOS token alone: CV 1.73 and "75% unused" would mean nothing);
// "" when there are enough.
std::string too_few_tokens_note(const RoutingStats& stats);

// The legend entry of choices dropped for capacity (drawn crossed out).
LegendEntry dropped_legend_entry();

enum class LoadMeasure {
  TokenCount,  // tokens that chose the expert (top-k hits)
  GateMass,    // sum of the expert's final gate weights
};

// Expert load of one MoE layer (index into stats.layers): a bar per expert in its colour, the
// uniform-load reference as a dashed line, the balance figures (CV, max/mean, Switch aux loss,
// share unused) as notes. Bars carry row = -1, column = expert.
Figure expert_load_figure(const RoutingStats& stats, int moe_index, LoadMeasure measure);

// Layer x expert utilization over the whole range: cell value and text = share of tokens that
// chose the expert (uniform routing gives top_k / n_expert everywhere; counts in the tooltips).
// Cells: row = MoE index, column = expert.
Figure load_heatmap_figure(const RoutingStats& stats, int top_k);

// One token at one layer: the router's probability per expert, top-k outlined and annotated
// with their final gate weights, choices dropped for capacity crossed out, the uniform 1/E
// score as a dashed line. Bars: column = expert.
Figure router_scores_figure(const RoutingTrace& trace, int token, int layer,
                            const std::string& token_label);

// Tokens x experts at one layer: cell value = router probability, top-k cells outlined, dropped
// choices crossed out, the selected token's row framed (selected_token < 0: none). Cells:
// row = token, column = expert. The word view (`word_of`, from moe::word_of_tokens, one entry
// per token): each piece keeps its row, the first row of a word of several pieces is labelled
// with the whole word and the others "+piece", and a frame joins the word's rows.
Figure router_heatmap_figure(const RoutingTrace& trace, int layer,
                             const std::vector<std::string>& token_labels, int selected_token,
                             const std::vector<int>& word_of = {});

// Layer x expert grid for one token: chosen experts in their colour with the gate weight as
// intensity, the others faint by router probability, dropped choices crossed out, the top-1
// expert of each layer joined by a line (the gate weights stay readable over it). Cells:
// row = MoE index, column = expert.
Figure token_path_figure(const RoutingTrace& trace, int token, const std::string& token_label);

// Expert x expert co-activation at one MoE layer: off-diagonal cells count tokens that chose
// both experts; diagonal cells (grey) count tokens that chose the expert at all.
Figure coactivation_figure(const RoutingStats& stats, int moe_index);

// From the experts chosen at MoE layer m (rows) to those chosen at layer m + 1 (columns) for
// the same token; with `normalize_rows` each row shows P(next expert | expert at m).
Figure transitions_figure(const RoutingStats& stats, int moe_index, bool normalize_rows);

}  // namespace moe::plot
