#include "reference_routing.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace moe::testing {

namespace {

// Expert ids sorted by descending value; equal values keep the lower id first.
std::vector<int32_t> by_value(const std::vector<double>& values) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < values.size(); ++i) ids.push_back(static_cast<int32_t>(i));
  std::stable_sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    return values[static_cast<size_t>(a)] > values[static_cast<size_t>(b)];
  });
  return ids;
}

bool has(const std::vector<int32_t>& list, int32_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Group-limited routing: every expert outside the best n_groups_used groups (by the sum of
// each group's two highest values) gets -inf, so no rule below can choose it.
void limit_to_best_groups(const ReferenceGate& gate, std::vector<double>& selection) {
  const size_t n_groups = static_cast<size_t>(gate.n_groups);
  const size_t size = selection.size() / n_groups;
  std::vector<double> group_score(n_groups);
  for (size_t g = 0; g < n_groups; ++g) {
    std::vector<double> members(selection.begin() + static_cast<ptrdiff_t>(g * size),
                                selection.begin() + static_cast<ptrdiff_t>((g + 1) * size));
    std::sort(members.rbegin(), members.rend());
    group_score[g] = members[0] + (size > 1 ? members[1] : 0.0);
  }
  const std::vector<int32_t> best = by_value(group_score);
  for (size_t g = static_cast<size_t>(gate.n_groups_used); g < n_groups; ++g) {
    const auto dropped = static_cast<size_t>(best[g]);
    for (size_t e = dropped * size; e < (dropped + 1) * size; ++e) selection[e] = -INFINITY;
  }
}

// The chosen experts in selection order, weighed by the gate's rule.
void sort_and_weigh(const ReferenceGate& gate, ReferenceRouting& route) {
  std::vector<int32_t> sorted;
  for (int32_t e : by_value(route.selection))
    if (has(route.experts, e)) sorted.push_back(e);
  route.experts = sorted;
  double sum = 0;
  for (int32_t e : route.experts) sum += route.probs[static_cast<size_t>(e)];
  route.weights.clear();
  for (int32_t e : route.experts) {
    double weight = route.probs[static_cast<size_t>(e)];
    if (gate.renormalize) weight /= sum;
    route.weights.push_back(weight * gate.scale);
  }
}

}  // namespace

std::vector<ReferenceRouting> reference_route_layer(const std::vector<std::vector<double>>& logits,
                                                    int layer, int model_top_k,
                                                    const ReferenceGate& gate,
                                                    const RoutingInterventions& interventions) {
  const size_t n = logits.size();
  const size_t n_expert = n > 0 ? logits[0].size() : 0;
  std::vector<bool> enabled(n_expert);
  size_t n_enabled = 0;
  for (size_t e = 0; e < n_expert; ++e) {
    enabled[e] = !interventions.is_disabled(layer, static_cast<int>(e));
    if (enabled[e]) ++n_enabled;
  }
  const size_t k =
      std::min(static_cast<size_t>(interventions.top_k_at(layer, model_top_k)), n_enabled);

  // The router knobs: the scoring function, and the user's bias on top of the model's.
  const bool sigmoid = interventions.scoring == Scoring::Model
                           ? gate.sigmoid
                           : interventions.scoring == Scoring::Sigmoid;
  std::vector<double> selection_bias = gate.selection_bias;
  if (!interventions.expert_bias.empty()) selection_bias.resize(n_expert, 0.0);
  for (const auto& [expert, bias] : interventions.expert_bias)
    selection_bias[static_cast<size_t>(expert)] += bias;

  std::vector<ReferenceRouting> routes(n);
  for (size_t t = 0; t < n; ++t) {
    ReferenceRouting& route = routes[t];
    route.logits = logits[t];
    // Noisy, tempered logits: (logit + scale * noise) / temperature.
    std::vector<double> z(n_expert);
    for (size_t e = 0; e < n_expert; ++e) {
      const double noise = router_noise(interventions.noise_seed, static_cast<int>(t), layer,
                                        static_cast<int>(e));
      z[e] = (logits[t][e] + interventions.noise_scale * noise) / interventions.temperature;
    }
    // The gate over the enabled experts only (a disabled one's logit is -inf: score 0).
    route.probs.assign(n_expert, 0.0);
    if (sigmoid) {
      for (size_t e = 0; e < n_expert; ++e)
        if (enabled[e]) route.probs[e] = 1 / (1 + std::exp(-z[e]));
    } else {
      double max_logit = -INFINITY;
      for (size_t e = 0; e < n_expert; ++e)
        if (enabled[e]) max_logit = std::max(max_logit, z[e]);
      double sum = 0;
      for (size_t e = 0; e < n_expert; ++e)
        if (enabled[e]) sum += route.probs[e] = std::exp(z[e] - max_logit);
      for (double& p : route.probs) p /= sum;
    }
    route.selection = route.probs;
    for (size_t e = 0; e < selection_bias.size(); ++e) route.selection[e] += selection_bias[e];
    if (gate.n_groups > 1) limit_to_best_groups(gate, route.selection);
    for (int32_t e : by_value(route.selection)) {
      if (route.experts.size() < k && enabled[static_cast<size_t>(e)]) route.experts.push_back(e);
    }
  }

  if (interventions.rule == RoutingRule::ExpertChoice) {
    const size_t capacity = std::min(
        n,
        static_cast<size_t>(std::ceil(static_cast<double>(n * k) / static_cast<double>(n_expert))));
    for (ReferenceRouting& route : routes) route.experts.clear();
    for (size_t e = 0; e < n_expert; ++e) {
      if (!enabled[e]) continue;
      std::vector<double> column(n);
      for (size_t t = 0; t < n; ++t) column[t] = routes[t].probs[e];
      const std::vector<int32_t> best_tokens = by_value(column);
      for (size_t i = 0; i < capacity; ++i)
        routes[static_cast<size_t>(best_tokens[i])].experts.push_back(static_cast<int32_t>(e));
    }
  }

  std::vector<std::vector<int32_t>> pinned(n);
  for (const ExpertPin& pin : interventions.pins) {
    if (pin.layer == layer && pin.position >= 0 && static_cast<size_t>(pin.position) < n &&
        !has(pinned[static_cast<size_t>(pin.position)], pin.expert)) {
      pinned[static_cast<size_t>(pin.position)].push_back(pin.expert);
    }
  }
  for (size_t t = 0; t < n; ++t) {
    ReferenceRouting& route = routes[t];
    bool missing = false;
    for (int32_t e : pinned[t]) missing = missing || !has(route.experts, e);
    if (!missing) continue;
    if (interventions.rule == RoutingRule::ExpertChoice) {
      for (int32_t e : pinned[t])
        if (!has(route.experts, e)) route.experts.push_back(e);
    } else {
      // The pins, then the best enabled others until there are k (or as many as the pins).
      std::vector<int32_t> chosen = pinned[t];
      for (int32_t e : by_value(route.selection)) {
        if (chosen.size() >= std::max(k, pinned[t].size())) break;
        if (enabled[static_cast<size_t>(e)] && !has(chosen, e)) chosen.push_back(e);
      }
      route.experts = chosen;
    }
  }
  for (ReferenceRouting& route : routes) sort_and_weigh(gate, route);

  if (interventions.rule == RoutingRule::Capacity) {
    const double exact =
        interventions.capacity_factor * static_cast<double>(n * k) / static_cast<double>(n_expert);
    const size_t capacity = std::max<size_t>(1, static_cast<size_t>(std::ceil(exact - 1e-9)));
    std::vector<size_t> used(n_expert, 0);
    for (size_t t = 0; t < n; ++t) {
      ReferenceRouting& route = routes[t];
      std::vector<int32_t> kept;
      std::vector<double> kept_weights;
      for (size_t j = 0; j < route.experts.size(); ++j) {
        const auto e = static_cast<size_t>(route.experts[j]);
        if (used[e] < capacity || has(pinned[t], route.experts[j])) {
          ++used[e];
          kept.push_back(route.experts[j]);
          kept_weights.push_back(route.weights[j]);
        } else {
          route.dropped.push_back(route.experts[j]);
        }
      }
      route.experts = kept;
      route.weights = kept_weights;
    }
  }
  return routes;
}

bool near_tie(const ReferenceRouting& route, int top_k, double window) {
  if (top_k <= 0 || top_k >= static_cast<int>(route.selection.size())) return false;
  std::vector<double> sorted = route.selection;
  std::sort(sorted.rbegin(), sorted.rend());
  return sorted[static_cast<size_t>(top_k) - 1] - sorted[static_cast<size_t>(top_k)] < window;
}

}  // namespace moe::testing
