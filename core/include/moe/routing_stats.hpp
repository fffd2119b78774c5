#pragma once
// Statistics derived from a RoutingTrace: load, entropy, balance, co-activation, transitions.
#include <cstdint>
#include <vector>

#include "moe/routing.hpp"

namespace moe {

// Load and balance of one MoE layer over a range of tokens.
struct LayerLoad {
  int layer = 0;
  std::vector<int64_t> token_counts;  // tokens that chose each expert (top-k hits)
  std::vector<double> gate_mass;      // sum of final gate weights per expert
  std::vector<double> mean_prob;      // mean router score per expert (P_i of the Switch loss)
  double cv = 0;                      // coefficient of variation of token_counts (std / mean)
  double max_over_mean = 0;           // max(token_counts) / mean(token_counts)
  double switch_aux_loss = 0;         // E * sum_i f_i * P_i, f_i = token_counts_i / sum(token_counts)
  int64_t dropped = 0;                // slots dropped by a capacity rule (interventions)
  double unused_share = 0;            // share of experts that no token chose
  double mean_entropy = 0;            // mean router entropy (nats) over the tokens
};

struct RoutingStats {
  RoutingInterventions interventions;  // the trace's (so exports of the stats can say so)
  // False for a chosen-experts-only trace: gate mass, mean_prob, entropies and the Switch loss
  // are then 0, not measured (figures say so instead of showing them).
  bool scores_known = true;
  int first_token = 0;
  int n_tokens = 0;
  std::vector<LayerLoad> layers;                        // one per MoE layer, in layer order
  std::vector<std::vector<double>> token_entropy;       // [token - first_token][moe index], nats
  // coactivation[m][a * E + b]: tokens at MoE layer m that chose both a and b (a != b);
  // the diagonal holds how often each expert was chosen.
  std::vector<std::vector<int64_t>> coactivation;
  // transitions[m][a * E + b]: pairs (expert a chosen at MoE layer m, expert b chosen at MoE
  // layer m + 1) for the same token; one fewer entry than there are MoE layers.
  std::vector<std::vector<int64_t>> transitions;
};

// The Switch Transformer auxiliary loss of one layer, term by term (to show a class how it is
// computed): f = the expert's share of the routed slots, P = its mean router score.
struct SwitchLossTerm {
  double f = 0;
  double p = 0;
};
struct SwitchLoss {
  std::vector<SwitchLossTerm> terms;  // one per expert
  double sum_fp = 0;                  // sum over experts of f * P
  double loss = 0;                    // E * sum_fp: 1 when routing is uniform
};
SwitchLoss switch_loss(const LayerLoad& load);

// Fills a layer's balance figures (cv, max/mean, unused share, Switch loss) from its token
// counts and mean router scores, already accumulated over `n_tokens` tokens.
void finish_balance(LayerLoad& load, int n_tokens);

// Stats over tokens [first_token, first_token + n_tokens); n_tokens < 0 means to the end.
RoutingStats compute_routing_stats(const RoutingTrace& trace, int first_token = 0,
                                   int n_tokens = -1);

// Entropy (nats) of router scores normalized to sum 1 (sigmoid routers' scores do not), ignoring
// zero entries.
double entropy_nats(const std::vector<float>& probs);

}  // namespace moe
