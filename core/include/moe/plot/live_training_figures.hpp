#pragma once
// Figures of a live training run (the GUI's Train tab): how the routers spread the tokens over
// the experts step by step (collapse or balance), and how much the top-1 expert says about the
// domain of the text as training goes on. The loss and CV curves reuse training_figures.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "moe/plot/figure.hpp"

namespace moe::plot {

// Expert assignment counts per recorded step: counts[i][layer][expert] at steps[i].
struct ExpertLoadHistory {
  std::vector<int64_t> steps;
  std::vector<std::vector<std::vector<int64_t>>> counts;
  int top_k = 0;
};

// One line per expert: its share of the layer's assignments per step, as a running mean over
// `smooth_window` steps, with the even share 1 / n_expert dashed. Collapse shows as one or two
// lines climbing while the others fall to 0. Lines: [even share, expert 0, expert 1, ...].
Figure live_expert_share_figure(const ExpertLoadHistory& history, int layer,
                                int smooth_window = 10);

// Heatmap layer x expert of the share of each layer's assignments over the last
// `recent_steps` steps (rows: layers, columns: experts; each row sums to 1).
Figure live_layer_share_figure(const ExpertLoadHistory& history, int recent_steps = 10);

// I(domain; top-1 expert) in bits per layer at the measured steps, one line per layer, with
// the ceiling log2(number of domains) noted.
Figure live_specialization_figure(const std::vector<int64_t>& steps,
                                  const std::vector<std::vector<double>>& mi_bits /* [i][layer] */,
                                  int n_domains);

}  // namespace moe::plot
