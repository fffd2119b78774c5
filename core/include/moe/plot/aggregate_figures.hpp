#pragma once
// Figures over many prompts: load balance layer by layer, and which experts each domain of
// prompts (code, maths, French ...) uses. Built from RoutingStats like routing_figures.hpp.
#include <string>
#include <vector>

#include "moe/plot/figure.hpp"
#include "moe/routing_stats.hpp"

namespace moe::plot {

// One line per balance figure across the MoE layers (x): CV of the token counts, max/mean,
// Switch aux loss (1 = balanced) and the mean router entropy as a share of its maximum ln E.
Figure layer_balance_figure(const RoutingStats& stats, int n_expert);

struct DomainStats {
  std::string domain;  // e.g. the file name without .txt
  RoutingStats stats;  // over all the domain's prompts
};

// Domain x expert at one MoE layer: cell value = the expert's share of the domain's routing
// decisions (token count / (tokens * top_k)), so each row sums to 1 and uniform routing gives
// 1 / E. Cells: row = domain index, column = expert.
Figure domain_expert_figure(const std::vector<DomainStats>& domains, int moe_index, int top_k);

}  // namespace moe::plot
