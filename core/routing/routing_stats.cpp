#include "moe/routing_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moe {

double entropy_nats(const std::vector<float>& probs) {
  // Scores are normalized first: sigmoid routers (DeepSeek-V3 style) give scores that do not
  // sum to 1; for softmax routers this changes nothing.
  double sum = 0;
  for (float p : probs) sum += p > 0 ? static_cast<double>(p) : 0.0;
  if (sum <= 0) return 0;
  double entropy = 0;
  for (float p : probs) {
    if (p > 0) {
      const double q = static_cast<double>(p) / sum;
      entropy -= q * std::log(q);
    }
  }
  return entropy;
}

void finish_balance(LayerLoad& load, int n_tokens) {
  const size_t n_expert = load.token_counts.size();
  if (n_expert == 0 || n_tokens == 0) return;
  const double total = std::accumulate(load.token_counts.begin(), load.token_counts.end(), 0.0);
  const double mean = total / static_cast<double>(n_expert);
  double variance = 0;
  int64_t max_count = 0;
  size_t unused = 0;
  for (int64_t count : load.token_counts) {
    variance += (static_cast<double>(count) - mean) * (static_cast<double>(count) - mean);
    max_count = std::max(max_count, count);
    if (count == 0) ++unused;
  }
  variance /= static_cast<double>(n_expert);
  load.cv = mean > 0 ? std::sqrt(variance) / mean : 0;
  load.max_over_mean = mean > 0 ? static_cast<double>(max_count) / mean : 0;
  load.unused_share = static_cast<double>(unused) / static_cast<double>(n_expert);
  load.switch_aux_loss = switch_loss(load).loss;
}

SwitchLoss switch_loss(const LayerLoad& load) {
  // f_i is the share of the routed slots that went to expert i. Each token fills top_k slots
  // under the model's own routing; interventions (top-k override, capacity drops, expert
  // choice) change that, so the slots actually filled are counted.
  double slots = 0;
  for (int64_t count : load.token_counts) slots += static_cast<double>(count);
  SwitchLoss result;
  for (size_t e = 0; e < load.token_counts.size(); ++e) {
    SwitchLossTerm term;
    term.f = slots > 0 ? static_cast<double>(load.token_counts[e]) / slots : 0;
    term.p = e < load.mean_prob.size() ? load.mean_prob[e] : 0;
    result.sum_fp += term.f * term.p;
    result.terms.push_back(term);
  }
  result.loss = static_cast<double>(load.token_counts.size()) * result.sum_fp;
  return result;
}

RoutingStats compute_routing_stats(const RoutingTrace& trace, int first_token, int n_tokens) {
  RoutingStats stats;
  stats.interventions = trace.interventions();
  stats.scores_known = !trace.chosen_experts_only();
  first_token = std::clamp(first_token, 0, trace.n_tokens());
  const int available = trace.n_tokens() - first_token;
  stats.first_token = first_token;
  stats.n_tokens = n_tokens < 0 ? available : std::min(n_tokens, available);

  const auto n_expert = static_cast<size_t>(trace.n_expert());
  const auto& moe_layers = trace.moe_layers();
  const size_t n_moe = moe_layers.size();
  stats.layers.resize(n_moe);
  stats.coactivation.assign(n_moe, std::vector<int64_t>(n_expert * n_expert, 0));
  stats.transitions.assign(n_moe > 0 ? n_moe - 1 : 0, std::vector<int64_t>(n_expert * n_expert, 0));
  stats.token_entropy.assign(static_cast<size_t>(stats.n_tokens), std::vector<double>(n_moe, 0));

  for (size_t m = 0; m < n_moe; ++m) {
    LayerLoad& load = stats.layers[m];
    load.layer = moe_layers[m];
    load.token_counts.assign(n_expert, 0);
    load.gate_mass.assign(n_expert, 0);
    load.mean_prob.assign(n_expert, 0);
  }

  for (int t = 0; t < stats.n_tokens; ++t) {
    const int token = first_token + t;
    for (size_t m = 0; m < n_moe; ++m) {
      const RoutingRecord& record = trace.at(token, moe_layers[m]);
      LayerLoad& load = stats.layers[m];
      for (size_t j = 0; j < record.experts.size(); ++j) {
        const auto expert = static_cast<size_t>(record.experts[j]);
        if (expert >= n_expert) continue;
        load.token_counts[expert] += 1;
        // A chosen-experts-only trace has no gate weights (its equal ones are stand-ins).
        if (!trace.chosen_experts_only()) load.gate_mass[expert] += record.weights[j];
        for (int32_t other : record.experts) {
          if (static_cast<size_t>(other) < n_expert) {
            stats.coactivation[m][expert * n_expert + static_cast<size_t>(other)] += 1;
          }
        }
      }
      load.dropped += static_cast<int64_t>(record.dropped.size());
      for (size_t e = 0; e < n_expert && e < record.probs.size(); ++e) {
        load.mean_prob[e] += record.probs[e];
      }
      const double entropy = entropy_nats(record.probs);
      stats.token_entropy[static_cast<size_t>(t)][m] = entropy;
      load.mean_entropy += entropy;

      if (m + 1 < n_moe) {
        const RoutingRecord& next = trace.at(token, moe_layers[m + 1]);
        for (int32_t from : record.experts) {
          for (int32_t to : next.experts) {
            if (static_cast<size_t>(from) < n_expert && static_cast<size_t>(to) < n_expert) {
              stats
                  .transitions[m][static_cast<size_t>(from) * n_expert + static_cast<size_t>(to)] +=
                  1;
            }
          }
        }
      }
    }
  }

  for (LayerLoad& load : stats.layers) {
    if (stats.n_tokens > 0) {
      for (double& p : load.mean_prob) p /= stats.n_tokens;
      load.mean_entropy /= stats.n_tokens;
    }
    finish_balance(load, stats.n_tokens);
  }
  return stats;
}

}  // namespace moe
